"""What a resolver may read of the request: the caller, its transaction and its language."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kizuna.auth.principal import Principal
from kizuna.platform.database import TenantTransaction
from kizuna.platform.i18n import DEFAULT, Language


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
    language: Language = DEFAULT
    """The language the caller reads (`Accept-Language`), for messages meant for a person
    such as user errors."""
    membership_changed: Callable[[str, str], None] | None = None
    """Told (issuer, subject) after a mutation changed that user's memberships, so the
    sign-in cache stops serving the old ones."""
