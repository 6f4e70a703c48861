"""Fixtures for the /graphql page: GraphiQL installed by the real `kizuna graphiql install`,
and a Kizuna server whose data directory holds it.

The installation is kept in pytest's cache (`.pytest_cache/d/kizuna-graphiql`), so `npm ci`
runs once per lock file, not once per test session; without npm the tests that need it are
skipped with the reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest

from kizuna.platform.app import create_app
from kizuna.platform.runtime import DatabaseUrls
from kizuna.platform.settings import Settings
from kizuna.schema.ide import npm

INSTALL_TIMEOUT = 900


def _run_graphiql_install(data_dir: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kizuna.platform.cli", "graphiql", "install"],
        env=os.environ | {"KIZUNA_DATA_DIR": str(data_dir)} | (env or {}),
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT,
        check=False,
    )


@pytest.fixture(scope="session")
def graphiql_install() -> Callable[..., subprocess.CompletedProcess[str]]:
    """`(data_dir, env=None) -> completed process`: `kizuna graphiql install` as a person runs it."""
    return _run_graphiql_install


@pytest.fixture(scope="session")
def graphiql_data_dir(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory into which `kizuna graphiql install` has installed GraphiQL."""
    if shutil.which("npm") is None:
        pytest.skip("npm not found on PATH: GraphiQL is installed from npm (.ci/run installs nodejs and npm)")
    cache = getattr(request.config, "cache", None)
    data_dir = cache.mkdir("kizuna-graphiql") if cache is not None else tmp_path_factory.mktemp("graphiql")
    installed = _run_graphiql_install(data_dir)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert npm.is_installed(npm.graphiql_dir(data_dir))
    return data_dir


@pytest.fixture(scope="session")
def graphiql_server(
    graphiql_data_dir: Path,
    urls: DatabaseUrls,
    signing_key: Any,
    serve: Callable[..., AbstractContextManager[Any]],
) -> Iterator[Any]:
    """Kizuna in development with the development IdP, its data directory holding GraphiQL."""
    settings = Settings.from_env({"KIZUNA_DATA_DIR": str(graphiql_data_dir), "KIZUNA_PREFECTURE": "11"})
    with serve(create_app(settings, urls.app, dev_key=signing_key)) as running:
        yield running
