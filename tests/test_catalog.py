"""The database's own catalog shows the security model holds (DESIGN section 3)."""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy import CheckConstraint
from sqlalchemy.sql.elements import conv

from kizuna.platform.models import GLOBAL_TABLES, TENANT_TABLES, Base
from kizuna.platform.vocabulary import AppRole

pytestmark = pytest.mark.usefixtures("urls")


async def test_login_role_is_unprivileged(admin_conn: asyncpg.Connection) -> None:
    role = await admin_conn.fetchrow(
        "SELECT rolsuper, rolbypassrls, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin"
        " FROM pg_roles WHERE rolname = 'kizuna_app'"
    )
    assert role is not None
    assert dict(role) == {
        "rolsuper": False,
        "rolbypassrls": False,
        "rolinherit": False,
        "rolcreaterole": False,
        "rolcreatedb": False,
        "rolcanlogin": True,
    }


async def test_login_role_owns_nothing(admin_conn: asyncpg.Connection) -> None:
    owned = await admin_conn.fetch(
        "SELECT c.relname FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner WHERE r.rolname = 'kizuna_app'"
        " UNION ALL SELECT p.proname FROM pg_proc p JOIN pg_roles r ON r.oid = p.proowner"
        " WHERE r.rolname = 'kizuna_app'"
        " UNION ALL SELECT n.nspname FROM pg_namespace n JOIN pg_roles r ON r.oid = n.nspowner"
        " WHERE r.rolname = 'kizuna_app'"
    )
    assert owned == []


async def test_app_roles_cannot_log_in_or_bypass_security(admin_conn: asyncpg.Connection) -> None:
    rows = await admin_conn.fetch(
        "SELECT rolname, rolcanlogin, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = ANY($1::text[])",
        [*(role.database_role for role in AppRole), "kizuna_auditor"],  # and the audit sealer (0014)
    )
    assert len(rows) == len(AppRole) + 1
    assert all(not (r["rolcanlogin"] or r["rolsuper"] or r["rolbypassrls"]) for r in rows)


async def test_every_tenant_table_forces_row_security(admin_conn: asyncpg.Connection) -> None:
    rows = await admin_conn.fetch(
        "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class"
        " WHERE relnamespace = 'kizuna'::regnamespace AND relkind = 'r'"
    )
    tables = {r["relname"]: (r["relrowsecurity"], r["relforcerowsecurity"]) for r in rows}
    assert set(tables) == set(TENANT_TABLES) | set(GLOBAL_TABLES)
    for table in TENANT_TABLES:
        assert tables[table] == (True, True), table


async def test_every_tenant_table_has_the_tenant_policy(admin_conn: asyncpg.Connection) -> None:
    rows = await admin_conn.fetch(
        "SELECT tablename, qual, with_check FROM pg_policies"
        " WHERE schemaname = 'kizuna' AND policyname = 'tenant_isolation'"
    )
    policies = {r["tablename"]: r for r in rows}
    assert set(policies) == set(TENANT_TABLES)
    for row in rows:
        assert row["qual"] == "((municipality_code)::text = kizuna.current_municipality())"
        assert row["with_check"] == row["qual"]


async def test_no_policy_holds_a_sub_select(admin_conn: asyncpg.Connection) -> None:
    # Citus refuses sub-selects in policies on distributed tables.
    rows = await admin_conn.fetch("SELECT policyname, tablename, qual, with_check FROM pg_policies")
    assert rows
    for row in rows:
        for expression in (row["qual"], row["with_check"]):
            assert expression is None or "select" not in expression.lower(), dict(row)


async def test_tenant_keys_begin_with_the_municipality(admin_conn: asyncpg.Connection) -> None:
    rows = await admin_conn.fetch(
        """
        SELECT c.conrelid::regclass::text AS table_name, c.contype::text AS contype,
               (SELECT array_agg(a.attname ORDER BY k.ord) FROM unnest(c.conkey) WITH ORDINALITY k(attnum, ord)
                  JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum) AS columns,
               c.confrelid::regclass::text AS referenced
        FROM pg_constraint c
        WHERE c.connamespace = 'kizuna'::regnamespace AND c.contype IN ('p', 'u', 'f')
        """
    )
    tenant = {f"kizuna.{t}" for t in TENANT_TABLES}
    checked = 0
    for row in rows:
        if row["table_name"] not in tenant:
            continue
        if row["contype"] == "f" and row["referenced"] not in tenant:
            continue  # a reference to a global table (registry, organisations)
        # Primary keys, unique constraints (no cross-tenant "duplicate key" oracle) and
        # tenant-to-tenant foreign keys (co-located on Citus) all lead with the tenant.
        assert row["columns"][0] == "municipality_code", dict(row)
        checked += 1
    assert checked > len(TENANT_TABLES)


async def test_unique_indexes_include_the_municipality(admin_conn: asyncpg.Connection) -> None:
    rows = await admin_conn.fetch(
        """
        SELECT i.indexrelid::regclass::text AS index_name, pg_get_indexdef(i.indexrelid) AS definition
        FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
        WHERE t.relnamespace = 'kizuna'::regnamespace AND i.indisunique AND t.relname = ANY($1::text[])
        """,
        list(TENANT_TABLES),
    )
    assert rows
    for row in rows:
        assert "(municipality_code," in row["definition"], dict(row)


async def test_no_security_definer_function(admin_conn: asyncpg.Connection) -> None:
    rows = await admin_conn.fetch(
        "SELECT n.nspname, p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
        " WHERE p.prosecdef AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'stats')"
    )
    assert rows == []


async def test_begin_request_is_executable_only_by_the_login_role(admin_conn: asyncpg.Connection) -> None:
    rows = await admin_conn.fetch(
        "SELECT r.rolname FROM pg_roles r"
        " WHERE has_function_privilege(r.oid, 'kizuna.begin_request(text, text, text, text)', 'EXECUTE')"
        " AND NOT r.rolsuper"
    )
    assert [r["rolname"] for r in rows] == ["kizuna_app"]


async def test_policy_columns_are_indexed(admin_conn: asyncpg.Connection) -> None:
    # municipality_code leads every tenant primary key; the narrower policies' columns
    # (referral.referrer_organisation_id, membership.user_id) lead an index too.
    for table, column in (("referral", "referrer_organisation_id"), ("membership", "user_id")):
        indexed = await admin_conn.fetchval(
            """
            SELECT EXISTS (
                SELECT 1 FROM pg_index i
                JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
                WHERE i.indrelid = ('kizuna.' || $1)::regclass AND a.attname = $2
                  AND i.indkey[1] = a.attnum AND i.indkey[0] = (
                      SELECT attnum FROM pg_attribute WHERE attrelid = i.indrelid AND attname = 'municipality_code'))
            """,
            table,
            column,
        )
        assert indexed, (table, column)


async def test_every_check_constraint_of_the_models_is_in_the_database(admin_conn: asyncpg.Connection) -> None:
    """`alembic check` does not compare CHECK constraints; this does."""
    expected = {
        # the naming convention (ck_<table>_<name>) applies unless a name is final already
        constraint.name if isinstance(constraint.name, conv) else f"ck_{table.name}_{constraint.name}"
        for table in Base.metadata.tables.values()
        for constraint in table.constraints
        if isinstance(constraint, CheckConstraint)
    }
    rows = await admin_conn.fetch(
        "SELECT conname FROM pg_constraint WHERE contype = 'c' AND connamespace = 'kizuna'::regnamespace"
    )
    assert expected == {r["conname"] for r in rows}


async def test_no_policy_is_restrictive(admin_conn: asyncpg.Connection) -> None:
    # Citus re-creates a restrictive policy on its shards as a permissive one (docs/scale-out.md):
    # every narrower rule is a permissive policy per role that carries the tenant condition too.
    rows = await admin_conn.fetch("SELECT tablename, policyname FROM pg_policies WHERE permissive <> 'PERMISSIVE'")
    assert [dict(r) for r in rows] == []
