"""The database holds the membership rules on its own, whatever a resolver did: row
security refuses a supervisor's grant of a supervisor's role, and a CHECK keeps the
roles of the prefecture and of municipalities apart. Every attempt is rolled back (`as_user`)."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import pytest

from kizuna.platform.vocabulary import AppRole
from kizuna.tenants import demo_users

SAITAMA_CITY = "111007"
KAWAGOE = "112011"
PREFECTURE = "110001"
# Named as granted by the request's own user and role, as row security requires (0008),
# so that each test meets only the rule it is about.
INSERT_MEMBERSHIP = (
    "INSERT INTO kizuna.membership (municipality_code, id, user_id, display_name, role, organisation_id,"
    " granted_by, granted_by_role) VALUES ($1, $2, $3, 'x', '{role}', $4, kizuna.current_user_id(),"
    " kizuna.current_app_role()::kizuna.app_role)"
)


async def test_a_supervisor_cannot_insert_or_promote_to_a_supervisors_role(as_user: Any, user: Any) -> None:
    colleague = user(AppRole.CASEWORKER, SAITAMA_CITY)
    async with as_user(AppRole.SUPERVISOR, SAITAMA_CITY) as conn:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute(
                INSERT_MEMBERSHIP.format(role="supervisor"),
                SAITAMA_CITY,
                uuid.uuid4(),
                colleague.user_id,
                colleague.organisation_id,
            )
    async with as_user(AppRole.SUPERVISOR, SAITAMA_CITY) as conn:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute(
                "UPDATE kizuna.membership SET role = 'supervisor' WHERE municipality_code = $1 AND id = $2",
                SAITAMA_CITY,
                demo_users.membership_id(colleague),
            )


async def test_a_municipal_role_cannot_be_held_in_the_prefectures_tenant(as_user: Any, user: Any) -> None:
    colleague = user(AppRole.CASEWORKER, KAWAGOE)
    admin = user(AppRole.PLATFORM_ADMIN, PREFECTURE)
    async with as_user(AppRole.PLATFORM_ADMIN, PREFECTURE) as conn:
        with pytest.raises(asyncpg.CheckViolationError):
            await conn.execute(
                INSERT_MEMBERSHIP.format(role="caseworker"),
                PREFECTURE,
                uuid.uuid4(),
                colleague.user_id,
                admin.organisation_id,
            )


@pytest.mark.parametrize("role", [AppRole.CASEWORKER, AppRole.SCHOOL_STAFF, AppRole.MUNICIPAL_SYSTEM])
async def test_a_working_role_sees_only_its_own_memberships(
    as_user: Any, admin_conn: asyncpg.Connection, user: Any, role: AppRole
) -> None:
    me = user(role, SAITAMA_CITY)
    others = await admin_conn.fetchval(
        "SELECT count(*) FROM kizuna.membership WHERE municipality_code = $1 AND user_id <> $2",
        SAITAMA_CITY,
        me.user_id,
    )
    assert others > 0, "the tenant has other users' memberships to hide"
    async with as_user(role, SAITAMA_CITY) as conn:
        seen = await conn.fetch("SELECT user_id FROM kizuna.membership WHERE municipality_code = $1", SAITAMA_CITY)
    assert [r["user_id"] for r in seen] == [me.user_id]


async def test_a_supervisor_cannot_revoke_another_supervisors_membership(
    as_user: Any, admin_conn: asyncpg.Connection, user: Any
) -> None:
    """Row security alone (the service refuses it first): a second supervisor's membership,
    made for the test by the superuser and removed afterwards, is out of the first one's reach."""
    me = user(AppRole.SUPERVISOR, SAITAMA_CITY)
    other = uuid.uuid4()
    await admin_conn.execute(
        "INSERT INTO kizuna.app_user (id, issuer, subject) VALUES ($1, 'urn:test', $2)", other, str(other)
    )
    try:
        await admin_conn.execute(
            "INSERT INTO kizuna.membership (municipality_code, id, user_id, display_name, role, organisation_id)"
            " VALUES ($1, $2, $3, 'x', 'supervisor', $4)",
            SAITAMA_CITY,
            other,
            other,
            me.organisation_id,
        )
        async with as_user(AppRole.SUPERVISOR, SAITAMA_CITY) as conn:
            revoked = await conn.execute(
                "UPDATE kizuna.membership SET revoked_at = now() WHERE municipality_code = $1 AND id = $2",
                SAITAMA_CITY,
                other,
            )
        assert revoked == "UPDATE 0"
    finally:
        await admin_conn.execute(
            "DELETE FROM kizuna.membership WHERE municipality_code = $1 AND id = $2", SAITAMA_CITY, other
        )
        await admin_conn.execute("DELETE FROM kizuna.app_user WHERE id = $1", other)


@pytest.mark.parametrize(("role", "tenant"), [(AppRole.SUPERVISOR, SAITAMA_CITY), (AppRole.PLATFORM_ADMIN, PREFECTURE)])
async def test_a_manager_cannot_revoke_its_own_membership(as_user: Any, user: Any, role: AppRole, tenant: str) -> None:
    """Row security alone (the service refuses it first)."""
    me = user(role, tenant)
    async with as_user(role, tenant) as conn:
        revoked = await conn.execute(
            "UPDATE kizuna.membership SET revoked_at = now() WHERE municipality_code = $1 AND id = $2",
            tenant,
            demo_users.membership_id(me),
        )
    assert revoked == "UPDATE 0"
