"""Migrations: equal to the models (`alembic check`) and reversible, on a scratch database."""

from __future__ import annotations

import asyncio

from alembic import command

from kizuna.platform import migrate


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
