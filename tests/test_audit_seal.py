"""The sealer and the verifier (platform/audit_seal.py): events chained in the order they
committed, heads recorded, and every kind of tampering a superuser can do to the rows
caught by `kizuna audit verify`, which names the first broken link."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from kizuna.platform import audit, audit_seal, migrate
from kizuna.platform.app import create_app
from kizuna.platform.caller import Caller
from kizuna.platform.database import Database
from kizuna.platform.provisioning import admin_connection
from kizuna.platform.scope import open_scope
from kizuna.platform.serving import jobs_beside
from kizuna.platform.settings import DEFAULT_DEV_ISSUER, Settings
from kizuna.platform.urls import app_url, asyncpg_dsn, with_database
from kizuna.platform.vocabulary import AppRole
from kizuna.tenants import demo, demo_users

# A registered tenant that the seeded suite leaves without data: these tests own its chain.
UNSEEDED = "112038"
SAITAMA_CITY = "111007"
INSERT_UNSEALED = """
INSERT INTO kizuna.audit_event
    (municipality_code, id, occurred_at, subject, role, action, entity, entity_ids, request_id)
VALUES ($1, $2, $3, 'tester', 'supervisor', $4, 'membership', $5, 'test-seal')
"""
SEALED = "SELECT * FROM kizuna.audit_event WHERE municipality_code = $1 AND seq IS NOT NULL ORDER BY seq"


async def forget(conn: asyncpg.Connection) -> None:
    await conn.execute("DELETE FROM kizuna.audit_event WHERE municipality_code = $1", UNSEEDED)
    await conn.execute("DELETE FROM kizuna.audit_seal WHERE municipality_code = $1", UNSEEDED)


@pytest.fixture
async def chain(admin_conn: asyncpg.Connection) -> AsyncIterator[asyncpg.Connection]:
    """Four events of the unseeded tenant, sealed in two rounds (heads at seq 2 and 4); the
    second of each round is a read event, naming the objects it read."""
    await forget(admin_conn)
    try:
        for round_ in range(2):
            await write(admin_conn, f"test.{round_}.change")
            await write(admin_conn, f"test.{round_}.read", objects=[uuid.uuid4(), uuid.uuid4()])
            assert await audit_seal.seal_tenant(admin_conn, UNSEEDED) == 2
        yield admin_conn
    finally:
        await forget(admin_conn)


async def write(
    conn: asyncpg.Connection, action: str, at: dt.datetime | None = None, *, objects: list[uuid.UUID] | None = None
) -> None:
    await conn.execute(INSERT_UNSEALED, UNSEEDED, uuid.uuid4(), at or dt.datetime.now(dt.UTC), action, objects)


async def test_a_sealed_chain_verifies_and_records_its_heads(chain: asyncpg.Connection) -> None:
    report = await audit_seal.verify_tenant(chain, UNSEEDED)
    assert (report.broken, report.sealed, report.unsealed) == (None, 4, 0)
    heads = await chain.fetch(
        "SELECT seq, hash FROM kizuna.audit_seal WHERE municipality_code = $1 ORDER BY seq", UNSEEDED
    )
    rows = await chain.fetch(SEALED, UNSEEDED)
    assert [(h["seq"], h["hash"]) for h in heads] == [(2, rows[1]["hash"]), (4, rows[3]["hash"])]
    assert report.head == rows[3]["hash"]
    # The sealer reads a read event's objects as text; here they are uuids: the same hashes.
    assert isinstance(rows[1]["entity_ids"][0], uuid.UUID)
    assert audit.verify_chain(rows)


async def test_events_not_sealed_yet_are_no_break(chain: asyncpg.Connection) -> None:
    await write(chain, "test.later")
    report = await audit_seal.verify_tenant(chain, UNSEEDED)
    assert (report.broken, report.sealed, report.unsealed) == (None, 4, 1)


async def test_the_chain_follows_commit_order_not_the_time_written(admin_conn: asyncpg.Connection, urls: Any) -> None:
    """An event written first but committed last is chained last: a sealing round takes the
    committed events it sees, so a later round finds the late one, never skipped."""
    await forget(admin_conn)
    late = await asyncpg.connect(asyncpg_dsn(urls.admin))
    try:
        async with late.transaction():
            await write(late, "test.written-first", dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1))
            await write(admin_conn, "test.committed-first")
            assert await audit_seal.seal_tenant(admin_conn, UNSEEDED) == 1
        assert await audit_seal.seal_tenant(admin_conn, UNSEEDED) == 1
        rows = await admin_conn.fetch(SEALED, UNSEEDED)
        assert [(r["seq"], r["action"]) for r in rows] == [(1, "test.committed-first"), (2, "test.written-first")]
        assert (await audit_seal.verify_tenant(admin_conn, UNSEEDED)).broken is None
    finally:
        await late.close()
        await forget(admin_conn)


async def test_a_second_sealer_skips_a_tenant_being_sealed(chain: asyncpg.Connection, urls: Any) -> None:
    await write(chain, "test.pending")
    other = await asyncpg.connect(asyncpg_dsn(urls.admin))
    try:
        async with audit_seal.as_auditor(other):
            assert await other.fetchval(audit_seal.TRY_LOCK_SQL, UNSEEDED)
            assert await audit_seal.seal_tenant(chain, UNSEEDED) == 0
        assert await audit_seal.seal_tenant(chain, UNSEEDED) == 1
    finally:
        await other.close()


async def rechain(conn: asyncpg.Connection, rows: list[dict[str, Any]]) -> None:
    """What a forger who knows the algorithm does: renumber and rehash every link."""
    prev = audit.GENESIS
    for seq, row in enumerate(rows, start=1):
        row.update(seq=seq, prev_hash=prev)
        row["hash"] = prev = audit.link_hash(prev, row)
    await conn.execute("DELETE FROM kizuna.audit_event WHERE municipality_code = $1", UNSEEDED)
    columns = list(rows[0])
    placeholders = ", ".join(f"${n}" for n in range(1, len(columns) + 1))
    await conn.executemany(
        f"INSERT INTO kizuna.audit_event ({', '.join(columns)}) VALUES ({placeholders})",
        [tuple(r.values()) for r in rows],
    )


async def edit(conn: asyncpg.Connection) -> None:
    await conn.execute(
        "UPDATE kizuna.audit_event SET action = 'membership.revoke' WHERE municipality_code = $1 AND seq = 2", UNSEEDED
    )


async def hide_a_read_object(conn: asyncpg.Connection) -> None:
    """Seq 2 is a read event: one of the objects it names is taken out. (The new array is
    a parameter: `SET entity_ids = entity_ids[1:1]` crashes the Citus 13 coordinator.)"""
    where = "WHERE municipality_code = $1 AND seq = 2"
    named = await conn.fetchval(f"SELECT entity_ids FROM kizuna.audit_event {where}", UNSEEDED)
    await conn.execute(f"UPDATE kizuna.audit_event SET entity_ids = $2 {where}", UNSEEDED, named[:1])


async def edit_and_rehash(conn: asyncpg.Connection) -> None:
    """Seq 3: no head names it, so only its successor can tell."""
    row = dict(
        await conn.fetchrow("SELECT * FROM kizuna.audit_event WHERE municipality_code = $1 AND seq = 3", UNSEEDED)
    )
    row["subject"] = "someone else"
    await conn.execute(
        "UPDATE kizuna.audit_event SET subject = $3, hash = $4 WHERE municipality_code = $1 AND seq = $2",
        UNSEEDED,
        3,
        row["subject"],
        audit.link_hash(row["prev_hash"], row),
    )


async def delete_middle(conn: asyncpg.Connection) -> None:
    await conn.execute("DELETE FROM kizuna.audit_event WHERE municipality_code = $1 AND seq = 2", UNSEEDED)


async def delete_newest(conn: asyncpg.Connection) -> None:
    await conn.execute("DELETE FROM kizuna.audit_event WHERE municipality_code = $1 AND seq = 4", UNSEEDED)


async def delete_all(conn: asyncpg.Connection) -> None:
    await conn.execute("DELETE FROM kizuna.audit_event WHERE municipality_code = $1", UNSEEDED)


async def reorder(conn: asyncpg.Connection) -> None:
    for old, new in ((2, 1000), (3, 2), (1000, 3)):
        await conn.execute(
            "UPDATE kizuna.audit_event SET seq = $3 WHERE municipality_code = $1 AND seq = $2", UNSEEDED, old, new
        )


async def append_forged_link(conn: asyncpg.Connection) -> None:
    rows = [dict(r) for r in await conn.fetch(SEALED, UNSEEDED)]
    forged = rows[-1] | {"id": uuid.uuid4(), "action": "membership.grant", "request_id": "forged"}
    await rechain(conn, [*rows, forged])


async def insert_and_rechain(conn: asyncpg.Connection) -> None:
    rows = [dict(r) for r in await conn.fetch(SEALED, UNSEEDED)]
    forged = rows[1] | {"id": uuid.uuid4(), "action": "membership.revoke", "request_id": "forged"}
    await rechain(conn, [*rows[:2], forged, *rows[2:]])


@pytest.mark.parametrize(
    ("tamper", "seq", "problem"),
    [
        (edit, 2, "its content does not match its hash"),
        (hide_a_read_object, 2, "its content does not match its hash"),
        (edit_and_rehash, 4, "does not name the hash of the event before it"),
        (delete_middle, 2, "missing (the next event is seq 3)"),
        (delete_newest, 4, "the newest events were deleted"),
        (delete_all, 1, "the newest events were deleted"),
        (reorder, 2, "does not name the hash of the event before it"),
        (append_forged_link, 5, "not sealed by the sealer"),
        (insert_and_rechain, 4, "differs from the head sealed at"),
    ],
    ids=lambda value: getattr(value, "__name__", None),
)
async def test_tampering_by_a_superuser_is_caught_at_its_first_broken_link(
    chain: asyncpg.Connection, tamper: Callable[[asyncpg.Connection], Awaitable[None]], seq: int, problem: str
) -> None:
    await tamper(chain)
    broken = (await audit_seal.verify_tenant(chain, UNSEEDED)).broken
    assert broken is not None
    assert (broken.municipality_code, broken.seq) == (UNSEEDED, seq), broken
    assert problem in broken.problem


async def test_sealing_continues_from_the_head_so_a_deletion_stays_visible(chain: asyncpg.Connection) -> None:
    await delete_newest(chain)
    await write(chain, "test.after-deletion")
    assert await audit_seal.seal_tenant(chain, UNSEEDED) == 1
    broken = (await audit_seal.verify_tenant(chain, UNSEEDED)).broken
    assert broken is not None
    assert (broken.seq, broken.problem) == (4, "missing (the next event is seq 5)")


async def test_the_server_seals_new_events_in_the_background(
    chain: asyncpg.Connection, urls: Any, settings: Settings, signing_key: Any, serve: Any
) -> None:
    """`kizuna serve` runs the sealer beside the server (`jobs_beside`, over the
    administrative URL) until the server stops."""
    await write(chain, "test.background")
    with jobs_beside(settings, urls.admin), serve(create_app(settings, urls.app, dev_key=signing_key)):
        for _ in range(100):  # ten seconds at most
            if not (await audit_seal.verify_tenant(chain, UNSEEDED)).unsealed:
                break
            await asyncio.sleep(0.1)
    report = await audit_seal.verify_tenant(chain, UNSEEDED)
    assert (report.broken, report.sealed, report.unsealed) == (None, 5, 0)


def kizuna_audit(*args: str, admin: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kizuna.platform.cli", "audit", *args],
        env=os.environ | {"DATABASE_URL": admin, "KIZUNA_DATA_DIR": str(data_dir), "KIZUNA_PREFECTURE": "11"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_kizuna_audit_verify_on_demo_data_and_a_tampered_event(server_url: str, tmp_path: Path) -> None:
    """A fresh database (`kizuna`, dropped after): demo data, then some requests' events."""
    admin = await migrate.ensure_database(server_url)
    try:
        await asyncio.to_thread(migrate.upgrade, admin)
        app = asyncpg_dsn(app_url(admin, None))
        await demo.seed_demo(admin, app, prefecture="11", municipalities=[SAITAMA_CITY])
        supervisor = next(u for u in demo_users.demo_users("11", [SAITAMA_CITY]) if u.role is AppRole.SUPERVISOR)
        database = await Database.connect(app, size=1)
        try:
            for n in range(3):
                caller = Caller(
                    supervisor.user_id,
                    DEFAULT_DEV_ISSUER,
                    supervisor.subject,
                    AppRole.SUPERVISOR,
                    SAITAMA_CITY,
                    supervisor.organisation_id,
                )
                async with open_scope(database, caller, request_id=f"r{n}", readonly=False) as scope:
                    await audit.record_many(
                        scope, [audit.Event("person.read", "person", uuid.uuid4(), ("family_name",))] * 2
                    )
        finally:
            await database.close()

        unsealed = await asyncio.to_thread(kizuna_audit, "verify", admin=admin, data_dir=tmp_path)
        assert (unsealed.returncode, unsealed.stdout.split("\t")[:3]) == (
            0,
            [SAITAMA_CITY, "ok", "0 sealed, 6 not sealed yet"],
        ), unsealed.stderr
        sealed = await asyncio.to_thread(kizuna_audit, "seal", admin=admin, data_dir=tmp_path)
        assert (sealed.returncode, sealed.stdout) == (0, f"{SAITAMA_CITY}\t6 sealed\n")
        verified = await asyncio.to_thread(
            kizuna_audit, "verify", "--municipality", SAITAMA_CITY, admin=admin, data_dir=tmp_path
        )
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert verified.stdout.startswith(f"{SAITAMA_CITY}\tok\t6 sealed, 0 not sealed yet\thead ")

        async with admin_connection(admin) as conn:
            await conn.execute(
                "UPDATE kizuna.audit_event SET entity = 'case' WHERE municipality_code = $1 AND seq = 5", SAITAMA_CITY
            )
        broken = await asyncio.to_thread(kizuna_audit, "verify", admin=admin, data_dir=tmp_path)
        assert broken.returncode == 1
        assert f"{SAITAMA_CITY}\tBROKEN\t" in broken.stdout
        assert "seq 5: its content does not match its hash" in broken.stdout
    finally:
        async with admin_connection(with_database(server_url, "postgres")) as conn:
            await conn.execute("DROP DATABASE IF EXISTS kizuna WITH (FORCE)")


def test_kizuna_audit_refuses_a_malformed_municipality(tmp_path: Path) -> None:
    result = kizuna_audit("verify", "--municipality", "123456", admin="postgresql://nowhere/", data_dir=tmp_path)
    assert result.returncode == 2
    assert "not a local-government code" in result.stderr
