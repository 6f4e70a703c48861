"""The audit log (platform/audit.py): hash-chained per tenant, appended inside the
request's transaction, readable in full only by supervisors."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

import asyncpg
import pytest

from kizuna.platform import audit
from kizuna.platform.caller import Caller
from kizuna.platform.database import Database
from kizuna.platform.scope import open_scope
from kizuna.platform.vocabulary import AppRole

SAITAMA_CITY = "111007"
KAWAGOE = "112011"
ALL_ROWS = "SELECT * FROM kizuna.audit_event WHERE municipality_code = $1 ORDER BY seq"


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


class RollBack(Exception):
    pass


async def test_record_continues_the_tenants_chain_in_the_callers_transaction(
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
            rows.extend(dict(r) for r in await scope.tx.fetch(ALL_ROWS))
            raise RollBack

    with pytest.raises(RollBack):
        await record_two_and_roll_back()
    assert audit.verify_chain(rows)
    ours = rows[-2:]
    supervisor = caller_of(AppRole.SUPERVISOR, KAWAGOE)
    assert [r["action"] for r in ours] == ["test.one", "test.two"]
    assert {(r["subject"], r["role"], r["request_id"]) for r in ours} == {
        (str(supervisor.user_id), "supervisor", request_id)
    }
    assert ours[0]["entity_id"] == entity
    assert ours[0]["fields"] == ["role"]
    assert ours[1]["fields"] == []
    # Rolled back with the transaction: the audit row never outlives the change it records.
    after = await admin_conn.fetchval("SELECT count(*) FROM kizuna.audit_event WHERE municipality_code = $1", KAWAGOE)
    assert after == before


async def test_concurrent_writers_of_one_tenant_take_turns(
    database: Database, caller_of: Callable[..., Caller], admin_conn: asyncpg.Connection
) -> None:
    request_id = f"audit-test-{uuid.uuid4()}"

    async def write(n: int) -> None:
        caseworker = caller_of(AppRole.CASEWORKER, SAITAMA_CITY)
        async with open_scope(database, caseworker, request_id=request_id, readonly=False) as scope:
            await audit.record(scope, action=f"test.concurrent.{n}", entity="case", entity_id=None)

    try:
        await asyncio.gather(*(write(n) for n in range(12)))
        rows = [dict(r) for r in await admin_conn.fetch(ALL_ROWS, SAITAMA_CITY)]
        assert audit.verify_chain(rows)
        assert sum(r["request_id"] == request_id for r in rows) == 12
    finally:
        await admin_conn.execute("DELETE FROM kizuna.audit_event WHERE request_id = $1", request_id)


async def test_a_caseworker_appends_but_cannot_read_or_rewrite_the_log(
    database: Database, caller_of: Callable[..., Caller]
) -> None:
    caller = caller_of(AppRole.CASEWORKER, SAITAMA_CITY)
    for statement in (
        "SELECT subject, action FROM kizuna.audit_event WHERE municipality_code = $1",
        "UPDATE kizuna.audit_event SET action = 'nothing' WHERE municipality_code = $1",
        "DELETE FROM kizuna.audit_event WHERE municipality_code = $1",
    ):
        with pytest.raises(RollBack):
            await append_then(database, caller, statement)


async def append_then(database: Database, caller: Caller, statement: str) -> None:
    """Append an event, then try `statement`, which must be refused; roll back either way."""
    request_id = f"audit-test-{uuid.uuid4()}"
    async with open_scope(database, caller, request_id=request_id, readonly=False) as scope:
        await audit.record(scope, action="test.append", entity="case", entity_id=None)
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await scope.tx.execute(statement)
        raise RollBack


async def test_a_supervisor_cannot_rewrite_the_log_either(database: Database, caller_of: Callable[..., Caller]) -> None:
    caller = caller_of(AppRole.SUPERVISOR, SAITAMA_CITY)
    for statement in (
        "UPDATE kizuna.audit_event SET action = 'nothing' WHERE municipality_code = $1",
        "DELETE FROM kizuna.audit_event WHERE municipality_code = $1",
    ):
        with pytest.raises(RollBack):
            await append_then(database, caller, statement)
