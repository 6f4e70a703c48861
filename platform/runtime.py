"""Bringing the database up: the embedded server or DATABASE_URL, migrated to head."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from kizuna.platform import embedded, migrate
from kizuna.platform.settings import Settings
from kizuna.platform.urls import app_url, asyncpg_dsn


@dataclass(frozen=True, slots=True)
class DatabaseUrls:
    admin: str
    """Administrative: migrations and tenant provisioning only."""
    app: str
    """The unprivileged `kizuna_app` login the request path uses."""


def server_url(settings: Settings, *, keep_running: bool = False) -> str:
    """The server's administrative URL, starting the embedded server when there is no DATABASE_URL."""
    if settings.database_url is not None:
        return settings.database_url
    return embedded.start(settings.data_dir / "pgdata", cleanup=None if keep_running else "stop")


def prepare(settings: Settings, *, keep_running: bool = False) -> DatabaseUrls:
    """Start (if embedded), create the database, migrate to head, set the app password."""
    admin = asyncio.run(migrate.ensure_database(server_url(settings, keep_running=keep_running)))
    migrate.upgrade(admin)
    if settings.app_database_password is not None:
        asyncio.run(migrate.set_app_password(admin, settings.app_database_password))
    return DatabaseUrls(admin=admin, app=asyncpg_dsn(app_url(admin, settings.app_database_password)))
