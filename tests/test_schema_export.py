"""`schema/schema.graphql` is the exported SDL and is kept current (like NetBox's openapi check),
and every enum in it says in Japanese what it and each of its values mean."""

from __future__ import annotations

import enum
from pathlib import Path

import pytest
from graphql import GraphQLEnumType
from graphql import build_schema as build_from_sdl
from strawberry.printer import print_schema

from kizuna.schema.enums import graphql_enum
from kizuna.schema.root import build_schema

SDL = Path(__file__).resolve().parent.parent / "schema" / "schema.graphql"


def test_exported_schema_is_current() -> None:
    printed = print_schema(build_schema()) + "\n"
    assert SDL.read_text() == printed, "run: uv run kizuna schema export > schema/schema.graphql"


def undescribed_enums(sdl: str) -> list[str]:
    """Every enum of `sdl`, and every value, that has no description (introspection's own aside)."""
    missing: list[str] = []
    for name, graphql_type in build_from_sdl(sdl).type_map.items():
        if not isinstance(graphql_type, GraphQLEnumType) or name.startswith("__"):
            continue
        if not graphql_type.description:
            missing.append(name)
        missing += [f"{name}.{value}" for value, defined in graphql_type.values.items() if not defined.description]
    return missing


def test_every_enum_and_value_is_described() -> None:
    assert undescribed_enums(print_schema(build_schema())) == []


def test_an_undescribed_enum_or_value_is_found() -> None:
    sdl = '''
    type Query { a: A, b: B }
    enum A { X Y }
    """B"""
    enum B { """x""" X Y }
    '''
    assert undescribed_enums(sdl) == ["A", "A.X", "A.Y", "B.Y"]


def test_an_enum_without_labels_is_refused_when_declared() -> None:
    class Plain(enum.StrEnum):
        ONE = "one"

    with pytest.raises(TypeError, match=r"Plain\.ONE has no Japanese label"):
        graphql_enum(Plain, "説明")
