"""Objects read from a statement's rows, and lists of them that keep their rows.

A page of 50 cases was 50 rows made into some 200 strawberry objects (the case, its
person, its organisation, its edge), which the executor then read back field by field, for
the handful of fields the document selected. A `RowShape` says once how each field of a
type is read from a row. `RowShape.build` makes the object (for graphql-core, the
mutations' payloads and `node(id:)`), and the compiled path (schema/compiled.py) completes
a `Rows` list straight from its rows, reading only the fields the document selects: no
object per row, and the same readers, so the two cannot disagree on a value.

A reader takes the row and the list's `context`: what every row of one answer shares (the
cases' "today", so that one page never straddles midnight).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, Generic, TypeVar, overload

T = TypeVar("T")
E = TypeVar("E", bound=Enum)

Reader = Callable[[Any, Any], Any]
"""A field's value from (row, context)."""


@dataclass(frozen=True, slots=True, eq=False)
class Nested:
    """A field whose object is read from the same row (a case's person, its organisation)."""

    shape: RowShape[Any]
    present: Reader | None = None
    """Whether the row has the object (None: it always has)."""


@dataclass(frozen=True, slots=True, eq=False)
class RowShape(Generic[T]):
    """How `graphql_type`'s fields (by their Python names) are read from one row. The
    fields it does not name keep their defaults: a field with a resolver of its own is
    resolved from the built object, so a document selecting one is completed by
    graphql-core."""

    graphql_type: Callable[..., T]
    fields: Mapping[str, Reader | Nested]

    def __post_init__(self) -> None:
        # The compiled path finds a type's shapes here (`shapes_of`). Shapes are module
        # constants, declared once beside their type's statements.
        _SHAPES.setdefault(self.graphql_type, []).append(self)

    def build(self, row: Any, context: Any = None) -> T:
        values = {}
        for name, read in self.fields.items():
            if isinstance(read, Nested):
                present = read.present is None or read.present(row, context)
                values[name] = read.shape.build(row, context) if present else None
            else:
                values[name] = read(row, context)
        return self.graphql_type(**values)


_SHAPES: dict[Callable[..., Any], list[RowShape[Any]]] = {}


def shapes_of(graphql_type: Callable[..., Any]) -> tuple[RowShape[Any], ...]:
    """Every shape declared for a strawberry type."""
    return tuple(_SHAPES.get(graphql_type, ()))


class Rows(Sequence[T]):
    """The objects of `shape` for `rows`, built on first use (graphql-core iterates them);
    the compiled path reads `rows` instead and never builds them."""

    __slots__ = ("_built", "context", "rows", "shape")

    def __init__(self, shape: RowShape[T], rows: Sequence[Any], context: Any = None) -> None:
        self.shape, self.rows, self.context = shape, rows, context
        self._built: list[T] | None = None

    def _objects(self) -> list[T]:
        if self._built is None:
            self._built = [self.shape.build(row, self.context) for row in self.rows]
        return self._built

    @overload
    def __getitem__(self, index: int) -> T: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[T]: ...
    def __getitem__(self, index: int | slice) -> T | Sequence[T]:
        return self._objects()[index]

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[T]:
        return iter(self._objects())


# The readers below are the common ones; the compiled path writes each inline (a call less
# per field and row) and calls any other reader as it is.


@dataclass(frozen=True, slots=True)
class Column:
    """The row's column `name`, as it is."""

    name: str

    def __call__(self, row: Any, _context: Any) -> Any:
        return row[self.name]


def column(name: str) -> Reader:
    """The row's column `name`, as it is."""
    return Column(name)


@dataclass(frozen=True, slots=True)
class Converted:
    """`convert` of the row's column `name` (a global id from a key, say)."""

    name: str
    convert: Callable[[Any], Any]

    def __call__(self, row: Any, _context: Any) -> Any:
        return self.convert(row[self.name])


@dataclass(frozen=True, slots=True, eq=False)
class Member(Generic[E]):
    """The member of `enum_type` the row's column `name` holds (its value as stored)."""

    enum_type: type[E]
    name: str
    by_value: Mapping[Any, E]

    def __call__(self, row: Any, _context: Any) -> E:
        value = row[self.name]
        found = self.by_value.get(value)
        return self.enum_type(value) if found is None else found  # an unknown value raises as enum_type() does


def member(enum_type: type[E], name: str) -> Reader:
    """The member of `enum_type` the row's column `name` holds (its value as stored)."""
    return Member(enum_type, name, {item.value: item for item in enum_type})


@dataclass(frozen=True, slots=True)
class Present:
    """Whether the row's column `name` holds a value (a nested object's key, say)."""

    name: str

    def __call__(self, row: Any, _context: Any) -> bool:
        return row[self.name] is not None
