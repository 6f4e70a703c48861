"""How `kizuna serve` serves: one process, or N workers under uvicorn's supervisor, and
the jobs beside them (the audit sealer, the stats refresh) once either way.

With N workers the parent binds the socket and supervises (uvicorn's `Multiprocess`:
restarts a worker that dies, stops them all on Ctrl+C or SIGTERM); each worker is spawned
and builds its own app from the same settings, handed over through the spawn's pipe,
never on a command line (`app_dsn` may hold the app login's password). The kernel gives
each connection to one worker. What a worker keeps for itself, and why that stays correct
across workers, is in docs/architecture.md ("More than one core").
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import functools
import gc
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator

import uvicorn
from starlette.applications import Starlette
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

from kizuna.platform import audit_seal, stats_refresh
from kizuna.platform.background import BackgroundProcess
from kizuna.platform.server_protocol import with_header_deadline
from kizuna.platform.settings import Settings
from kizuna.schema.stats import refresh


def default_workers() -> int:
    """The cores this process may run on (what Python 3.13's `os.process_cpu_count` says)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def worker_share(settings: Settings, workers: int) -> Settings:
    """A worker's settings: its share of the server's request pool (KIZUNA_POOL_SIZE is the
    server's, so the database sees the connections it was sized for) and of the rate limit
    (each worker's buckets hold 1/workers of the server's share)."""
    return dataclasses.replace(
        settings,
        pool_size=max(1, settings.pool_size // workers),
        rate_limit_processes=settings.rate_limit_processes * workers,
    )


@contextlib.contextmanager
def jobs_beside(settings: Settings, admin_url: str) -> Iterator[None]:
    """The audit sealer and (with `settings.stats_refresh_seconds`) the stats refresh, each
    in a process of its own over the administrative connection, which no request holds;
    stopped when the block ends. Once per server: two sealers would only contend."""
    processes = [audit_seal.sealer_process(admin_url)]
    if settings.stats_refresh_seconds:
        job = functools.partial(
            refresh.refresh, k=settings.stats_k, interval=dt.timedelta(days=settings.stats_publication_days)
        )
        processes.append(stats_refresh.refresh_process(admin_url, interval=settings.stats_refresh_seconds, job=job))
    started: list[BackgroundProcess] = []
    try:
        for process in processes:
            process.start()
            started.append(process)
        yield
    finally:
        for process in started:
            process.stop()


def serve(app: Callable[[], Starlette], settings: Settings, *, workers: int, host: str, port: int) -> bool:
    """Serve the app `app()` builds in `workers` processes (1: this one) until Ctrl+C or
    SIGTERM; False when a worker failed to start. `app` is pickled into each worker."""
    app = functools.partial(long_lived, app)
    if workers > 1:
        app = functools.partial(_worker, app, os.getpid())
    config = uvicorn.Config(
        app,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        access_log=False,
        http=with_header_deadline(settings.client_timeout_seconds),
    )
    if workers == 1:
        server = uvicorn.Server(config)
        # it raises the signal it stopped on again once it has shut down (cli.py `_as_ctrl_c`)
        with contextlib.suppress(KeyboardInterrupt):
            server.run()
        return bool(server.started)
    supervisor = Multiprocess(config, sockets=[config.bind_socket()])
    supervisor.run()
    return all(worker.exitcode != STARTUP_FAILURE for worker in supervisor.processes)


YOUNG_GENERATION_THRESHOLD = 10_000
"""Allocations between two collections of the youngest generation (Python's default: 700)."""


def long_lived(app: Callable[[], Starlette]) -> Starlette:
    """The app `app()` builds, with everything made so far (the schema, the modules, the
    prepared documents) moved out of the garbage collector's way (`gc.freeze`). They live
    as long as the process, yet each full collection walked them all, some 200,000 objects:
    under the benchmark's load that pause was its p99, about three times its p50 (with
    them frozen, 1.7 times in the anchors' run; docs/benchmarks.md).

    The youngest generation is collected every `YOUNG_GENERATION_THRESHOLD` allocations
    instead of 700: a page of 50 rows allocates some 300 containers that all die with the
    request, and a collection every other request traversed the live ones of the 30 others
    in flight. The collector's share of the server's CPU fell from 4.9% to 1.6% (a native
    profile of the cases page)."""
    built = app()
    gc.collect()
    gc.freeze()
    _, *older = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, *older)
    return built


def _worker(app: Callable[[], Starlette], supervisor: int) -> Starlette:
    """A worker's app. The worker stops (as on SIGTERM) once its supervisor is gone: one
    killed outright (SIGKILL, a crash) cannot stop it, and an orphan would go on serving
    from the socket and holding database connections."""
    threading.Thread(target=_terminate_when_orphaned, args=(supervisor,), name="orphan-watch", daemon=True).start()
    return app()


def _terminate_when_orphaned(supervisor: int) -> None:
    # Polled: a parent's death is signalled to nothing a thread can wait on.
    while os.getppid() == supervisor:
        time.sleep(0.5)
    os.kill(os.getpid(), signal.SIGTERM)
