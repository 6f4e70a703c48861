"""Tenant isolation in SQL, under the application's login role (DESIGN section 3).

For every tenant table, a caseworker of さいたま市 (111007) can neither read, update,
delete nor insert 川越市's (112011) rows. After every attempt the superuser checks that
川越市's rows are exactly as they were.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import asyncpg
import pytest

from kizuna.platform.models import TENANT_TABLES
from kizuna.platform.vocabulary import AppRole

SAITAMA_CITY = "111007"
KAWAGOE = "112011"
ATTACKER = (AppRole.CASEWORKER, SAITAMA_CITY)
VICTIM = KAWAGOE
REFUSED = asyncpg.InsufficientPrivilegeError


@pytest.fixture
async def victim_rows(admin_conn: asyncpg.Connection) -> Callable[[str], Any]:
    """A fingerprint of the victim's rows of a table, taken behind row security."""

    async def fingerprint(table: str) -> tuple[int, str]:
        row = await admin_conn.fetchrow(
            f"SELECT count(*) AS n, md5(coalesce(string_agg(t::text, '|' ORDER BY t.id), '')) AS digest"
            f" FROM kizuna.{table} t WHERE municipality_code = $1",
            VICTIM,
        )
        assert row is not None
        return row["n"], row["digest"]

    return fingerprint


@pytest.fixture
async def victim_row(admin_conn: asyncpg.Connection) -> AsyncIterator[Callable[[str], Any]]:
    """One of the victim's rows as JSON, seeding one first if the demo data has none (and
    removing it afterwards: the seeded database is shared, and a forged audit row would
    break the tenant's audit chain for every later test)."""
    seeded: list[tuple[str, uuid.UUID]] = []

    async def one(table: str) -> dict[str, Any]:
        value = await admin_conn.fetchval(
            f"SELECT to_jsonb(t) FROM kizuna.{table} t WHERE municipality_code = $1 LIMIT 1", VICTIM
        )
        if value is None:
            value = await _insert_victim_row(admin_conn, table)
            seeded.append((table, uuid.UUID(json.loads(value)["id"])))
        result: dict[str, Any] = json.loads(value)
        return result

    try:
        yield one
    finally:
        for table, key in seeded:
            await admin_conn.execute(
                f"DELETE FROM kizuna.{table} WHERE municipality_code = $1 AND id = $2", VICTIM, key
            )


async def _insert_victim_row(admin_conn: asyncpg.Connection, table: str) -> str:
    """Tables the demo leaves empty get one row, written by the superuser. Plain VALUES and a
    separate read: Citus refuses a sub-select in VALUES and a STABLE function in RETURNING."""
    key = uuid.uuid4()
    if table == "emergency_access":
        case = await admin_conn.fetchval(
            "SELECT id FROM kizuna.carer_case WHERE municipality_code = $1 LIMIT 1", VICTIM
        )
        await admin_conn.execute(
            "INSERT INTO kizuna.emergency_access (municipality_code, id, case_id, subject, reason, granted_at,"
            " expires_at) VALUES ($1, $2, $3, 'demo:caseworker:112011', '緊急対応のため記録を確認する必要がある',"
            " now(), now() + interval '1 hour')",
            VICTIM,
            key,
            case,
        )
    elif table == "case_share":
        case, organisation = await admin_conn.fetchrow(
            "SELECT case_id, organisation_id FROM kizuna.case_participant WHERE municipality_code = $1 LIMIT 1", VICTIM
        )
        await admin_conn.execute(
            "INSERT INTO kizuna.case_share (municipality_code, id, case_id, organisation_id, basis, reason, created_by)"
            " VALUES ($1, $2, $3, $4, 'override', '緊急の見守りが必要なため', 'demo:supervisor:112011')",
            VICTIM,
            key,
            case,
            organisation,
        )
    elif table == "audit_event":
        seq = await admin_conn.fetchval(
            "SELECT coalesce(max(seq), 0) + 1 FROM kizuna.audit_event WHERE municipality_code = $1", VICTIM
        )
        await admin_conn.execute(
            "INSERT INTO kizuna.audit_event (municipality_code, id, seq, occurred_at, subject, role, action, entity,"
            " request_id, prev_hash, hash) VALUES ($1, $2, $3, now(), 'demo:supervisor:112011', 'supervisor',"
            " 'read', 'carer_case', 'test', '\\x00', '\\x01')",
            VICTIM,
            key,
            seq,
        )
    elif table == "person_merge":
        keep, duplicate = [
            r["id"]
            for r in await admin_conn.fetch(
                "SELECT id FROM kizuna.person WHERE municipality_code = $1 ORDER BY id LIMIT 2", VICTIM
            )
        ]
        await admin_conn.execute(
            "INSERT INTO kizuna.person_merge (municipality_code, id, kept_person_id, duplicate_person_id, reason,"
            " merged_at, merged_by, carer_case_ids, consent_ids, carer_relationship_ids, cared_for_relationship_ids)"
            " VALUES ($1, $2, $3, $4, '二重登録', now(), $5, '{}', '{}', '{}', '{}')",
            VICTIM,
            key,
            keep,
            duplicate,
            uuid.uuid4(),
        )
    elif table == "audit_seal":
        seq = await admin_conn.fetchval(
            "SELECT coalesce(max(seq), 0) + 1 FROM kizuna.audit_seal WHERE municipality_code = $1", VICTIM
        )
        await admin_conn.execute(
            "INSERT INTO kizuna.audit_seal (municipality_code, id, seq, hash) VALUES ($1, $2, $3, '\\x01')",
            VICTIM,
            key,
            seq,
        )
    else:
        raise AssertionError(f"the demo data has no {table} row in {VICTIM}")
    return str(
        await admin_conn.fetchval(
            f"SELECT to_jsonb(t) FROM kizuna.{table} t WHERE municipality_code = $1 AND id = $2", VICTIM, key
        )
    )


@pytest.mark.parametrize("table", TENANT_TABLES)
class TestCaseworkerOfAnotherTenant:
    async def test_cannot_read(self, table: str, as_user: Any, victim_row: Any) -> None:
        await victim_row(table)
        async with as_user(*ATTACKER) as conn:
            try:
                rows = await conn.fetch(f"SELECT municipality_code FROM kizuna.{table}")
            except REFUSED:
                return  # no SELECT privilege at all
            assert {r["municipality_code"] for r in rows} <= {SAITAMA_CITY}
            assert await conn.fetchval(f"SELECT count(*) FROM kizuna.{table} WHERE municipality_code = $1", VICTIM) == 0

    async def test_cannot_update(self, table: str, as_user: Any, victim_row: Any, victim_rows: Any) -> None:
        row = await victim_row(table)
        before = await victim_rows(table)
        async with as_user(*ATTACKER) as conn:
            try:
                status = await conn.execute(
                    f"UPDATE kizuna.{table} SET id = id WHERE municipality_code = $1 AND id = $2",
                    VICTIM,
                    uuid.UUID(row["id"]),
                )
                assert status == "UPDATE 0"
            except REFUSED:
                pass
        assert await victim_rows(table) == before

    async def test_cannot_delete(self, table: str, as_user: Any, victim_row: Any, victim_rows: Any) -> None:
        await victim_row(table)
        before = await victim_rows(table)
        async with as_user(*ATTACKER) as conn:
            with contextlib.suppress(REFUSED):
                assert await conn.execute(f"DELETE FROM kizuna.{table} WHERE municipality_code = $1", VICTIM) == (
                    "DELETE 0"
                )
        assert await victim_rows(table) == before

    async def test_cannot_insert(self, table: str, as_user: Any, victim_row: Any, victim_rows: Any) -> None:
        row = await victim_row(table)
        row["id"] = str(uuid.uuid4())
        if row.get("seq") is not None:
            row["seq"] += 1_000_000
        before = await victim_rows(table)
        async with as_user(*ATTACKER) as conn:
            # A copy of a real victim row, so only the tenant check can stop it. VALUES, not
            # INSERT … SELECT: Citus refuses the latter under row security whatever the tenant.
            with pytest.raises(REFUSED, match=r"row-level security|permission denied"):
                await conn.execute(
                    f"INSERT INTO kizuna.{table} VALUES ((jsonb_populate_record(NULL::kizuna.{table}, $1::jsonb)).*)",
                    json.dumps(row),
                )
        assert await victim_rows(table) == before


async def test_cannot_move_own_row_into_another_tenant(as_user: Any, victim_rows: Any) -> None:
    before = await victim_rows("household")
    async with as_user(*ATTACKER) as conn:
        # No app role may update the tenant column of any table (0029: column grants only,
        # none of them on `municipality_code`); were one granted, the policies' WITH CHECK
        # would refuse the row, and Citus any change of the shard key (FeatureNotSupported).
        with pytest.raises(
            (asyncpg.InsufficientPrivilegeError, asyncpg.FeatureNotSupportedError),
            match=r"permission denied|row-level security|modifying the partition value",
        ):
            await conn.execute(
                "UPDATE kizuna.household SET municipality_code = $2 WHERE municipality_code = $1", SAITAMA_CITY, VICTIM
            )
    assert await victim_rows("household") == before


async def test_no_tenant_set_means_no_rows(app_conn: asyncpg.Connection) -> None:
    """The login role by itself reads nothing; with only a role and no tenant, zero rows."""
    for table in TENANT_TABLES:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await app_conn.fetch(f"SELECT 1 FROM kizuna.{table} LIMIT 1")
    async with app_conn.transaction():
        await app_conn.execute("SET LOCAL ROLE kizuna_caseworker")
        for table in TENANT_TABLES:
            try:
                async with app_conn.transaction():  # a savepoint: a refusal aborts only itself
                    assert await app_conn.fetchval(f"SELECT count(*) FROM kizuna.{table}") == 0, table
            except asyncpg.InsufficientPrivilegeError:
                continue


async def test_no_tenant_set_means_inserts_fail(app_conn: asyncpg.Connection) -> None:
    async with app_conn.transaction():
        await app_conn.execute("SET LOCAL ROLE kizuna_caseworker")
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
            await app_conn.execute(
                "INSERT INTO kizuna.household (municipality_code, id, name) VALUES ($1, $2, '山田家')",
                SAITAMA_CITY,
                uuid.uuid4(),
            )


async def test_context_does_not_outlive_its_transaction(as_user: Any, app_conn: asyncpg.Connection) -> None:
    """The next request on the same pooled connection sees no role and no tenant."""
    async with as_user(*ATTACKER) as conn:
        assert await conn.fetchval("SELECT kizuna.current_municipality()") == SAITAMA_CITY
    settings = await app_conn.fetchrow(
        "SELECT current_user AS role, current_setting('kizuna.municipality', true) AS municipality,"
        " current_setting('kizuna.subject', true) AS subject, current_setting('kizuna.organisation', true) AS org"
    )
    assert settings is not None
    assert dict(settings) == {"role": "kizuna_app", "municipality": "", "subject": "", "org": ""}


async def test_context_is_set_once_per_transaction(as_user: Any, user: Any) -> None:
    other = user(AppRole.CASEWORKER, VICTIM)
    switch = "SELECT kizuna.begin_request('caseworker', $1, $2, $3)"
    async with as_user(*ATTACKER) as conn:
        # The app role may not call it at all ...
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            async with conn.transaction():
                await conn.execute(switch, VICTIM, str(other.user_id), str(other.organisation_id))
        # ... and back as the login role, the context is already set for this transaction.
        await conn.execute("RESET ROLE")
        with pytest.raises(asyncpg.ActiveSQLTransactionError, match="already set"):
            await conn.execute(switch, VICTIM, str(other.user_id), str(other.organisation_id))


async def test_membership_of_another_tenant_is_refused(app_conn: asyncpg.Connection, user: Any) -> None:
    """A caseworker of 112011 claiming 111007 has no membership there: refused, nothing read."""
    other = user(AppRole.CASEWORKER, VICTIM)
    async with app_conn.transaction():
        with pytest.raises(asyncpg.InvalidAuthorizationSpecificationError, match="no active membership"):
            await app_conn.execute(
                "SELECT kizuna.begin_request('caseworker', $1, $2, $3)",
                SAITAMA_CITY,
                str(other.user_id),
                str(other.organisation_id),
            )


@pytest.mark.parametrize("role", ["postgres", "kizuna_app", "pg_read_all_data", "caseworker; DROP TABLE x"])
async def test_begin_request_refuses_unknown_roles(app_conn: asyncpg.Connection, role: str, user: Any) -> None:
    me = user(*ATTACKER)
    async with app_conn.transaction():
        with pytest.raises(asyncpg.InvalidAuthorizationSpecificationError, match="unknown app role"):
            await app_conn.execute(
                "SELECT kizuna.begin_request($1, $2, $3, $4)",
                role,
                SAITAMA_CITY,
                str(me.user_id),
                str(me.organisation_id),
            )


async def test_school_staff_see_only_their_own_referrals_and_no_case(as_user: Any, admin_conn: Any, user: Any) -> None:
    teacher = user(AppRole.SCHOOL_STAFF, SAITAMA_CITY)
    async with as_user(AppRole.SCHOOL_STAFF, SAITAMA_CITY) as conn:
        orgs = await conn.fetch("SELECT DISTINCT referrer_organisation_id FROM kizuna.referral")
        assert [r["referrer_organisation_id"] for r in orgs] == [teacher.organisation_id]
        for column in ("case_id", "person_id"):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                async with conn.transaction():
                    await conn.fetch(f"SELECT {column} FROM kizuna.referral")
        for table in ("carer_case", "person", "household"):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                async with conn.transaction():
                    await conn.fetch(f"SELECT 1 FROM kizuna.{table}")
    total = await admin_conn.fetchval(
        "SELECT count(*) FROM kizuna.referral WHERE municipality_code = $1 AND referrer_organisation_id = $2",
        SAITAMA_CITY,
        teacher.organisation_id,
    )
    assert total > 0, "the demo data gives each demo teacher's school some referrals"
