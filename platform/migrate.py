"""Provisioning and migrations: `kizuna db upgrade` and the test session call this."""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from kizuna.platform.provisioning import admin_connection
from kizuna.platform.urls import APP_LOGIN_ROLE, DATABASE_NAME, sqlalchemy_url, with_database

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(admin_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # ConfigParser interpolation: a literal % in the URL must be doubled.
    config.set_main_option("sqlalchemy.url", sqlalchemy_url(admin_url).replace("%", "%%"))
    return config


async def ensure_database(server_url: str, database: str = DATABASE_NAME) -> str:
    """Create `database` on the server if it is missing; return its administrative URL."""
    async with admin_connection(with_database(server_url, "postgres")) as conn:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{database}"')
    return with_database(server_url, database)


def upgrade(admin_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(admin_url), revision)


async def set_app_password(admin_url: str, password: str) -> None:
    async with admin_connection(admin_url) as conn:
        # Identifiers cannot be bound; the literal is quoted by the server's own function.
        quoted = await conn.fetchval("SELECT quote_literal($1::text)", password)
        await conn.execute(f"ALTER ROLE {APP_LOGIN_ROLE} PASSWORD {quoted}")


@functools.cache
def head_revision() -> str:
    """The newest migration shipped with this code (read once: it cannot change while running)."""
    head = ScriptDirectory.from_config(alembic_config("postgresql://unused/unused")).get_current_head()
    if head is None:
        raise RuntimeError("no migrations found")
    return head


def is_at_head(revision: str | None) -> bool:
    return revision == head_revision()
