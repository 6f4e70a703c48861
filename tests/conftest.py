"""The test session: one embedded PostgreSQL, migrated and seeded once, and a real server.

The seeded database is shared and treated as read-only: a test that writes does so in a
transaction it rolls back. Three tenants are seeded with the demo seeding code, one user
per role: さいたま市 111007, 川越市 112011 and 埼玉県 110001.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import httpx
import pytest
import uvicorn

from kizuna.auth import devidp
from kizuna.platform import embedded, migrate
from kizuna.platform.app import create_app
from kizuna.platform.caller import Caller
from kizuna.platform.database import Database
from kizuna.platform.runtime import DatabaseUrls
from kizuna.platform.server_protocol import with_header_deadline
from kizuna.platform.settings import DEFAULT_DEV_ISSUER, Settings
from kizuna.platform.urls import app_url, asyncpg_dsn
from kizuna.platform.vocabulary import AppRole
from kizuna.schema.execution import Executor
from kizuna.tenants import demo, demo_users
from kizuna.tests import accessibility, sent_queries

SAITAMA_CITY = "111007"
KAWAGOE = "112011"
SAITAMA_PREFECTURE = "110001"
SEEDED = (SAITAMA_CITY, KAWAGOE, SAITAMA_PREFECTURE)
T = TypeVar("T")


@pytest.fixture(scope="session", autouse=True)
def queries_are_recorded() -> Iterator[None]:
    """Every query the tests send, for the compiled path's differential test (tests/sent_queries.py)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Executor, "execute", sent_queries.recording(Executor.execute))
        yield


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests marked `replays_the_suite` run last, when every other test has sent its queries."""
    items.sort(key=lambda item: item.get_closest_marker("replays_the_suite") is not None)


@pytest.fixture(scope="session", autouse=True)
def children_share_bytecode(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The Python processes the tests start (`kizuna serve`, `kizuna db …`, scripts) cache
    their compiled modules in one directory of the session: each would otherwise compile
    every module it imports again (PYTHONDONTWRITEBYTECODE), seconds of CPU per process.
    The checkout still gets no bytecode; this process is as it was started."""
    with pytest.MonkeyPatch.context() as environment:
        environment.delenv("PYTHONDONTWRITEBYTECODE", raising=False)
        environment.setenv("PYTHONPYCACHEPREFIX", str(tmp_path_factory.mktemp("pycache")))
        yield


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("kizuna")


@pytest.fixture(scope="session")
def settings(data_dir: Path) -> Settings:
    return Settings.from_env({"KIZUNA_DATA_DIR": str(data_dir), "KIZUNA_PREFECTURE": "11"})


@pytest.fixture(scope="session")
def server_url(data_dir: Path) -> str:
    return embedded.start(data_dir / "pgdata", cleanup="delete")


@pytest.fixture(scope="session")
def urls(server_url: str) -> DatabaseUrls:
    admin = asyncio.run(migrate.ensure_database(server_url, "kizuna_test"))
    migrate.upgrade(admin)
    app = asyncpg_dsn(app_url(admin, None))
    asyncio.run(demo.seed_demo(admin, app, prefecture="11", municipalities=list(SEEDED)))
    return DatabaseUrls(admin=admin, app=app)


@pytest.fixture(scope="session")
def users() -> tuple[demo_users.DemoUser, ...]:
    return demo_users.demo_users("11", list(SEEDED))


@pytest.fixture(scope="session")
def user(users: tuple[demo_users.DemoUser, ...]) -> Callable[[AppRole, str], demo_users.DemoUser]:
    def find(role: AppRole, municipality: str) -> demo_users.DemoUser:
        return next(u for u in users if u.role is role and u.municipality_code == municipality)

    return find


@pytest.fixture(scope="session")
def signing_key(settings: Settings) -> Any:
    return devidp.load_or_create_key(settings.data_dir)


@pytest.fixture(scope="session")
def token(settings: Settings, signing_key: Any, users: tuple[demo_users.DemoUser, ...]) -> Callable[..., str]:
    """A real access token from the development IdP for the demo user of `role` in
    `municipality`; keyword overrides (subject, issuer, audience, scope, ttl_seconds)
    forge variants to attack with."""

    def make(role: AppRole, municipality: str, **overrides: Any) -> str:
        demo_user = next((u for u in users if u.role is role and u.municipality_code == municipality), None)
        scope = f"municipality:{municipality}" if role is AppRole.MUNICIPAL_SYSTEM else "openid"
        return devidp.issue_access_token(
            signing_key,
            issuer=overrides.pop("issuer", settings.issuer),
            audience=overrides.pop("audience", settings.audience),
            subject=overrides.pop("subject", demo_user.subject if demo_user else "nobody"),
            scope=overrides.pop("scope", scope),
            ttl_seconds=overrides.pop("ttl_seconds", 300),
            client_id="kizuna-tests",
        )

    return make


@dataclass(frozen=True)
class RunningServer:
    url: str


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def _serve(app: Any, port: int | None = None, *, header_seconds: float = 10.0) -> Iterator[RunningServer]:
    """`app` under uvicorn on a loopback port (a free one by default), in a thread with its
    own event loop, with the protocol `kizuna serve` uses (a deadline for headers)."""
    port = port or _free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="on",
        http=with_header_deadline(header_seconds),
    )
    uv_server = uvicorn.Server(config)
    thread = threading.Thread(target=uv_server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not uv_server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield RunningServer(url=f"http://127.0.0.1:{port}")
    finally:
        uv_server.should_exit = True
        thread.join(timeout=10)


KizunaProcess = tuple[subprocess.Popen[str], str]


@contextlib.contextmanager
def _kizuna_serve(env: dict[str, str], *, workers: int = 1, timeout: float = 240) -> Iterator[KizunaProcess]:
    """`kizuna serve` as a real process with `env` on a free loopback port, once it answers
    /readyz: (the process, its URL). Killed if the test leaves it running. Its refresh of
    the prefecture's figures is off unless `env` asks for it (KIZUNA_STATS_REFRESH). One
    worker unless asked (the default is one a core: spawning more costs the suite time)."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "kizuna.platform.cli", "serve", "--port", str(port), "--workers", str(workers)],
        env=os.environ | {"KIZUNA_STATS_REFRESH": "0"} | env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    try:
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"kizuna serve did not come up:\n{process.communicate()[0]}")
            time.sleep(0.1)
        yield process, url
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


@pytest.fixture(scope="session")
def kizuna_serve() -> Callable[..., contextlib.AbstractContextManager[KizunaProcess]]:
    """`with kizuna_serve(env) as (process, url):` a real `kizuna serve` process."""
    return _kizuna_serve


@pytest.fixture(scope="session")
def serve() -> Callable[..., contextlib.AbstractContextManager[RunningServer]]:
    """`with serve(app, port) as running:` a real server for another app (another configuration)."""
    return _serve


@pytest.fixture(scope="session")
def server(settings: Settings, urls: DatabaseUrls, signing_key: Any) -> Iterator[RunningServer]:
    """Kizuna with the development IdP, under uvicorn on a loopback port."""
    with _serve(create_app(settings, urls.app, dev_key=signing_key)) as running:
        yield running


@pytest.fixture
def http(server: RunningServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


@pytest.fixture
def graphql(http: httpx.Client, token: Callable[..., str]) -> Callable[..., dict[str, Any]]:
    """POST a query as a demo user; returns the decoded response (asserting HTTP 200)."""

    def run(query: str, role: AppRole, municipality: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = http.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"authorization": f"Bearer {token(role, municipality)}"},
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    return run


class _Forms(HTMLParser):
    """The forms of a page: action, method and the named fields with their values."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[dict[str, Any]] = []
        self._current: dict[str, Any] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form":
            self._current = {
                "id": attributes.get("id", ""),
                "action": attributes.get("action", ""),
                "method": attributes.get("method", "get").lower(),
                "fields": {},
                "types": {},
            }
            self.forms.append(self._current)
        elif tag == "input" and self._current is not None and attributes.get("name"):
            name = attributes["name"]
            self._current["fields"][name] = attributes.get("value", "")
            self._current["types"][name] = attributes.get("type", "text").lower()

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None


@pytest.fixture(scope="session")
def forms() -> Callable[[str], list[dict[str, Any]]]:
    """`(html) -> forms`: each with its `id`, `action`, `method` and named `fields`."""

    def read(page: str) -> list[dict[str, Any]]:
        parser = _Forms()
        parser.feed(page)
        return parser.forms

    return read


@dataclass
class Tidy:
    """Users a test creates, named by `subject()`; removed with what they caused."""

    prefix: str
    seq_before: dict[str, int]
    began: dt.datetime
    """When the test began (the database's clock, the host's): the test's own audit events
    occurred later. Events of earlier tests may be sealed meanwhile, with a greater `seq`,
    so `seq` cannot tell them apart."""

    def subject(self, name: str = "user") -> str:
        return f"{self.prefix}{name}"


async def _sealed_seq(admin_conn: asyncpg.Connection, code: str) -> int:
    """The tenant's newest sealed audit event (0 for none)."""
    seq: int = await admin_conn.fetchval(
        "SELECT coalesce(max(seq), 0) FROM kizuna.audit_event WHERE municipality_code = $1", code
    )
    return seq


async def _sealed_seqs(admin_conn: asyncpg.Connection) -> dict[str, int]:
    return {code: await _sealed_seq(admin_conn, code) for code in SEEDED}


async def _rewind_audit(admin_conn: asyncpg.Connection, code: str, seq: int) -> None:
    """Put the tenant's audit chain back to `seq` (as the superuser): the events after it,
    sealed or not, and the heads past it go, so the chain still verifies."""
    async with admin_conn.transaction():
        await admin_conn.execute(
            "DELETE FROM kizuna.audit_event WHERE municipality_code = $1 AND (seq > $2 OR seq IS NULL)", code, seq
        )
        await admin_conn.execute("DELETE FROM kizuna.audit_seal WHERE municipality_code = $1 AND seq > $2", code, seq)


class Janitor:
    """One superuser connection for the session's clean-ups, on a thread and event loop of
    its own (each test runs on a loop of its own, which a connection cannot outlive).

    On Citus a backend's first DELETE from a table with foreign keys costs most of a second
    on the coordinator, once per backend and table: cleaning up through each test's own
    connection paid it in every teardown (some five minutes of the suite).
    """

    def __init__(self, dsn: str) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="janitor", daemon=True)
        self._thread.start()
        self._conn: asyncpg.Connection = asyncio.run_coroutine_threadsafe(asyncpg.connect(dsn), self._loop).result()

    async def run(self, work: Callable[[asyncpg.Connection], Coroutine[Any, Any, T]]) -> T:
        """`work(connection)`, run on the janitor's loop; this loop waits for it."""
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(work(self._conn), self._loop))

    def wait(self, work: Callable[[asyncpg.Connection], Coroutine[Any, Any, T]]) -> T:
        """The same, for a test that is not async (Playwright's sync API holds this thread's loop)."""
        return asyncio.run_coroutine_threadsafe(work(self._conn), self._loop).result()

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self._conn.close(), self._loop).result()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()


@pytest.fixture(scope="session")
def janitor(urls: DatabaseUrls) -> Iterator[Janitor]:
    cleaner = Janitor(asyncpg_dsn(urls.admin))
    yield cleaner
    cleaner.close()


async def _remove_test_users(conn: asyncpg.Connection, pattern: str) -> None:
    # Most tests name no user; the membership DELETE runs on every shard (on Citus, a
    # two-phase commit), so it runs only when there is someone to remove.
    if await conn.fetchval("SELECT EXISTS (SELECT FROM kizuna.app_user WHERE subject LIKE $1)", pattern):
        await conn.execute(
            "DELETE FROM kizuna.membership m USING kizuna.app_user u WHERE u.id = m.user_id AND u.subject LIKE $1",
            pattern,
        )
        await conn.execute("DELETE FROM kizuna.app_user WHERE subject LIKE $1", pattern)


@pytest.fixture
async def tidy(admin_conn: asyncpg.Connection, janitor: Janitor) -> AsyncIterator[Tidy]:
    """Afterwards, as the superuser: the users named by `subject()`, their memberships,
    and the audit events written (and sealed, with their heads) in the seeded tenants meanwhile."""
    found = Tidy(
        f"test-user:{uuid.uuid4()}:",
        {code: await _sealed_seq(admin_conn, code) for code in SEEDED},
        await admin_conn.fetchval("SELECT clock_timestamp()"),
    )

    async def clean_up(conn: asyncpg.Connection) -> None:
        for code, seq in found.seq_before.items():
            await _rewind_audit(conn, code, seq)
        await _remove_test_users(conn, found.prefix + "%")

    try:
        yield found
    finally:
        await janitor.run(clean_up)


@pytest.fixture
async def admin_conn(urls: DatabaseUrls) -> AsyncIterator[asyncpg.Connection]:
    """A superuser connection: used to look behind row security, never by the app."""
    conn = await asyncpg.connect(asyncpg_dsn(urls.admin))
    try:
        yield conn
    finally:
        await conn.close()


@pytest.fixture
async def app_conn(urls: DatabaseUrls) -> AsyncIterator[asyncpg.Connection]:
    """A connection as the application's login role, `kizuna_app`."""
    conn = await asyncpg.connect(urls.app)
    try:
        yield conn
    finally:
        await conn.close()


@pytest.fixture
def as_user(app_conn: asyncpg.Connection, user: Callable[[AppRole, str], demo_users.DemoUser]) -> Callable[..., Any]:
    """`async with as_user(role, municipality) as conn:` runs inside a request transaction
    opened exactly as the request path opens it, and always rolls back. `act_in` names
    another tenant to act in (a platform administrator's, whose home is the prefecture)."""

    @contextlib.asynccontextmanager
    async def open_as(
        role: AppRole, municipality: str, *, act_in: str | None = None
    ) -> AsyncIterator[asyncpg.Connection]:
        demo_user = user(role, municipality)
        transaction = app_conn.transaction()
        await transaction.start()
        try:
            await app_conn.execute(
                "SELECT kizuna.begin_request($1, $2, $3, $4)",
                role.value,
                act_in or municipality,
                str(demo_user.user_id),
                str(demo_user.organisation_id),
            )
            yield app_conn
        finally:
            await transaction.rollback()

    return open_as


@pytest.fixture
async def database(urls: DatabaseUrls) -> AsyncIterator[Database]:
    """The application's pool, as the server opens it (a few connections)."""
    db = await Database.connect(urls.app, size=4)
    try:
        yield db
    finally:
        await db.close()


@pytest.fixture
def caller_of(user: Callable[[AppRole, str], demo_users.DemoUser]) -> Callable[[AppRole, str], Caller]:
    """The demo user of `role` in `municipality`, as the request scope takes them."""

    def make(role: AppRole, municipality: str) -> Caller:
        me = user(role, municipality)
        return Caller(me.user_id, DEFAULT_DEV_ISSUER, me.subject, role, municipality, me.organisation_id)

    return make


# The case tables a test's requests may add rows to, children first (their foreign keys
# hold while the rows go).
CASE_WORK_TABLES = (
    "helper_visit",
    "helper_dispatch",
    "referral",
    "approval",
    "support_plan",
    "case_share",
    "consent",
    "emergency_access",
    "case_participant",
    "case_event",
    "carer_case",
)


async def _ids_by_tenant(conn: asyncpg.Connection, tables: Sequence[str]) -> dict[tuple[str, str], set[uuid.UUID]]:
    # One statement a tenant, every table naming it: on Citus it is routed to that tenant's
    # shards alone (over all the seeded tenants at once it would run on every shard).
    sql = " UNION ALL ".join(f"SELECT '{t}' AS t, id FROM kizuna.{t} WHERE municipality_code = $1" for t in tables)
    found: dict[tuple[str, str], set[uuid.UUID]] = {}
    for code in SEEDED:
        for row in await conn.fetch(sql, code):
            found.setdefault((code, row["t"]), set()).add(row["id"])
    return found


async def _remove_added(
    conn: asyncpg.Connection, before: dict[tuple[str, str], set[uuid.UUID]], tables: Sequence[str]
) -> None:
    now = await _ids_by_tenant(conn, tables)
    for table in tables:
        for code in SEEDED:
            if added := list(now.get((code, table), set()) - before.get((code, table), set())):
                await conn.execute(
                    f"DELETE FROM kizuna.{table} WHERE municipality_code = $1 AND id = ANY($2)", code, added
                )


@contextlib.asynccontextmanager
async def rows_added_are_removed(
    admin_conn: asyncpg.Connection, janitor: Janitor, tables: Sequence[str]
) -> AsyncIterator[None]:
    """Afterwards, as the superuser: every row of `tables` (children first, so that the
    foreign keys hold) added in the seeded tenants meanwhile."""
    before = await _ids_by_tenant(admin_conn, tables)
    try:
        yield
    finally:
        await janitor.run(lambda conn: _remove_added(conn, before, tables))


@contextlib.contextmanager
def rows_and_events_removed(janitor: Janitor, tables: Sequence[str]) -> Iterator[None]:
    """What `fresh` and `tidy` do, for a test that drives Chromium: afterwards, every row of
    `tables` (children first) added in the seeded tenants, and the audit events written."""
    before = janitor.wait(lambda conn: _ids_by_tenant(conn, tables))
    sealed = janitor.wait(_sealed_seqs)

    async def restore(conn: asyncpg.Connection) -> None:
        await _remove_added(conn, before, tables)
        for code, seq in sealed.items():
            await _rewind_audit(conn, code, seq)

    try:
        yield
    finally:
        janitor.wait(restore)


@pytest.fixture
async def fresh(admin_conn: asyncpg.Connection, tidy: Tidy, janitor: Janitor) -> AsyncIterator[None]:
    """Afterwards, as the superuser: every row of `CASE_WORK_TABLES` the test added in the
    seeded tenants (and, through `tidy`, the audit events)."""
    async with rows_added_are_removed(admin_conn, janitor, CASE_WORK_TABLES):
        yield


@pytest.fixture(scope="session")
def axe(tmp_path_factory: pytest.TempPathFactory) -> accessibility.Axe:
    """The accessibility check (tests/accessibility.py), axe-core installed once a session."""
    return accessibility.install(tmp_path_factory.mktemp("axe"))
