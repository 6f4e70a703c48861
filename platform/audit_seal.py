"""Sealing and verifying the tenants' audit chains (platform/audit.py writes the events).

Who seals. Requests write events unsealed; `kizuna_auditor` links them. It is a NOLOGIN
role of its own (migration 0014): it may read the log, set the link columns of an
*unsealed* row (its UPDATE policy), and append to `kizuna.audit_seal`; the request path's
login (`kizuna_app`) is not a member of it, so no app role can write or rewrite a link or
a head. The sealer reaches it through the administrative connection (`SET LOCAL ROLE`),
which the request path never holds: `kizuna serve` seals in the background every
`SEAL_INTERVAL` seconds, and `kizuna audit seal` does one round. No function running with
its owner's rights is involved (DESIGN allows those only in `stats`), and the hashing stays in
Python, the same code that verifies.

Commit order. A round takes every unsealed row of the tenant it can see, and nothing
else: no high-water mark by id or `occurred_at`, which transactions that overlap would
commit out of order (a row written earlier but committed after the round would be skipped
for ever, or chained before rows that committed first). A row is visible to a round only
once its transaction has committed; one that commits later is found by a later round and
chained after. So every row of one round committed before every row of the next: the chain
is in commit order, to the granularity of one round, and within a round in (`occurred_at`,
`id`) order. This needs no transaction ids, which on Citus belong to each node, not to the
tenant's shard, where the rows become visible.

One sealer per tenant at a time: a round holds the tenant's sealing lock (a
transaction-scoped advisory lock, taken with `try`, so a second sealer skips the tenant
instead of waiting). The lock is not what keeps the chain right: the unique
(tenant, `seq`) of events and of heads, and the `seq IS NULL` condition of the update
(checked against the rows the round read), make a second writer of the same links fail.

Heads. Each round appends the `seq` and `hash` it reached, with the time, to
`kizuna.audit_seal` in the same transaction as the links. The verifier requires the newest
sealed event to be the newest head's, so deleting the newest events, or all of a tenant's,
is caught; so is a link appended by anyone but the sealer. Whoever can rewrite both tables
(a superuser) can rewrite history consistently: `kizuna audit verify` prints each tenant's
head, to be kept outside the database (docs/security-model.md).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools

import asyncpg

from kizuna.platform import audit
from kizuna.platform.background import BackgroundProcess, as_role, repeat
from kizuna.platform.ids import uuid7

SEAL_INTERVAL = 0.25
"""Seconds between the background sealer's rounds in `kizuna serve`. Short: a round's
UPDATE then holds a core for a quarter of what a round a second did, and the requests
waiting behind it are fewer (p99 about 10% lower in quick runs, docs/benchmarks.md); an idle
round is one indexed read of the pending tenants."""
ROUND_SIZE = 4000
"""Events a round seals at most (one statement, the links as arrays)."""
PAGE_SIZE = 5000
"""Events the verifier reads per statement."""

_SEAL_LOCK_CLASS = 0x4B5A_0A02
# The one statement that reads every shard on Citus: which tenants have work. Background only.
PENDING_TENANTS_SQL = "SELECT DISTINCT municipality_code FROM kizuna.audit_event WHERE seq IS NULL ORDER BY 1"
ALL_TENANTS_SQL = """
SELECT municipality_code FROM kizuna.audit_event UNION SELECT municipality_code FROM kizuna.audit_seal ORDER BY 1
"""
TRY_LOCK_SQL = f"SELECT pg_try_advisory_xact_lock({_SEAL_LOCK_CLASS}, $1::text::integer)"
HEAD_SQL = "SELECT seq, hash FROM kizuna.audit_seal WHERE municipality_code = $1 ORDER BY seq DESC LIMIT 1"
# Text for the enum: asyncpg would otherwise introspect its type (seconds on a Citus node).
# A read event's objects as text, PostgreSQL's form of a uuid, which is the canonical JSON's
# (`audit.canonical`): asyncpg made a UUID object of each, 31 of the sealer's 37 µs an
# event of fetching, for `canonical` to turn straight back into text.
_EVENT_COLUMNS = (
    "municipality_code, id, occurred_at, subject, role::text AS role, action, entity, entity_id,"
    " entity_ids::text[] AS entity_ids, fields, request_id"
)
UNSEALED_SQL = f"""
SELECT {_EVENT_COLUMNS} FROM kizuna.audit_event
WHERE municipality_code = $1 AND seq IS NULL
ORDER BY occurred_at, id
LIMIT {ROUND_SIZE}
"""
APPEND_HEAD_SQL = "INSERT INTO kizuna.audit_seal (municipality_code, id, seq, hash) VALUES ($1, $2, $3, $4)"
SEALED_PAGE_SQL = f"""
SELECT {_EVENT_COLUMNS}, seq, prev_hash, hash FROM kizuna.audit_event
WHERE municipality_code = $1 AND seq > $2
ORDER BY seq
LIMIT {PAGE_SIZE}
"""
HEADS_SQL = "SELECT seq, hash, sealed_at FROM kizuna.audit_seal WHERE municipality_code = $1 ORDER BY seq"
UNSEALED_COUNT_SQL = "SELECT count(*) FROM kizuna.audit_event WHERE municipality_code = $1 AND seq IS NULL"


class SealConflict(Exception):
    """Another writer changed links this round was about to write: it wrote nothing."""


# One statement for any number of links, the links as four arrays: prepared once, where a
# multi-row VALUES was a new statement of up to 16,000 parameters to parse and plan every
# round (each round's count differs). Routed to the tenant's shard on Citus.
SEAL_SQL = """
UPDATE kizuna.audit_event AS e SET seq = v.seq, prev_hash = v.prev_hash, hash = v.hash
FROM unnest($2::uuid[], $3::bigint[], $4::bytea[], $5::bytea[]) AS v (id, seq, prev_hash, hash)
WHERE e.municipality_code = $1 AND e.id = v.id AND e.seq IS NULL
"""


def as_auditor(
    conn: asyncpg.Connection, *, readonly: bool = False
) -> contextlib.AbstractAsyncContextManager[asyncpg.Connection]:
    """A transaction on the administrative connection `conn` as `kizuna_auditor`. A
    read-only one sees one tenant's events and heads as of one moment (a tenant lives on
    one shard on Citus, so that moment is one node's)."""
    return as_role(conn, "kizuna_auditor", readonly=readonly)


async def seal_tenant(conn: asyncpg.Connection, municipality_code: str) -> int:
    """Chain the tenant's unsealed events that have committed; returns how many.

    Rounds of at most `ROUND_SIZE` events, each one transaction on `conn` (the
    administrative connection); 0 when there was nothing to seal or another sealer holds
    the tenant.
    """
    sealed = 0
    while True:
        count = await _seal_round(conn, municipality_code)
        sealed += count
        if count < ROUND_SIZE:
            return sealed


async def _seal_round(conn: asyncpg.Connection, municipality_code: str) -> int:
    async with as_auditor(conn):
        if not await conn.fetchval(TRY_LOCK_SQL, municipality_code):
            return 0
        rows = await conn.fetch(UNSEALED_SQL, municipality_code)
        if not rows:
            return 0
        head = await conn.fetchrow(HEAD_SQL, municipality_code)
        seq, prev_hash = (0, audit.GENESIS) if head is None else (int(head["seq"]), bytes(head["hash"]))
        links = []
        for row in rows:
            seq += 1
            digest = audit.link_hash(prev_hash, {**row, "seq": seq})
            links.append((row["id"], seq, prev_hash, digest))
            prev_hash = digest
        ids, seqs, prev_hashes, hashes = zip(*links, strict=True)
        status = await conn.execute(SEAL_SQL, municipality_code, ids, seqs, prev_hashes, hashes)
        if status != f"UPDATE {len(links)}":
            raise SealConflict(f"{municipality_code}: {status} of {len(links)} links")
        await conn.execute(APPEND_HEAD_SQL, municipality_code, uuid7(), seq, prev_hash)
        return len(links)


async def seal_pending(conn: asyncpg.Connection) -> dict[str, int]:
    """Seal every tenant that has unsealed events; returns the count sealed per tenant."""
    async with as_auditor(conn, readonly=True):
        codes = [r["municipality_code"] for r in await conn.fetch(PENDING_TENANTS_SQL)]
    return {code: await seal_tenant(conn, code) for code in codes}


@dataclasses.dataclass(frozen=True, slots=True)
class ChainReport:
    """One tenant's chain as the verifier found it."""

    municipality_code: str
    sealed: int
    unsealed: int
    head: bytes | None
    """The hash of the newest sealed event: keep it outside the database to anchor the chain."""
    broken: audit.Break | None


async def verify_tenant(conn: asyncpg.Connection, municipality_code: str) -> ChainReport:
    """Check the tenant's chain against its heads, as of one moment; changes nothing."""
    async with as_auditor(conn, readonly=True):
        heads = await conn.fetch(HEADS_SQL, municipality_code)
        unsealed: int = await conn.fetchval(UNSEALED_COUNT_SQL, municipality_code)
        walk = audit.ChainWalk(municipality_code, heads)
        after, broken = 0, None
        while broken is None:
            page = await conn.fetch(SEALED_PAGE_SQL, municipality_code, after)
            broken = next((b for b in map(walk.add, page) if b is not None), None)
            if len(page) < PAGE_SIZE:
                break
            after = int(page[-1]["seq"])
        if broken is None:
            broken = walk.end()
    return ChainReport(municipality_code, walk.count, unsealed, walk.head, broken)


async def verify_all(conn: asyncpg.Connection) -> list[ChainReport]:
    """Every tenant that has an event or a head, in code order."""
    async with as_auditor(conn, readonly=True):
        codes = [r["municipality_code"] for r in await conn.fetch(ALL_TENANTS_SQL)]
    return [await verify_tenant(conn, code) for code in codes]


async def seal_in_background(admin_url: str, *, interval: float = SEAL_INTERVAL) -> None:
    """Seal every tenant's new events every `interval` seconds, until cancelled; a database
    that is away is logged once, and sealing resumes when it is back."""
    await repeat(admin_url, seal_pending, interval=interval, name="audit sealer", failures=(SealConflict,))


def sealer_process(admin_url: str, *, interval: float = SEAL_INTERVAL) -> BackgroundProcess:
    """`seal_in_background` in a process of its own, started and stopped with the server.

    Sealing hashes every event the requests write: in the server's own event loop, when a
    page of 50 cases wrote 100 events (before migration 0023; now 2), it took about a sixth
    of the server's CPU from the requests.
    """
    return BackgroundProcess("kizuna-audit-sealer", functools.partial(seal_in_background, admin_url, interval=interval))
