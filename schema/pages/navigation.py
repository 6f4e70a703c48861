"""The header's navigation: one list of links for every page, each shown to the roles
whose pages it opens (the page modules' own `ROLES`), the current one marked.

A link is current for its own address (`aria-current="page"`) and for the pages under it
(`aria-current="true"`: `/desk/audit` is part of the desk, a case of the inbox's work);
only the closest link is marked.
"""

from __future__ import annotations

from dataclasses import dataclass

from kizuna.platform.vocabulary import AppRole
from kizuna.schema.pages import dashboard, inbox, school, supervisor
from kizuna.schema.pages.visitor import Visitor


@dataclass(frozen=True, slots=True)
class Link:
    href: str
    label: str
    roles: frozenset[AppRole]
    within: tuple[str, ...] = ()
    """Addresses of other pages that belong to this link (prefixes)."""
    aliases: tuple[str, ...] = ()
    """Other addresses of the same page (`/` is a caseworker's inbox)."""

    def opens(self, path: str) -> bool:
        return path == self.href or path in self.aliases

    def closeness(self, path: str) -> int:
        """How much of `path` this link covers (its own page most of all); 0 for none."""
        if self.opens(path):
            return len(path) + 1
        under = [p for p in (self.href.rstrip("/") + "/", *self.within) if p != "/" and path.startswith(p)]
        return max(map(len, under), default=0)


@dataclass(frozen=True, slots=True)
class Shown:
    href: str
    label: str
    current: str | None
    """`aria-current`'s value: "page", "true", or None."""


LINKS = (
    Link("/", "集計ダッシュボード", dashboard.ROLES),
    Link("/inbox", "受付箱", inbox.ROLES, within=("/cases/",), aliases=("/",)),
    Link("/referrals/new", "気づきシートを書く", school.ROLES),
    Link("/referrals", "送った気づき・相談", school.ROLES),
    Link("/desk", "スーパーバイザーの確認", supervisor.ROLES),
)


def links(who: Visitor | None, path: str) -> list[Shown]:
    """The links of the visitor's role (none before a role is chosen), the closest to
    `path` marked."""
    if who is None or who.caller is None:
        return []
    role = who.caller.role
    mine = [link for link in LINKS if role in link.roles]
    closest = max(mine, key=lambda link: link.closeness(path), default=None)

    def current(link: Link) -> str | None:
        if link is not closest or link.closeness(path) == 0:
            return None
        return "page" if link.opens(path) else "true"

    return [Shown(link.href, link.label, current(link)) for link in mine]
