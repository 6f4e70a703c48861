"""The embedded development identity provider (development only).

`load_or_create_key` keeps an RSA signing key in the data directory and `jwks` publishes
it. `create_dev_provider` serves an OpenID Connect provider on that key, built on
authlib's server classes: demo users sign in by choosing their name on a page, without a
password, so it must never be reachable in production. `issue_access_token` mints the
same access tokens for `kizuna dev-token`.

Rules the provider adds to authlib's defaults:
- an authorization request needs the `openid` scope, a nonce and PKCE with S256;
- an authorization code is accepted once within 60 seconds: its first presentation
  consumes it whatever the outcome, so a replayed code is always `invalid_grant`;
- redirect URIs match a registered URI exactly; a registered path ("/auth/callback/dev")
  stands for that path on the origin the browser used to reach the provider.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import secrets
import time
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

# authlib ships no type information: its classes are Any to mypy, so each subclass below
# needs `type: ignore[misc]`, and its methods carry the types.
from authlib.oauth2.rfc6749 import (
    AuthorizationCodeGrant,
    AuthorizationServer,
    ClientCredentialsGrant,
    ClientMixin,
    InvalidClientError,
    InvalidRequestError,
    InvalidScopeError,
    OAuth2Error,
    OAuth2Payload,
    OAuth2Request,
)
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import AuthorizationCodeMixin, OpenIDCode, UserInfo
from authlib.oidc.rpinitiated import EndSessionEndpoint
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from kizuna.auth import devidp_pages

KEY_FILE = "dev-idp-key.json"
ALGORITHM = "RS256"
CODE_TTL_SECONDS = 60
_GRANT_TYPES = frozenset({"authorization_code", "client_credentials"})
_CONFIDENTIAL_AUTH_METHODS = ("client_secret_basic", "client_secret_post")
_FORM = "application/x-www-form-urlencoded"
_MAX_BODY_BYTES = 64 * 1024
_MAX_FIELDS = 100
# A host[:port] that can go into a Content-Security-Policy source list as it is.
_NETLOC = re.compile(r"[A-Za-z0-9.\-]+(:[0-9]+)?|\[[0-9A-Fa-f:.]+\](:[0-9]+)?")


def load_or_create_key(data_dir: Path) -> RSAKey:
    """The signing key, created on first use and kept private to this user (0600)."""
    path = data_dir / KEY_FILE
    if path.exists():
        return RSAKey.import_key(json.loads(path.read_text()))
    data_dir.mkdir(parents=True, exist_ok=True)
    key = RSAKey.generate_key(2048, parameters={"use": "sig", "alg": ALGORITHM}, auto_kid=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as file:
        json.dump(key.as_dict(private=True), file)
    return key


def jwks(key: RSAKey) -> dict[str, Any]:
    """The public JWKS document."""
    return {"keys": [key.as_dict(private=False)]}


def issue_access_token(
    key: RSAKey, *, issuer: str, audience: str, subject: str, scope: str, ttl_seconds: int, client_id: str
) -> str:
    """A JWT access token (RFC 9068, `typ` "at+jwt"), as the token endpoint issues them."""
    now = int(time.time())
    claims = {
        "iss": issuer,
        "aud": audience,
        "sub": subject,
        "client_id": client_id,
        "scope": scope,
        "iat": now,
        "nbf": now,
        "exp": now + ttl_seconds,
        "jti": str(uuid.uuid4()),
    }
    header = {"alg": ALGORITHM, "kid": key.kid, "typ": "at+jwt"}
    token: str = jwt.encode(header, claims, key)
    return token


@dataclass(frozen=True, slots=True)
class DevUser:
    subject: str
    """The `sub` of the user's tokens, e.g. "demo:caseworker:111007"."""
    display_name: str
    """The `name` claim, e.g. "さいたま市 ケースワーカー 山田 太郎"."""
    description: str
    """Shown on the sign-in page, e.g. "さいたま市 · ケースワーカー"; the page groups users
    under the text before the first " · " (here the municipality)."""


@dataclass(frozen=True, slots=True)
class DevClient:
    """A registered client. A URI is absolute (http or https), or a path such as
    "/auth/callback/dev" meaning that path on the origin of the request the provider is
    answering. A client without a secret is public: it authenticates with "none"."""

    client_id: str
    client_secret: str | None
    redirect_uris: tuple[str, ...]
    post_logout_redirect_uris: tuple[str, ...]
    grant_types: tuple[str, ...]
    scope: str
    """The scopes the client may ask for, space separated; asking for none grants them all."""
    subject: str | None = None
    """The `sub` of its client-credentials tokens; None: the client_id."""


def create_dev_provider(
    *,
    key: RSAKey,
    issuer: str,
    audience: str,
    users: Sequence[DevUser],
    clients: Sequence[DevClient],
    token_ttl_seconds: int,
) -> Starlette:
    """The OpenID provider as an ASGI app, to be mounted (`Mount("/dev-idp", app=...)`).

    `issuer` is the fixed identifier put in every token and in discovery; the endpoint
    URLs in discovery follow the request, wherever the app is mounted. Raises ValueError
    for a configuration the provider could not serve safely.
    """
    if key.kid is None or not key.is_private:
        raise ValueError("the signing key must be private and have a kid")
    for client in clients:
        _check_client(client, audience)
    if len({client.client_id for client in clients}) != len(clients):
        raise ValueError("client ids must be unique")
    provider = _Provider(
        key=key, issuer=issuer, audience=audience, users=users, clients=clients, token_ttl_seconds=token_ttl_seconds
    )
    return Starlette(
        routes=[
            Route("/.well-known/openid-configuration", provider.discovery, methods=["GET"]),
            Route("/jwks.json", provider.jwks, methods=["GET"]),
            Route("/authorize", provider.authorize, methods=["GET", "POST"]),
            Route("/token", provider.token, methods=["POST"]),
            Route("/logout", provider.logout, methods=["GET", "POST"]),
        ]
    )


def _check_client(client: DevClient, audience: str) -> None:
    if not set(client.grant_types) <= _GRANT_TYPES:
        raise ValueError(f"{client.client_id}: grant types must be among {sorted(_GRANT_TYPES)}")
    if "client_credentials" in client.grant_types and client.client_secret is None:
        raise ValueError(f"{client.client_id}: client credentials need a client secret")
    # Access tokens are signed with the same key as ID tokens; were a client named like the
    # audience, an access token would pass as that client's id_token_hint at logout.
    if client.client_id == audience:
        raise ValueError(f"{client.client_id}: a client id must differ from the audience")
    for uri in (*client.redirect_uris, *client.post_logout_redirect_uris):
        parts = urlsplit(uri)
        same_origin_path = uri.startswith("/") and not uri.startswith("//")
        absolute = parts.scheme in ("http", "https") and _NETLOC.fullmatch(parts.netloc) is not None
        if parts.fragment or not (same_origin_path or absolute):
            raise ValueError(f"{client.client_id}: {uri!r} is neither an http(s) URL nor a path")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _absolute(uri: str, origin: str) -> str:
    return origin + uri if uri.startswith("/") else uri


@dataclass(frozen=True, slots=True)
class _AuthorizationCode(AuthorizationCodeMixin):  # type: ignore[misc]
    client_id: str
    redirect_uri: str
    scope: str
    subject: str
    nonce: str
    auth_time: int
    code_challenge: str
    code_challenge_method: str
    expires_at: float
    """On the monotonic clock."""

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time


class _Provider:
    """The provider's configuration, its pending authorization codes and its endpoints."""

    def __init__(
        self,
        *,
        key: RSAKey,
        issuer: str,
        audience: str,
        users: Sequence[DevUser],
        clients: Sequence[DevClient],
        token_ttl_seconds: int,
    ) -> None:
        self.key = key
        self.public_keys = KeySet([RSAKey.import_key(key.as_dict(private=False))])
        self.issuer = issuer
        self.audience = audience
        self.token_ttl_seconds = token_ttl_seconds
        self.users = {user.subject: user for user in users}
        self.clients = {client.client_id: client for client in clients}
        self.users_in_order = tuple(users)
        self.scopes_supported = sorted({scope for client in clients for scope in client.scope.split()})
        self.grant_types_supported = sorted({grant for client in clients for grant in client.grant_types})
        self._codes: dict[str, _AuthorizationCode] = {}

    def save_code(self, code: str, authorization_code: _AuthorizationCode) -> None:
        now = time.monotonic()
        for expired in [name for name, pending in self._codes.items() if pending.expires_at <= now]:
            del self._codes[expired]
        self._codes[code] = authorization_code

    def take_code(self, code: str, client_id: str) -> _AuthorizationCode | None:
        """The code if it is live and was issued to `client_id`. Taking a code removes it,
        so each code is presented once, whatever the outcome of that presentation."""
        pending = self._codes.pop(code, None)
        if pending is None or pending.client_id != client_id or pending.expires_at <= time.monotonic():
            return None
        return pending

    def nonce_pending(self, client_id: str, nonce: str) -> bool:
        return any(code.client_id == client_id and code.nonce == nonce for code in self._codes.values())

    async def discovery(self, request: Request) -> Response:
        def endpoint(path: str) -> str:
            # root_path is where the app is mounted ("/dev-idp"), behind any proxy prefix.
            return f"{_origin(str(request.url))}{request.scope.get('root_path', '')}{path}"

        document = {
            "issuer": self.issuer,
            "authorization_endpoint": endpoint("/authorize"),
            "token_endpoint": endpoint("/token"),
            "jwks_uri": endpoint("/jwks.json"),
            "end_session_endpoint": endpoint("/logout"),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": self.grant_types_supported,
            "code_challenge_methods_supported": ["S256"],
            "id_token_signing_alg_values_supported": [ALGORITHM],
            "token_endpoint_auth_methods_supported": [*_CONFIDENTIAL_AUTH_METHODS, "none"],
            "scopes_supported": self.scopes_supported,
            "subject_types_supported": ["public"],
            "claims_supported": ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "name", "at_hash"],
        }
        # The endpoint URLs follow the Host header, so no cache may keep one answer for all.
        return JSONResponse(document, headers={"Cache-Control": "no-store"})

    async def jwks(self, _: Request) -> Response:
        return JSONResponse(jwks(self.key))

    async def authorize(self, request: Request) -> Response:
        """GET (or a POST without a subject) validates the request and shows the sign-in
        page; the page's POST names the subject and is validated again before a code is
        issued. Forging that POST gains nothing: anyone may sign in as any demo user, and
        the code is bound to the client's PKCE challenge and state."""
        server = _AuthorizationServer(self, request)
        try:
            oauth_request = await _oauth2_request(request)
            subjects = oauth_request.payload.datalist.get("subject", []) if request.method == "POST" else []
            user = self.users.get(subjects[0]) if len(subjects) == 1 else None
            grant = server.get_consent_grant(oauth_request, end_user=user)
        except OAuth2Error as error:
            return server.authorization_error(error)
        except ValueError:
            # authlib quotes some parameters in its error descriptions, and raises ValueError
            # when one holds a character RFC 6749 forbids there (such as '"'): a bad request.
            return devidp_pages.error_page("invalid_request", "A parameter holds a character it may not.")
        if not subjects:
            redirect_origin = _origin(grant.redirect_uri)
            return devidp_pages.sign_in_page(
                action=str(request.url.replace(query="")),
                # A redirect back to this origin is already covered by 'self'.
                redirect_origin="" if redirect_origin == server.origin else redirect_origin,
                client_id=grant.client.get_client_id(),
                scope=oauth_request.scope,
                parameters=[item for item in oauth_request.payload.items if item[0] != "subject"],
                users=self.users_in_order,
            )
        if user is None:
            return devidp_pages.error_page("unknown_user", "The chosen subject is not a development user.")
        response: Response = server.create_authorization_response(oauth_request, grant_user=user, grant=grant)
        return response

    async def token(self, request: Request) -> Response:
        server = _AuthorizationServer(self, request)
        try:
            _check_basic_credentials(request)
            oauth_request = await _oauth2_request(request)
        except OAuth2Error as error:
            error_response: Response = server.handle_error_response(None, error)
            return error_response
        response: Response = server.create_token_response(oauth_request)
        return response

    async def logout(self, request: Request) -> Response:
        """RP-Initiated Logout: back to a registered post_logout_redirect_uri, else a page."""
        server = _AuthorizationServer(self, request)
        try:
            end_session = server.validate_endpoint_request("end_session", await _oauth2_request(request))
        except (OAuth2Error, ValueError):
            # RP-Initiated Logout 1.0 §4: after an error the provider must not redirect. The
            # ValueError is authlib's, as at /authorize (a kid such as 'a"b' in the hint).
            return devidp_pages.signed_out_page()
        response: Response | None = server.create_endpoint_response("end_session", end_session)
        return response if response is not None else devidp_pages.signed_out_page()


class _Payload(OAuth2Payload):  # type: ignore[misc]
    """Request parameters as authlib reads them: `data` keeps the first value of each name,
    `datalist` every value, so that authlib can refuse repeated parameters."""

    def __init__(self, items: Sequence[tuple[str, str]]) -> None:
        self.items = tuple(items)
        self._data: dict[str, str] = {}
        self._datalist: defaultdict[str, list[str]] = defaultdict(list)
        for name, value in items:
            self._data.setdefault(name, value)
            self._datalist[name].append(value)

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        return self._datalist


class _OAuth2Request(OAuth2Request):  # type: ignore[misc]
    """A Starlette request for authlib. The parameters are the query of a GET and the body
    of a POST; authlib's `form` is the body only."""

    def __init__(self, request: Request, items: Sequence[tuple[str, str]]) -> None:
        # authlib raises InsecureTransportError here for plain http beyond loopback.
        super().__init__(request.method, str(request.url), headers=request.headers)
        self.payload = _Payload(items)
        self._form = self.payload.data if request.method == "POST" else {}

    @property
    def form(self) -> dict[str, str]:
        return self._form


async def _oauth2_request(request: Request) -> _OAuth2Request:
    if request.method != "POST":
        return _OAuth2Request(request, request.query_params.multi_items())
    if request.headers.get("content-type", "").partition(";")[0].strip().lower() != _FORM:
        raise InvalidRequestError("The body must be application/x-www-form-urlencoded.")
    # Parsed here rather than by `request.form()`, which needs python-multipart even for
    # urlencoded bodies; the size and field limits keep a hostile body cheap.
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > _MAX_BODY_BYTES:
            raise InvalidRequestError("The body is too large.")
    try:
        items = parse_qsl(body.decode(), keep_blank_values=True, errors="strict", max_num_fields=_MAX_FIELDS)
    except ValueError:  # invalid UTF-8, or too many fields
        raise InvalidRequestError("The body is not a valid form.") from None
    return _OAuth2Request(request, items)


def _check_basic_credentials(request: Request) -> None:
    # authlib decodes Basic credentials as UTF-8 without catching the error (a 500).
    parts = request.headers.get("authorization", "").split(None, 1)  # as authlib splits it
    if len(parts) != 2 or parts[0].lower() != "basic":
        return
    try:
        base64.b64decode(parts[1], validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidClientError("Malformed Basic credentials.", status_code=401) from None


class _Client(ClientMixin):  # type: ignore[misc]
    """A DevClient as authlib sees it, its path-form URIs resolved against one origin."""

    def __init__(self, client: DevClient, origin: str) -> None:
        self.dev = client
        self._redirect_uris = frozenset(_absolute(uri, origin) for uri in client.redirect_uris)
        # authlib's EndSessionEndpoint reads the registration metadata of RP-Initiated Logout.
        self.client_metadata = {
            "post_logout_redirect_uris": [_absolute(uri, origin) for uri in client.post_logout_redirect_uris]
        }

    def get_client_id(self) -> str:
        return self.dev.client_id

    def get_default_redirect_uri(self) -> None:
        # OpenID Connect requires redirect_uri in every authorization request.
        return None

    def get_allowed_scope(self, scope: str | None) -> str | None:
        """The requested scope if the client may have all of it, else None; no scope
        means the client's whole scope (RFC 6749 §3.3)."""
        if not scope:
            return self.dev.scope
        requested = list(dict.fromkeys(scope.split()))
        return " ".join(requested) if set(requested) <= set(self.dev.scope.split()) else None

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self._redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        # Bytes, because compare_digest refuses str with non-ASCII characters.
        secret = self.dev.client_secret
        return secret is not None and secrets.compare_digest(secret.encode(), client_secret.encode())

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.dev.client_secret is None:
            return method == "none"
        return method in _CONFIDENTIAL_AUTH_METHODS

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code" and "authorization_code" in self.dev.grant_types

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.dev.grant_types


class _AuthorizationServer(AuthorizationServer):  # type: ignore[misc]
    """authlib's authorization server for one request: its clients resolve path-form URIs
    against the request's origin. The provider holds everything that outlives it."""

    def __init__(self, provider: _Provider, request: Request) -> None:
        super().__init__(scopes_supported=provider.scopes_supported)
        self.provider = provider
        self.origin = _origin(str(request.url))
        self.register_token_generator("default", self._generate_token)
        self.register_grant(_CodeGrant, [_S256CodeChallenge(), _OpenIDCode(provider)])
        self.register_grant(_ClientCredentialsGrant)
        self.register_endpoint(_EndSessionEndpoint)

    def query_client(self, client_id: str) -> _Client | None:
        client = self.provider.clients.get(client_id)
        return _Client(client, self.origin) if client else None

    def save_token(self, token: dict[str, object], request: _OAuth2Request) -> None:
        """Nothing to keep: tokens are self-contained JWTs, never refreshed or revoked."""

    def create_oauth2_request(self, request: _OAuth2Request) -> _OAuth2Request:
        # Starlette reads bodies asynchronously, so handlers build the request beforehand.
        return request

    def handle_response(self, status_code: int, payload: object, headers: list[tuple[str, str]]) -> Response:
        body = json.dumps(payload) if isinstance(payload, dict) else payload
        response = Response(body, status_code=status_code, headers=dict(headers))
        # Codes, tokens and errors alike: no answer of the provider may be cached.
        response.headers["Cache-Control"] = "no-store"
        return response

    def send_signal(self, name: str, *args: object, **kwargs: object) -> None:
        """authlib announces events (a client authenticated); nothing here listens."""

    def authorization_error(self, error: OAuth2Error) -> Response:
        """Sends the error back to the client only when authlib set a redirect URI, which it
        does once the client and its redirect URI are validated (RFC 6749 §4.1.2.1)."""
        if error.redirect_uri:
            response: Response = self.handle_error_response(None, error)
            return response
        return devidp_pages.error_page(error.error, error.get_error_description())

    def _generate_token(
        self,
        *,
        grant_type: str,
        client: _Client,
        user: DevUser | None,
        scope: str,
        expires_in: int | None,
        include_refresh_token: bool,
    ) -> dict[str, object]:
        # authlib's last two arguments go unused: lifetimes are fixed and no refresh tokens exist.
        provider = self.provider
        access_token = issue_access_token(
            provider.key,
            issuer=provider.issuer,
            audience=provider.audience,
            subject=user.subject if user else client.dev.subject or client.dev.client_id,
            scope=scope,
            ttl_seconds=provider.token_ttl_seconds,
            client_id=client.dev.client_id,
        )
        return {
            "token_type": "Bearer",
            "access_token": access_token,
            "expires_in": provider.token_ttl_seconds,
            "scope": scope,
        }


class _CodeGrant(AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = (*_CONFIDENTIAL_AUTH_METHODS, "none")

    server: _AuthorizationServer

    def validate_authorization_request(self) -> str:
        redirect_uri: str = super().validate_authorization_request()
        # Without `openid` authlib would skip the nonce check; this provider speaks OpenID only.
        if "openid" not in (self.request.payload.scope or "").split():
            raise InvalidScopeError("The scope must include 'openid'.", redirect_uri=redirect_uri)
        return redirect_uri

    def save_authorization_code(self, code: str, request: _OAuth2Request) -> None:
        data = request.payload.data
        self.server.provider.save_code(
            code,
            _AuthorizationCode(
                client_id=request.client.get_client_id(),
                redirect_uri=request.payload.redirect_uri,
                scope=request.scope,
                subject=request.user.subject,
                nonce=data["nonce"],
                auth_time=int(time.time()),
                code_challenge=data["code_challenge"],
                code_challenge_method=data["code_challenge_method"],
                expires_at=time.monotonic() + CODE_TTL_SECONDS,
            ),
        )

    def query_authorization_code(self, code: str, client: _Client) -> _AuthorizationCode | None:
        return self.server.provider.take_code(code, client.get_client_id())

    def delete_authorization_code(self, authorization_code: _AuthorizationCode) -> None:
        """Nothing left to delete: `query_authorization_code` took the code."""

    def authenticate_user(self, authorization_code: _AuthorizationCode) -> DevUser | None:
        return self.server.provider.users.get(authorization_code.subject)


class _S256CodeChallenge(CodeChallenge):  # type: ignore[misc]
    """PKCE with S256 on every authorization request. authlib's `required` is checked only
    at the token endpoint and only for public clients, and allows "plain"."""

    def validate_code_challenge(self, grant: _CodeGrant, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("Missing 'code_challenge': PKCE is required.")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("The 'code_challenge_method' must be S256.")
        super().validate_code_challenge(grant, redirect_uri)


class _OpenIDCode(OpenIDCode):  # type: ignore[misc]
    """ID tokens for the code flow. authlib 1.9 deprecates `get_jwt_config` (a warning on
    every call); these hooks replace it."""

    def __init__(self, provider: _Provider) -> None:
        super().__init__(require_nonce=True)
        self._provider = provider

    def exists_nonce(self, nonce: str, request: _OAuth2Request) -> bool:
        # A nonce bound to a code not yet redeemed means a replayed authorization request.
        return self._provider.nonce_pending(request.payload.client_id, nonce)

    def resolve_client_private_key(self, client: _Client) -> RSAKey:
        return self._provider.key

    def get_client_algorithm(self, client: _Client) -> str:
        return ALGORITHM

    def get_encode_header(self, client: _Client) -> dict[str, str | None]:
        return {"alg": ALGORITHM, "kid": self._provider.key.kid, "typ": "JWT"}

    def get_client_claims(self, client: _Client) -> dict[str, object]:
        return {
            "iss": self._provider.issuer,
            "aud": client.get_client_id(),
            "exp": int(time.time()) + self._provider.token_ttl_seconds,
        }

    def generate_user_info(self, user: DevUser, scope: str) -> UserInfo:
        return UserInfo(sub=user.subject, name=user.display_name)


class _ClientCredentialsGrant(ClientCredentialsGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = _CONFIDENTIAL_AUTH_METHODS

    def validate_requested_scope(self) -> None:
        """Holds the scope to the client's own; authlib checks only the server's list."""
        super().validate_requested_scope()
        scope = self.client.get_allowed_scope(self.request.payload.scope)
        if scope is None:
            raise InvalidScopeError("The scope exceeds the client's.")
        self.request.scope = scope

    def create_token_response(self) -> tuple[int, dict[str, object], list[tuple[str, str]]]:
        # authlib's version issues the scope as requested, possibly none; this one, the scope granted.
        token: dict[str, object] = self.generate_token(scope=self.request.scope, include_refresh_token=False)
        return 200, token, self.TOKEN_RESPONSE_HEADER


class _EndSessionEndpoint(EndSessionEndpoint):  # type: ignore[misc]
    server: _AuthorizationServer

    def get_server_jwks(self) -> KeySet:
        return self.server.provider.public_keys

    def get_algorithms(self) -> list[str]:
        return [ALGORITHM]

    def is_post_logout_redirect_uri_legitimate(
        self, request: _OAuth2Request, post_logout_redirect_uri: str, client: _Client, logout_hint: str | None
    ) -> bool:
        # Without an id_token_hint authlib redirects only if told to. The URI already matched
        # one the client registered, and with no session to end, a forged logout costs nothing.
        return True

    def end_session(self, end_session_request: object) -> None:
        """Nothing to end: the provider keeps no session."""
