"""The wheel holds every package: setuptools' explicit list (DESIGN section 2) must name
each folder with an `__init__.py`, or a normal install would lack it while the editable
install used in development hides the gap."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOT_SHIPPED = {"tests", "bench", "deploy", ".venv", ".kizuna", "node_modules"}
# `platform/` holds no __init__.py on purpose (it would shadow the standard library's
# `platform` module); setuptools still ships it as a package.
NAMESPACE_PACKAGES = {"kizuna.platform"}


def test_every_package_folder_is_listed() -> None:
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {
        ".".join(("kizuna", *init.parent.relative_to(ROOT).parts))
        for init in ROOT.rglob("__init__.py")
        if not NOT_SHIPPED & set(init.relative_to(ROOT).parts)
    }
    assert listed == found | NAMESPACE_PACKAGES
