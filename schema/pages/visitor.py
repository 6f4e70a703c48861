"""Who is looking at a page: the signed-in user, the memberships they may switch between,
and the one a request acts through now. What every page's header shows.

Read from the session and the membership directory, as the API's authentication reads
them (`auth/caller.py`): nothing of any tenant's data.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from kizuna.auth import session
from kizuna.auth.caller import Authenticator, live_account
from kizuna.auth.memberships import Forbidden, MembershipDirectory, choose, usable_memberships
from kizuna.platform.caller import Caller
from kizuna.platform.i18n import Language
from kizuna.platform.request_scope import RequestScopes
from kizuna.platform.vocabulary import AppRole
from kizuna.tenants.registry import by_code, for_prefecture


def municipality_label(code: str) -> str:
    government = by_code(code)
    return code if government is None else f"{government.name}（{code}）"


def role_label(language: Language, role: AppRole) -> str:
    # The vocabulary's labels are Japanese; an English reader gets the role's identifier.
    return role.label if language is Language.JA else role.value


@dataclass(frozen=True, slots=True)
class Choice:
    """A municipality the visitor may work in (the header's switch)."""

    code: str
    label: str
    current: bool


@dataclass(frozen=True, slots=True)
class MembershipLine:
    code: str
    municipality: str
    role: str
    current: bool


@dataclass(frozen=True, slots=True)
class Visitor:
    name: str
    memberships: tuple[MembershipLine, ...]
    choices: tuple[Choice, ...]
    """Every municipality the visitor may switch to: those of the memberships and, for a
    platform administrator, every municipality of the prefecture."""
    administered: tuple[Choice, ...]
    caller: Caller | None
    """The membership a request acts through now, as the API chooses it; None when the
    visitor must first choose (several municipalities or roles)."""

    @property
    def current(self) -> str | None:
        if self.caller is None:
            return None
        return municipality_label(self.caller.municipality_code)


async def visitor(request: Request, language: Language) -> Visitor | None:
    """The signed-in visitor, or None (signed out, or the session has ended)."""
    scopes: RequestScopes = request.app.state.scopes
    authenticator: Authenticator = scopes.authenticator
    signed_in = authenticator.signed_in(request)
    if signed_in is None:
        return None
    identity, trusted = signed_in
    directory: MembershipDirectory = request.app.state.memberships
    account = await live_account(request, directory, identity)
    if account is None:
        return None
    usable = usable_memberships(identity, trusted, account)
    chosen = session.chosen_municipality(request)
    try:
        caller: Caller | None = choose(identity, trusted, account, municipality=chosen)
    except Forbidden:
        caller = None
    current = caller.municipality_code if caller is not None else chosen
    lines = tuple(
        MembershipLine(
            m.municipality_code,
            municipality_label(m.municipality_code),
            role_label(language, m.role),
            m.municipality_code == current,
        )
        for m in usable
    )
    # A platform administrator's membership serves every municipality of the prefecture.
    administered = tuple(
        Choice(code, municipality_label(code), code == current)
        for code in sorted(
            {
                g.code
                for m in usable
                if m.role is AppRole.PLATFORM_ADMIN
                for g in for_prefecture(m.municipality_code[:2])
            }
        )
    )
    codes = sorted({m.municipality_code for m in usable} | {c.code for c in administered})
    choices = tuple(Choice(code, municipality_label(code), code == current) for code in codes)
    return Visitor(identity.display_name or identity.subject, lines, choices, administered, caller)
