"""`kizuna serve` and its embedded PostgreSQL, as real processes: how they stop together,
and `kizuna db stop` refusing to pull the database from under a running server.

The tests share one data directory for Kochi (34 tenants): the first server seeds it,
the later ones start on it in a few seconds.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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


def serving(kizuna_serve: Any, data_dir: Path) -> Any:
    """`kizuna serve` for Kochi on `data_dir` (tests/conftest.py `kizuna_serve`)."""
    return kizuna_serve({"KIZUNA_DATA_DIR": str(data_dir), "KIZUNA_PREFECTURE": "39"}, timeout=START_TIMEOUT)


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
    data_dir: Path,
    stop_signal: signal.Signals,
    kizuna_serve: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """SIGTERM is how systemd, Docker and `timeout` stop a program; SIGINT is Ctrl-C."""
    with serving(kizuna_serve, data_dir) as (process, url):
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
    data_dir: Path, kizuna_serve: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A server killed outright (SIGKILL, a crash) cannot stop its database, nor does it
    keep holding it: its lease is recognised as stale, and `db stop` stops the database."""
    with serving(kizuna_serve, data_dir) as (process, _):
        process.kill()
        process.communicate()
    assert postgres_runs(data_dir)
    code, output = db_stop(data_dir, monkeypatch, capsys)
    assert (code, output.strip()) == (0, f"Stopped the embedded PostgreSQL in {data_dir / 'pgdata'}.")
    assert not postgres_runs(data_dir)
