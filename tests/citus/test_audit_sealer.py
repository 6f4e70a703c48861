"""The audit sealer on the cluster: events written by requests through the coordinator are
chained by `kizuna_auditor` over the administrative connection, every statement of a
tenant's sealing and verifying goes to that tenant's shard alone, and the chain verifies.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from kizuna.platform import audit, audit_seal
from kizuna.platform.caller import Caller
from kizuna.platform.database import Database
from kizuna.platform.ids import uuid7
from kizuna.platform.scope import open_scope
from kizuna.platform.settings import DEFAULT_DEV_ISSUER
from kizuna.platform.urls import asyncpg_dsn
from kizuna.platform.vocabulary import AppRole
from kizuna.tenants import demo_users

from .cluster import Cluster
from .conftest import SAITAMA_CITY, SEEDED

TASKS = re.compile(r"Task Count: (\d+)")


@pytest.fixture
async def admin(citus_cluster: Cluster) -> AsyncIterator[asyncpg.Connection]:
    """The coordinator's administrative connection; SAITAMA_CITY's chain is put back after."""
    conn = await asyncpg.connect(asyncpg_dsn(citus_cluster.urls.admin))
    before = await conn.fetchval(
        "SELECT coalesce(max(seq), 0) FROM kizuna.audit_event WHERE municipality_code = $1", SAITAMA_CITY
    )
    try:
        yield conn
    finally:
        await conn.execute(
            "DELETE FROM kizuna.audit_event WHERE municipality_code = $1 AND (seq > $2 OR seq IS NULL)",
            SAITAMA_CITY,
            before,
        )
        await conn.execute(
            "DELETE FROM kizuna.audit_seal WHERE municipality_code = $1 AND seq > $2", SAITAMA_CITY, before
        )
        await conn.close()


async def test_requests_events_are_sealed_and_verified_on_the_cluster(
    citus_cluster: Cluster, admin: asyncpg.Connection
) -> None:
    me = next(
        u
        for u in demo_users.demo_users("11", list(SEEDED))
        if u.role is AppRole.CASEWORKER and u.municipality_code == SAITAMA_CITY
    )
    database = await Database.connect(citus_cluster.urls.app, size=2)
    try:
        for n in range(3):
            caller = Caller(
                me.user_id, DEFAULT_DEV_ISSUER, me.subject, AppRole.CASEWORKER, SAITAMA_CITY, me.organisation_id
            )
            async with open_scope(database, caller, request_id=f"citus-{n}", readonly=False) as scope:
                await audit.record_many(
                    scope, [audit.Event("person.read", "person", uuid.uuid4(), ("family_name",))] * 4
                )
    finally:
        await database.close()
    assert await audit_seal.seal_tenant(admin, SAITAMA_CITY) == 12
    report = await audit_seal.verify_tenant(admin, SAITAMA_CITY)
    assert (report.broken, report.unsealed) == (None, 0)
    assert report.sealed >= 12

    await admin.execute(
        "UPDATE kizuna.audit_event SET action = 'person.update' WHERE municipality_code = $1 AND seq = $2",
        SAITAMA_CITY,
        report.sealed,
    )
    broken = (await audit_seal.verify_tenant(admin, SAITAMA_CITY)).broken
    assert broken is not None
    assert (broken.seq, broken.problem) == (
        report.sealed,
        "its content does not match its hash (changed after sealing)",
    )


async def test_every_statement_of_a_tenants_sealing_goes_to_one_shard(admin: asyncpg.Connection) -> None:
    link = (uuid7(), 1, audit.GENESIS, audit.GENESIS)
    statements = [
        (audit_seal.HEAD_SQL, ()),
        (audit_seal.UNSEALED_SQL, ()),
        (audit_seal.SEAL_SQL, ([link[0]] * 2, [1, 2], [link[2]] * 2, [link[3]] * 2)),
        (audit_seal.APPEND_HEAD_SQL, (uuid7(), 1, audit.GENESIS)),
        (audit_seal.SEALED_PAGE_SQL, (0,)),
        (audit_seal.HEADS_SQL, ()),
        (audit_seal.UNSEALED_COUNT_SQL, ()),
    ]
    tasks = {}
    for sql, args in statements:
        async with audit_seal.as_auditor(admin, readonly=True):
            plan = "\n".join(r[0] for r in await admin.fetch(f"EXPLAIN {sql}", SAITAMA_CITY, *args))
        tasks[sql] = [int(n) for n in TASKS.findall(plan)]
    assert {sql: found for sql, found in tasks.items() if found != [1]} == {}


# The storage options of the read events' GIN index on each of the log's placements; text
# only (no type introspection, which takes seconds on a Citus node).
GIN_OPTIONS = """
SELECT i.indrelid::regclass::text AS relation, coalesce(array_to_string(c.reloptions, ','), '') AS options
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
WHERE i.indrelid = ANY($1::text[]::regclass[]) AND starts_with(c.relname::text, 'ix_audit_event_objects')
"""


async def _pending_list_options(citus_cluster: Cluster, coordinator_admin: asyncpg.Connection) -> dict[str, str]:
    """The options of the read events' GIN index on each placement of the log."""
    shards = await coordinator_admin.fetch(
        "SELECT shard_name(s.logicalrelid, s.shardid) AS shard_name, n.nodeport"
        " FROM pg_dist_shard s JOIN pg_dist_placement p USING (shardid) JOIN pg_dist_node n USING (groupid)"
        " WHERE s.logicalrelid = 'kizuna.audit_event'::regclass"
    )
    found: dict[str, str] = {}
    for node in (citus_cluster.coordinator, *citus_cluster.workers):
        placed = [s["shard_name"] for s in shards if s["nodeport"] == node.port]
        conn = await asyncpg.connect(node.admin_url())
        try:
            await conn.execute("SET citus.override_table_visibility = off")  # Citus hides shards from pg_class
            found |= {r["relation"]: r["options"] for r in await conn.fetch(GIN_OPTIONS, placed)}
        finally:
            await conn.close()
    assert shards
    assert len(found) == len(shards), found
    return found


async def test_every_placement_of_the_log_keeps_the_larger_pending_list(
    citus_cluster: Cluster, coordinator_admin: asyncpg.Connection
) -> None:
    """Migration 0034's `gin_pending_list_limit` reaches every shard of the log, whether the
    table was distributed after it (the shards' indexes are made with the coordinator's
    options) or before it (the migration's ALTER INDEX, run on the coordinator, goes to
    every shard): the sealer's merges stay rare on the workers too (docs/benchmarks.md)."""
    option = "gin_pending_list_limit=32768"
    assert set((await _pending_list_options(citus_cluster, coordinator_admin)).values()) == {option}
    try:
        await coordinator_admin.execute("ALTER INDEX kizuna.ix_audit_event_objects RESET (gin_pending_list_limit)")
        assert set((await _pending_list_options(citus_cluster, coordinator_admin)).values()) == {""}
    finally:
        await coordinator_admin.execute(
            "ALTER INDEX kizuna.ix_audit_event_objects SET (gin_pending_list_limit = 32768)"
        )
    assert set((await _pending_list_options(citus_cluster, coordinator_admin)).values()) == {option}
