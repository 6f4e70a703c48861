"""`kizuna serve` and its embedded PostgreSQL, as real processes: how they stop together,
and `kizuna db stop` refusing to pull the database from under a running server.

The tests share one data directory for Kochi (34 tenants): the first server seeds it,
the later ones start on it in a few seconds.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from kizuna.platform import embedded
from kizuna.platform.cli import main

START_TIMEOUT = 240
STOP_TIMEOUT = 60


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("lifecycle")
    yield path
    embedded.stop(path / "pgdata")  # whatever a failed test left running


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def serving(data_dir: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """`kizuna serve` on `data_dir`, once it answers /readyz; killed if a test leaves it running."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "kizuna.platform.cli", "serve", "--port", str(port)],
        env=os.environ | {"KIZUNA_DATA_DIR": str(data_dir), "KIZUNA_PREFECTURE": "39"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT
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
    data_dir: Path, stop_signal: signal.Signals, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """SIGTERM is how systemd, Docker and `timeout` stop a program; SIGINT is Ctrl-C."""
    with serving(data_dir) as (process, url):
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


def test_db_stop_stops_a_database_a_killed_server_left_running(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A server killed outright (SIGKILL, a crash) cannot stop its database, nor does it
    keep holding it: its lease is recognised as stale, and `db stop` stops the database."""
    with serving(data_dir) as (process, _):
        process.kill()
        process.communicate()
    assert postgres_runs(data_dir)
    code, output = db_stop(data_dir, monkeypatch, capsys)
    assert (code, output.strip()) == (0, f"Stopped the embedded PostgreSQL in {data_dir / 'pgdata'}.")
    assert not postgres_runs(data_dir)
