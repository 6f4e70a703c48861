"""No app role may rewrite a whole row of its own tenant (migration 0029).

Row security keeps a user inside their tenant; the column grants keep them inside their
work. Each attempt below runs in SQL, in a request transaction of the attacker's own
tenant (the API never issues it), and must be refused by the database whatever the row.
"""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from kizuna.platform.vocabulary import AppRole

pytestmark = pytest.mark.usefixtures("urls")

SAITAMA_CITY = "111007"
PREFECTURE = "110001"  # the prefecture's own tenant, where its analyst works


async def test_no_app_role_updates_a_whole_row(admin_conn: asyncpg.Connection) -> None:
    """Table-level UPDATE is held by no app role on any table: only column grants."""
    rows = await admin_conn.fetch(
        "SELECT c.relname, r.rolname FROM pg_class c CROSS JOIN pg_roles r"
        " WHERE c.relnamespace = 'kizuna'::regnamespace AND c.relkind IN ('r', 'p')"
        " AND r.rolname = ANY($1::text[]) AND has_table_privilege(r.oid, c.oid, 'UPDATE')",
        [role.database_role for role in AppRole],
    )
    assert [tuple(r) for r in rows] == []


# (role, tenant, statement): a column outside the role's work, in its own tenant. The grant
# is checked before any row, so the statement is refused even where no row would match.
REWRITES = [
    (AppRole.CASEWORKER, SAITAMA_CITY, "UPDATE kizuna.person SET family_name = '改ざん', birth_date = '2000-01-01'"),
    (AppRole.SUPERVISOR, SAITAMA_CITY, "UPDATE kizuna.person SET household_id = NULL"),
    (AppRole.COORDINATOR, SAITAMA_CITY, "UPDATE kizuna.household SET name = '改ざん'"),
    (AppRole.CASEWORKER, SAITAMA_CITY, "UPDATE kizuna.care_relationship SET hours_per_week = 0"),
    (AppRole.CASEWORKER, SAITAMA_CITY, "UPDATE kizuna.approval SET status = 'approved'"),
    (AppRole.COORDINATOR, SAITAMA_CITY, "UPDATE kizuna.approval SET decided_by = 'someone'"),
    (AppRole.SUPERVISOR, SAITAMA_CITY, "UPDATE kizuna.approval SET requested_by = 'someone else'"),
    (AppRole.SUPERVISOR, SAITAMA_CITY, "UPDATE kizuna.support_plan SET goals = '改ざん'"),
    (AppRole.SUPERVISOR, SAITAMA_CITY, "UPDATE kizuna.carer_case SET opened_at = now()"),
    (AppRole.CASEWORKER, SAITAMA_CITY, "UPDATE kizuna.referral SET noticed = '改ざん'"),
    (AppRole.SUPERVISOR, SAITAMA_CITY, "UPDATE kizuna.referral SET referrer_subject = 'someone else'"),
    (AppRole.COORDINATOR, SAITAMA_CITY, "UPDATE kizuna.case_participant SET role = 'lead'"),
    (AppRole.PLATFORM_ADMIN, PREFECTURE, "UPDATE kizuna.organisation SET name = '改ざん'"),
    (AppRole.PREFECTURE_ANALYST, PREFECTURE, "UPDATE kizuna.programme_activity SET participants = 0"),
]


@pytest.mark.parametrize(("role", "municipality", "statement"), REWRITES, ids=lambda v: str(v)[:40])
async def test_a_rewrite_outside_the_roles_work_is_refused(
    as_user: Any, role: AppRole, municipality: str, statement: str
) -> None:
    async with as_user(role, municipality) as conn:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute(statement)


# What the services write still passes the grants, which are checked before any row is
# (`WHERE false`: the policies, which differ by state, are the workflow tests' concern).
KEPT = [
    (AppRole.CASEWORKER, "UPDATE kizuna.person SET merged_into_id = NULL WHERE false"),
    (AppRole.COORDINATOR, "UPDATE kizuna.care_relationship SET carer_person_id = NULL WHERE false"),
    (AppRole.CASEWORKER, "UPDATE kizuna.referral SET decision_reason = '', decided_by = decided_by WHERE false"),
    (
        AppRole.SUPERVISOR,
        "UPDATE kizuna.approval SET comment = '', decided_at = now(), decided_by = decided_by WHERE false",
    ),
    (AppRole.SUPERVISOR, "UPDATE kizuna.carer_case SET lead_organisation_id = NULL, stage = stage WHERE false"),
    (AppRole.CASEWORKER, "SELECT 1 FROM kizuna.person WHERE false FOR UPDATE"),
]


@pytest.mark.parametrize(("role", "statement"), KEPT, ids=lambda v: str(v)[:40])
async def test_the_columns_of_the_roles_work_stay_writable(as_user: Any, role: AppRole, statement: str) -> None:
    async with as_user(role, SAITAMA_CITY) as conn:
        assert await conn.execute(statement) in ("UPDATE 0", "SELECT 0")
