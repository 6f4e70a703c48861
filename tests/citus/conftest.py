"""A Citus cluster for the suite: a coordinator and two workers, three data directories of
the embedded PostgreSQL 18, with Citus built from `../shared/citus` (DESIGN section 8), started
as `cluster.py` starts one. The demo tenants are seeded and `deploy/citus/` distributes the
schema and its rows. The suite is skipped, with the reason, where the Citus source or a
compiler is missing; every node is stopped at the end of the session, whatever happened.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import asyncpg
import pytest

from kizuna.platform.app import create_app
from kizuna.platform.database import BEGIN_REQUEST_SQL
from kizuna.platform.runtime import DatabaseUrls
from kizuna.platform.settings import Settings
from kizuna.platform.urls import asyncpg_dsn
from kizuna.platform.vocabulary import AppRole
from kizuna.tenants import demo, demo_users
from kizuna.tests.citus.cluster import CitusUnavailable, Cluster, built_citus, run_deploy_script, start_cluster
from kizuna.tests.conftest import Janitor

WORKERS = 2
# Two tenants of one prefecture, and the prefecture's own: enough to tell shards apart.
SAITAMA_CITY = "111007"
KAWAGOE = "112011"
SAITAMA_PREFECTURE = "110001"
SEEDED = (SAITAMA_CITY, KAWAGOE, SAITAMA_PREFECTURE)
NODE_SETTINGS = {
    # single- and multi-shard executions counted (citus_stat_counters): the routing test
    "citus.enable_stat_counters": "on",
    # 4 shards a table, not the 32 of a deployment: the refresh and every fan-out work each
    # shard, and four on two workers keep the tenants apart (test_cluster).
    "citus.shard_count": "4",
}


@pytest.fixture(scope="session")
def citus_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """The running cluster, migrated, distributed and seeded with the demo tenants."""
    try:
        citus = built_citus()
    except CitusUnavailable as unavailable:
        pytest.skip(str(unavailable))
    with start_cluster(tmp_path_factory.mktemp("citus"), citus, WORKERS, NODE_SETTINGS) as cluster:
        admin, app = cluster.urls.admin, cluster.urls.app
        # One tenant is seeded before the distribution, which moves its rows to the
        # shards, and the others after it, through the distributed tables: both ways a
        # deployment fills a cluster.
        asyncio.run(demo.seed_demo(admin, app, prefecture="11", municipalities=[SAITAMA_CITY]))
        asyncio.run(run_deploy_script(admin, "distribute.sql"))
        asyncio.run(demo.seed_demo(admin, app, prefecture="11", municipalities=[KAWAGOE, SAITAMA_PREFECTURE]))
        yield cluster


@pytest.fixture
async def coordinator_admin(citus_cluster: Cluster) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(asyncpg_dsn(citus_cluster.urls.admin))
    try:
        yield conn
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def citus_users() -> tuple[demo_users.DemoUser, ...]:
    return demo_users.demo_users("11", list(SEEDED))


@pytest.fixture
def on_citus(
    citus_cluster: Cluster, citus_users: tuple[demo_users.DemoUser, ...]
) -> Callable[[AppRole, str], contextlib.AbstractAsyncContextManager[asyncpg.Connection]]:
    """`async with on_citus(role, municipality) as conn:` a request transaction on the
    coordinator, opened as the request path opens it, always rolled back."""

    @contextlib.asynccontextmanager
    async def open_as(role: AppRole, municipality: str) -> AsyncIterator[asyncpg.Connection]:
        me = next(u for u in citus_users if u.role is role and u.municipality_code == municipality)
        conn = await asyncpg.connect(citus_cluster.urls.app)
        try:
            transaction = conn.transaction()
            await transaction.start()
            try:
                await conn.execute(
                    BEGIN_REQUEST_SQL, role.value, municipality, str(me.user_id), str(me.organisation_id)
                )
                yield conn
            finally:
                await transaction.rollback()
        finally:
            await conn.close()

    return open_as


# The suite's own fixtures, pointed at the cluster: a test module of tests/ imported into
# tests/citus (test_suite_on_citus_*.py) runs its tests on the coordinator unchanged.
@pytest.fixture(scope="session")
def urls(citus_cluster: Cluster) -> DatabaseUrls:
    return citus_cluster.urls


@pytest.fixture(scope="session")
def janitor(urls: DatabaseUrls) -> Iterator[Janitor]:
    """The clean-ups' connection, to the cluster (the suite's is cached per session too)."""
    cleaner = Janitor(asyncpg_dsn(urls.admin))
    yield cleaner
    cleaner.close()


@pytest.fixture(scope="session")
def server(
    settings: Settings,
    urls: DatabaseUrls,
    signing_key: Any,
    serve: Callable[..., contextlib.AbstractContextManager[Any]],
) -> Iterator[Any]:
    """Kizuna on the cluster (the suite's `server` is cached per session, so it is defined anew here)."""
    with serve(create_app(settings, urls.app, dev_key=signing_key)) as running:
        yield running
