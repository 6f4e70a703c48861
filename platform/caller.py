"""Who is asking: the user and the membership a request acts through."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from kizuna.platform.vocabulary import AppRole


@dataclass(frozen=True, slots=True)
class Membership:
    """A municipality, role and organisation the database lets a user act as."""

    municipality_code: str
    role: AppRole
    organisation_id: uuid.UUID
    display_name: str = field(default="", compare=False)
    """The name the membership was granted under, as colleagues read it in a case's history."""


@dataclass(frozen=True, slots=True)
class Caller:
    """The user acting through one membership for this request. The database checks the
    membership again when the request's transaction begins (`kizuna.begin_request`)."""

    user_id: uuid.UUID
    issuer: str
    subject: str
    role: AppRole
    municipality_code: str
    organisation_id: uuid.UUID
    memberships: tuple[Membership, ...] = ()
    """Every membership this sign-in may act through, the chosen one among them."""
    display_name: str = ""
    """The chosen membership's name: what a case's history shows as who did it."""
