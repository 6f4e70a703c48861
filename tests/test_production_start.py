"""Production never seeds demo data, and never serves a database that holds it: its demo
users (a platform administrator among them) would let anyone in wherever a development
server reached the database. Real `kizuna serve` processes on a database of their own."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from kizuna.platform import migrate
from kizuna.platform.provisioning import admin_connection
from kizuna.platform.urls import with_database

PRODUCTION = {
    "KIZUNA_ENV": "production",
    "KIZUNA_PREFECTURE": "39",
    "KIZUNA_SESSION_SECRET": "a-production-secret-of-at-least-32-characters",
    "KIZUNA_IDPS": "staff",
    # Nothing listens on port 9: discovery fails, which a server survives (it retries).
    "KIZUNA_IDP_STAFF_DISCOVERY_URL": "http://127.0.0.1:9/.well-known/openid-configuration",
    "KIZUNA_IDP_STAFF_CLIENT_ID": "kizuna",
    "KIZUNA_IDP_STAFF_AUDIENCE": "kizuna",
    "KIZUNA_IDP_STAFF_ROLES": "caseworker",
}


def kizuna(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kizuna.platform.cli", *args],
        env=os.environ | env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def serve_then_stop(kizuna_serve: Any, env: dict[str, str]) -> None:
    """`kizuna serve` comes up (tests/conftest.py `kizuna_serve`), then stops cleanly on SIGTERM."""
    with kizuna_serve(env, timeout=120) as (process, _):
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=60)[0]
    assert process.returncode == 0, output


async def held(admin: str) -> dict[str, int]:
    async with admin_connection(admin) as conn:
        return {
            "users": await conn.fetchval("SELECT count(*) FROM kizuna.app_user"),
            "persons": await conn.fetchval("SELECT count(*) FROM kizuna.person"),
            "organisations": await conn.fetchval("SELECT count(*) FROM kizuna.organisation"),
        }


def test_production_seeds_nothing_and_refuses_a_database_with_demo_data(
    server_url: str, tmp_path: Path, kizuna_serve: Any
) -> None:
    admin = asyncio.run(migrate.ensure_database(server_url))
    env = {"DATABASE_URL": admin, "KIZUNA_DATA_DIR": str(tmp_path)}
    production = env | PRODUCTION
    development = env | {"KIZUNA_PREFECTURE": "39"}
    try:
        # An empty database: production serves it and adds nothing.
        serve_then_stop(kizuna_serve, production)
        assert asyncio.run(held(admin)) == {"users": 0, "persons": 0, "organisations": 0}
        assert "development only" in kizuna("demo", "seed", env=production).stderr

        # Demo data seeded in development: production refuses, says why and how to remove it.
        assert kizuna("demo", "seed", env=development).returncode == 0
        refused = kizuna("serve", env=production)
        assert refused.returncode == 2
        assert "holds demo data" in refused.stderr
        assert "users of the development IdP" in refused.stderr
        assert "kizuna demo remove" in refused.stderr

        # Removed as the message says: production serves the database again.
        removed = kizuna("demo", "remove", "--yes", env=development)
        assert removed.returncode == 0, removed.stderr
        assert asyncio.run(held(admin))["users"] == 0
        serve_then_stop(kizuna_serve, production)
    finally:
        asyncio.run(_drop(server_url))


async def _drop(server_url: str) -> None:
    async with admin_connection(with_database(server_url, "postgres")) as conn:
        await conn.execute("DROP DATABASE IF EXISTS kizuna WITH (FORCE)")
