"""Reading the tenant's audit log: who changed what, in which role, in which request.

Row security limits it to the request's tenant, and only supervisors are granted SELECT
on it (platform/migrations 0002); the log holds no personal data, only what was touched.
Events not sealed yet (no `seq`: platform/audit_seal.py) are events all the same, so the
page is ordered by when they happened, not by `seq`.
"""

from __future__ import annotations

from functools import lru_cache

import asyncpg

from kizuna.platform.database import TenantTransaction
from kizuna.schema.relay import Keyset

# `subject` is the acting user's id as text (kizuna.subject); its issuer and subject name it.
_COLUMNS = """
SELECT a.id, a.seq, a.occurred_at, a.action, a.entity, a.entity_id, a.fields, a.role, a.request_id,
       u.issuer AS actor_issuer, u.subject AS actor_subject
FROM kizuna.audit_event a
LEFT JOIN kizuna.app_user u ON u.id::text = a.subject
WHERE a.municipality_code = $1"""


@lru_cache(maxsize=32)
def page_sql(limit: int, *, after: bool, action: bool, entity: bool) -> str:
    """The page statement, newest first; each filter present adds a bound parameter."""
    conditions = [" AND (a.occurred_at, a.id) < ($2, $3)"] if after else []
    parameters = 3 if after else 1
    for column, present in (("a.action =", action), ("a.entity =", entity)):
        if present:
            parameters += 1
            conditions.append(f" AND {column} ${parameters}")
    return f"{_COLUMNS}{''.join(conditions)}\nORDER BY a.occurred_at DESC, a.id DESC\nLIMIT {int(limit)}"


async def event_page(
    tx: TenantTransaction, *, first: int, after: Keyset | None, action: str | None, entity: str | None
) -> list[asyncpg.Record]:
    """Up to `first + 1` events (the extra one tells whether a next page exists)."""
    sql = page_sql(first + 1, after=after is not None, action=action is not None, entity=entity is not None)
    position = () if after is None else (after.at, after.id)
    values = [value for value in (action, entity) if value is not None]
    return await tx.fetch(sql, *position, *values)
