"""Reading the tenant's audit log: who changed what, in which role, in which request.

Row security limits it to the request's tenant, and only supervisors are granted SELECT
on it (platform/migrations 0002); the log holds no personal data, only what was touched.
Events not sealed yet (no `seq`: platform/audit_seal.py) are events all the same, so the
page is ordered by when they happened, not by `seq`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from functools import lru_cache

import asyncpg

from kizuna.platform.database import TenantTransaction
from kizuna.schema.relay import Keyset

# `subject` is the acting user's id as text (kizuna.subject); its issuer and subject name it.
_COLUMNS = """
SELECT a.id, a.seq, a.occurred_at, a.action, a.entity, a.entity_id, a.entity_ids, a.fields, a.role, a.request_id,
       u.issuer AS actor_issuer, u.subject AS actor_subject
FROM kizuna.audit_event a
LEFT JOIN kizuna.app_user u ON u.id::text = a.subject
WHERE a.municipality_code = $1"""


@dataclass(frozen=True, slots=True)
class EventFilter:
    """What a supervisor narrows the log to; every field present adds a bound parameter."""

    action: str | None = None
    entity: str | None = None
    actor: tuple[str, str] | None = None
    """The acting user's (issuer, subject), as `AuditEvent.actor` names them."""
    entity_id: uuid.UUID | None = None
    since: dt.datetime | None = None
    """Events at or after this instant."""
    before: dt.datetime | None = None
    """Events strictly before this instant."""


@lru_cache(maxsize=128)
def page_sql(
    limit: int,
    *,
    after: bool,
    action: bool,
    entity: bool,
    actor: bool,
    entity_id: bool,
    since: bool,
    before: bool,
) -> str:
    """The page statement, newest first; each filter present adds a bound parameter, in
    the order of `_values`."""
    conditions = [" AND (a.occurred_at, a.id) < ($2, $3)"] if after else []
    n = 3 if after else 1
    for sql, present, count in (
        ("a.action = ${}", action, 1),
        ("a.entity = ${}", entity, 1),
        ("u.issuer = ${} AND u.subject = ${}", actor, 2),
        # A change names its object in entity_id, a read event in entity_ids (0023): one
        # bound id, an index for each (0017's and the GIN one).
        ("(a.entity_id = ${0} OR a.entity_ids @> ARRAY[${0}::uuid])", entity_id, 1),
        ("a.occurred_at >= ${}", since, 1),
        ("a.occurred_at < ${}", before, 1),
    ):
        if present:
            conditions.append(" AND " + sql.format(*range(n + 1, n + 1 + count)))
            n += count
    return f"{_COLUMNS}{''.join(conditions)}\nORDER BY a.occurred_at DESC, a.id DESC\nLIMIT {int(limit)}"


def _values(event_filter: EventFilter) -> list[object]:
    f = event_filter
    values: list[object] = [value for value in (f.action, f.entity) if value is not None]
    if f.actor is not None:
        values += f.actor
    return values + [value for value in (f.entity_id, f.since, f.before) if value is not None]


async def event_page(
    tx: TenantTransaction, event_filter: EventFilter, *, first: int, after: Keyset | None
) -> list[asyncpg.Record]:
    """Up to `first + 1` events (the extra one tells whether a next page exists)."""
    f = event_filter
    sql = page_sql(
        first + 1,
        after=after is not None,
        action=f.action is not None,
        entity=f.entity is not None,
        actor=f.actor is not None,
        entity_id=f.entity_id is not None,
        since=f.since is not None,
        before=f.before is not None,
    )
    position = () if after is None else (after.at, after.id)
    return await tx.fetch(sql, *position, *_values(f))
