"""1,000 requests alternating between tenants through PgBouncer in transaction mode.

Transaction pooling hands each transaction whichever server connection is free, so a
setting left at session level would leak into another tenant's request. Every answer must
hold its own tenant's rows only, and exactly the rows that tenant's first page has.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
import uvicorn

from kizuna.platform.app import create_app
from kizuna.platform.runtime import DatabaseUrls
from kizuna.platform.settings import Settings
from kizuna.platform.vocabulary import AppRole

PGBOUNCER = shutil.which("pgbouncer") or ("/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None)
pytestmark = [
    pytest.mark.pgbouncer,
    pytest.mark.skipif(PGBOUNCER is None, reason="Debian's pgbouncer is not installed (.ci/run installs it)"),
]
TENANTS = ("111007", "112011")
REQUESTS = 1000
CONCURRENCY = 16
PAGE = "{ cases(first: 20) { edges { node { id municipality { code } } } } }"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def pgbouncer_dsn(urls: DatabaseUrls, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    app = urlparse(urls.app)
    query = parse_qs(app.query)
    socket_dir = query["host"][0]
    port_setting = f" port={query['port'][0]}" if "port" in query else ""  # a cluster's nodes have their own
    database = app.path.lstrip("/")
    workdir = tmp_path_factory.mktemp("pgbouncer")
    workdir.chmod(0o755)
    port = free_port()
    (workdir / "users.txt").write_text('"kizuna_app" ""\n')
    (workdir / "pgbouncer.ini").write_text(
        f"""[databases]
{database} = host={socket_dir}{port_setting} dbname={database}
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {workdir}/users.txt
pool_mode = transaction
default_pool_size = 4
max_client_conn = 200
server_reset_query =
ignore_startup_parameters = extra_float_digits
logfile = {workdir}/pgbouncer.log
pidfile = {workdir}/pgbouncer.pid
"""
    )
    command = [PGBOUNCER or "pgbouncer", str(workdir / "pgbouncer.ini")]
    if os.geteuid() == 0:  # PgBouncer refuses to run as root
        owner = pwd.getpwuid(Path(socket_dir).stat().st_uid).pw_name
        for path in workdir.iterdir():
            shutil.chown(path, owner)
        shutil.chown(workdir, owner)
        command[1:1] = ["-u", owner]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # it logs to its file
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                log = (workdir / "pgbouncer.log").read_text() if (workdir / "pgbouncer.log").exists() else ""
                raise RuntimeError(f"pgbouncer did not start: {log}") from None
            time.sleep(0.05)
    yield f"postgresql://kizuna_app@127.0.0.1:{port}/{database}"
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="module")
def server_via_pgbouncer(settings: Settings, pgbouncer_dsn: str, signing_key: Any) -> Iterator[str]:
    # PgBouncer 1.18 in transaction mode cannot keep prepared statements: no cache.
    settings = Settings.from_env(
        {"KIZUNA_DATA_DIR": str(settings.data_dir), "KIZUNA_STATEMENT_CACHE_SIZE": "0", "KIZUNA_POOL_SIZE": "12"}
    )
    app = create_app(settings, pgbouncer_dsn, dev_key=signing_key)
    port = free_port()
    # Keep-alive longer than the client's waits: under load a pooled connection can sit idle past
    # uvicorn's default 5 s, and a request sent as the server closes it fails with ReadError.
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", timeout_keep_alive=120)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        assert thread.is_alive()
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_alternating_tenants_never_see_each_other(server_via_pgbouncer: str, token: Any, graphql: Any) -> None:
    expected = {}
    for tenant in TENANTS:
        body = graphql(PAGE, AppRole.CASEWORKER, tenant)
        expected[tenant] = [e["node"]["id"] for e in body["data"]["cases"]["edges"]]
        assert expected[tenant]
    tokens = {tenant: token(AppRole.CASEWORKER, tenant) for tenant in TENANTS}

    async def run() -> list[tuple[str, dict[str, Any]]]:
        semaphore = asyncio.Semaphore(CONCURRENCY)
        async with httpx.AsyncClient(base_url=server_via_pgbouncer, timeout=60) as client:

            async def one(i: int) -> tuple[str, dict[str, Any]]:
                tenant = TENANTS[i % 2]
                async with semaphore:
                    response = await client.post(
                        "/graphql", json={"query": PAGE}, headers={"authorization": f"Bearer {tokens[tenant]}"}
                    )
                assert response.status_code == 200, response.text
                return tenant, response.json()

            return await asyncio.gather(*(one(i) for i in range(REQUESTS)))

    answers = asyncio.run(run())
    assert len(answers) == REQUESTS
    for tenant, body in answers:
        edges = body["data"]["cases"]["edges"]
        assert {e["node"]["municipality"]["code"] for e in edges} == {tenant}
        assert [e["node"]["id"] for e in edges] == expected[tenant]
