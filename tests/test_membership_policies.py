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
