"""The development IdP's endpoints and `create_dev_provider`, which mounts them. The rules
the provider adds to authlib's defaults are listed on the package (`kizuna.auth.devidp`)."""

from __future__ import annotations

from collections.abc import Sequence

from authlib.oauth2.rfc6749 import OAuth2Error
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from kizuna.auth.devidp import pages
from kizuna.auth.devidp.keys import ALGORITHM, jwks
from kizuna.auth.devidp.model import CONFIDENTIAL_AUTH_METHODS, DevClient, DevUser, check_client, origin_of
from kizuna.auth.devidp.request import authlib_request, check_basic_credentials
from kizuna.auth.devidp.server import DevAuthorizationServer
from kizuna.auth.devidp.state import ProviderState
from kizuna.platform.i18n import Message


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
        check_client(client, audience)
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


class _Provider(ProviderState):
    """The provider's endpoints, on its configuration and pending authorization codes."""

    async def discovery(self, request: Request) -> Response:
        def endpoint(path: str) -> str:
            # root_path is where the app is mounted ("/dev-idp"), behind any proxy prefix.
            return f"{origin_of(str(request.url))}{request.scope.get('root_path', '')}{path}"

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
            "token_endpoint_auth_methods_supported": [*CONFIDENTIAL_AUTH_METHODS, "none"],
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
        server = DevAuthorizationServer(self, request)
        language = server.language
        try:
            oauth_request = await authlib_request(request)
            subjects = oauth_request.payload.datalist.get("subject", []) if request.method == "POST" else []
            user = self.users.get(subjects[0]) if len(subjects) == 1 else None
            grant = server.get_consent_grant(oauth_request, end_user=user)
        except OAuth2Error as error:
            return server.authorization_error(error)
        except ValueError:
            # authlib quotes some parameters in its error descriptions, and raises ValueError
            # when one holds a character RFC 6749 forbids there (such as '"'): a bad request.
            return pages.error_page(language, "invalid_request", Message.DEV_BAD_CHARACTER.in_(language))
        if not subjects:
            redirect_origin = origin_of(grant.redirect_uri)
            return pages.sign_in_page(
                language,
                action=str(request.url.replace(query="")),
                # A redirect back to this origin is already covered by 'self'.
                redirect_origin="" if redirect_origin == server.origin else redirect_origin,
                client_id=grant.client.get_client_id(),
                scope=oauth_request.scope,
                parameters=[item for item in oauth_request.payload.items if item[0] != "subject"],
                users=self.users_in_order,
            )
        if user is None:
            return pages.error_page(language, "unknown_user", Message.DEV_UNKNOWN_USER.in_(language))
        response: Response = server.create_authorization_response(oauth_request, grant_user=user, grant=grant)
        return response

    async def token(self, request: Request) -> Response:
        server = DevAuthorizationServer(self, request)
        try:
            check_basic_credentials(request)
            oauth_request = await authlib_request(request)
        except OAuth2Error as error:
            error_response: Response = server.handle_error_response(None, error)
            return error_response
        response: Response = server.create_token_response(oauth_request)
        return response

    async def logout(self, request: Request) -> Response:
        """RP-Initiated Logout: back to a registered post_logout_redirect_uri, else a page."""
        server = DevAuthorizationServer(self, request)
        try:
            end_session = server.validate_endpoint_request("end_session", await authlib_request(request))
        except (OAuth2Error, ValueError):
            # RP-Initiated Logout 1.0 §4: after an error the provider must not redirect. The
            # ValueError is authlib's, as at /authorize (a kid such as 'a"b' in the hint).
            return pages.signed_out_page(server.language)
        response: Response | None = server.create_endpoint_response("end_session", end_session)
        return response if response is not None else pages.signed_out_page(server.language)
