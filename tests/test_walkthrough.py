"""docs/walkthrough.md, run: every operation on the page, in order, against a real server,
as the demo user each step names, so the page cannot go stale.

A step is a `<!-- as: ROLE[; keep: NAME = PATH][; expect: CODE] -->` line, a ```graphql
block and, optionally, a ```json block of variables in which `{{NAME}}` is a value kept
by an earlier step. Without `expect`, a step must answer with no error and no user
error; with it, its one user error has that code. `fresh` removes what the walk made.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from kizuna.platform.vocabulary import AppRole

PAGE = Path(__file__).resolve().parent.parent / "docs" / "walkthrough.md"
SAITAMA_CITY = "111007"
STEP = re.compile(
    r"<!-- as: (?P<directives>[^>]*?) -->\n```graphql\n(?P<query>.*?)```\n(?:```json\n(?P<variables>.*?)```\n)?",
    re.DOTALL,
)


@dataclass(frozen=True)
class Step:
    role: AppRole
    query: str
    variables: str | None
    keep: tuple[str, str] | None
    expect: str | None


def steps() -> list[Step]:
    found = []
    for match in STEP.finditer(PAGE.read_text()):
        role, *rest = (d.strip() for d in match["directives"].split(";"))
        options = dict(d.split(":", 1) for d in rest)
        keep = options.get("keep")
        name, path = (part.strip() for part in keep.split("=")) if keep else (None, None)
        found.append(
            Step(
                role=AppRole(role),
                query=match["query"],
                variables=match["variables"],
                keep=(name, path) if name and path else None,
                expect=options.get("expect", "").strip() or None,
            )
        )
    return found


def pick(body: dict[str, Any], path: str) -> Any:
    value: Any = body
    for part in path.split("."):
        value = value[int(part)] if part.isdigit() else value[part]
    return value


def user_errors(body: dict[str, Any]) -> list[dict[str, Any]]:
    payloads = [p for p in (body.get("data") or {}).values() if isinstance(p, dict) and "userErrors" in p]
    return [e for p in payloads for e in p["userErrors"]]


def test_the_page_has_every_step_parsed() -> None:
    """Every graphql block of the page is a step (none is skipped by a typo in its line)."""
    assert len(steps()) == PAGE.read_text().count("```graphql") > 15


@pytest.mark.usefixtures("fresh")
def test_every_operation_of_the_walkthrough_runs(graphql: Callable[..., dict[str, Any]]) -> None:
    kept: dict[str, str] = {}
    for number, step in enumerate(steps(), start=1):
        text = step.variables or "{}"
        for name, value in kept.items():
            text = text.replace("{{" + name + "}}", value)
        assert "{{" not in text, f"step {number} uses a value no earlier step kept: {text}"
        body = graphql(step.query, step.role, SAITAMA_CITY, json.loads(text))
        assert not body.get("errors"), (number, body)
        errors = user_errors(body)
        if step.expect is None:
            assert errors == [], (number, body)
        else:
            assert [e["code"] for e in errors] == [step.expect], (number, body)
        if step.keep is not None:
            name, path = step.keep
            kept[name] = pick(body, path)
    # The walk ends with the case closed, its helper dispatch ended after one visit.
    final = graphql(
        "query($id: ID!) { node(id: $id) { ... on Case { stage dispatches { status visits { visitedOn } } } } }",
        AppRole.CASEWORKER,
        SAITAMA_CITY,
        {"id": kept["case"]},
    )
    assert final["data"]["node"] == {
        "stage": "CLOSED",
        "dispatches": [{"status": "ENDED", "visits": [{"visitedOn": "2026-12-15"}]}],
    }
