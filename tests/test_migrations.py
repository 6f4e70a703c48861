"""Migrations: equal to the models (`alembic check`) and reversible, on a scratch database."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import pytest
from alembic import command

from kizuna.platform import migrate
from kizuna.platform.provisioning import admin_connection
from kizuna.platform.settings import DEFAULT_DEV_ISSUER
from kizuna.schema.audit import service as audit_service
from kizuna.schema.people.names import name_key


def test_models_and_migrations_agree(urls: object) -> None:
    admin = urls.admin  # type: ignore[attr-defined]
    command.check(migrate.alembic_config(admin))


# A tenant's log of page reads by 50 staff, as a city's would hold: what the planner weighs
# the filters against (on the test database's few events any index is as good as another).
_BUSY_LOG = """
INSERT INTO kizuna.audit_event (municipality_code, id, occurred_at, subject, role, action, entity, entity_ids,
                                fields, request_id)
SELECT '111007', gen_random_uuid(), now() - n * interval '1 second', md5((n % 50)::text)::uuid::text, 'caseworker',
       'case.read', 'case', ARRAY[gen_random_uuid()], '{}', 'plan-test'
FROM generate_series(1, 20000) n"""


def plan_over_a_busy_log(admin: str, sql: str, *args: object) -> str:
    """The plan of `sql` over the seeded log and 20,000 reads more, all rolled back."""

    async def plan() -> str:
        async with admin_connection(admin) as conn, conn.transaction():
            await conn.execute(_BUSY_LOG)
            await conn.execute("ANALYZE kizuna.audit_event")
            rows = await conn.fetch("EXPLAIN " + sql, *args)
            await conn.execute("ROLLBACK AND CHAIN")  # the statistics too
            return "\n".join(row[0] for row in rows)

    return asyncio.run(plan())


def test_a_users_audit_events_are_an_index_range(urls: object) -> None:
    """Migration 0035: the supervisor's page of one user's events reads that user's entries
    of an index (tenant, acting user, newest first), whoever the user is; not the tenant's
    whole log newest first, filtered, which took seconds for a user who rarely acted."""
    sql = audit_service.page_sql(21, after=False, action=False, entity=False, actor=True, since=False, before=False)
    found = plan_over_a_busy_log(urls.admin, sql, "111007", DEFAULT_DEV_ISSUER, "demo:school_staff:111007")  # type: ignore[attr-defined]
    assert "ix_audit_event_actor" in found, found
    assert "ix_audit_event_recent" not in found, found


@pytest.mark.parametrize(("kind", "value"), [("entity", "membership"), ("action", "membership.grant")])
def test_a_kind_of_audit_event_is_an_index_range(urls: object, kind: str, value: str) -> None:
    """Migration 0036: the supervisor's page of an entity's or an action's events reads
    that kind's entries of an index (an action's by skipping over the entities), not the
    tenant's whole log newest first, filtered, as it did for a rare kind."""
    flags = dict.fromkeys(("after", "action", "entity", "actor", "since", "before"), False) | {kind: True}
    found = plan_over_a_busy_log(urls.admin, audit_service.page_sql(21, **flags), "111007", value)  # type: ignore[attr-defined]
    assert "ix_audit_event_kind" in found, found
    assert "ix_audit_event_recent" not in found, found


def test_upgrade_downgrade_upgrade(server_url: str) -> None:
    admin = asyncio.run(migrate.ensure_database(server_url, "kizuna_migration_roundtrip"))
    config = migrate.alembic_config(admin)
    command.upgrade(config, "head")
    command.downgrade(config, "base")
    command.upgrade(config, "head")
    command.check(config)


def test_app_password_is_set_as_scram_and_quoted(urls: object) -> None:
    admin = urls.admin  # type: ignore[attr-defined]
    tricky = "p'w; DROP ROLE kizuna_app; --"
    asyncio.run(migrate.set_app_password(admin, tricky))

    async def stored() -> str:
        async with admin_connection(admin) as conn:
            value: str = await conn.fetchval("SELECT rolpassword FROM pg_authid WHERE rolname = 'kizuna_app'")
            await conn.execute("ALTER ROLE kizuna_app PASSWORD NULL")  # the tests log in over the socket (trust)
            return value

    assert asyncio.run(stored()).startswith("SCRAM-SHA-256$")


def test_a_data_directory_of_the_old_dev_issuer_keeps_its_users(server_url: str) -> None:
    """0007: the users of the development IdP's old URL issuer move to its name, others stay."""
    admin = asyncio.run(migrate.ensure_database(server_url, "kizuna_migration_dev_issuer"))
    config = migrate.alembic_config(admin)
    command.upgrade(config, "0006")

    async def users() -> set[tuple[str, str]]:
        async with admin_connection(admin) as conn:
            rows = await conn.fetch("SELECT issuer, subject FROM kizuna.app_user")
            return {(r["issuer"], r["subject"]) for r in rows}

    async def add_users() -> None:
        async with admin_connection(admin) as conn:
            await conn.executemany(
                "INSERT INTO kizuna.app_user (id, issuer, subject) VALUES (gen_random_uuid(), $1, $2)",
                [("http://127.0.0.1:8000/dev-idp", "demo-a"), ("https://idp.example/", "staff-b")],
            )

    asyncio.run(add_users())
    command.upgrade(config, "head")
    assert asyncio.run(users()) == {(DEFAULT_DEV_ISSUER, "demo-a"), ("https://idp.example/", "staff-b")}
    command.downgrade(config, "0006")
    assert asyncio.run(users()) == {("http://127.0.0.1:8000/dev-idp", "demo-a"), ("https://idp.example/", "staff-b")}


def test_migrating_another_database_leaves_the_roles_login_as_a_cluster_made_them(server_url: str) -> None:
    """Roles belong to the server: a Citus cluster makes the app roles LOGIN for its workers,
    and migrating a new database on the same server must not make them NOLOGIN again."""

    async def set_login(login: bool) -> None:
        async with admin_connection(server_url) as conn:
            for role in ("kizuna_caseworker", "kizuna_directory"):
                await conn.execute(f"ALTER ROLE {role} {'LOGIN' if login else 'NOLOGIN'}")

    async def can_login() -> dict[str, bool]:
        async with admin_connection(server_url) as conn:
            rows = await conn.fetch(
                "SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname IN ('kizuna_caseworker', 'kizuna_directory')"
            )
            return {r["rolname"]: r["rolcanlogin"] for r in rows}

    asyncio.run(set_login(True))
    try:
        admin = asyncio.run(migrate.ensure_database(server_url, "kizuna_migration_roles"))
        command.upgrade(migrate.alembic_config(admin), "head")
        assert asyncio.run(can_login()) == {"kizuna_caseworker": True, "kizuna_directory": True}
    finally:
        asyncio.run(set_login(False))


def test_people_recorded_before_0016_get_their_name_keys(server_url: str) -> None:
    """0016 computes the keys of every person already there (any tenant), as the
    application computes them for a new one; downgrading drops them."""
    admin = asyncio.run(migrate.ensure_database(server_url, "kizuna_migration_people"))
    config = migrate.alembic_config(admin)
    command.upgrade(config, "0015")
    written = {
        ("髙﨑", "一郎", "ﾀｶｻｷ", "いちろう"): ("高崎一郎", "タカサキイチロウ"),
        ("渡邊 ", "　國男", "わたなべ", "クニオ"): ("渡辺国男", "ワタナベクニオ"),
    }

    async def record() -> None:
        async with admin_connection(admin) as conn:
            await conn.execute(
                "INSERT INTO kizuna.municipality (code, name, name_kana, kind, prefecture_code)"
                " VALUES ('111007', 'さいたま市', 'さいたまし', 'designated_city', '11')"
            )
            household = uuid.uuid4()
            await conn.execute(
                "INSERT INTO kizuna.household (municipality_code, id, name) VALUES ('111007', $1, '世帯')", household
            )
            for family, given, family_kana, given_kana in written:
                await conn.execute(
                    "INSERT INTO kizuna.person (municipality_code, id, household_id, family_name, given_name,"
                    " family_name_kana, given_name_kana, birth_date) VALUES ('111007', $1, $2, $3, $4, $5, $6, $7)",
                    uuid.uuid4(),
                    household,
                    family,
                    given,
                    family_kana,
                    given_kana,
                    dt.date(2011, 2, 3),
                )

    async def keys() -> dict[tuple[str, ...], tuple[str, str]]:
        async with admin_connection(admin) as conn:
            rows = await conn.fetch(
                "SELECT family_name, given_name, family_name_kana, given_name_kana, name_key, kana_key"
                " FROM kizuna.person"
            )
            return {tuple(r.values())[:4]: (r["name_key"], r["kana_key"]) for r in rows}

    asyncio.run(record())
    command.upgrade(config, "head")
    assert asyncio.run(keys()) == written
    assert all(found == (name_key(f, g), name_key(fk, gk)) for (f, g, fk, gk), found in asyncio.run(keys()).items())
    command.downgrade(config, "0015")
    command.upgrade(config, "head")


def test_the_edition_in_force_before_0028_keeps_the_counts_of_the_last_refresh(server_url: str) -> None:
    """Before 0028 every refresh that found a changed count published a new edition, so the
    last refresh's counts (`stats.raw_count`) are those of the edition in force: 0028 keeps
    them with it (not with an earlier edition, whose counts are not known), and the next
    refresh is due."""
    admin = asyncio.run(migrate.ensure_database(server_url, "kizuna_migration_editions"))
    config = migrate.alembic_config(admin)
    command.upgrade(config, "0027")
    computed_at = dt.datetime(2026, 5, 1, 3, tzinfo=dt.UTC)

    async def publish() -> None:
        async with admin_connection(admin) as conn:
            await conn.execute("INSERT INTO stats.publication VALUES ('11', $1, 5)", computed_at)
            await conn.execute("INSERT INTO stats.published_table VALUES ('11', 2025, 'closures', 2, '', '')")
            await conn.executemany(
                "INSERT INTO stats.published_edition VALUES ('11', 2025, 'closures', $1, '[]', '', '')", [(1,), (2,)]
            )
            await conn.executemany(
                "INSERT INTO stats.raw_count VALUES ($1, $2, $3, 'all', $4)",
                [
                    ("111007", "closures", 2025, 7),
                    ("112011", "closures", 2025, 0),
                    ("112011", "closures", 2024, 3),
                    ("392014", "closures", 2025, 9),
                ],
            )

    async def kept() -> tuple[list[tuple[object, ...]], tuple[object, ...], object]:
        async with admin_connection(admin) as conn:
            editions = await conn.fetch("SELECT edition, counts::text FROM stats.published_edition ORDER BY edition")
            publication = await conn.fetchrow("SELECT computed_at, edition_at, next_edition_at FROM stats.publication")
            as_of = await conn.fetchval("SELECT as_of FROM stats.published_table")
            return [tuple(r) for r in editions], tuple(publication), as_of

    asyncio.run(publish())
    command.upgrade(config, "head")
    editions, publication, as_of = asyncio.run(kept())
    assert editions == [(1, None), (2, '[["111007", "all", 7]]')]
    assert publication == (computed_at, computed_at, computed_at)
    assert as_of == computed_at
    command.downgrade(config, "0027")
    command.upgrade(config, "head")
