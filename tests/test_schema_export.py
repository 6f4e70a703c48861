"""`schema/schema.graphql` is the exported SDL and is kept current (like NetBox's openapi check)."""

from __future__ import annotations

from pathlib import Path

from strawberry.printer import print_schema

from kizuna.schema.root import build_schema

SDL = Path(__file__).resolve().parent.parent / "schema" / "schema.graphql"


def test_exported_schema_is_current() -> None:
    printed = print_schema(build_schema()) + "\n"
    assert SDL.read_text() == printed, "run: uv run kizuna schema export > schema/schema.graphql"
