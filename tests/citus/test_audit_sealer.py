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
