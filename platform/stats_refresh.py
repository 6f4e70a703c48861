"""Refreshing the prefecture's figures: the job that reads every tenant, as `kizuna_stats`.

Who computes. The figures are sums over every municipality, so something must read past
the tenant boundary; that is `kizuna_stats` (migration 0024): a role of its own, not granted
to the request path's login, that may read a few columns of the tables the figures come
from (its own permissive policy) and owns the `stats` schema, the one place it writes. The
job reaches it through the administrative connection (`SET LOCAL ROLE`), as the audit sealer
reaches `kizuna_auditor`; no request ever runs it. Why a job and not a view or a function
running with its owner's rights: disclosure control is Python (schema/stats/disclosure.py),
and on Citus a view runs as its caller on the workers (docs/security-model.md, "The stats
read path").

Never blocking writers. Reading takes no lock a writer waits for: one REPEATABLE READ,
READ ONLY transaction reads every tenant (one snapshot). The groups of tables whose counts
changed go through the disclosure control in processes of their own (the others are
published again as they were: schema/stats/publish.py). Each prefecture's publication is
then replaced in one transaction of its own on `stats` only (delete and insert, under
a lock of that prefecture's publication that only refreshes take), so a reader sees the
old figures or the new ones, never a mix. A refresh whose snapshot is older than the one
published meanwhile writes nothing: figures never go back in time.

`kizuna serve` refreshes every `KIZUNA_STATS_REFRESH` seconds in a process of its own
(the suppression and its audit take CPU the requests need); `kizuna stats refresh` runs once.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import datetime as dt
import logging
import multiprocessing
import os
import signal
from collections.abc import AsyncIterator

import asyncpg

from kizuna.platform.urls import asyncpg_dsn
from kizuna.schema.stats import disclosure, publish, sources

log = logging.getLogger(__name__)

AS_STATS_SQL = "SET LOCAL ROLE kizuna_stats"
_REFRESH_LOCK_CLASS = 0x4B5A_0A16
LOCK_PREFECTURE_SQL = f"SELECT pg_advisory_xact_lock({_REFRESH_LOCK_CLASS}, $1::text::integer)"
PUBLISHED_AT_SQL = "SELECT computed_at FROM stats.publication WHERE prefecture_code = $1"


@dataclasses.dataclass(frozen=True, slots=True)
class Refreshed:
    prefecture_code: str
    computed_at: dt.datetime
    cells: int
    """Figures written; 0 when a newer refresh had published already."""
    protected: int
    """Groups of tables put through the disclosure control anew (the others had not changed)."""


@contextlib.asynccontextmanager
async def as_stats(conn: asyncpg.Connection, *, readonly: bool = False) -> AsyncIterator[asyncpg.Connection]:
    """A transaction on the administrative connection `conn` as `kizuna_stats`; a read-only
    one is REPEATABLE READ, one snapshot of every tenant (on Citus, of each node)."""
    isolation = "repeatable_read" if readonly else "read_committed"
    async with conn.transaction(isolation=isolation, readonly=readonly):
        await conn.execute(AS_STATS_SQL)
        yield conn


async def refresh(conn: asyncpg.Connection, *, k: int) -> list[Refreshed]:
    """Read every tenant, protect each prefecture's figures, publish them."""
    async with as_stats(conn, readonly=True):
        computed_at: dt.datetime = await conn.fetchval("SELECT now()")
        raw = await sources.read_every_tenant(conn)
    done = []
    for prefecture, figures in publish.by_prefecture(raw).items():
        async with as_stats(conn):
            await conn.execute(LOCK_PREFECTURE_SQL, prefecture)
            published_at = await conn.fetchval(PUBLISHED_AT_SQL, prefecture)
            if published_at is not None and published_at >= computed_at:
                done.append(Refreshed(prefecture, published_at, 0, 0))
                continue
            tasks, tables = publish.plan(
                prefecture,
                figures,
                previous=await publish.read_published(conn, prefecture),
                last_counts=await publish.read_last_counts(conn, prefecture),
            )
            for task, protected in zip(tasks, await _protect(tasks, k), strict=True):
                tables.setdefault(task.fiscal_year, []).extend(protected)
            publication = publish.assemble(prefecture, figures, k=k, tables=tables)
            await publish.write(conn, publication, computed_at=computed_at, k=k)
        done.append(Refreshed(prefecture, computed_at, len(publication.cells), len(tasks)))
    return done


PARALLEL_FROM = 200
"""Small counts (1 to k-1) across the groups to protect from which processes pay for their
start (about a second each): the exact audit's work grows with the figures it suppresses."""


async def _protect(tasks: list[publish.Task], k: int) -> list[list[disclosure.PublishedTable]]:
    """The groups through the disclosure control (CPU-bound: Python and HiGHS), the largest
    first in processes of their own when there is enough work and this process may have
    children (the one `kizuna serve` starts is a daemon, and protects one group after the
    other)."""
    small = sum(1 for task in tasks for table in task.tables for n in table.cells.values() if 0 < n < k)
    if len(tasks) <= 1 or small < PARALLEL_FROM or multiprocessing.current_process().daemon:
        return [await asyncio.to_thread(publish.protect, task, k) for task in tasks]
    loop = asyncio.get_running_loop()
    workers = min(len(tasks), os.cpu_count() or 1)
    by_size = sorted(range(len(tasks)), key=lambda i: -sum(len(t.rows) * len(t.columns) for t in tasks[i].tables))
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        done = await asyncio.gather(*(loop.run_in_executor(pool, publish.protect, tasks[i], k) for i in by_size))
    results: list[list[disclosure.PublishedTable]] = [[] for _ in tasks]
    for i, protected in zip(by_size, done, strict=True):
        results[i] = protected
    return results


async def refresh_in_background(admin_url: str, *, interval: float, k: int) -> None:
    """Refresh every `interval` seconds, until cancelled; a failure is logged once and retried."""
    failing = False
    while True:
        try:
            conn = await asyncpg.connect(asyncpg_dsn(admin_url))
            try:
                await refresh(conn, k=k)
            finally:
                await conn.close()
            failing = False
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            if not failing:
                log.warning("stats refresh: %s: %s (retrying every %s s)", type(exc).__name__, exc, interval)
            failing = True
        await asyncio.sleep(interval)


class RefreshProcess:
    """`refresh_in_background` in a process of its own, started and stopped with the server
    (spawned: no inherited sockets; the URL through its arguments' pipe, never a command
    line), as the audit sealer is (platform/audit_seal.py `SealerProcess`)."""

    def __init__(self, admin_url: str, *, interval: float, k: int) -> None:
        context = multiprocessing.get_context("spawn")
        self._process = context.Process(
            target=_run, args=(admin_url, interval, k, os.getpid()), name="kizuna-stats-refresh", daemon=True
        )

    def start(self) -> None:
        self._process.start()

    def stop(self, timeout: float = 10.0) -> None:
        if self._process.pid is None:
            return
        self._process.terminate()
        self._process.join(timeout)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()


def _run(admin_url: str, interval: float, k: int, server_pid: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    async def until_terminated() -> None:
        refreshing = asyncio.ensure_future(refresh_in_background(admin_url, interval=interval, k=k))
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, refreshing.cancel)
        watching = asyncio.ensure_future(_cancel_when_orphaned(refreshing, server_pid))
        with contextlib.suppress(asyncio.CancelledError):
            await refreshing
        watching.cancel()

    asyncio.run(until_terminated())


async def _cancel_when_orphaned(task: asyncio.Future[None], server_pid: int) -> None:
    # A server killed outright cannot stop us; polled, as nothing signals a parent's death.
    while os.getppid() == server_pid:  # noqa: ASYNC110
        await asyncio.sleep(0.5)
    task.cancel()
