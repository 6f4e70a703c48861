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


# The indexes of each of the log's placements, by name; text only (no type introspection,
# which takes seconds on a Citus node).
PLACEMENT_INDEXES = """
SELECT i.indrelid::regclass::text AS relation, c.relname::text AS index
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
WHERE i.indrelid = ANY($1::text[]::regclass[])
"""


async def _placement_indexes(citus_cluster: Cluster, coordinator_admin: asyncpg.Connection) -> dict[str, set[str]]:
    """The index names (without the shard's suffix) of each placement of the log."""
    shards = await coordinator_admin.fetch(
        "SELECT shard_name(s.logicalrelid, s.shardid) AS shard_name, s.shardid, n.nodeport"
        " FROM pg_dist_shard s JOIN pg_dist_placement p USING (shardid) JOIN pg_dist_node n USING (groupid)"
        " WHERE s.logicalrelid = 'kizuna.audit_event'::regclass"
    )
    found: dict[str, set[str]] = {}
    for node in (citus_cluster.coordinator, *citus_cluster.workers):
        placed = {s["shard_name"].removeprefix("kizuna."): s["shardid"] for s in shards if s["nodeport"] == node.port}
        conn = await asyncpg.connect(node.admin_url())
        try:
            await conn.execute("SET citus.override_table_visibility = off")  # Citus hides shards from pg_class
            for row in await conn.fetch(PLACEMENT_INDEXES, [f"kizuna.{shard}" for shard in placed]):
                shard = row["relation"].removeprefix("kizuna.")
                found.setdefault(shard, set()).add(row["index"].removesuffix(f"_{placed[shard]}"))
        finally:
            await conn.close()
    assert shards
    assert len(found) == len(shards), found
    return found


async def test_every_placement_of_the_log_has_the_readers_indexes_and_not_the_dropped_one(
    citus_cluster: Cluster, coordinator_admin: asyncpg.Connection
) -> None:
    """Migrations 0035 and 0036 made their indexes on every shard of the log, and 0037's
    DROP INDEX, run on the coordinator, took the read events' GIN index from every shard."""
    for shard, indexes in (await _placement_indexes(citus_cluster, coordinator_admin)).items():
        assert {"ix_audit_event_actor", "ix_audit_event_kind", "ix_audit_event_object"} <= indexes, shard
        assert "ix_audit_event_objects" not in indexes, shard
