"""What a document may cost, known before it runs (as GitHub's node limit is).

Depth, alias and token limits bound a document's shape, not its work: 30 aliases of
`cases(first: 100) { totalCount }` pass them all and fetch 3,000 rows and count a tenant
thirty times. The cost counts the work instead, from the page sizes the document asks for:

- a connection costs the rows it may return (`first`, or the default page size), times
  the rows of the connections around it;
- `totalCount` costs `COUNT_COST` more (counting under row security scans every row the
  caller may see);
- any other root field costs 1.

Fragments are followed; `@skip` and `@include` are ignored, so the cost is an upper bound.
The cost is computed per request, since `first` may come from a variable, and a document
above `MAX_COST` is refused before its transaction opens.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInt,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    value_from_ast,
)
from graphql.execution.values import get_variable_values

from kizuna.schema.relay import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

MAX_COST = 1000
COUNT_COST = 100
CONNECTION_SUFFIX = "Connection"


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
    walk = _Walk(schema, fragments, coerced.coerced)
    return walk.selection_set(operation.selection_set, root, rows=1, outer_rows=1, at_root=True)


class _Walk:
    def __init__(
        self, schema: GraphQLSchema, fragments: dict[str, FragmentDefinitionNode], variables: dict[str, Any]
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables

    def selection_set(
        self, selections: SelectionSetNode, parent: GraphQLNamedType, *, rows: int, outer_rows: int, at_root: bool
    ) -> int:
        """`rows`: how many times this selection runs; `outer_rows`: how many times the
        connection it belongs to runs (what a `totalCount` in it is counted by)."""
        total = 0
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                total += self.field(selection, parent, rows=rows, outer_rows=outer_rows, at_root=at_root)
                continue
            if isinstance(selection, InlineFragmentNode):
                condition, inner = selection.type_condition, selection.selection_set
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments[selection.name.value]
                condition, inner = fragment.type_condition, fragment.selection_set
            else:
                continue
            narrowed = parent if condition is None else self.schema.get_type(condition.name.value) or parent
            total += self.selection_set(inner, narrowed, rows=rows, outer_rows=outer_rows, at_root=at_root)
        return total

    def field(self, node: FieldNode, parent: GraphQLNamedType, *, rows: int, outer_rows: int, at_root: bool) -> int:
        name = node.name.value
        if name.startswith("__") or not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            return 0
        definition = parent.fields.get(name)
        if definition is None:
            return 0
        if name == "totalCount" and parent.name.endswith(CONNECTION_SUFFIX):
            return outer_rows * COUNT_COST
        named = get_named_type(definition.type)
        cost, inner_rows, inner_outer = (1 if at_root else 0), rows, outer_rows
        if named.name.endswith(CONNECTION_SUFFIX):
            inner_rows, inner_outer = rows * self.page_size(node), rows
            cost = inner_rows
        if node.selection_set is not None:
            cost += self.selection_set(
                node.selection_set, named, rows=inner_rows, outer_rows=inner_outer, at_root=False
            )
        return cost

    def page_size(self, node: FieldNode) -> int:
        """The rows a connection may return; an out-of-range `first` is refused by its
        resolver, so it is clamped here rather than refused twice."""
        for argument in node.arguments or ():
            if argument.name.value == "first":
                first = value_from_ast(argument.value, GraphQLInt, self.variables)
                if isinstance(first, int):
                    return min(max(first, 1), MAX_PAGE_SIZE)
                return DEFAULT_PAGE_SIZE
        return DEFAULT_PAGE_SIZE
