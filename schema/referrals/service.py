"""Reading referrals. Only the columns a referrer may read are selected (the database's
column grants refuse the rest to schools and agencies), and row security limits them to
their own organisation's referrals."""

from __future__ import annotations

import uuid
from functools import lru_cache

import asyncpg

from kizuna.platform.database import TenantTransaction
from kizuna.schema.relay import Keyset

_COLUMNS = """
SELECT r.id, r.source, r.status, r.urgency, r.noticed, r.child_display_name,
       r.received_at, r.decided_at,
       o.id AS org_id, o.name AS org_name, o.kind AS org_kind
FROM kizuna.referral r
LEFT JOIN kizuna.organisation o ON o.id = r.referrer_organisation_id
WHERE r.municipality_code = $1"""


@lru_cache(maxsize=16)
def page_sql(limit: int, after: bool) -> str:
    keyset = " AND (r.received_at, r.id) < ($2, $3)" if after else ""
    return f"{_COLUMNS}{keyset}\nORDER BY r.received_at DESC, r.id DESC\nLIMIT {int(limit)}"


COUNT_SQL = "SELECT count(*) FROM kizuna.referral r WHERE r.municipality_code = $1"
REFERRAL_BY_ID = f"{_COLUMNS} AND r.id = $2"


async def referral_page(tx: TenantTransaction, *, first: int, after: Keyset | None) -> list[asyncpg.Record]:
    if after is None:
        return await tx.fetch(page_sql(first + 1, False))
    return await tx.fetch(page_sql(first + 1, True), after.at, after.id)


async def referral_count(tx: TenantTransaction) -> int:
    count: int = await tx.fetchval(COUNT_SQL)
    return count


async def referral_by_id(tx: TenantTransaction, referral_id: uuid.UUID) -> asyncpg.Record | None:
    return await tx.fetchrow(REFERRAL_BY_ID, referral_id)
