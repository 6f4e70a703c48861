"""Who is calling: the identity a token or session proves (the membership it acts through
is chosen from it: `auth/memberships.py`, `platform/caller.py`)."""

from __future__ import annotations

from dataclasses import dataclass

from kizuna.auth.issuers import Assertion


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
