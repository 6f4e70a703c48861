"""The audit log: append-only, hash-chained per tenant (DESIGN section 4, audit event).

Every change is recorded by `record`, inside the transaction that makes the change, so
the change and its audit row commit or roll back together. Each tenant's events form one
chain: event `seq` stores the hash of event `seq - 1` (`prev_hash`, 32 zero bytes for the
first) and its own

    hash = sha256(prev_hash || canonical JSON of the event)

where the canonical JSON is the object of `municipality_code, seq, occurred_at, subject,
role, action, entity, entity_id, fields, request_id` with sorted keys, no whitespace and
UTF-8 text (RFC 8785's form for these value types): anyone holding the rows can recompute
the chain (`verify_chain`), and a row changed, removed or inserted afterwards breaks it.

Writers of one tenant are serialised by a transaction-scoped advisory lock, so two
requests never read the same last link; the unique (municipality_code, seq) constraint
backs that up. App roles may read only `(municipality_code, seq, hash)` of the log: enough
to continue the chain, nothing of what others did.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from kizuna.platform.database import TenantTransaction
from kizuna.platform.ids import uuid7
from kizuna.platform.scope import Scope

GENESIS = bytes(32)
"""The `prev_hash` of a tenant's first event."""

# The lock's first key names what is locked (the audit chain); the second is the tenant's
# six-digit code, which fits an int4 and is unique per tenant, so tenants never wait for
# each other.
_CHAIN_LOCK_CLASS = 0x4B5A_0A01
LOCK_CHAIN_SQL = f"SELECT pg_advisory_xact_lock({_CHAIN_LOCK_CLASS}, $1::text::integer)"
LAST_LINK_SQL = "SELECT seq, hash FROM kizuna.audit_event WHERE municipality_code = $1 ORDER BY seq DESC LIMIT 1"
# No RETURNING: the app roles may not read the columns they write.
INSERT_SQL = """
INSERT INTO kizuna.audit_event
    (municipality_code, id, seq, occurred_at, subject, role, action, entity, entity_id, fields,
     request_id, prev_hash, hash)
VALUES ($1, $2, $3, $4, $5, $6::kizuna.app_role, $7, $8, $9, $10::text[], $11, $12, $13)
"""


async def lock_chain(tx: TenantTransaction) -> None:
    """Hold the tenant's audit lock until the transaction ends.

    `record` takes it itself; a writer that checks something before writing (no active
    membership yet, an unused idempotency key) takes it first, so its check and its write
    are not interleaved with another writer's of the same tenant. Taking it again in the
    same transaction is free.
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
    """Append one event to the tenant's chain, in the caller's transaction.

    The caller must call this in the same transaction as the change it records (and
    before it commits): who, role, tenant and request id come from the scope, never
    from the caller. `fields` names the columns the change touched.
    """
    tx, caller = scope.tx, scope.caller
    await lock_chain(tx)
    last = await tx.fetchrow(LAST_LINK_SQL)
    seq = 1 if last is None else last["seq"] + 1
    prev_hash = GENESIS if last is None else bytes(last["hash"])
    # Microseconds: what timestamptz keeps, so the value read back hashes the same.
    occurred_at = dt.datetime.now(dt.UTC)
    event = {
        "municipality_code": caller.municipality_code,
        "seq": seq,
        "occurred_at": occurred_at,
        "subject": str(caller.user_id),
        "role": caller.role.value,
        "action": action,
        "entity": entity,
        "entity_id": entity_id,
        "fields": list(fields),
        "request_id": scope.request_id,
    }
    digest = link_hash(prev_hash, event)
    await tx.execute(
        INSERT_SQL,
        uuid7(),
        seq,
        occurred_at,
        event["subject"],
        event["role"],
        action,
        entity,
        entity_id,
        event["fields"],
        scope.request_id,
        prev_hash,
        digest,
    )


def canonical(event: Mapping[str, Any]) -> bytes:
    """The hashed form of an event (a row of `kizuna.audit_event` or what `record` writes)."""
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
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def link_hash(prev_hash: bytes, event: Mapping[str, Any]) -> bytes:
    return hashlib.sha256(prev_hash + canonical(event)).digest()


def verify_chain(rows: Iterable[Mapping[str, Any]]) -> bool:
    """Whether `rows` (one tenant's whole log, in `seq` order) form an unbroken chain:
    numbered 1, 2, 3 …, each naming its predecessor's hash and hashing to its own."""
    prev_hash, expected_seq = GENESIS, 1
    for row in rows:
        if row["seq"] != expected_seq or bytes(row["prev_hash"]) != prev_hash:
            return False
        digest = link_hash(prev_hash, row)
        if bytes(row["hash"]) != digest:
            return False
        prev_hash, expected_seq = digest, expected_seq + 1
    return True
