"""Look-ahead at a resolver's selection, so one statement fetches what the query asks for.

This reads graphql-core's field nodes directly: strawberry's `info.selected_fields`
converts the whole selection tree (arguments, directives) on every call, which costs more
than the page's SQL.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from graphql import FieldNode, FragmentDefinitionNode, FragmentSpreadNode, InlineFragmentNode, SelectionNode
from strawberry.types import Info


def selected_names(info: Info[Any, Any]) -> frozenset[str]:
    """The field names selected directly under the current field (fragments expanded)."""
    raw = info._raw_info
    names: set[str] = set()
    for node in raw.field_nodes:
        if node.selection_set is not None:
            _collect(node.selection_set.selections, raw.fragments, names)
    return frozenset(names)


def _collect(
    selections: Iterable[SelectionNode], fragments: dict[str, FragmentDefinitionNode], names: set[str]
) -> None:
    for selection in selections:
        if isinstance(selection, FieldNode):
            names.add(selection.name.value)
        elif isinstance(selection, InlineFragmentNode):
            _collect(selection.selection_set.selections, fragments, names)
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value in fragments:
            _collect(fragments[selection.name.value].selection_set.selections, fragments, names)


def selected_names_under(info: Info[Any, Any], *path: str) -> frozenset[str]:
    """The field names selected at `path` below the current field (`"edges", "node"`:
    what a connection's nodes are asked for), fragments expanded."""
    raw = info._raw_info
    level: list[FieldNode] = list(raw.field_nodes)
    for step in path:
        below: list[FieldNode] = []
        for node in level:
            if node.selection_set is not None:
                _collect_fields(node.selection_set.selections, raw.fragments, step, below)
        level = below
    names: set[str] = set()
    for node in level:
        if node.selection_set is not None:
            _collect(node.selection_set.selections, raw.fragments, names)
    return frozenset(names)


def _collect_fields(
    selections: Iterable[SelectionNode], fragments: dict[str, FragmentDefinitionNode], name: str, found: list[FieldNode]
) -> None:
    for selection in selections:
        if isinstance(selection, FieldNode):
            if selection.name.value == name:
                found.append(selection)
        elif isinstance(selection, InlineFragmentNode):
            _collect_fields(selection.selection_set.selections, fragments, name, found)
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value in fragments:
            _collect_fields(fragments[selection.name.value].selection_set.selections, fragments, name, found)
