"""`kizuna serve` and its embedded PostgreSQL, as real processes: how they stop together,
`kizuna db stop` refusing to pull the database from under a running server, and a server
of two workers (`--workers 2`).

The tests share one data directory for Kochi (34 tenants): the first server seeds it,
the later ones start on it in a few seconds.
"""

from __future__ import annotations

import asyncio
import gc
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from kizuna.platform import embedded, provisioning
from kizuna.platform.background import JOB_NICENESS
from kizuna.platform.cli import main
from kizuna.platform.serving import YOUNG_GENERATION_THRESHOLD, long_lived
from kizuna.platform.settings import DEFAULT_DEV_ISSUER
from kizuna.platform.urls import DATABASE_NAME, with_database
from kizuna.platform.vocabulary import AppRole
from kizuna.schema.relay import encode_global_id
from kizuna.tenants import demo_users
from kizuna.tests.test_cli import dev_token

START_TIMEOUT = 240
STOP_TIMEOUT = 60


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("lifecycle")
    yield path
    embedded.stop(path / "pgdata")  # whatever a failed test left running


def serving(kizuna_serve: Any, data_dir: Path, workers: int = 1) -> Any:
    """`kizuna serve` for Kochi on `data_dir` (tests/conftest.py `kizuna_serve`)."""
    env = {"KIZUNA_DATA_DIR": str(data_dir), "KIZUNA_PREFECTURE": "39"}
    return kizuna_serve(env, workers=workers, timeout=START_TIMEOUT)


def postgres_runs(data_dir: Path) -> bool:
    """Whether a postmaster runs on the data directory: `pg_ctl -w stop` returns only once
    the postmaster has exited and removed its pid file."""
    return (data_dir / "pgdata" / "postmaster.pid").exists()


def db_stop(data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    monkeypatch.setenv("KIZUNA_DATA_DIR", str(data_dir))
    code = main(["db", "stop"])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_db_stop_refuses_while_serve_runs_and_a_signal_stops_both(
    data_dir: Path,
    stop_signal: signal.Signals,
    kizuna_serve: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """SIGTERM is how systemd, Docker and `timeout` stop a program; SIGINT is Ctrl-C."""
    with serving(kizuna_serve, data_dir) as (process, url):
        code, output = db_stop(data_dir, monkeypatch, capsys)
        assert code == 1
        assert f"pid {process.pid}: " in output
        assert "serve" in output
        # the database is untouched and the server still answers
        assert httpx.get(f"{url}/readyz").json()["status"] == "ready"
        process.send_signal(stop_signal)
        output = process.communicate(timeout=STOP_TIMEOUT)[0]
    assert process.returncode == 0, output
    assert not postgres_runs(data_dir), output
    code, output = db_stop(data_dir, monkeypatch, capsys)
    assert (code, output.strip()) == (0, f"The embedded PostgreSQL in {data_dir / 'pgdata'} was not running.")


@pytest.mark.parametrize("workers", [1, 2])
def test_db_stop_stops_a_database_a_killed_server_left_running(
    data_dir: Path,
    workers: int,
    kizuna_serve: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A server killed outright (SIGKILL, a crash) cannot stop its database, nor does it
    keep holding it: its lease is recognised as stale, and `db stop` stops the database.
    Its workers stop by themselves (an orphan would serve on, and hold the output open)."""
    with serving(kizuna_serve, data_dir, workers) as (process, _):
        children = psutil.Process(process.pid).children()
        process.kill()
        process.communicate(timeout=STOP_TIMEOUT)
    _, alive = psutil.wait_procs(children, timeout=STOP_TIMEOUT)
    assert alive == []
    assert postgres_runs(data_dir)
    code, output = db_stop(data_dir, monkeypatch, capsys)
    assert (code, output.strip()) == (0, f"Stopped the embedded PostgreSQL in {data_dir / 'pgdata'}.")
    assert not postgres_runs(data_dir)


# `kizuna serve --workers 2`: one server for the tests below, which the last one stops.

KOCHI_CITY = "392014"
VIEWER = {"query": "{ viewer { subject role municipality { name } } }"}


@pytest.fixture(scope="module")
def two_workers(data_dir: Path, kizuna_serve: Any) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """`kizuna serve --workers 2` on the module's data directory, with the stats refresh on
    (a job beside the server, like the sealer)."""
    env = {"KIZUNA_DATA_DIR": str(data_dir), "KIZUNA_PREFECTURE": "39", "KIZUNA_STATS_REFRESH": "3600"}
    with kizuna_serve(env, workers=2, timeout=START_TIMEOUT) as served:
        yield served


class Pinned:
    """An HTTP client on one keep-alive connection. The kernel hands a connection to one
    worker for its whole life, so this client talks to one worker; every answer is checked
    to have come over that same connection."""

    def __init__(self, url: str) -> None:
        self.client = httpx.Client(base_url=url, limits=httpx.Limits(max_connections=1), timeout=30)
        self.port: int | None = None

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = self.client.request(method, path, **kwargs)
        port = response.extensions["network_stream"].get_extra_info("client_addr")[1]
        self.port = self.port or port
        assert port == self.port, "the connection was replaced, so another worker may have answered"
        return response


def owner(server: psutil.Process, url: str, client_port: int) -> psutil.Process:
    """The process of `server`'s tree that holds the server's end of the connection from `client_port`."""
    server_port = httpx.URL(url).port
    for process in server.children(recursive=True):
        for conn in process.net_connections(kind="tcp"):
            if conn.laddr.port == server_port and conn.raddr and conn.raddr.port == client_port:
                return process
    raise AssertionError(f"no process of the server holds the connection from port {client_port}")


@pytest.fixture
def workers(two_workers: tuple[subprocess.Popen[str], str]) -> Iterator[dict[int, Pinned]]:
    """A client pinned to each worker, by its pid: connections are opened until both
    workers have taken one (which worker accepts a connection is the kernel's choice)."""
    process, url = two_workers
    server = psutil.Process(process.pid)
    pinned: dict[int, Pinned] = {}
    for _ in range(200):
        client = Pinned(url)
        assert client.request("GET", "/healthz").status_code == 200
        assert client.port is not None
        pid = owner(server, url, client.port).pid
        if pid in pinned:
            client.client.close()
        else:
            pinned[pid] = client
        if len(pinned) == 2:
            break
    try:
        assert len(pinned) == 2, "200 connections, all taken by one worker"
        yield pinned
    finally:
        for client in pinned.values():
            client.client.close()


def bearer(data_dir: Path, subject: str) -> dict[str, str]:
    return {"authorization": f"Bearer {dev_token(data_dir, subject, ttl_seconds=300)}"}


def test_two_workers_answer_requests_each_in_a_process_of_its_own(
    two_workers: tuple[subprocess.Popen[str], str], workers: dict[int, Pinned], data_dir: Path
) -> None:
    """Two processes other than the parent answer, each with its own share of every
    user's rate limit (KIZUNA_RATE_LIMIT 100,000 a minute: 50,000 each)."""
    process, _ = two_workers
    assert process.pid not in workers
    caseworker = demo_users.find("39", AppRole.CASEWORKER, KOCHI_CITY)
    assert caseworker is not None
    for client in workers.values():
        response = client.request("POST", "/graphql", json=VIEWER, headers=bearer(data_dir, caseworker.subject))
        assert response.json()["data"]["viewer"]["municipality"]["name"] == "高知市"
        cost = response.json()["extensions"]["cost"]
        assert cost["remaining"] <= 50_000 - cost["requested"]
        assert cost["remaining"] > 50_000 - 100 * cost["requested"]  # not the other worker's bucket too


def test_a_session_cookie_set_by_one_worker_works_on_the_other(workers: dict[int, Pinned], forms: Any) -> None:
    """Every worker signs cookies with the server's one secret (created by the parent)."""
    one, other = workers.values()
    page = one.request("GET", "/auth/login")
    while page.is_redirect:
        page = one.request("GET", page.headers["location"])
    (form,) = forms(page.text)
    picked = one.request(
        "POST", str(page.url.join(form["action"])), data=form["fields"] | {"subject": f"demo:caseworker:{KOCHI_CITY}"}
    )
    assert one.request("GET", picked.headers["location"]).status_code == 303
    other.client.cookies = one.client.cookies
    origin = str(one.client.base_url).rstrip("/")
    response = other.request("POST", "/graphql", json=VIEWER, headers={"origin": origin})
    assert response.json()["data"]["viewer"]["subject"] == f"demo:caseworker:{KOCHI_CITY}"


def test_a_membership_revoked_through_one_worker_is_refused_on_the_next_request_on_either(
    workers: dict[int, Pinned], data_dir: Path
) -> None:
    """Both workers have just let the membership through (and so hold it in their caches);
    `begin_request` checks it in the database on every request, whichever worker asks."""
    subject = f"test:revoked-{uuid.uuid4()}"
    membership_id = grant(data_dir, subject)
    clients = list(workers.values())
    for client in clients:
        assert client.request("POST", "/graphql", json=VIEWER, headers=bearer(data_dir, subject)).status_code == 200
    supervisor = demo_users.find("39", AppRole.SUPERVISOR, KOCHI_CITY)
    assert supervisor is not None
    revoke = {
        "query": "mutation($id: ID!) { revokeMembership(input: {id: $id})"
        " { membership { active } userErrors { code } } }",
        "variables": {"id": encode_global_id("Membership", membership_id)},
    }
    revoked = clients[0].request("POST", "/graphql", json=revoke, headers=bearer(data_dir, supervisor.subject))
    assert revoked.json()["data"]["revokeMembership"] == {"membership": {"active": False}, "userErrors": []}
    for client in reversed(clients):  # the other worker first, then the one that revoked
        refused = client.request("POST", "/graphql", json=VIEWER, headers=bearer(data_dir, subject))
        assert (refused.status_code, refused.json()["errors"][0]["extensions"]["code"]) == (403, "FORBIDDEN")


def grant(data_dir: Path, subject: str) -> uuid.UUID:
    """A caseworker membership in 高知市 for `subject`, onboarded as an administrator would; its id."""
    membership_id = uuid.uuid4()

    async def run() -> None:
        server = embedded.running_url(data_dir / "pgdata")
        assert server is not None
        async with provisioning.admin_connection(with_database(server, DATABASE_NAME)) as conn:
            ids = await provisioning.upsert_users(
                conn, [provisioning.UserRow(uuid.uuid4(), DEFAULT_DEV_ISSUER, subject)]
            )
            row = provisioning.MembershipRow(
                membership_id,
                ids[(DEFAULT_DEV_ISSUER, subject)],
                "テスト 職員",
                AppRole.CASEWORKER,
                demo_users.organisation_id(KOCHI_CITY, "department"),
            )
            await provisioning.add_memberships(conn, KOCHI_CITY, [row])

    asyncio.run(run())
    return membership_id


def test_the_jobs_beside_the_server_run_once(
    two_workers: tuple[subprocess.Popen[str], str], workers: dict[int, Pinned]
) -> None:
    """The parent runs the sealer and the stats refresh, one process each, at a lower
    priority than the server's; the workers run none (each worker's app would otherwise
    start its own)."""
    process, _ = two_workers
    server = psutil.Process(process.pid)
    children = server.children()
    jobs = [p for p in children if p.pid not in workers and "resource_tracker" not in " ".join(p.cmdline())]
    assert len(jobs) == 2, [p.cmdline() for p in children]
    assert all("spawn_main" in " ".join(p.cmdline()) for p in jobs)
    lowered = min(19, server.nice() + JOB_NICENESS)
    deadline = time.monotonic() + 10  # a job lowers its own priority once it has started
    while any(p.nice() != lowered for p in jobs) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [p.nice() for p in jobs] == [lowered] * 2
    assert all(psutil.Process(pid).nice() == server.nice() for pid in workers)
    assert all(psutil.Process(pid).children() == [] for pid in workers)


def test_sigterm_stops_every_worker_then_the_database(
    two_workers: tuple[subprocess.Popen[str], str], workers: dict[int, Pinned], data_dir: Path
) -> None:
    """Last: it stops the module's server. The workers and the jobs end, then the parent
    stops the embedded PostgreSQL and exits 0."""
    process, _ = two_workers
    children = psutil.Process(process.pid).children(recursive=True)
    assert set(workers) <= {p.pid for p in children}
    process.send_signal(signal.SIGTERM)
    output = process.communicate(timeout=STOP_TIMEOUT)[0]
    assert process.returncode == 0, output
    _, alive = psutil.wait_procs(children, timeout=5)
    assert alive == [], output
    assert not postgres_runs(data_dir), output


def test_what_the_app_is_built_with_is_out_of_the_collectors_way() -> None:
    """`kizuna serve` builds its app through `long_lived`: every object alive then (the
    schema, the modules) is frozen, so a full collection under load walks only the
    requests' objects."""
    before = gc.get_freeze_count()
    thresholds = gc.get_threshold()
    try:
        app = long_lived(lambda: Starlette(routes=[Route("/", PlainTextResponse)]))
        assert isinstance(app, Starlette)
        assert gc.get_freeze_count() > before + 1000  # at least the modules' objects
        # the youngest generation less often; the older ones as they were
        assert gc.get_threshold() == (YOUNG_GENERATION_THRESHOLD, *thresholds[1:])
    finally:
        gc.unfreeze()  # the test process's own objects go back to the collector
        gc.set_threshold(*thresholds)
