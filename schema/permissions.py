"""Which app roles may read what: the resolvers' check, a second line behind the database.

The database refuses on its own (grants, column grants and policies); these sets make the
GraphQL layer say FORBIDDEN clearly instead of surfacing a permission error.
"""

from __future__ import annotations

from kizuna.platform.caller import Caller
from kizuna.platform.vocabulary import AppRole
from kizuna.schema.errors import forbidden

CASE_READERS = frozenset({AppRole.CASEWORKER, AppRole.SUPERVISOR, AppRole.COORDINATOR, AppRole.MUNICIPAL_SYSTEM})
REFERRAL_READERS = CASE_READERS | {
    AppRole.SCHOOL_STAFF,
    AppRole.SCHOOL_SOCIAL_WORKER,
    AppRole.WELFARE_WORKER,
}

# Memberships of the tenant: read and managed by its supervisors and the platform's
# administrators (what each may grant: schema/memberships/service.py).
MEMBERSHIP_MANAGERS = frozenset({AppRole.SUPERVISOR, AppRole.PLATFORM_ADMIN})

# The tenant's audit log: its supervisors (only they are granted SELECT on it).
AUDIT_READERS = frozenset({AppRole.SUPERVISOR})


def require(caller: Caller, roles: frozenset[AppRole]) -> None:
    if caller.role not in roles:
        raise forbidden()
