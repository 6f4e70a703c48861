"""What a resolver may read of the request: the caller and its transaction."""

from __future__ import annotations

from dataclasses import dataclass

from kizuna.auth.principal import Principal
from kizuna.platform.database import TenantTransaction


@dataclass(frozen=True, slots=True)
class Context:
    principal: Principal
    tx: TenantTransaction
    request_id: str
    prefecture_code: str
    """The deployment's prefecture (KIZUNA_PREFECTURE)."""
