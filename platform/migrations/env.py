"""Alembic environment: runs the migrations over asyncpg as the administrative role."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from kizuna.platform.models import SCHEMA, Base

config = context.config


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    # Only Kizuna's schema is compared by `alembic check`; stats and the catalog are not.
    if type_ == "schema":
        return name == SCHEMA
    return True


def run_sync(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        include_schemas=True,
        include_name=include_name,
        version_table_schema="public",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_async() -> None:
    engine = create_async_engine(config.get_main_option("sqlalchemy.url") or "", poolclass=pool.NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(run_sync)
    await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported: run `kizuna db upgrade`")
asyncio.run(run_async())
