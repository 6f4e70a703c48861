"""The authenticated caller, as a validated token describes it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from kizuna.platform.vocabulary import AppRole

# Private claims Kizuna reads from its tokens.
ROLE_CLAIM = "kizuna_role"
MUNICIPALITY_CLAIM = "kizuna_municipality"
ORGANISATION_CLAIM = "kizuna_organisation"


@dataclass(frozen=True, slots=True)
class Principal:
    """A caller whose token was valid. The database still checks the membership."""

    subject: str
    role: AppRole
    municipality_code: str
    organisation_id: uuid.UUID
