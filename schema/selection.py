"""Look-ahead at a resolver's selection, so one statement fetches what the query asks for."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from strawberry.types import Info
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField


def selected_names(info: Info[Any, Any]) -> frozenset[str]:
    """The field names selected directly under the current field (fragments expanded)."""
    names: set[str] = set()
    for field in info.selected_fields:
        _collect(field.selections, names)
    return frozenset(names)


def _collect(selections: Iterable[object], names: set[str]) -> None:
    for selection in selections:
        if isinstance(selection, SelectedField):
            names.add(selection.name)
        elif isinstance(selection, (FragmentSpread, InlineFragment)):
            _collect(selection.selections, names)
