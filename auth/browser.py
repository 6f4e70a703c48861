"""Browser sign-in: authorization code with PKCE through authlib's Starlette client.

authlib keeps `state`, `nonce` and the PKCE verifier in the session between the redirect
and the callback, checks `state` on the way back, exchanges the code and validates the ID
token (signature, `iss`, `aud`, `exp`, `nonce`). What is left here: the routes, turning
the ID token into a session, the municipality switch and RP-initiated logout.
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
from kizuna.auth.memberships import MembershipDirectory, serves, usable_memberships
from kizuna.auth.principal import Identity, Membership
from kizuna.auth.tokens import InvalidToken, TrustedIssuer, identity_from_claims
from kizuna.platform.database import Database
from kizuna.platform.vocabulary import AppRole
from kizuna.tenants.registry import by_code, for_prefecture

log = logging.getLogger(__name__)

_MUNICIPALITY = re.compile(r"[0-9]{6}", re.ASCII)
_PAGE = """<!doctype html><html lang="ja"><head><meta charset="utf-8">
<title>Kizuna</title><meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: sans-serif; max-width: 40rem; margin: 2rem auto">{body}</body></html>"""
_HEADERS = {
    "cache-control": "no-store",
    "x-frame-options": "DENY",
    # No `form-action`: browsers apply it to the redirect that answers a form, and the
    # sign-out form's answer is a redirect to the IdP's end-session endpoint.
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
}


def _page(body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(_PAGE.format(body=body), status_code=status, headers=_HEADERS)


def _municipality_label(code: str) -> str:
    government = by_code(code)
    return html.escape(code if government is None else f"{government.name}（{code}）")


def _switch_form(field: str) -> str:
    return (
        '<form method="post" action="/auth/municipality" style="display:inline">'
        f"{field}<button>この団体で作業する</button></form>"
    )


class BrowserSignIn:
    def __init__(self, authenticator: Authenticator) -> None:
        self.authenticator = authenticator
        self.trust = authenticator.trust

    def routes(self) -> list[Route]:
        return [
            Route("/", self.home, methods=["GET"]),
            Route("/auth/login", self.choose_issuer, methods=["GET"]),
            Route("/auth/login/{issuer}", self.login, methods=["GET"]),
            Route("/auth/callback/{issuer}", self.callback, methods=["GET"]),
            Route("/auth/logout", self.logout, methods=["POST"]),
            Route("/auth/municipality", self.switch_municipality, methods=["POST"]),
            Route("/auth/session", self.describe, methods=["GET"]),
        ]

    def _directory(self, request: Request) -> MembershipDirectory:
        directory: MembershipDirectory = request.app.state.memberships
        return directory

    async def home(self, request: Request) -> Response:
        signed_in = self.authenticator.signed_in(request)
        if signed_in is None:
            return _page('<h1>Kizuna 絆</h1><p><a href="/auth/login">サインイン / Sign in</a></p>')
        identity, _ = signed_in
        usable = await self._usable(request, *signed_in)
        current = session.chosen_municipality(request)
        rows = "".join(
            f"<li>{_municipality_label(m.municipality_code)} · {html.escape(m.role.label)}"
            + ("（選択中）" if m.municipality_code == current else "")
            + _switch_form(f'<input type="hidden" name="municipality" value="{html.escape(m.municipality_code)}">')
            + "</li>"
            for m in usable
        )
        # A platform administrator's membership serves every municipality of the prefecture.
        served = sorted(
            {
                g.code
                for m in usable
                if m.role is AppRole.PLATFORM_ADMIN
                for g in for_prefecture(m.municipality_code[:2])
            }
        )
        if served:
            options = "".join(
                f'<option value="{code}"{" selected" if code == current else ""}>{_municipality_label(code)}</option>'
                for code in served
            )
            select = f'<select name="municipality">{options}</select>'
            rows += f"<li>管理する団体 {_switch_form(select)}</li>"
        name = html.escape(identity.display_name or identity.subject)
        return _page(
            f"<h1>Kizuna 絆</h1><p>{name}</p><ul>{rows}</ul>"
            '<p><a href="/graphql">GraphQL</a></p>'
            '<form method="post" action="/auth/logout"><button>サインアウト / Sign out</button></form>'
        )

    async def choose_issuer(self, request: Request) -> Response:
        names = self.trust.names
        if len(names) == 1:
            return RedirectResponse(f"/auth/login/{names[0]}", status_code=302)
        links = "".join(
            f'<li><a href="/auth/login/{html.escape(n)}">{html.escape(self.trust.labels[n])}</a></li>' for n in names
        )
        return _page(f"<h1>サインイン / Sign in</h1><ul>{links}</ul>")

    async def login(self, request: Request) -> Response:
        name = request.path_params["issuer"]
        if not self.trust.is_configured(name):
            return _page("<p>Unknown identity provider.</p>", 404)
        client = self.trust.client(name) if await self.trust.discovered(name) else None
        if client is None:
            return _page("<p>The identity provider cannot be reached. Try again later.</p>", 502)
        redirect_uri = str(request.url_for("callback", issuer=name))
        try:
            response: Response = await client.authorize_redirect(request, redirect_uri)
        except Exception:
            log.exception("sign-in at %s could not start", name)
            return _page("<p>The identity provider cannot be reached. Try again later.</p>", 502)
        return response

    async def callback(self, request: Request) -> Response:
        name = request.path_params["issuer"]
        client, trusted = self.trust.client(name), self.trust.by_name(name)
        if client is None or trusted is None:
            return _page("<p>Unknown identity provider.</p>", 404)
        try:
            token = await client.authorize_access_token(request)
            claims = dict(token["userinfo"])
            identity = identity_from_claims(claims, trusted)
        except (OAuthError, InvalidToken, KeyError, ValueError) as exc:
            # A wrong state, a replayed or expired code, a bad ID token: no session.
            log.warning("sign-in at %s refused: %r", name, str(exc))  # %r: the text may come from the URL
            return _page('<p>サインインできませんでした。Sign-in failed. <a href="/auth/login">Try again</a></p>', 400)
        except httpx.HTTPError as exc:  # the IdP's token endpoint did not answer
            log.warning("sign-in at %s: the token request failed: %r", name, str(exc))
            return _page("<p>The identity provider cannot be reached. Try again later.</p>", 502)
        account = await self._directory(request).account(identity.issuer, identity.subject)
        if not usable_memberships(identity, trusted, account):
            return _page(
                "<p>このアカウントには Kizuna の利用権限がありません。No membership for this account.</p>", 403
            )
        session.sign_in(
            request, identity, issuer_name=name, id_token=token.get("id_token"), session_epoch=account.session_epoch
        )
        return RedirectResponse("/", status_code=303)

    async def logout(self, request: Request) -> Response:
        if not session.is_same_origin(request, require_proof=True):
            return _page("<p>Cross-site request refused.</p>", 403)
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
            return RedirectResponse("/", status_code=303)
        home = str(request.url_for("home"))
        try:
            response: Response = await client.logout_redirect(
                request, post_logout_redirect_uri=home, id_token_hint=id_token, client_id=client.client_id
            )
        except RuntimeError:  # the IdP has no end_session_endpoint: the local sign-out stands
            return RedirectResponse("/", status_code=303)
        return response

    async def switch_municipality(self, request: Request) -> Response:
        if not session.is_same_origin(request, require_proof=True):
            return _page("<p>Cross-site request refused.</p>", 403)
        signed_in = self.authenticator.signed_in(request)
        if signed_in is None:
            return RedirectResponse("/auth/login", status_code=303)
        async with request.form() as form:
            code = form.get("municipality")
        usable = await self._usable(request, *signed_in)
        if not isinstance(code, str) or not _MUNICIPALITY.fullmatch(code) or by_code(code) is None:
            return _page("<p>No such municipality.</p>", 403)
        if not any(serves(m, code) for m in usable):
            return _page("<p>No membership in that municipality.</p>", 403)
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
