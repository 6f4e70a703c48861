"""The floors of the code, held over the source's imports (beside test_lint_tenancy.py).

A module may import Kizuna modules on its own floor or below, never above, so that the
foundation never depends on what is built on it:

0. migrations (`platform/migrations/versions/`): frozen history, importing nothing of
   Kizuna (STYLE section 6);
1. the tenant registry (`tenants/registry.py`), a leaf;
2. the foundation (`platform/`: database, request scope, vocabulary, ids, audit, settings …);
3. sign-in (`auth/`);
4. the request lifecycle (`platform/request_scope.py`: authenticate, then the scope);
5. the GraphQL schema (`schema/`);
6. the demo seeder and its users (the rest of `tenants/`), above every domain it fills;
7. the composition (`platform/app.py`, `platform/cli.py`, and `platform/serving.py`, which
   runs the app's workers and the jobs beside them), which may import anything.
"""

from __future__ import annotations

import ast
from fnmatch import fnmatch
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted(
    p
    for p in ROOT.rglob("*.py")
    if not {".venv", "tests", ".kizuna", "build", "bench"} & set(p.relative_to(ROOT).parts)
)
FLOORS = (
    ("platform/migrations/versions/*", 0),
    ("tenants/registry.py", 1),
    ("platform/app.py", 7),
    ("platform/cli.py", 7),
    ("platform/serving.py", 7),
    ("__init__.py", 7),
    ("platform/request_scope.py", 4),
    ("platform/*", 2),
    ("auth/*", 3),
    ("schema/*", 5),
    ("tenants/*", 6),
)
FLOOR_NAMES = ("migrations", "registry", "foundation", "auth", "lifecycle", "schema", "demo", "composition")


def relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def floor(module_path: str) -> int:
    """The floor of a source file, by its path in the repository (the first pattern that matches)."""
    for pattern, level in FLOORS:
        if fnmatch(module_path, pattern):
            return level
    raise AssertionError(f"{module_path} is on no floor: give it one in {__file__}")


def source_of(module: str) -> str | None:
    """The repository path of `kizuna.…` module (a package's `__init__.py`, or a folder
    without one), or None if it is not Kizuna's."""
    if module != "kizuna" and not module.startswith("kizuna."):
        return None
    parts = module.split(".")[1:]
    base = ROOT.joinpath(*parts)
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return relative(candidate)
    if base.is_dir():
        return relative(base / "__init__.py") if parts else "__init__.py"
    raise AssertionError(f"{module} names no Kizuna source")


def imported_sources(path: Path) -> set[str]:
    """Every Kizuna source file `path` imports, at the top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module is not None and node.level == 0:
            # `from kizuna.platform import audit` imports the module kizuna.platform.audit
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                names.append(submodule if _is_module(submodule) else node.module)
        found.update(s for s in map(source_of, names) if s is not None)
    return found


def _is_module(module: str) -> bool:
    if not module.startswith("kizuna."):
        return False
    base = ROOT.joinpath(*module.split(".")[1:])
    return base.with_suffix(".py").is_file() or base.is_dir()


def test_sources_found() -> None:
    assert {"platform/scope.py", "platform/app.py", "schema/http.py", "tenants/registry.py"} <= {
        relative(p) for p in SOURCES
    }


@pytest.mark.parametrize("path", SOURCES, ids=relative)
def test_no_module_imports_a_floor_above_its_own(path: Path) -> None:
    here = floor(relative(path))
    above = {imported: FLOOR_NAMES[floor(imported)] for imported in imported_sources(path) if floor(imported) > here}
    assert not above, f"{relative(path)} ({FLOOR_NAMES[here]}) imports from floors above it: {above}"


def test_the_floors_catch_an_import_upwards(tmp_path: Path) -> None:
    """The check itself: the foundation importing the schema is found."""
    module = tmp_path / "database.py"
    module.write_text("from kizuna.schema.http import GraphQLEndpoint\nfrom kizuna.platform import ids\n")
    assert imported_sources(module) == {"schema/http.py", "platform/ids.py"}
    assert floor("schema/http.py") > floor("platform/database.py")
