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

import contextlib
import functools
from collections.abc import Awaitable, Callable

import asyncpg

from kizuna.platform.background import BackgroundProcess, as_role, repeat

Job = Callable[[asyncpg.Connection], Awaitable[object]]
"""A refresh over the administrative connection (a top-level function, or a partial of one:
the process that runs it is spawned)."""


def as_stats(
    conn: asyncpg.Connection, *, readonly: bool = False
) -> contextlib.AbstractAsyncContextManager[asyncpg.Connection]:
    """A transaction on the administrative connection `conn` as `kizuna_stats`; a read-only
    one is REPEATABLE READ, one snapshot of every tenant (on Citus, of each node)."""
    return as_role(conn, "kizuna_stats", readonly=readonly)


async def refresh_in_background(admin_url: str, *, interval: float, job: Job) -> None:
    """Run `job` every `interval` seconds, until cancelled; a failure is logged once and retried."""
    await repeat(admin_url, job, interval=interval, name="stats refresh")


def refresh_process(admin_url: str, *, interval: float, job: Job) -> BackgroundProcess:
    """`refresh_in_background` in a process of its own, started and stopped with the server."""
    work = functools.partial(refresh_in_background, admin_url, interval=interval, job=job)
    return BackgroundProcess("kizuna-stats-refresh", work)
