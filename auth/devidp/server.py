"""authlib's authorization server, adapted to the development IdP for one request: its
clients, the code grant with PKCE (S256) and OpenID Connect, the client-credentials grant
and RP-Initiated Logout."""

from __future__ import annotations

import json
import secrets
import time

# authlib ships no type information: its classes are Any to mypy, so each subclass below
# needs `type: ignore[misc]`, and its methods carry the types.
from authlib.oauth2.rfc6749 import (
    AuthorizationCodeGrant,
    AuthorizationServer,
    ClientCredentialsGrant,
    ClientMixin,
    InvalidRequestError,
    InvalidScopeError,
    OAuth2Error,
)
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import OpenIDCode, UserInfo
from authlib.oidc.rpinitiated import EndSessionEndpoint
from joserfc.jwk import KeySet, RSAKey
from starlette.requests import Request
from starlette.responses import Response

from kizuna.auth.devidp import pages
from kizuna.auth.devidp.keys import ALGORITHM, issue_access_token
from kizuna.auth.devidp.model import CONFIDENTIAL_AUTH_METHODS, DevClient, DevUser, absolute_uri, origin_of
from kizuna.auth.devidp.request import AuthlibRequest
from kizuna.auth.devidp.state import AuthorizationCode, ProviderState
from kizuna.platform.i18n import negotiate

CODE_TTL_SECONDS = 60


class _Client(ClientMixin):  # type: ignore[misc]
    """A DevClient as authlib sees it, its path-form URIs resolved against one origin."""

    def __init__(self, client: DevClient, origin: str) -> None:
        self.dev = client
        self._redirect_uris = frozenset(absolute_uri(uri, origin) for uri in client.redirect_uris)
        # authlib's EndSessionEndpoint reads the registration metadata of RP-Initiated Logout.
        self.client_metadata = {
            "post_logout_redirect_uris": [absolute_uri(uri, origin) for uri in client.post_logout_redirect_uris]
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
        return method in CONFIDENTIAL_AUTH_METHODS

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code" and "authorization_code" in self.dev.grant_types

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.dev.grant_types


class DevAuthorizationServer(AuthorizationServer):  # type: ignore[misc]
    """authlib's authorization server for one request: its clients resolve path-form URIs
    against the request's origin. The provider holds everything that outlives it."""

    def __init__(self, provider: ProviderState, request: Request) -> None:
        super().__init__(scopes_supported=provider.scopes_supported)
        self.provider = provider
        self.origin = origin_of(str(request.url))
        self.language = negotiate(request.headers.get("accept-language"))  # for its pages
        self.register_token_generator("default", self._generate_token)
        self.register_grant(_CodeGrant, [_S256CodeChallenge(), _OpenIDCode(provider)])
        self.register_grant(_ClientCredentialsGrant)
        self.register_endpoint(_EndSessionEndpoint)

    def query_client(self, client_id: str) -> _Client | None:
        client = self.provider.clients.get(client_id)
        return _Client(client, self.origin) if client else None

    def save_token(self, token: dict[str, object], request: AuthlibRequest) -> None:
        """Nothing to keep: tokens are self-contained JWTs, never refreshed or revoked."""

    def create_oauth2_request(self, request: AuthlibRequest) -> AuthlibRequest:
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
        return pages.error_page(self.language, error.error, error.get_error_description())

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
    TOKEN_ENDPOINT_AUTH_METHODS = (*CONFIDENTIAL_AUTH_METHODS, "none")

    server: DevAuthorizationServer

    def validate_authorization_request(self) -> str:
        redirect_uri: str = super().validate_authorization_request()
        # Without `openid` authlib would skip the nonce check; this provider speaks OpenID only.
        if "openid" not in (self.request.payload.scope or "").split():
            raise InvalidScopeError("The scope must include 'openid'.", redirect_uri=redirect_uri)
        return redirect_uri

    def save_authorization_code(self, code: str, request: AuthlibRequest) -> None:
        data = request.payload.data
        self.server.provider.save_code(
            code,
            AuthorizationCode(
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

    def query_authorization_code(self, code: str, client: _Client) -> AuthorizationCode | None:
        return self.server.provider.take_code(code, client.get_client_id())

    def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
        """Nothing left to delete: `query_authorization_code` took the code."""

    def authenticate_user(self, authorization_code: AuthorizationCode) -> DevUser | None:
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

    def __init__(self, provider: ProviderState) -> None:
        super().__init__(require_nonce=True)
        self._provider = provider

    def exists_nonce(self, nonce: str, request: AuthlibRequest) -> bool:
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
    TOKEN_ENDPOINT_AUTH_METHODS = CONFIDENTIAL_AUTH_METHODS

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
    server: DevAuthorizationServer

    def get_server_jwks(self) -> KeySet:
        return self.server.provider.public_keys

    def get_algorithms(self) -> list[str]:
        return [ALGORITHM]

    def is_post_logout_redirect_uri_legitimate(
        self, request: AuthlibRequest, post_logout_redirect_uri: str, client: _Client, logout_hint: str | None
    ) -> bool:
        # Without an id_token_hint authlib redirects only if told to. The URI already matched
        # one the client registered, and with no session to end, a forged logout costs nothing.
        return True

    def end_session(self, end_session_request: object) -> None:
        """Nothing to end: the provider keeps no session."""
