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

_EVENT = "a.id, a.seq, a.occurred_at, a.action, a.entity, a.entity_id, a.entity_ids, a.fields, a.role, a.request_id"
# `subject` is the acting user's id as text (kizuna.subject); its issuer and subject name it.
_ACTOR = "u.issuer AS actor_issuer, u.subject AS actor_subject"
_COLUMNS = f"""
SELECT {_EVENT},
       {_ACTOR}
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


RECENT_WINDOW = 5000
"""How many of the newest events (within the page's bounds) an object's events are looked
for in first (`event_page`)."""


@dataclass(frozen=True, slots=True)
class _Conditions:
    """A page's conditions, each with its bound parameter's number (the order of `_values`)."""

    bounds: str
    """Where the page starts and its dates, which the log's recency index reads."""
    matches: str
    """The action, entity and actor it matches."""
    object_param: str | None
    """The object's parameter (`$n`), if it names one."""


def _conditions(
    *, after: bool, action: bool, entity: bool, actor: bool, entity_id: bool, since: bool, before: bool
) -> _Conditions:
    bounds = [" AND (a.occurred_at, a.id) < ($2, $3)"] if after else []
    matches: list[str] = []
    object_param = None
    n = 3 if after else 1
    for sql, present, count, into in (
        ("a.action = ${}", action, 1, matches),
        ("a.entity = ${}", entity, 1, matches),
        # The actor's events by their own index (0035): `subject` is the user's id as text.
        (
            "a.subject = (SELECT v.id::text FROM kizuna.app_user v WHERE v.issuer = ${} AND v.subject = ${})",
            actor,
            2,
            matches,
        ),
        (None, entity_id, 1, None),
        ("a.occurred_at >= ${}", since, 1, bounds),
        ("a.occurred_at < ${}", before, 1, bounds),
    ):
        if not present:
            continue
        if sql is None or into is None:  # the object: each statement puts it its own way
            object_param = f"${n + 1}"
        else:
            into.append(" AND " + sql.format(*range(n + 1, n + 1 + count)))
        n += count
    return _Conditions("".join(bounds), "".join(matches), object_param)


_ORDER = "\nORDER BY a.occurred_at DESC, a.id DESC"
# One object's events: a change names its object in entity_id, a read event in entity_ids
# (0023); no event names one both ways.
_BY_CHANGE = "a.entity_id = {0}"
_BY_READ = "a.entity_ids @> ARRAY[{0}::uuid]"
_BY_EITHER = f"({_BY_CHANGE} OR {_BY_READ})"


@lru_cache(maxsize=128)
def page_sql(limit: int, *, after: bool, action: bool, entity: bool, actor: bool, since: bool, before: bool) -> str:
    """The page statement for a filter that names no object, newest first; each filter
    present adds a bound parameter, in the order of `_values`."""
    c = _conditions(after=after, action=action, entity=entity, actor=actor, entity_id=False, since=since, before=before)
    return f"{_COLUMNS}{c.bounds}{c.matches}{_ORDER}\nLIMIT {int(limit)}"


# An object's page is looked for in two ways. A single statement ("entity_id = $n OR
# entity_ids @> …", newest first) lets the planner walk the whole log from its newest event
# when it expects the object often: 4 to 8 s on a log of millions for an object read rarely
# or never. Finding all of the object's events and sorting them instead takes one scan of
# the log for its reads: under row security the GIN index on entity_ids cannot serve a
# supervisor (`@>` is not leakproof, so PostgreSQL applies it only after the policy),
# about 1.5 s on the benchmark's log of 3.9 M events (docs/benchmarks.md, session 28). So
# the newest events are looked through first, where a frequently read object's page is,
# and the rest only for an object seldom read.


@lru_cache(maxsize=128)
def recent_object_page_sql(
    limit: int, window: int, *, after: bool, action: bool, entity: bool, actor: bool, since: bool, before: bool
) -> str:
    """An object's events among the newest `window` events within the page's bounds (the
    recency index, read newest first as far as the window), newest first."""
    c = _conditions(after=after, action=action, entity=entity, actor=actor, entity_id=True, since=since, before=before)
    return f"""
SELECT {_EVENT},
       {_ACTOR}
FROM (
    SELECT {_EVENT}, a.subject
    FROM kizuna.audit_event a
    WHERE a.municipality_code = $1{c.bounds}{_ORDER}
    LIMIT {int(window)}
) a
LEFT JOIN kizuna.app_user u ON u.id::text = a.subject
WHERE {_BY_EITHER.format(c.object_param)}{c.matches}{_ORDER}
LIMIT {int(limit)}"""


@lru_cache(maxsize=128)
def object_page_sql(
    limit: int, *, after: bool, action: bool, entity: bool, actor: bool, since: bool, before: bool
) -> str:
    """An object's events, newest first: its changes by the btree index on
    (municipality_code, entity_id, occurred_at, id), read in order; its reads all found in
    one scan (`OFFSET 0` keeps the planner from walking the log newest first instead, one
    event at a time), then sorted."""
    c = _conditions(after=after, action=action, entity=entity, actor=actor, entity_id=True, since=since, before=before)
    where = f"{c.bounds}{c.matches}"
    changes = f"{_COLUMNS}{where} AND {_BY_CHANGE.format(c.object_param)}{_ORDER}\nLIMIT {int(limit)}"
    every_read = f"{_COLUMNS}{where} AND {_BY_READ.format(c.object_param)}\nOFFSET 0"
    reads = f"SELECT * FROM ({every_read}) a{_ORDER}\nLIMIT {int(limit)}"
    return f"SELECT * FROM (({changes})\nUNION ALL\n({reads})) a{_ORDER}\nLIMIT {int(limit)}"


def _values(event_filter: EventFilter) -> list[object]:
    f = event_filter
    values: list[object] = [value for value in (f.action, f.entity) if value is not None]
    if f.actor is not None:
        values += f.actor
    return values + [value for value in (f.entity_id, f.since, f.before) if value is not None]


async def event_page(
    tx: TenantTransaction,
    event_filter: EventFilter,
    *,
    first: int,
    after: Keyset | None,
    recent_window: int = RECENT_WINDOW,
) -> list[asyncpg.Record]:
    """Up to `first + 1` events (the extra one tells whether a next page exists). An
    object's: among the newest `recent_window` events first, through its indexes when
    fewer than a whole page are there."""
    f = event_filter
    shape = {
        "after": after is not None,
        "action": f.action is not None,
        "entity": f.entity is not None,
        "actor": f.actor is not None,
        "since": f.since is not None,
        "before": f.before is not None,
    }
    args = [*(() if after is None else (after.at, after.id)), *_values(f)]
    if f.entity_id is None:
        return await tx.fetch(page_sql(first + 1, **shape), *args)
    rows = await tx.fetch(recent_object_page_sql(first + 1, recent_window, **shape), *args)
    if len(rows) == first + 1:  # a whole page among the newest: no older event comes first
        return rows
    return await tx.fetch(object_page_sql(first + 1, **shape), *args)
