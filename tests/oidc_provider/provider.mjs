// A test-only OpenID Provider for Kizuna's OIDC tests: panva's certified `oidc-provider`
// (pinned in package.json) with Kizuna's clients, on loopback over plain http.
//
//   PORT=0 REDIRECT_URIS=http://127.0.0.1:8000/auth/callback/panva node provider.mjs
//
// Environment:
//   PORT                       port to listen on; 0 (the default) picks a free one
//   HOST                       address to bind, also the issuer's host (default 127.0.0.1)
//   REDIRECT_URIS              kizuna-web's redirect URIs, comma separated (required)
//   POST_LOGOUT_REDIRECT_URIS  kizuna-web's post-logout redirect URIs, comma separated
//
// When it listens it prints exactly one line on stdout, {"issuer":"http://127.0.0.1:PORT"}, and
// nothing else there (the library's notices go to stderr). It exits when stdin closes (so a
// killed test runner leaves no orphan), and on SIGTERM or SIGINT.
//
// Everything is in memory and made anew at each start: the RS256 signing key, the cookie
// signing key, sessions, grants and codes. Never use this outside tests.

import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';

import Provider, { errors } from 'oidc-provider';

// stdout carries the one JSON line the test harness waits for; the library writes its notices
// with console.info, so send everything but that line to stderr.
const toStderr = (...args) => console.error(...args);
console.log = toStderr;
console.info = toStderr;
console.debug = toStderr;

const API_RESOURCE = 'urn:kizuna:api';
const API_SCOPES = ['municipality:111007', 'municipality:112011'];

function list(name) {
  return (process.env[name] ?? '').split(',').map((value) => value.trim()).filter(Boolean);
}

function fail(message) {
  console.error(`provider.mjs: ${message}`);
  process.exit(2);
}

const host = process.env.HOST || '127.0.0.1';
const requestedPort = Number(process.env.PORT ?? '0');
if (!Number.isInteger(requestedPort) || requestedPort < 0 || requestedPort > 65535) {
  fail(`PORT must be a port number or 0, not ${JSON.stringify(process.env.PORT)}`);
}
const redirectUris = list('REDIRECT_URIS');
if (redirectUris.length === 0) {
  fail('REDIRECT_URIS is required (kizuna-web\'s redirect URIs, comma separated)');
}
const postLogoutRedirectUris = list('POST_LOGOUT_REDIRECT_URIS');

// Exit when the parent goes away (its end of our stdin closes) or asks us to.
const exit = () => process.exit(0);
process.stdin.on('end', exit);
process.stdin.on('close', exit);
process.stdin.on('error', exit);
process.stdin.resume();
process.on('SIGTERM', exit);
process.on('SIGINT', exit);

// Signing key: RS256, generated at start, published at jwks_uri. ID Tokens and the JWT Access
// Tokens are signed with it.
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = {
  ...privateKey.export({ format: 'jwk' }),
  kid: `kizuna-test-${randomUUID()}`,
  alg: 'RS256',
  use: 'sig',
};

function systemClient(municipality) {
  // A machine client: client credentials only, no redirects, allowed the one municipality scope.
  return {
    client_id: `kizuna-system-${municipality}`,
    client_secret: `kizuna-system-${municipality}-secret`,
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    scope: `municipality:${municipality}`,
  };
}

const configuration = {
  jwks: { keys: [signingKey] },

  clients: [
    {
      client_id: 'kizuna-web',
      client_secret: 'kizuna-web-secret',
      client_name: 'Kizuna',
      application_type: 'web',
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['authorization_code'],
      response_types: ['code'],
      redirect_uris: redirectUris,
      post_logout_redirect_uris: postLogoutRedirectUris,
      id_token_signed_response_alg: 'RS256',
    },
    systemClient('111007'),
    systemClient('112011'),
  ],

  // Any login name is an account; its `sub` is the login name.
  async findAccount(ctx, sub) {
    return {
      accountId: sub,
      async claims() {
        return { sub, name: `テスト 利用者 ${sub}` };
      },
    };
  },
  claims: { openid: ['sub'], profile: ['name'] },
  // The municipality scopes are listed so that a client's registered `scope` may name them:
  // the client-credentials grant then refuses (invalid_scope) a scope outside that allow-list.
  scopes: ['openid', 'profile', ...API_SCOPES],

  responseTypes: ['code'],
  // PKCE on every authorization request, S256 only.
  pkce: { methods: ['S256'], required: () => true },

  features: {
    devInteractions: { enabled: true },
    clientCredentials: { enabled: true },
    rpInitiatedLogout: { enabled: true },
    // Every Access Token is for Kizuna's API, so the UserInfo endpoint (which only takes opaque
    // tokens without an audience) would be unusable: it is off, and the scope-requested claims
    // (`name` for `profile`) go in the ID Token instead.
    userinfo: { enabled: false },
    introspection: { enabled: false },
    revocation: { enabled: false },
    resourceIndicators: {
      enabled: true,
      // No `resource` parameter needed, at the authorization endpoint or the token endpoint
      // (authorization code and client credentials alike): the API is the default resource...
      defaultResource: async () => API_RESOURCE,
      // ...and the resource granted at authorization is used at the code exchange even though
      // the scope holds `openid` (otherwise that exchange would give a UserInfo token).
      useGrantedResource: async () => true,
      async getResourceServerInfo(ctx, resourceIndicator) {
        if (resourceIndicator !== API_RESOURCE) {
          throw new errors.InvalidTarget(`unknown resource ${resourceIndicator}`);
        }
        return {
          scope: API_SCOPES.join(' '),
          audience: API_RESOURCE,
          accessTokenTTL: 60 * 60,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },
  // Scope-requested claims in the ID Token too (also implied by userinfo being off).
  conformIdTokenClaims: false,
  issueRefreshToken: async () => false,

  // Cookies over plain http on 127.0.0.1:
  // - never `secure` (koa refuses to set a secure cookie on an http connection; the library
  //   adds `secure` by itself only for https requests, and `provider.proxy` stays false so no
  //   X-Forwarded-Proto header can change that);
  // - SameSite=Lax instead of the default None for the session cookie (browsers drop
  //   SameSite=None cookies that are not Secure, and the library would also add a `.legacy`
  //   copy); Lax still rides along on the top-level navigation from Kizuna to /auth;
  // - names prefixed `panva_`: cookies are per host, not per port, so Kizuna on another port
  //   of 127.0.0.1 shares the jar with this provider;
  // - signed with a key made at start.
  cookies: {
    keys: [randomBytes(32).toString('base64url')],
    names: {
      session: 'panva_session',
      interaction: 'panva_interaction',
      resume: 'panva_interaction_resume',
    },
    long: { httpOnly: true, sameSite: 'lax', signed: true },
    short: { httpOnly: true, sameSite: 'lax', signed: true },
  },

  ttl: {
    AccessToken: 60 * 60,
    AuthorizationCode: 60,
    ClientCredentials: 60 * 60,
    IdToken: 60 * 60,
    Interaction: 10 * 60,
    Session: 60 * 60,
    Grant: 60 * 60,
  },

  async renderError(ctx, out) {
    ctx.type = 'json';
    ctx.body = out;
  },
};

const server = createServer();
server.on('error', (err) => fail(`cannot listen on ${host}:${requestedPort}: ${err.message}`));
server.listen(requestedPort, host, () => {
  const { port } = server.address();
  const issuer = `http://${host}:${port}`;
  const provider = new Provider(issuer, configuration);
  provider.proxy = false;

  // Refusals and failures are logged on stderr (the harness keeps it in a file) for debugging.
  for (const event of ['server_error', 'authorization.error', 'grant.error', 'end_session.error']) {
    provider.on(event, (ctx, err) => {
      const why = [err.error_description, err.error_detail].filter(Boolean).join('; ');
      console.error(`${event}: ${err.name}: ${err.message}${why ? ` (${why})` : ''}`);
      if (event === 'server_error') console.error(err);
    });
  }

  server.on('request', provider.callback());
  const { version } = createRequire(import.meta.url)('oidc-provider/package.json');
  console.error(`oidc-provider ${version} on node ${process.version} at ${issuer}`);
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
});
