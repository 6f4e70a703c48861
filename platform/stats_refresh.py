"""The stats refresh's platform part: the role it runs as, and its schedule in a process of
its own (the job itself is schema/stats/refresh.py).

Who computes. The prefecture's figures are sums over every municipality, so something must
read past the tenant boundary; that is `kizuna_stats` (migration 0025): a role of its own,
not granted to the request path's login, that may read a few columns of the tables the
figures come from (its own permissive policy) and owns the `stats` schema, the one place it
writes. The job reaches it through the administrative connection (`SET LOCAL ROLE`), as the
audit sealer reaches `kizuna_auditor`; no request ever runs it. Why a job and not a view or
a function running with its owner's rights: disclosure control is Python
(schema/stats/disclosure.py), and on Citus a view runs as its caller on the workers
(docs/security-model.md, "The stats read path").

`kizuna serve` refreshes every `KIZUNA_STATS_REFRESH` seconds in a process of its own (the
suppression and its audit take CPU the requests need); `kizuna stats refresh` runs once.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg

from kizuna.platform.background import BackgroundProcess
from kizuna.platform.urls import asyncpg_dsn

log = logging.getLogger(__name__)

AS_STATS_SQL = "SET LOCAL ROLE kizuna_stats"
Job = Callable[[asyncpg.Connection], Awaitable[object]]
"""A refresh over the administrative connection (a top-level function, or a partial of one:
the process that runs it is spawned)."""


@contextlib.asynccontextmanager
async def as_stats(conn: asyncpg.Connection, *, readonly: bool = False) -> AsyncIterator[asyncpg.Connection]:
    """A transaction on the administrative connection `conn` as `kizuna_stats`; a read-only
    one is REPEATABLE READ, one snapshot of every tenant (on Citus, of each node)."""
    isolation = "repeatable_read" if readonly else "read_committed"
    async with conn.transaction(isolation=isolation, readonly=readonly):
        await conn.execute(AS_STATS_SQL)
        yield conn


async def refresh_in_background(admin_url: str, *, interval: float, job: Job) -> None:
    """Run `job` every `interval` seconds, until cancelled; a failure is logged once and retried."""
    failing = False
    while True:
        try:
            conn = await asyncpg.connect(asyncpg_dsn(admin_url))
            try:
                await job(conn)
            finally:
                await conn.close()
            failing = False
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            if not failing:
                log.warning("stats refresh: %s: %s (retrying every %s s)", type(exc).__name__, exc, interval)
            failing = True
        await asyncio.sleep(interval)


def refresh_process(admin_url: str, *, interval: float, job: Job) -> BackgroundProcess:
    """`refresh_in_background` in a process of its own, started and stopped with the server."""
    work = functools.partial(refresh_in_background, admin_url, interval=interval, job=job)
    return BackgroundProcess("kizuna-stats-refresh", work)
