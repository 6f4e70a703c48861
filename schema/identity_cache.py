"""A cache keyed by the identity of the objects a value was made from: a document, an
operation, a type and its field nodes. Parsed documents are cached by their text
(schema/execution.py), so the same objects come back request after request, and their
identity is the cheapest key there is."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from enum import Enum
from typing import Generic, Literal, TypeVar

V = TypeVar("V")


class Miss(Enum):
    MISS = "miss"


MISS = Miss.MISS
"""What `IdentityCache.get` returns for a value it does not hold (a held value may be None)."""


class IdentityCache(Generic[V]):
    """Values by the identity of the objects they were made from (and a name, such as an
    operation's). An entry holds its objects, so their ids are not reused while it is
    kept; past `size` entries the least recently used goes."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[tuple[Hashable, ...], tuple[tuple[object, ...], V]] = OrderedDict()

    def get(self, objects: tuple[object, ...], name: str | None = None) -> V | Literal[Miss.MISS]:
        key = (name, *map(id, objects))
        found = self._entries.get(key)
        if found is None:
            return MISS
        self._entries.move_to_end(key)
        return found[1]

    def put(self, objects: tuple[object, ...], value: V, name: str | None = None) -> None:
        self._entries[name, *map(id, objects)] = (objects, value)
        if len(self._entries) > self._size:
            self._entries.popitem(last=False)
