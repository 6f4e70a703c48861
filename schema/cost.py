"""What a document may cost, known before it runs (as GitHub's node limit is).

Depth, alias and token limits bound a document's shape, not its work: 30 aliases of
`cases(first: 100) { totalCount }` pass them all and fetch 3,000 rows and count a tenant
thirty times, and a page of 100 cases each with its history, meetings' participants,
dispatches' visits and care relationships may fetch more than half a million objects.
The cost counts the work instead, as IBM's GraphQL cost directives do: every list field
declares its size beside its definition (`ListSize`, printed as `@listSize` in the SDL),
and

- every object the answer may hold costs 1 (a case, its person, each of its meetings),
  times the sizes of the lists around it: `cases(first: 100) { nodes { meetings { id } } }`
  costs 100 + 100 × 100. A type that is a value rather than something read declares a
  weight of 0 (`ObjectCost`, IBM's `@cost`): a fiscal year, a cell of a published table;
- a connection costs the rows of its page (`first`), read whether or not they are asked
  for; its `nodes` and its edges' `node` are those rows. Its edges and page info are the
  envelope of a list (the Relay specification's `…Connection`, `…Edge` and `PageInfo`) and
  cost nothing of their own;
- `totalCount` and `CaseConnection.stageCounts` cost `COUNT_COST` each time they are asked
  (counting under row security scans every row the caller may see; the stages' counts
  are one scan's answer, nothing more is read for them).

A list's size is its slicing argument's value (`first`, `last`: validated against
`MAX_PAGE_SIZE` by every resolver that takes one, so a larger one is clamped here rather
than refused twice), or its assumed size when none is given: a cap its resolver enforces,
or a bound the domain's rules keep. Fragments are followed; `@skip` and `@include` are
ignored, so the cost is an upper bound. The cost is computed per request, since `first`
may come from a variable, and a document above `MAX_COST` is refused before its
transaction opens.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import strawberry
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    is_composite_type,
)
from graphql.execution.values import VariableValues, get_argument_values, get_variable_values
from strawberry.schema_directive import Location

from kizuna.schema.relay import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

# Kizuna's heaviest documents: the prefecture's dashboard (about 2,000, most of it the
# submissions of 180 municipalities for ten years), the inbox (1,300) and the case page
# (about 1,100); docs/security-model.md, "Query cost".
MAX_COST = 3000
COUNT_COST = 100
# A connection's fields that count every row its filters select (a scan each).
COUNTING_FIELDS = frozenset({"totalCount", "stageCounts"})
CONNECTION_SUFFIX = "Connection"
# The Relay specification's envelope of a list: its connections, edges and page info.
ENVELOPE_SUFFIXES = (CONNECTION_SUFFIX, "Edge")
ENVELOPE_TYPES = frozenset({"PageInfo"})
RELAY_EDGE_NODE = "node"


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    description=(
        "リストの件数（上限、上限のないリストは見積もり。クエリのコスト計算に使う）。slicingArguments の引数の値、"
        "なければ assumedSize。sizedFields はその件数を持つ子フィールド（connection の edges と nodes）"
    ),
)
class ListSize:
    """The size of a list field, or of the lists (`sized_fields`) of the connection a field
    returns, for the cost (IBM's `@listSize`)."""

    # Unset arguments are left out of the printed SDL.
    assumed_size: int | None = strawberry.UNSET
    slicing_arguments: list[str] | None = strawberry.UNSET
    sized_fields: list[str] | None = strawberry.UNSET


@strawberry.schema_directive(
    locations=[Location.OBJECT],
    name="cost",
    description="このオブジェクト1件のコスト（既定は1。読み出しのない値は0）",
)
class ObjectCost:
    """What one object of the type costs, if not 1 (IBM's `@cost` on a type)."""

    weight: int


# A Relay connection field's declaration: `first` items, the default page size without it.
CONNECTION_SIZE = ListSize(assumed_size=DEFAULT_PAGE_SIZE, slicing_arguments=["first"], sized_fields=["edges", "nodes"])


def list_size(field: GraphQLField) -> ListSize | None:
    """The field's declaration, if it has one."""
    definition = (field.extensions or {}).get("strawberry-definition")
    for directive in getattr(definition, "directives", None) or ():
        if isinstance(directive, ListSize):
            return directive
    return None


def object_cost(named: GraphQLNamedType) -> int:
    """What one object of `named` costs: nothing for a scalar, an enum or a Relay envelope,
    its declared weight, or 1."""
    if not is_composite_type(named) or named.name.endswith(ENVELOPE_SUFFIXES) or named.name in ENVELOPE_TYPES:
        return 0
    definition = (named.extensions or {}).get("strawberry-definition")
    for directive in getattr(definition, "directives", None) or ():
        if isinstance(directive, ObjectCost):
            return directive.weight
    return 1


def operation_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Mapping[str, Any] | None,
) -> int:
    """The cost of `operation` (a validated operation of `document`) with `variables`."""
    root = schema.get_root_type(operation.operation)
    if root is None:
        return 0
    # Coerced as execution will coerce them (defaults filled in); variables that do not
    # coerce fail execution with their own errors, so they cost nothing here.
    coerced = get_variable_values(schema, operation.variable_definitions or (), dict(variables or {}))
    if isinstance(coerced, list):
        return 0
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    walk = _Walk(schema, fragments, coerced)
    return walk.selection_set(operation.selection_set, root, times=1, sized={})


class _Walk:
    def __init__(
        self, schema: GraphQLSchema, fragments: dict[str, FragmentDefinitionNode], variables: VariableValues
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables

    def selection_set(
        self, selections: SelectionSetNode, parent: GraphQLNamedType, *, times: int, sized: Mapping[str, int]
    ) -> int:
        """`times`: how many objects of `parent` this selection runs on; `sized`: the sizes
        the field that returned them gave to its lists (a connection's edges and nodes)."""
        total = 0
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                total += self.field(selection, parent, times=times, sized=sized)
                continue
            if isinstance(selection, InlineFragmentNode):
                condition, inner = selection.type_condition, selection.selection_set
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments[selection.name.value]
                condition, inner = fragment.type_condition, fragment.selection_set
            else:
                continue
            narrowed = parent if condition is None else self.schema.get_type(condition.name.value) or parent
            total += self.selection_set(inner, narrowed, times=times, sized=sized)
        return total

    def field(self, node: FieldNode, parent: GraphQLNamedType, *, times: int, sized: Mapping[str, int]) -> int:
        name = node.name.value
        if name.startswith("__") or not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            return 0
        definition = parent.fields.get(name)
        if definition is None:
            return 0
        if name in COUNTING_FIELDS and parent.name.endswith(CONNECTION_SUFFIX):
            return times * COUNT_COST
        declared = list_size(definition)
        size = self.size(definition, node, declared)
        named = get_named_type(definition.type)
        inner_sized: Mapping[str, int] = {}
        if declared is not None and declared.sized_fields:
            # A connection reads its page whether or not its items are asked for: it costs
            # its rows, and its lists' items are those rows.
            inner_sized = dict.fromkeys(declared.sized_fields, size)
            cost = times * size
        elif name in sized:
            # An item list of the connection around (paid for by it); an edge passes the
            # payment on to its `node`.
            times *= sized[name]
            inner_sized = {RELAY_EDGE_NODE: 1} if object_cost(named) == 0 else {}
            cost = 0
        else:
            times *= 1 if declared is None else size
            cost = times * object_cost(named)
        if node.selection_set is not None:
            cost += self.selection_set(node.selection_set, named, times=times, sized=inner_sized)
        return cost

    def size(self, definition: GraphQLField, node: FieldNode, declared: ListSize | None) -> int:
        """The declared list's size: its slicing argument's value, clamped to what its
        resolver accepts, or the assumed size."""
        if declared is None:
            return 1
        if declared.slicing_arguments:
            try:
                arguments = get_argument_values(definition, node, self.variables)
            except GraphQLError:  # execution refuses it with its own error
                return 0
            for argument in declared.slicing_arguments:
                value = arguments.get(argument)
                if isinstance(value, int):
                    return min(max(value, 0), MAX_PAGE_SIZE)
        return declared.assumed_size or 0
