"""Browser sign-in: authorization code with PKCE through authlib's Starlette client.

authlib keeps `state`, `nonce` and the PKCE verifier in the session between the redirect
and the callback, checks `state` on the way back, exchanges the code and validates the ID
token (signature, `iss`, `aud`, `exp`, `nonce`). What is left here: the routes, turning
the ID token into a session, the municipality switch and RP-initiated logout.

Every page speaks the language the browser's `Accept-Language` prefers, Japanese unless
it prefers English (`kizuna.platform.i18n`).
"""

from __future__ import annotations

import html
import logging
import re

import httpx
from authlib.integrations.base_client import OAuthError
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from kizuna.auth import session
from kizuna.auth.caller import Authenticator, live_account
from kizuna.auth.identity import Identity
from kizuna.auth.memberships import MembershipDirectory, serves, usable_memberships
from kizuna.auth.tokens import InvalidToken, TrustedIssuer, identity_from_claims
from kizuna.platform.caller import Membership
from kizuna.platform.database import Database
from kizuna.platform.i18n import Language, Message, negotiate
from kizuna.tenants.registry import by_code

log = logging.getLogger(__name__)

_MUNICIPALITY = re.compile(r"[0-9]{6}", re.ASCII)
_PAGE = """<!doctype html><html lang="{language}"><head><meta charset="utf-8">
<title>Kizuna</title><meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: sans-serif; max-width: 40rem; margin: 2rem auto">{body}</body></html>"""
_HEADERS = {
    "cache-control": "no-store",
    "x-frame-options": "DENY",
    # No `form-action`: browsers apply it to the redirect that answers a form, and the
    # sign-out form's answer is a redirect to the IdP's end-session endpoint.
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    "vary": "Accept-Language",
}


def _language(request: Request) -> Language:
    return negotiate(request.headers.get("accept-language"))


def _page(language: Language, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(_PAGE.format(language=language, body=body), status_code=status, headers=_HEADERS)


def _text(language: Language, message: Message) -> str:
    return html.escape(message.in_(language))


def _refusal(language: Language, message: Message, status: int) -> HTMLResponse:
    return _page(language, f"<p>{_text(language, message)}</p>", status)


class BrowserSignIn:
    def __init__(self, authenticator: Authenticator) -> None:
        self.authenticator = authenticator
        self.trust = authenticator.trust

    def routes(self) -> list[Route]:
        return [
            Route("/auth/login", self.choose_issuer, methods=["GET"]),
            Route("/auth/login/{issuer}", self.login, methods=["GET"]),
            Route("/auth/callback/{issuer}", self.callback, methods=["GET"]),
            Route("/auth/logout", self.logout, methods=["POST"]),
            Route("/auth/signed-out/{issuer}", self.signed_out, methods=["GET"]),
            Route("/auth/municipality", self.switch_municipality, methods=["POST"]),
            Route("/auth/session", self.describe, methods=["GET"]),
        ]

    def _directory(self, request: Request) -> MembershipDirectory:
        directory: MembershipDirectory = request.app.state.memberships
        return directory

    async def choose_issuer(self, request: Request) -> Response:
        names = self.trust.names
        if len(names) == 1:
            return RedirectResponse(f"/auth/login/{names[0]}", status_code=302)
        language = _language(request)
        links = "".join(
            f'<li><a href="/auth/login/{html.escape(n)}">{html.escape(self.trust.labels[n])}</a></li>' for n in names
        )
        return _page(
            language,
            f"<h1>{_text(language, Message.SIGN_IN)}</h1><p>{_text(language, Message.CHOOSE_ISSUER)}</p>"
            f"<ul>{links}</ul>",
        )

    async def login(self, request: Request) -> Response:
        language = _language(request)
        name = request.path_params["issuer"]
        if not self.trust.is_configured(name):
            return _refusal(language, Message.UNKNOWN_ISSUER, 404)
        client = self.trust.client(name) if await self.trust.discovered(name) else None
        if client is None:
            return _refusal(language, Message.ISSUER_UNREACHABLE, 502)
        redirect_uri = str(request.url_for("callback", issuer=name))
        try:
            response: Response = await client.authorize_redirect(request, redirect_uri)
        except Exception:
            log.exception("sign-in at %s could not start", name)
            return _refusal(language, Message.ISSUER_UNREACHABLE, 502)
        return response

    async def callback(self, request: Request) -> Response:
        language = _language(request)
        name = request.path_params["issuer"]
        client, trusted = self.trust.client(name), self.trust.by_name(name)
        if client is None or trusted is None:
            return _refusal(language, Message.UNKNOWN_ISSUER, 404)
        try:
            token = await client.authorize_access_token(request)
            claims = dict(token["userinfo"])
            identity = identity_from_claims(claims, trusted)
        except (OAuthError, InvalidToken, KeyError, ValueError) as exc:
            # A wrong state, a replayed or expired code, a bad ID token: no session.
            log.warning("sign-in at %s refused: %r", name, str(exc))  # %r: the text may come from the URL
            again = f'<a href="/auth/login">{_text(language, Message.SIGN_IN_AGAIN)}</a>'
            return _page(language, f"<p>{_text(language, Message.SIGN_IN_FAILED)}</p><p>{again}</p>", 400)
        except httpx.HTTPError as exc:  # the IdP's token endpoint did not answer
            log.warning("sign-in at %s: the token request failed: %r", name, str(exc))
            return _refusal(language, Message.ISSUER_UNREACHABLE, 502)
        account = await self._directory(request).account(identity.issuer, identity.subject)
        if not usable_memberships(identity, trusted, account):
            return _refusal(language, Message.NO_MEMBERSHIP, 403)
        session.sign_in(
            request, identity, issuer_name=name, id_token=token.get("id_token"), session_epoch=account.session_epoch
        )
        return RedirectResponse("/", status_code=303)

    async def logout(self, request: Request) -> Response:
        if not session.is_same_origin(request, require_proof=True):
            return _refusal(_language(request), Message.CROSS_SITE, 403)
        name = session.session_issuer_name(request)
        signed_in = self.authenticator.signed_in(request)
        id_token = session.sign_out(request)
        if signed_in is not None:
            identity, _ = signed_in
            # Every copy of this session, and the user's other sessions, end here too.
            database: Database = request.app.state.database
            await database.sign_out(identity.issuer, identity.subject)
            self._directory(request).forget(identity.issuer, identity.subject)
        client = self.trust.client(name) if name else None
        if client is None:
            return self._home_after_sign_out(request)
        # The IdP comes back with a `state` that authlib keeps in the session meanwhile.
        back = str(request.url_for("signed_out", issuer=name))
        try:
            response: Response = await client.logout_redirect(
                request, post_logout_redirect_uri=back, id_token_hint=id_token, client_id=client.client_id
            )
        except RuntimeError:  # the IdP has no end_session_endpoint: the local sign-out stands
            return self._home_after_sign_out(request)
        return response

    async def signed_out(self, request: Request) -> Response:
        """The post-logout redirect URI: the IdP sends the browser back here with the
        `state` of this browser's logout. On to a clean `/`, which says that the user
        signed out if the state is the one the logout sent."""
        client = self.trust.client(request.path_params["issuer"])
        if client is None:
            return RedirectResponse("/", status_code=303)
        try:
            await client.validate_logout_response(request)
        except OAuthError:  # not this browser's logout (a stale or forged link)
            return RedirectResponse("/", status_code=303)
        return self._home_after_sign_out(request)

    @staticmethod
    def _home_after_sign_out(request: Request) -> Response:
        session.note_signed_out(request)
        return RedirectResponse("/", status_code=303)

    async def switch_municipality(self, request: Request) -> Response:
        language = _language(request)
        if not session.is_same_origin(request, require_proof=True):
            return _refusal(language, Message.CROSS_SITE, 403)
        signed_in = self.authenticator.signed_in(request)
        if signed_in is None:
            return RedirectResponse("/auth/login", status_code=303)
        async with request.form() as form:
            code = form.get("municipality")
        usable = await self._usable(request, *signed_in)
        if not isinstance(code, str) or not _MUNICIPALITY.fullmatch(code) or by_code(code) is None:
            return _refusal(language, Message.NO_SUCH_MUNICIPALITY, 403)
        if not any(serves(m, code) for m in usable):
            return _refusal(language, Message.NO_MEMBERSHIP_THERE, 403)
        session.choose_municipality(request, code)
        return RedirectResponse("/", status_code=303)

    async def describe(self, request: Request) -> Response:
        """The session as JSON, for pages and scripts: who, and which memberships."""
        signed_in = self.authenticator.signed_in(request)
        if signed_in is None:
            return JSONResponse({"signedIn": False}, headers={"cache-control": "no-store"})
        identity, _ = signed_in
        usable = await self._usable(request, *signed_in)
        return JSONResponse(
            {
                "signedIn": True,
                "issuer": identity.issuer,
                "subject": identity.subject,
                "name": identity.display_name,
                "municipality": session.chosen_municipality(request),
                "memberships": [{"municipality": m.municipality_code, "role": m.role.value} for m in usable],
            },
            headers={"cache-control": "no-store"},
        )

    async def _usable(self, request: Request, identity: Identity, trusted: TrustedIssuer) -> tuple[Membership, ...]:
        account = await live_account(request, self._directory(request), identity)
        return () if account is None else usable_memberships(identity, trusted, account)
