"""Who is calling: the identity a token or session proves, and the membership chosen for
the request."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from kizuna.auth.issuers import Assertion
from kizuna.platform.vocabulary import AppRole


@dataclass(frozen=True, slots=True)
class Identity:
    """A caller whose credentials were valid. It grants nothing until the database's
    memberships for (issuer, subject) are found and one is chosen."""

    issuer: str
    """The `iss` URL that vouched for the caller."""
    subject: str
    assertion: Assertion
    scopes: frozenset[str] = frozenset()
    display_name: str | None = None
    session_epoch: int | None = None
    """For a browser session, the user's sign-out count it began under; None for a token."""


@dataclass(frozen=True, slots=True)
class Membership:
    """A municipality, role and organisation the database lets a user act as."""

    municipality_code: str
    role: AppRole
    organisation_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller acting through one membership for this request. The database checks
    the membership again when the request's transaction begins."""

    user_id: uuid.UUID
    issuer: str
    subject: str
    role: AppRole
    municipality_code: str
    organisation_id: uuid.UUID
    memberships: tuple[Membership, ...] = ()
    """Every membership this sign-in may act through, the chosen one among them."""
