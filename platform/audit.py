"""The audit log: append-only, hash-chained per tenant (DESIGN section 4, audit event).

Writing. Every change is recorded by `record` or `record_many`, inside the transaction
that makes it, so the change and its audit rows commit or roll back together; every read
of a person's or a case's data by `record_reads`, written just before the request commits,
one event per kind of object naming each object read once (`entity_ids`), where a change
names its one object (`entity_id`). Who, role, tenant and request id come from the request's
scope, never from the caller. The rows are written *unsealed* (no `seq`, `prev_hash`, `hash`), in
one multi-row `INSERT … VALUES`, with no lock and no read: audited requests of a tenant
never wait for each other. The app roles may insert those columns only, and read nothing of
the log (supervisors read it through their own grant, schema/audit/).

The chain. The sealer (platform/audit_seal.py) later numbers each tenant's events
1, 2, 3 … in the order they committed: event `seq` stores the hash of event `seq - 1`
(`prev_hash`, 32 zero bytes for the first) and its own

    hash = sha256(prev_hash || canonical JSON of the event)

where the canonical JSON is the object of `municipality_code, seq, occurred_at, subject,
role, action, entity, entity_id, fields, request_id` (and `entity_ids` on a read event)
with sorted keys, no whitespace and UTF-8 text (RFC 8785's form for these value types):
anyone holding the rows can recompute the chain (`first_break`), and a sealed row changed,
removed or inserted afterwards breaks it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import itertools
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from kizuna.platform.database import TenantTransaction
from kizuna.platform.ids import uuid7
from kizuna.platform.scope import Scope

GENESIS = bytes(32)
"""The `prev_hash` of a tenant's first event."""

# The lock's first key names what is locked; the second is the tenant's six-digit code,
# which fits an int4 and is unique per tenant, so tenants never wait for each other.
_CHAIN_LOCK_CLASS = 0x4B5A_0A01
LOCK_CHAIN_SQL = f"SELECT pg_advisory_xact_lock({_CHAIN_LOCK_CLASS}, $1::text::integer)"

# A request audits at most a few pages of objects; a bigger batch is split, well below
# PostgreSQL's 65,535 bound parameters per statement.
MAX_ROWS_PER_INSERT = 1000
_SHARED = 4  # $2 occurred_at, $3 subject, $4 role, $5 request_id: the same for the whole batch
_PER_ROW = 6  # id, action, entity, entity_id, entity_ids, fields


@dataclasses.dataclass(frozen=True, slots=True)
class Event:
    """What one audit event says beyond who and when: the action on which object (or, for
    a read, which objects), and which of its fields it touched."""

    action: str
    entity: str
    entity_id: uuid.UUID | None
    fields: Sequence[str] = ()
    entity_ids: Sequence[uuid.UUID] | None = None
    """A read event's objects, each once (its `entity_id` is None)."""


@lru_cache(maxsize=64)
def insert_sql(rows: int) -> str:
    """One statement for `rows` events; no RETURNING: the app roles may not read the log.

    A read event's objects are bound as one array literal of text (`uuid_array_literal`):
    asyncpg's array encoder checks every element against `collections.abc.Iterable`,
    which cost a page's read audit (100 ids) 10 to 13 µs of the server's CPU more.
    """
    values = ",\n    ".join(
        f"($1, ${p}, $2, $3, $4::kizuna.app_role, ${p + 1}, ${p + 2}, ${p + 3}, ${p + 4}::text::uuid[],"
        f" ${p + 5}::text[], $5)"
        for p in range(2 + _SHARED, 2 + _SHARED + _PER_ROW * rows, _PER_ROW)
    )
    return (
        "INSERT INTO kizuna.audit_event\n"
        "    (municipality_code, id, occurred_at, subject, role, action, entity, entity_id, entity_ids, fields,"
        " request_id)\n"
        f"VALUES {values}"
    )


async def lock_chain(tx: TenantTransaction) -> None:
    """Hold the tenant's writer lock until the transaction ends (named for the chain it
    guarded until audited writes were sealed afterwards: migration 0014).

    `record` no longer takes it (events are written unsealed, with no read). A writer that
    checks something before writing (no active membership yet, an unused idempotency key)
    takes it, so its check and its write are not interleaved with another such writer of
    the same tenant. Taking it again in the same transaction is free.
    """
    await tx.execute(LOCK_CHAIN_SQL)


async def record(
    scope: Scope,
    *,
    action: str,
    entity: str,
    entity_id: uuid.UUID | None,
    fields: Sequence[str] = (),
) -> None:
    """Write one event in the caller's transaction (see `record_many`)."""
    await record_many(scope, [Event(action, entity, entity_id, fields)])


def record_reads(scope: Scope, entity: str, ids: Iterable[uuid.UUID]) -> None:
    """Note that the request read these objects of `entity` (a person's or a case's data).

    Every object read appears once per request, however often the request read it: in the
    request's one `<entity>.read` event, which names all the objects of that kind it read.
    All of the request's reads are written in one statement just before its COMMIT, in its
    own transaction, so a rolled-back request leaves none and a committed one leaves all.
    Call it where rows become the answer, with the ids of those rows.
    """
    if not scope.reads:
        scope.before_commit(lambda: _write_reads(scope))
    scope.reads.setdefault(entity, set()).update(ids)


async def _write_reads(scope: Scope) -> None:
    events = [
        Event(f"{entity}.read", entity, None, entity_ids=sorted(ids))
        for entity, ids in sorted(scope.reads.items())
        if ids  # an empty page read nothing
    ]
    await record_many(scope, events)


async def record_many(scope: Scope, events: Sequence[Event]) -> None:
    """Write `events` in the caller's transaction, as one statement, unsealed.

    The caller must call this in the same transaction as what it records (and before it
    commits). All of a batch share one `occurred_at`, the request's moment; each event
    gets its own UUIDv7. Nothing is locked or read, so concurrent requests of one tenant
    do not wait for each other; the sealer chains the rows once they have committed.
    """
    if not events:
        return
    caller = scope.caller
    # Microseconds: what timestamptz keeps, so the value read back hashes the same.
    occurred_at = dt.datetime.now(dt.UTC)
    shared = (occurred_at, str(caller.user_id), caller.role.value, scope.request_id)
    for start in range(0, len(events), MAX_ROWS_PER_INSERT):
        batch = events[start : start + MAX_ROWS_PER_INSERT]
        rows = (
            (
                uuid7(),
                e.action,
                e.entity,
                e.entity_id,
                None if e.entity_ids is None else uuid_array_literal(e.entity_ids),
                list(e.fields),
            )
            for e in batch
        )
        await scope.tx.execute(insert_sql(len(batch)), *shared, *itertools.chain.from_iterable(rows))


def uuid_array_literal(ids: Iterable[uuid.UUID]) -> str:
    """PostgreSQL's text form of a `uuid[]`, each object as its 32 hex digits.

    `.hex`, not `str()`: anything but a UUID (a text holding a comma) fails here instead of
    naming more objects than were read.
    """
    return "{" + ",".join([key.hex for key in ids]) + "}"


def canonical(event: Mapping[str, Any]) -> bytes:
    """The hashed form of a sealed event (a row of `kizuna.audit_event` with its `seq`)."""
    occurred_at: dt.datetime = event["occurred_at"]
    entity_id = event["entity_id"]
    role = event["role"]
    document = {
        "municipality_code": event["municipality_code"],
        "seq": int(event["seq"]),
        "occurred_at": occurred_at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "subject": event["subject"],
        "role": str(role),
        "action": event["action"],
        "entity": event["entity"],
        "entity_id": None if entity_id is None else str(entity_id),
        "fields": list(event["fields"]),
        "request_id": event["request_id"],
    }
    # Only read events (0023) carry the key: the events before them keep their hashes.
    entity_ids = event.get("entity_ids")
    if entity_ids is not None:
        document["entity_ids"] = [str(key) for key in entity_ids]
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def link_hash(prev_hash: bytes, event: Mapping[str, Any]) -> bytes:
    return hashlib.sha256(prev_hash + canonical(event)).digest()


@dataclasses.dataclass(frozen=True, slots=True)
class Break:
    """The first broken link of a tenant's chain: where, and what is wrong there."""

    municipality_code: str
    seq: int
    problem: str

    def __str__(self) -> str:
        return f"{self.municipality_code} seq {self.seq}: {self.problem}"


class ChainWalk:
    """Checks one tenant's sealed events, fed in `seq` order, against the heads the sealer
    recorded (`seq`, `hash`, `sealed_at`; None: the links only).

    The events must be numbered 1, 2, 3 … with no gap, each naming its predecessor's hash
    and hashing to its own; every head must name an event of the chain with the same hash;
    and the newest event must be the newest head's (the sealer writes both in one
    transaction), so deleting the newest events, or all of them, or appending a forged
    link is caught. `add` and `end` return the first break found, or None.
    """

    def __init__(self, municipality_code: str, heads: Iterable[Mapping[str, Any]] | None) -> None:
        self.municipality_code = municipality_code
        self._heads = None if heads is None else {int(h["seq"]): h for h in heads}
        self.count = 0
        self.head: bytes | None = None

    def add(self, row: Mapping[str, Any]) -> Break | None:
        seq, expected = int(row["seq"]), self.count + 1
        if seq != expected:
            return self._break(expected, f"missing (the next event is seq {seq})")
        if bytes(row["prev_hash"]) != (self.head or GENESIS):
            return self._break(seq, "does not name the hash of the event before it")
        digest = link_hash(self.head or GENESIS, row)
        if bytes(row["hash"]) != digest:
            return self._break(seq, "its content does not match its hash (changed after sealing)")
        head = None if self._heads is None else self._heads.get(seq)
        if head is not None and bytes(head["hash"]) != digest:
            return self._break(seq, f"differs from the head sealed at {_when(head)}")
        self.count, self.head = seq, digest
        return None

    def end(self) -> Break | None:
        if self._heads is None:
            return None
        newest = max(self._heads, default=0)
        if newest > self.count:
            return self._break(
                self.count + 1,
                f"missing: the chain ends at seq {self.count}, but the head sealed at {_when(self._heads[newest])}"
                f" reached seq {newest} (the newest events were deleted)",
            )
        if self.count > newest:
            return self._break(newest + 1, f"not sealed by the sealer (its newest head is seq {newest})")
        return None

    def _break(self, seq: int, problem: str) -> Break:
        return Break(self.municipality_code, seq, problem)


def _when(head: Mapping[str, Any]) -> str:
    sealed_at: dt.datetime = head["sealed_at"]
    return sealed_at.astimezone(dt.UTC).isoformat(timespec="seconds")


def first_break(
    municipality_code: str, rows: Iterable[Mapping[str, Any]], heads: Iterable[Mapping[str, Any]] | None
) -> Break | None:
    """The first broken link of `rows` (one tenant's sealed events, in `seq` order), or None."""
    walk = ChainWalk(municipality_code, heads)
    for row in rows:
        if (found := walk.add(row)) is not None:
            return found
    return walk.end()


def verify_chain(rows: Iterable[Mapping[str, Any]]) -> bool:
    """Whether `rows` (one tenant's sealed events, in `seq` order) form an unbroken chain,
    heads aside: numbered 1, 2, 3 …, each naming its predecessor's hash and hashing to its own."""
    return first_break("", rows, None) is None
