"""Migrations: equal to the models (`alembic check`) and reversible, on a scratch database."""

from __future__ import annotations

import asyncio

from alembic import command

from kizuna.platform import migrate
from kizuna.platform.provisioning import admin_connection


def test_models_and_migrations_agree(urls: object) -> None:
    admin = urls.admin  # type: ignore[attr-defined]
    command.check(migrate.alembic_config(admin))


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
