"""What a resolver may read of the request: the caller and its transaction."""

from __future__ import annotations

from collections.abc import Callable
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
    trusted_issuers: frozenset[str] = frozenset()
    """The `iss` of every IdP the deployment trusts. A membership is granted only to a user
    one of them names; while this is empty, every grant is refused."""
    membership_changed: Callable[[str, str], None] | None = None
    """Told (issuer, subject) after a mutation changed that user's memberships, so the
    sign-in cache stops serving the old ones."""
