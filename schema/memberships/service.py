"""Memberships of the current tenant: the page, and granting and revoking them.

Who may do what (the database holds the same rules: grants, the per-role row-security
policies of migration 0010, and the `role_fits_tenant` CHECK):

- only supervisors and platform administrators manage memberships;
- a supervisor grants and revokes the municipal working roles (`SUPERVISED_ROLES`) of
  their own tenant, never a supervisor's, a prefecture analyst's or an administrator's;
- a platform administrator grants any role, the prefecture's roles in the prefecture's
  tenant and every other role in a municipality's;
- the organisation serves the tenant, the issuer is one the deployment trusts;
- nobody grants a membership to themself (the same issuer and subject), nor revokes the
  membership they act through;
- every grant records its grantor's user and role (`granted_by`), which row security
  holds to the request's own, so a municipality's supervisors see what a platform
  administrator granted there.

Every change is written in the request's transaction together with its audit event; a
refused request (`Refused`) has written nothing.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass
from functools import lru_cache

import asyncpg

from kizuna.auth.memberships import MembershipDirectory
from kizuna.platform import audit
from kizuna.platform.database import TenantTransaction
from kizuna.platform.i18n import Message
from kizuna.platform.ids import uuid7
from kizuna.platform.scope import Scope
from kizuna.platform.vocabulary import AppRole
from kizuna.schema.errors import Refused, UserErrorCode
from kizuna.schema.permissions import Operation, may
from kizuna.schema.relay import Keyset
from kizuna.schema.tenants.service import access_serving_organisation
from kizuna.schema.writes import check_idempotency_key, check_text

SUPERVISED_ROLES = frozenset(
    {
        AppRole.CASEWORKER,
        AppRole.COORDINATOR,
        AppRole.SCHOOL_STAFF,
        AppRole.SCHOOL_SOCIAL_WORKER,
        AppRole.WELFARE_WORKER,
        AppRole.MUNICIPAL_SYSTEM,
    }
)
PREFECTURE_ROLES = frozenset({AppRole.PLATFORM_ADMIN, AppRole.PREFECTURE_ANALYST})
PREFECTURE_TENANT = re.compile(r"[0-9]{2}000[0-9]", re.ASCII)
MAX_NAME_LENGTH = 200
MAX_SUBJECT_LENGTH = 255


@dataclass(frozen=True, slots=True)
class TrustedIssuers:
    """What the deployment provides for granting (`Scope.get`)."""

    current: Callable[[], frozenset[str]]
    """The `iss` of every IdP the deployment trusts now (an IdP that was down at start
    joins later). A membership is granted only to a user one of them names; while there
    is none, every grant is refused."""


GRANT_ACTION = "membership.grant"
REVOKE_ACTION = "membership.revoke"

_COLUMNS = """
SELECT m.municipality_code, m.id, m.user_id, m.display_name, m.role, m.granted_at, m.revoked_at,
       m.idempotency_key, u.issuer, u.subject,
       o.id AS org_id, o.name AS org_name, o.kind AS org_kind,
       m.granted_by_role, g.issuer AS granted_by_issuer, g.subject AS granted_by_subject
FROM kizuna.membership m
JOIN kizuna.app_user u ON u.id = m.user_id
JOIN kizuna.organisation o ON o.id = m.organisation_id
LEFT JOIN kizuna.app_user g ON g.id = m.granted_by
WHERE m.municipality_code = $1"""
MEMBERSHIP_BY_ID = f"{_COLUMNS} AND m.id = $2"
MEMBERSHIP_BY_KEY = f"{_COLUMNS} AND m.idempotency_key = $2"
SAME_GRANT = """
SELECT id, revoked_at FROM kizuna.membership
WHERE municipality_code = $1 AND user_id = $2 AND role = $3::kizuna.app_role AND organisation_id = $4
"""
USER_BY_NAME = "SELECT id FROM kizuna.app_user WHERE issuer = $1 AND subject = $2"
# A user another tenant registered at the same moment is taken as found (DO NOTHING).
ADD_USER = """
INSERT INTO kizuna.app_user (id, issuer, subject) VALUES ($1, $2, $3)
ON CONFLICT (issuer, subject) DO NOTHING RETURNING id
"""
INSERT_MEMBERSHIP = """
INSERT INTO kizuna.membership
    (municipality_code, id, user_id, display_name, role, organisation_id, idempotency_key,
     granted_by, granted_by_role)
VALUES ($1, $2, $3, $4, $5::kizuna.app_role, $6, $7, $8, $9::kizuna.app_role)
"""
# The unique (tenant, user, role, organisation) keeps one row per grant; granting a
# revoked one again makes it active again, and the audit chain keeps its history.
REACTIVATE = """
UPDATE kizuna.membership SET revoked_at = NULL, granted_at = now(), display_name = $3, idempotency_key = $4,
    granted_by = $5, granted_by_role = $6::kizuna.app_role
WHERE municipality_code = $1 AND id = $2 AND revoked_at IS NOT NULL
"""
# GREATEST: a grant committed while this transaction waited for the writers' lock may carry
# a later now() than this transaction's, and revoked_at never precedes granted_at.
REVOKE = """
UPDATE kizuna.membership SET revoked_at = GREATEST(now(), granted_at)
WHERE municipality_code = $1 AND id = $2 AND revoked_at IS NULL
"""


@lru_cache(maxsize=16)
def page_sql(limit: int, include_revoked: bool, after: bool) -> str:
    """The page statement; `limit` is a validated int written as a literal (see cases)."""
    conditions = "" if include_revoked else " AND m.revoked_at IS NULL"
    if after:
        conditions += " AND (m.granted_at, m.id) < ($2, $3)"
    return f"{_COLUMNS}{conditions}\nORDER BY m.granted_at DESC, m.id DESC\nLIMIT {int(limit)}"


def count_sql(include_revoked: bool) -> str:
    active = "" if include_revoked else " AND revoked_at IS NULL"
    return f"SELECT count(*) FROM kizuna.membership WHERE municipality_code = $1{active}"


async def membership_page(
    tx: TenantTransaction, *, first: int, after: Keyset | None, include_revoked: bool
) -> list[asyncpg.Record]:
    """Up to `first + 1` rows (the extra one tells whether a next page exists)."""
    sql = page_sql(first + 1, include_revoked, after is not None)
    if after is None:
        return await tx.fetch(sql)
    return await tx.fetch(sql, after.at, after.id)


async def membership_count(tx: TenantTransaction, *, include_revoked: bool) -> int:
    count: int = await tx.fetchval(count_sql(include_revoked))
    return count


async def membership_by_id(tx: TenantTransaction, membership_id: uuid.UUID) -> asyncpg.Record | None:
    return await tx.fetchrow(MEMBERSHIP_BY_ID, membership_id)


@dataclass(frozen=True, slots=True)
class Grant:
    issuer: str
    subject: str
    display_name: str
    role: AppRole
    organisation_id: uuid.UUID
    idempotency_key: str | None = None


def is_prefecture_tenant(code: str) -> bool:
    return PREFECTURE_TENANT.fullmatch(code) is not None


def role_refusal(role: AppRole, *, actor: AppRole, tenant: str) -> Refused | None:
    """Why `actor`, who may grant memberships, may not grant `role` in `tenant`; None if it may."""
    if actor is AppRole.SUPERVISOR and role not in SUPERVISED_ROLES:
        return Refused(UserErrorCode.FORBIDDEN, "role", Message.SUPERVISOR_MAY_NOT_GRANT)
    if (role in PREFECTURE_ROLES) != is_prefecture_tenant(tenant):
        held_in = Message.ROLE_ONLY_IN_PREFECTURE if role in PREFECTURE_ROLES else Message.ROLE_ONLY_IN_MUNICIPALITY
        return Refused(UserErrorCode.BAD_USER_INPUT, "role", held_in)
    return None


def grantable_roles(actor: AppRole, tenant: str) -> list[AppRole]:
    """The roles `actor` may grant in `tenant` (what `check_grant` lets through), in the
    vocabulary's order; none for a role that may not grant at all."""
    if not may(actor, Operation.GRANT_MEMBERSHIP):
        return []
    return [role for role in AppRole if role_refusal(role, actor=actor, tenant=tenant) is None]


def check_grant(grant: Grant, *, actor: AppRole, tenant: str, trusted_issuers: Collection[str]) -> None:
    """The rules that need no database: raise `Refused` for the first one broken, who
    may grant what here before what the input says."""
    if not may(actor, Operation.GRANT_MEMBERSHIP):
        raise Refused(UserErrorCode.FORBIDDEN, None, Message.MAY_NOT_MANAGE_MEMBERSHIPS)
    if (refusal := role_refusal(grant.role, actor=actor, tenant=tenant)) is not None:
        raise refusal
    if grant.issuer not in trusted_issuers:
        raise Refused(UserErrorCode.BAD_USER_INPUT, "issuer", Message.UNTRUSTED_ISSUER)
    if not 0 < len(grant.subject) <= MAX_SUBJECT_LENGTH or not grant.subject.isprintable():
        raise Refused(UserErrorCode.BAD_USER_INPUT, "subject", Message.SUBJECT_LENGTH, max=MAX_SUBJECT_LENGTH)
    check_text(grant.display_name, field="displayName", message=Message.DISPLAY_NAME_LENGTH, most=MAX_NAME_LENGTH)
    check_idempotency_key(grant.idempotency_key)


async def do_grant_membership(scope: Scope, grant: Grant) -> asyncpg.Record:
    """Grant `grant` in the request's tenant: register the user if new, insert (or make
    active again) the membership and audit it, all in the scope's transaction; the
    sign-in cache forgets the user's memberships once it commits. Returns the membership
    as `MEMBERSHIP_BY_ID` reads it.

    Raises `Refused` before writing anything. With an idempotency key the first request's
    membership is returned to a retry, unchanged and not audited again.
    """
    tx, caller = scope.tx, scope.caller
    check_grant(
        grant, actor=caller.role, tenant=caller.municipality_code, trusted_issuers=scope.get(TrustedIssuers).current()
    )
    await access_serving_organisation(tx, grant.organisation_id, field="organizationId")

    # From here on the tenant's membership writers take turns: what is checked below is
    # still true when it is written.
    await audit.lock_chain(tx)
    if grant.idempotency_key is not None:
        earlier = await tx.fetchrow(MEMBERSHIP_BY_KEY, grant.idempotency_key)
        if earlier is not None:
            return _same_request(earlier, grant)

    found = await tx.fetch_global(USER_BY_NAME, grant.issuer, grant.subject)
    user_id: uuid.UUID | None = found[0]["id"] if found else None
    if user_id == caller.user_id:
        raise Refused(UserErrorCode.FORBIDDEN, "subject", Message.SELF_GRANT)
    existing = None
    if user_id is not None:
        existing = await tx.fetchrow(SAME_GRANT, user_id, grant.role.value, grant.organisation_id)
        if existing is not None and existing["revoked_at"] is None:
            raise Refused(UserErrorCode.CONFLICT, None, Message.ALREADY_GRANTED)
    if user_id is None:
        user_id = await _register(tx, grant.issuer, grant.subject)

    if existing is not None:
        membership_id: uuid.UUID = existing["id"]
        await tx.execute(
            REACTIVATE, membership_id, grant.display_name, grant.idempotency_key, caller.user_id, caller.role.value
        )
        fields: tuple[str, ...] = (
            "display_name",
            "granted_at",
            "revoked_at",
            "idempotency_key",
            "granted_by",
            "granted_by_role",
        )
    else:
        membership_id = uuid7()
        await tx.execute(
            INSERT_MEMBERSHIP,
            membership_id,
            user_id,
            grant.display_name,
            grant.role.value,
            grant.organisation_id,
            grant.idempotency_key,
            caller.user_id,
            caller.role.value,
        )
        fields = (
            "user_id",
            "display_name",
            "role",
            "organisation_id",
            "granted_at",
            "idempotency_key",
            "granted_by",
            "granted_by_role",
        )
    await audit.record(scope, action=GRANT_ACTION, entity="membership", entity_id=membership_id, fields=fields)
    membership = await access_membership(scope, membership_id)
    _forget_after_commit(scope, membership)
    return membership


def _same_request(earlier: asyncpg.Record, grant: Grant) -> asyncpg.Record:
    """The membership an idempotency key made, if the retry asks for the same grant."""
    same = (earlier["issuer"], earlier["subject"], earlier["role"], earlier["org_id"]) == (
        grant.issuer,
        grant.subject,
        grant.role.value,
        grant.organisation_id,
    )
    if not same:
        raise Refused(UserErrorCode.CONFLICT, "idempotencyKey", Message.IDEMPOTENCY_KEY_REUSED)
    return earlier


async def _register(tx: TenantTransaction, issuer: str, subject: str) -> uuid.UUID:
    added = await tx.fetch_global(ADD_USER, uuid7(), issuer, subject)
    if not added:  # registered concurrently (by a grant in another tenant)
        added = await tx.fetch_global(USER_BY_NAME, issuer, subject)
    user_id: uuid.UUID = added[0]["id"]
    return user_id


async def access_membership(scope: Scope, membership_id: uuid.UUID) -> asyncpg.Record:
    """The membership `membership_id` of the scope's tenant. Another tenant's id and an
    unknown one are refused alike (NOT_FOUND on `id`)."""
    row = await scope.tx.fetchrow(MEMBERSHIP_BY_ID, membership_id)
    if row is None:
        raise Refused(UserErrorCode.NOT_FOUND, "id", Message.NO_SUCH_MEMBERSHIP)
    return row


async def do_revoke_membership(scope: Scope, membership_id: uuid.UUID) -> asyncpg.Record:
    """Revoke a membership of the request's tenant and audit it, in the scope's
    transaction; the sign-in cache forgets the user's memberships once it commits.

    An id of another tenant's membership, or of nothing, is refused with the same
    NOT_FOUND; other refusals come only after the membership was found in this tenant.
    """
    tx, actor = scope.tx, scope.caller.role
    if not may(actor, Operation.REVOKE_MEMBERSHIP):
        raise Refused(UserErrorCode.FORBIDDEN, None, Message.MAY_NOT_MANAGE_MEMBERSHIPS)
    await audit.lock_chain(tx)
    row = await access_membership(scope, membership_id)
    if actor is AppRole.SUPERVISOR and AppRole(row["role"]) not in SUPERVISED_ROLES:
        raise Refused(UserErrorCode.FORBIDDEN, "id", Message.SUPERVISOR_MAY_NOT_REVOKE)
    if row["user_id"] == scope.caller.user_id:
        raise Refused(UserErrorCode.FORBIDDEN, "id", Message.OWN_MEMBERSHIP)
    if row["revoked_at"] is not None:
        raise Refused(UserErrorCode.CONFLICT, "id", Message.ALREADY_REVOKED)
    status = await tx.execute(REVOKE, membership_id)
    if status != "UPDATE 1":  # the lock makes this unreachable; never audit what did not happen
        raise Refused(UserErrorCode.CONFLICT, "id", Message.CHANGED_MEANWHILE)
    await audit.record(
        scope, action=REVOKE_ACTION, entity="membership", entity_id=membership_id, fields=("revoked_at",)
    )
    membership = await access_membership(scope, membership_id)
    _forget_after_commit(scope, membership)
    return membership


def _forget_after_commit(scope: Scope, membership: asyncpg.Record) -> None:
    """Once the change is committed, the sign-in cache stops serving the user's old
    memberships; a sign-in in between must not cache them again (MembershipDirectory)."""
    directory = scope.get(MembershipDirectory)
    issuer, subject = membership["issuer"], membership["subject"]
    scope.after_commit(lambda: directory.forget(issuer, subject))
