"""Work that runs beside the server in a process of its own: the audit sealer
(platform/audit_seal.py) and the stats refresh (platform/stats_refresh.py), whose CPU the
requests would otherwise lose.

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
from collections.abc import Callable, Coroutine
from typing import Any

Work = Callable[[], Coroutine[Any, Any, None]]
"""What the process runs until it is stopped: a top-level coroutine function, or a
`functools.partial` of one (it is pickled into the spawned process)."""


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
