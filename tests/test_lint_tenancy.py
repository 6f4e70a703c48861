"""Tenancy lives in one place (STYLE section 3), checked over the source as text and AST.

- Only platform/ opens connections or engines, sets roles or sets `kizuna.*`.
- Nothing calls `set_config()`; nothing is SECURITY DEFINER outside a `stats` schema.
- Every SQL string that reads a tenant table filters `municipality_code = $1`, except in
  the one module that reads every tenant by design (`EVERY_TENANT`).
- The modules that answer the prefecture's requests read `stats` only, never a tenant table.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from kizuna.platform.models import TENANT_TABLES

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted(
    p for p in ROOT.rglob("*.py") if not {".venv", "tests", ".kizuna", "build"} & set(p.relative_to(ROOT).parts)
)
FORBIDDEN_OUTSIDE_PLATFORM = {
    "asyncpg.connect": re.compile(r"asyncpg\.connect\b"),
    "create_pool": re.compile(r"create_pool\b"),
    "engines": re.compile(r"create_(async_)?engine\("),
    "SET ROLE": re.compile(r"SET\s+(LOCAL\s+)?ROLE", re.IGNORECASE),
    "SET LOCAL kizuna.": re.compile(r"SET\s+LOCAL\s+kizuna\.", re.IGNORECASE),
}
TENANT_TABLE = re.compile(r"\b(?:FROM|JOIN|UPDATE|INTO)\s+kizuna\.(" + "|".join(TENANT_TABLES) + r")\b")


def relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def string_constants(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.append(node.value)
        elif isinstance(node, ast.JoinedStr):  # f-strings: their literal parts
            found.append(
                "".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
            )
    return found


def test_sources_found() -> None:
    assert any(relative(p) == "platform/database.py" for p in SOURCES)
    assert any(relative(p).startswith("schema/") for p in SOURCES)


@pytest.mark.parametrize("path", [p for p in SOURCES if not relative(p).startswith("platform/")], ids=relative)
def test_only_platform_touches_connections_and_context(path: Path) -> None:
    text = path.read_text()
    for what, pattern in FORBIDDEN_OUTSIDE_PLATFORM.items():
        assert not pattern.search(text), f"{relative(path)} uses {what}: only platform/ may"


@pytest.mark.parametrize("path", SOURCES, ids=relative)
def test_nobody_calls_set_config(path: Path) -> None:
    # Citus does not propagate set_config() to its workers; only this test names it.
    for text in string_constants(path):
        assert not re.search(r"set_config\s*\(\s*['\"$]", text), relative(path)


@pytest.mark.parametrize("path", SOURCES, ids=relative)
def test_no_security_definer_outside_stats(path: Path) -> None:
    for text in string_constants(path):
        if re.search(r"SECURITY\s+DEFINER", text, re.IGNORECASE):
            assert "stats." in text, relative(path)


SQL_MODULES = [p for p in SOURCES if relative(p).startswith(("schema/", "tenants/", "bench/"))]
# Modules whose statements may read other tenants, each with the reason and the predicate
# they must carry instead of `municipality_code = $1`.
ACROSS_TENANTS = {
    # The prefecture's analyst reads and decides its municipalities' submissions: $1 is its
    # own tenant (the prefecture), whose code prefix the statement carries as the policy
    # does, and $2 the registry's codes of its municipalities (one, or ANY of them).
    "schema/submissions/service.py": re.compile(
        r"left\(municipality_code, 2\) = left\(\$1, 2\) AND municipality_code = (ANY\()?\$2\b"
    ),
    # The demo's decisions, dated as its calendar has them, as the prefecture's analyst.
    "tenants/demo_decisions.py": re.compile(
        r"left\(municipality_code, 2\) = left\(\$1, 2\) AND municipality_code = \$2\b"
    ),
}
EVERY_TENANT = {
    "bench/national.py": (
        "the national benchmark reads every tenant's case and referral ids over the administrative"
        " connection, to check each answer against its tenant's rows; never on a request's path"
    ),
    "schema/stats/sources.py": (
        "the prefecture's figures are sums over all its municipalities: read as kizuna_stats, whose"
        " column grants hold no name and no free text, by the refresh job only (schema/stats/refresh.py),"
        " never on a request's path"
    ),
}
# What requests for the prefecture's figures run, and the refresh's writing: `stats` only.
STATS_READ_PATH = [p for p in SOURCES if relative(p).startswith("schema/stats/") and relative(p) not in EVERY_TENANT]
ANY_TABLE = re.compile(
    r"(?:\bFROM|\bJOIN|\bINTO|(?<!DO )\bUPDATE)\s+(?!unnest\b)([a-z_]+(?:\.[a-z_]+)?)", re.IGNORECASE
)


@pytest.mark.parametrize("path", SQL_MODULES, ids=relative)
def test_every_tenant_query_names_its_tenant(path: Path) -> None:
    """The explicit predicate sends the planner (and Citus) to one tenant's rows."""
    across = ACROSS_TENANTS.get(relative(path))
    if relative(path) in EVERY_TENANT:
        return
    for text in string_constants(path):
        if TENANT_TABLE.search(text) and not text.lstrip().upper().startswith("INSERT"):
            named = re.search(r"municipality_code\s*=\s*\$1\b", text) or (across and across.search(text))
            assert named, f"{relative(path)}: {text.strip()[:120]}"


def test_the_request_transaction_is_opened_in_one_place() -> None:
    calls = re.compile(r"SELECT\s+kizuna\.begin_request\s*\(", re.IGNORECASE)
    openers = [relative(p) for p in SOURCES if any(calls.search(t) for t in string_constants(p))]
    assert openers == ["platform/database.py"]


def test_the_modules_reading_every_tenant_exist_and_say_why() -> None:
    for module, reason in EVERY_TENANT.items():
        assert (ROOT / module).is_file(), module
        assert reason


@pytest.mark.parametrize("path", STATS_READ_PATH, ids=relative)
def test_the_stats_read_path_reads_stats_only(path: Path) -> None:
    """No tenant table, not even with its tenant named: the prefecture reads published figures."""
    for text in string_constants(path):
        if not re.match(r"\s*(SELECT|INSERT|UPDATE|DELETE|WITH)\b", text, re.IGNORECASE):
            continue
        for table in ANY_TABLE.findall(text):
            assert table.startswith("stats."), f"{relative(path)} reads {table}: {text.strip()[:120]}"


def test_only_the_refresh_job_runs_the_every_tenant_module() -> None:
    importers = [
        relative(p)
        for p in SOURCES
        if re.search(r"from kizuna\.schema\.stats import .*\bsources\b|kizuna\.schema\.stats\.sources", p.read_text())
    ]
    # indicator_values takes the types of what sources read; refresh.py runs them both.
    assert importers == ["schema/stats/indicator_values.py", "schema/stats/publish.py", "schema/stats/refresh.py"]
