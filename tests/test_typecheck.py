"""mypy --strict and ruff over the package, as part of the suite (no pre-commit downloads)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_mypy_strict(tmp_path: Path) -> None:
    # The repository root is the `kizuna` package; mypy finds it through a link named so.
    (tmp_path / "kizuna").symlink_to(ROOT, target_is_directory=True)
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"), "-p", "kizuna"],
        cwd=tmp_path,
        env=os.environ | {"MYPYPATH": str(tmp_path)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff() -> None:
    for args in (["check", "."], ["format", "--check", "."]):
        result = subprocess.run(
            [sys.executable, "-m", "ruff", *args], cwd=ROOT, capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_whatever_the_clone_is_called(tmp_path: Path) -> None:
    """A clone's folder need not be a Python name: the repository root is `kizuna` anyway."""
    clone = tmp_path / "kizuna-7d3"
    shutil.copytree(ROOT, clone, ignore=shutil.ignore_patterns(".git", ".venv", ".kizuna", "node_modules", "*cache*"))
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "."],
        cwd=clone,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
