"""Work that runs beside the server in a process of its own: the audit sealer
(platform/audit_seal.py) and the stats refresh (platform/stats_refresh.py), whose CPU the
requests would otherwise lose. Both work over the administrative connection, which no
request holds, in transactions switched to a role of their own (`as_role`), and are
repeated on a schedule that outlives a database restart (`repeat`).

The process is spawned (no inherited sockets or connections) and gets its work through the
spawn's pipe, never on a command line (the administrative URL it carries holds a password).
It ignores Ctrl+C (the server stops it), is cancelled on SIGTERM so that its connection
closes, and cancels itself once the server is gone: a server killed outright cannot stop
it, and an orphan would hold the database and the server's output open.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any, Literal

import asyncpg

from kizuna.platform.urls import asyncpg_dsn

log = logging.getLogger(__name__)

Work = Callable[[], Coroutine[Any, Any, None]]
"""What the process runs until it is stopped: a top-level coroutine function, or a
`functools.partial` of one (it is pickled into the spawned process)."""


JOB_NICENESS = 10
"""How much lower a job's scheduling priority is than the server's. On a machine the
requests keep busy a job takes the time they leave, and catches up when they slow down; a
sealer round no longer holds requests back (the pages' p99 about 7% lower in quick runs,
docs/benchmarks.md). Its database backend keeps its priority: it holds locks and a snapshot."""


JobRole = Literal["kizuna_auditor", "kizuna_stats"]
"""The roles a job switches to (migrations 0019 and 0025); never one a request acts as."""


@contextlib.asynccontextmanager
async def as_role(
    conn: asyncpg.Connection, role: JobRole, *, readonly: bool = False
) -> AsyncIterator[asyncpg.Connection]:
    """A transaction on the administrative connection `conn` as `role`. A read-only one is
    REPEATABLE READ: one snapshot (on Citus, of each node) for everything it reads."""
    isolation = "repeatable_read" if readonly else "read_committed"
    async with conn.transaction(isolation=isolation, readonly=readonly):
        await conn.execute(f"SET LOCAL ROLE {role}")  # a name from JobRole, never from input
        yield conn


async def repeat(
    admin_url: str,
    work: Callable[[asyncpg.Connection], Awaitable[object]],
    *,
    interval: float,
    name: str,
    failures: tuple[type[Exception], ...] = (),
) -> None:
    """`work` every `interval` seconds on one administrative connection, until cancelled.

    The connection is opened again after a failure (a database that is away, or one of
    `failures`); a failure is logged once, when it starts, and the work resumes by itself.
    """
    conn: asyncpg.Connection | None = None
    failing = False
    try:
        while True:
            try:
                if conn is None or conn.is_closed():
                    conn = await asyncpg.connect(asyncpg_dsn(admin_url))
                await work(conn)
                failing = False
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, *failures) as exc:
                if not failing:
                    log.warning("%s: %s: %s (retrying every %s s)", name, type(exc).__name__, exc, interval)
                failing = True
                if conn is not None:
                    conn.terminate()
                    conn = None
            await asyncio.sleep(interval)
    finally:
        if conn is not None:
            await conn.close()


class BackgroundProcess:
    """`work` in a process of its own, started and stopped with the server."""

    def __init__(self, name: str, work: Work) -> None:
        context = multiprocessing.get_context("spawn")
        self._process = context.Process(target=_run, args=(work, os.getpid()), name=name, daemon=True)

    def start(self) -> None:
        self._process.start()

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, then wait for a clean stop (its round ends, its connection closes)."""
        if self._process.pid is None:
            return
        self._process.terminate()
        self._process.join(timeout)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()


def _run(work: Work, server_pid: int) -> None:
    """The process's body: `work` until SIGTERM, or until the server is gone."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.nice(JOB_NICENESS)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    async def until_terminated() -> None:
        working = asyncio.ensure_future(work())
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, working.cancel)
        watching = asyncio.ensure_future(_cancel_when_orphaned(working, server_pid))
        with contextlib.suppress(asyncio.CancelledError):
            await working
        watching.cancel()

    asyncio.run(until_terminated())


async def _cancel_when_orphaned(task: asyncio.Future[None], server_pid: int) -> None:
    # Polled: a parent's death is signalled to nothing an event loop can wait on.
    while os.getppid() == server_pid:  # noqa: ASYNC110
        await asyncio.sleep(0.5)
    task.cancel()
