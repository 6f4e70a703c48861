"""Reading support plans; the tenant as `$1` in every statement."""

from __future__ import annotations

import uuid

import asyncpg

from kizuna.platform.database import TenantTransaction

_COLUMNS = """
SELECT id, case_id, version, goals, period_start, period_end, created_at FROM kizuna.support_plan
WHERE municipality_code = $1"""
PLAN_BY_ID = f"{_COLUMNS} AND id = $2"
# A case holds a few versions; 100 is far above any real case and bounds the answer.
PLANS_OF_CASE = f"{_COLUMNS} AND case_id = $2 ORDER BY version DESC LIMIT 100"


async def plans_of_case(tx: TenantTransaction, case_id: uuid.UUID) -> list[asyncpg.Record]:
    return await tx.fetch(PLANS_OF_CASE, case_id)


async def plan_by_id(tx: TenantTransaction, plan_id: uuid.UUID) -> asyncpg.Record | None:
    return await tx.fetchrow(PLAN_BY_ID, plan_id)
