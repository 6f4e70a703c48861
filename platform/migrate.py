"""Provisioning and migrations: `kizuna db upgrade` and the test session call this."""

from __future__ import annotations

import asyncio
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
    """Migrate to `revision`. A database already at head is left as it is after one query,
    without loading the migration environment (and SQLAlchemy's ORM with it): that cost
    every start of `kizuna serve` about a second when the bytecode is not compiled."""
    if revision == "head" and is_at_head(asyncio.run(current_revision(admin_url))):
        return
    command.upgrade(alembic_config(admin_url), revision)


async def current_revision(admin_url: str) -> str | None:
    """The revision the database is at; None before its first migration."""
    async with admin_connection(admin_url) as conn:
        if await conn.fetchval("SELECT to_regclass('public.alembic_version')") is None:
            return None
        revision: str | None = await conn.fetchval("SELECT version_num FROM public.alembic_version")
        return revision


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
