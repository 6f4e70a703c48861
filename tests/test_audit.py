"""The audit log (platform/audit.py): hash-chained per tenant, appended inside the
request's transaction, readable in full only by supervisors."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import asyncpg
import pytest

from kizuna.platform import audit, audit_seal
from kizuna.platform.caller import Caller
from kizuna.platform.database import Database
from kizuna.platform.runtime import DatabaseUrls
from kizuna.platform.scope import open_scope
from kizuna.platform.vocabulary import AppRole

if TYPE_CHECKING:
    from kizuna.tests.conftest import Tidy

SAITAMA_CITY = "111007"
KAWAGOE = "112011"
OURS = "SELECT * FROM kizuna.audit_event WHERE municipality_code = $1 AND request_id = $2 ORDER BY occurred_at, id"


def chain(n: int, code: str = SAITAMA_CITY) -> list[dict[str, Any]]:
    rows, prev = [], audit.GENESIS
    for seq in range(1, n + 1):
        row: dict[str, Any] = {
            "municipality_code": code,
            "seq": seq,
            "occurred_at": dt.datetime(2025, 4, 1, 9, 0, seq, 123456, tzinfo=dt.UTC),
            "subject": str(uuid.UUID(int=seq)),
            "role": "supervisor",
            "action": "membership.grant",
            "entity": "membership",
            "entity_id": uuid.UUID(int=100 + seq),
            "fields": ["role"],
            "request_id": f"r{seq}",
            "prev_hash": prev,
        }
        row["hash"] = prev = audit.link_hash(prev, row)
        rows.append(row)
    return rows


class TestVerifyChain:
    def test_an_untouched_chain_verifies(self) -> None:
        assert audit.verify_chain(chain(5))
        assert audit.verify_chain([])

    @pytest.mark.parametrize(
        ("column", "value"),
        [
            ("subject", "someone else"),
            ("role", "platform_admin"),
            ("fields", ["role", "display_name"]),
            ("entity_id", None),
            ("request_id", "forged"),
            ("occurred_at", dt.datetime(2025, 4, 1, 9, 0, 2, 123457, tzinfo=dt.UTC)),
        ],
    )
    def test_an_edited_row_breaks_it(self, column: str, value: Any) -> None:
        rows = chain(4)
        rows[1][column] = value
        assert not audit.verify_chain(rows)

    def test_a_removed_or_reordered_row_breaks_it(self) -> None:
        rows = chain(4)
        assert not audit.verify_chain(rows[:1] + rows[2:])
        assert not audit.verify_chain([rows[1], rows[0], *rows[2:]])
        assert not audit.verify_chain(rows[1:])  # a chain begins at seq 1 with the genesis hash

    def test_a_rehashed_row_does_not_match_its_successor(self) -> None:
        rows = chain(3)
        rows[1]["subject"] = "someone else"
        rows[1]["hash"] = audit.link_hash(rows[1]["prev_hash"], rows[1])
        assert not audit.verify_chain(rows)

    def test_the_hash_covers_the_tenant(self) -> None:
        here, there = chain(1, SAITAMA_CITY)[0], chain(1, KAWAGOE)[0]
        assert here["hash"] != there["hash"]


class TestUuidArrayLiteral:
    async def test_names_each_object_as_postgresql_reads_a_uuid_array(self, admin_conn: asyncpg.Connection) -> None:
        ids = [uuid.UUID(int=1), uuid.UUID("2b1c7d0e-9a5f-4e3b-8c6d-0f1e2d3c4b5a"), uuid.uuid4()]
        for objects in (ids, ids[:1], []):
            assert await admin_conn.fetchval("SELECT $1::text::uuid[]", audit.uuid_array_literal(objects)) == objects

    def test_an_object_that_is_not_a_uuid_is_refused_not_read_as_two(self) -> None:
        forged = f"{uuid.uuid4()},{uuid.uuid4()}"
        with pytest.raises(AttributeError):
            audit.uuid_array_literal([uuid.uuid4(), forged])  # type: ignore[list-item]


class RollBack(Exception):
    pass


async def test_record_writes_unsealed_events_in_the_callers_transaction(
    database: Database, caller_of: Callable[..., Caller], admin_conn: asyncpg.Connection
) -> None:
    request_id = f"audit-test-{uuid.uuid4()}"
    before = await admin_conn.fetchval("SELECT count(*) FROM kizuna.audit_event WHERE municipality_code = $1", KAWAGOE)
    entity = uuid.uuid4()
    rows: list[dict[str, Any]] = []

    async def record_two_and_roll_back() -> None:
        supervisor = caller_of(AppRole.SUPERVISOR, KAWAGOE)
        async with open_scope(database, supervisor, request_id=request_id, readonly=False) as scope:
            await audit.record(scope, action="test.one", entity="membership", entity_id=entity, fields=["role"])
            await audit.record(scope, action="test.two", entity="membership", entity_id=None)
            # A supervisor reads the whole log of the tenant, this transaction's rows included.
            rows.extend(dict(r) for r in await scope.tx.fetch(OURS, request_id))
            raise RollBack

    with pytest.raises(RollBack):
        await record_two_and_roll_back()
    supervisor = caller_of(AppRole.SUPERVISOR, KAWAGOE)
    assert [r["action"] for r in rows] == ["test.one", "test.two"]
    assert {(r["subject"], r["role"], r["request_id"]) for r in rows} == {
        (str(supervisor.user_id), "supervisor", request_id)
    }
    assert rows[0]["entity_id"] == entity
    assert rows[0]["fields"] == ["role"]
    assert rows[1]["fields"] == []
    # Unsealed: the sealer links them once they have committed.
    assert {(r["seq"], r["prev_hash"], r["hash"]) for r in rows} == {(None, None, None)}
    # Rolled back with the transaction: the audit row never outlives the change it records.
    after = await admin_conn.fetchval("SELECT count(*) FROM kizuna.audit_event WHERE municipality_code = $1", KAWAGOE)
    assert after == before


async def test_record_many_writes_a_batch_as_one_statement(
    urls: DatabaseUrls, caller_of: Callable[..., Caller]
) -> None:
    sent: list[str] = []
    database = await Database.connect(urls.app, size=1, on_statement=sent.append)
    request_id = f"audit-test-{uuid.uuid4()}"
    events = [audit.Event("test.read", "person", uuid.uuid4(), ("family_name", "given_name")) for _ in range(30)]
    rows: list[asyncpg.Record] = []

    async def record_and_roll_back() -> None:
        supervisor = caller_of(AppRole.SUPERVISOR, KAWAGOE)
        async with open_scope(database, supervisor, request_id=request_id, readonly=False) as scope:
            await audit.record_many(scope, events)
            rows.extend(await scope.tx.fetch(OURS, request_id))
            raise RollBack

    try:
        with pytest.raises(RollBack):
            await record_and_roll_back()
    finally:
        await database.close()
    assert len([q for q in sent if q.startswith("INSERT INTO kizuna.audit_event")]) == 1
    assert {r["entity_id"] for r in rows} == {e.entity_id for e in events}
    assert len({r["occurred_at"] for r in rows}) == 1  # the request's moment


async def test_concurrent_writers_of_one_tenant_do_not_wait_for_each_other(
    urls: DatabaseUrls, caller_of: Callable[..., Caller], admin_conn: asyncpg.Connection, tidy: Tidy
) -> None:
    """Every writer holds its transaction open until all have written: had one to wait for
    another's (the old chain lock), none would get there. The sealer then chains them all."""
    request_id = f"audit-test-{uuid.uuid4()}"
    writers = 12
    all_written = asyncio.Barrier(writers)

    async def write(pool: Database, n: int) -> None:
        caseworker = caller_of(AppRole.CASEWORKER, SAITAMA_CITY)
        async with open_scope(pool, caseworker, request_id=request_id, readonly=False) as scope:
            await audit.record(scope, action=f"test.concurrent.{n}", entity="case", entity_id=None)
            await asyncio.wait_for(all_written.wait(), timeout=10)

    pool = await Database.connect(urls.app, size=writers)
    try:
        await asyncio.gather(*(write(pool, n) for n in range(writers)))
    finally:
        await pool.close()
    await audit_seal.seal_tenant(admin_conn, SAITAMA_CITY)
    report = await audit_seal.verify_tenant(admin_conn, SAITAMA_CITY)
    assert (report.broken, report.unsealed) == (None, 0)
    ours = await admin_conn.fetch(OURS, SAITAMA_CITY, request_id)
    assert len(ours) == writers
    assert all(r["seq"] > tidy.seq_before[SAITAMA_CITY] for r in ours)


async def test_a_caseworker_appends_but_cannot_read_or_rewrite_the_log(
    database: Database, caller_of: Callable[..., Caller]
) -> None:
    caller = caller_of(AppRole.CASEWORKER, SAITAMA_CITY)
    for statement in (
        "SELECT subject, action FROM kizuna.audit_event WHERE municipality_code = $1",
        "SELECT seq, hash FROM kizuna.audit_event WHERE municipality_code = $1",
        "UPDATE kizuna.audit_event SET action = 'nothing' WHERE municipality_code = $1",
        "DELETE FROM kizuna.audit_event WHERE municipality_code = $1",
        FORGED_LINK,
        "SELECT seq, hash FROM kizuna.audit_seal WHERE municipality_code = $1",
    ):
        with pytest.raises(RollBack):
            await append_then(database, caller, statement)


# An event with a link of its own making: only the sealer writes links.
FORGED_LINK = """
INSERT INTO kizuna.audit_event (municipality_code, id, seq, occurred_at, subject, role, action, entity,
    request_id, prev_hash, hash)
VALUES ($1, gen_random_uuid(), 1000000, now(), 'x', 'caseworker', 'forged', 'case', 'forged', '\\x00', '\\x01')
"""


async def append_then(database: Database, caller: Caller, statement: str) -> None:
    """Append an event, then try `statement`, which must be refused; roll back either way."""
    request_id = f"audit-test-{uuid.uuid4()}"
    async with open_scope(database, caller, request_id=request_id, readonly=False) as scope:
        await audit.record(scope, action="test.append", entity="case", entity_id=None)
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await scope.tx.execute(statement)
        raise RollBack


async def test_a_supervisor_reads_the_log_but_cannot_rewrite_or_seal_it(
    database: Database, caller_of: Callable[..., Caller]
) -> None:
    caller = caller_of(AppRole.SUPERVISOR, SAITAMA_CITY)
    for statement in (
        "UPDATE kizuna.audit_event SET action = 'nothing' WHERE municipality_code = $1",
        "UPDATE kizuna.audit_event SET seq = 1000000 WHERE municipality_code = $1 AND seq IS NULL",
        "DELETE FROM kizuna.audit_event WHERE municipality_code = $1",
        FORGED_LINK,
        "INSERT INTO kizuna.audit_seal (municipality_code, id, seq, hash) VALUES ($1, gen_random_uuid(), 1, '\\x01')",
        "DELETE FROM kizuna.audit_seal WHERE municipality_code = $1",
    ):
        with pytest.raises(RollBack):
            await append_then(database, caller, statement)


async def test_the_request_login_cannot_become_the_sealer(app_conn: asyncpg.Connection) -> None:
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await app_conn.execute("SET ROLE kizuna_auditor")


async def test_the_sealer_links_unsealed_events_only_and_changes_no_content(admin_conn: asyncpg.Connection) -> None:
    for statement, refused in (
        ("UPDATE kizuna.audit_event SET action = 'nothing' WHERE municipality_code = $1", True),
        ("DELETE FROM kizuna.audit_event WHERE municipality_code = $1", True),
        ("DELETE FROM kizuna.audit_seal WHERE municipality_code = $1", True),
        # A sealed link is out of the sealer's reach: its policy shows it unsealed rows only.
        ("UPDATE kizuna.audit_event SET hash = hash WHERE municipality_code = $1 AND seq IS NOT NULL", False),
    ):
        async with admin_conn.transaction():
            await admin_conn.execute("SET LOCAL ROLE kizuna_auditor")
            if refused:
                with pytest.raises(asyncpg.InsufficientPrivilegeError):
                    await admin_conn.execute(statement, SAITAMA_CITY)
            else:
                assert await admin_conn.execute(statement, SAITAMA_CITY) == "UPDATE 0"


async def test_only_the_sealer_holds_rights_on_links_and_heads(admin_conn: asyncpg.Connection) -> None:
    """The catalog: no app role may write a link or touch a head; only supervisors read
    the log; the sealer is no member of the request login and cannot bypass row security
    (that it cannot log in on one server: tests/test_catalog.py)."""
    granted = await admin_conn.fetch(
        """
        SELECT r.rolname, p.privilege, c.column_name
        FROM pg_roles r
        CROSS JOIN unnest(ARRAY['SELECT', 'INSERT', 'UPDATE']) AS p(privilege)
        CROSS JOIN unnest(ARRAY['seq', 'prev_hash', 'hash']) AS c(column_name)
        WHERE r.rolname = ANY($1::text[])
          AND has_column_privilege(r.oid, 'kizuna.audit_event', c.column_name, p.privilege)
        UNION ALL
        SELECT r.rolname, p.privilege, 'audit_seal'
        FROM pg_roles r CROSS JOIN unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE']) AS p(privilege)
        WHERE r.rolname = ANY($1::text[]) AND has_table_privilege(r.oid, 'kizuna.audit_seal', p.privilege)
        """,
        [role.database_role for role in AppRole] + ["kizuna_app", "kizuna_directory"],
    )
    assert {(r["rolname"], r["privilege"]) for r in granted} == {("kizuna_supervisor", "SELECT")}
    assert {r["column_name"] for r in granted} == {"seq", "prev_hash", "hash"}
    sealer = await admin_conn.fetchrow(
        "SELECT rolsuper, rolbypassrls, pg_has_role('kizuna_app', oid, 'MEMBER') AS app_member"
        " FROM pg_roles WHERE rolname = 'kizuna_auditor'"
    )
    assert sealer is not None
    assert dict(sealer) == {"rolsuper": False, "rolbypassrls": False, "app_member": False}
