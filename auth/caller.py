"""Who is calling an API request: a bearer token or the browser session, then the
membership the request acts through."""

from __future__ import annotations

import re

from starlette.requests import Request

from kizuna.auth import session
from kizuna.auth.identity import Identity
from kizuna.auth.memberships import Account, MembershipDirectory, choose
from kizuna.auth.tokens import InvalidToken, TokenProblem, TokenValidator, TrustedIssuer
from kizuna.auth.trust import Trust
from kizuna.platform.caller import Caller
from kizuna.platform.vocabulary import AppRole

MUNICIPALITY_HEADER = "kizuna-municipality"
ROLE_HEADER = "kizuna-role"
_MUNICIPALITY = re.compile(r"[0-9]{6}", re.ASCII)


class CrossSite(Exception):
    """A cookie-authenticated request that does not prove it comes from Kizuna's pages."""


class BadSelection(ValueError):
    """A malformed Kizuna-Municipality or Kizuna-Role header."""


class Authenticator:
    def __init__(self, validator: TokenValidator, trust: Trust, *, idle_seconds: int, absolute_seconds: int) -> None:
        self.validator = validator
        self.trust = trust
        self.idle = idle_seconds
        self.absolute = absolute_seconds

    async def caller(self, request: Request, directory: MembershipDirectory, *, page: bool = False) -> Caller:
        """The caller and the membership it acts through.

        InvalidToken without valid credentials; CrossSite for a cookie request from
        elsewhere; BadSelection for a malformed header; Forbidden without a membership
        to act through. Nothing of the tenant has been read when any of them is raised.

        `page`: the request asks for one of Kizuna's pages, which a browser may open from
        anywhere (a link, the IdP's redirect after sign-in): a top-level GET navigation
        with the session cookie is accepted whatever site it came from. Its answer goes to
        the user's own window, which no other site can read or frame (the pages'
        `frame-ancestors 'none'`), and it changes nothing: every form a page posts still
        proves that it comes from Kizuna.
        """
        header = request.headers.get("authorization")
        municipality = request.headers.get(MUNICIPALITY_HEADER)
        if header is not None:
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise InvalidToken(TokenProblem.SCHEME)
            identity, issuer = await self.validator.validate(token.strip())
        else:
            signed_in = self.signed_in(request)
            if signed_in is None:
                raise InvalidToken(TokenProblem.MISSING)
            navigation = page and request.method == "GET" and session.is_navigation(request)
            if not navigation and not session.is_same_origin(request, require_proof=request.method != "GET"):
                raise CrossSite
            identity, issuer = signed_in
            municipality = municipality or session.chosen_municipality(request)
        if municipality is not None and not _MUNICIPALITY.fullmatch(municipality):
            raise BadSelection("Kizuna-Municipality must be a 6-digit local-government code.")
        role = _role(request.headers.get(ROLE_HEADER))
        account = await live_account(request, directory, identity)
        if account is None:
            raise InvalidToken(TokenProblem.SIGNED_OUT)
        return choose(identity, issuer, account, municipality=municipality, role=role)

    def signed_in(self, request: Request) -> tuple[Identity, TrustedIssuer] | None:
        """The live browser session's identity and the issuer that signed it in, if any."""
        found = session.session_identity(request, idle_seconds=self.idle, absolute_seconds=self.absolute)
        trusted = self.trust.by_name(session.session_issuer_name(request) or "")
        return None if found is None or trusted is None else (found, trusted)


async def live_account(request: Request, directory: MembershipDirectory, identity: Identity) -> Account | None:
    """The memberships of `identity`; None, and the session cleared, when it is a browser
    session the user has since signed out of (perhaps in another browser)."""
    account = await directory.account(identity.issuer, identity.subject)
    if account.ended(identity):
        request.session.clear()
        return None
    return account


def _role(value: str | None) -> AppRole | None:
    if value is None:
        return None
    try:
        return AppRole(value)
    except ValueError:
        raise BadSelection("Kizuna-Role names no role.") from None
