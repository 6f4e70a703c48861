"""A query of one root field, answered without graphql-core's executor (issue 18).

For every request graphql-core builds an executor (the operation, its fragments, its
variables, an error collector), collects the root fields, builds the resolver's resolve
info, reads the arguments, calls and awaits the resolver and completes its value, then
builds the result: about 0.2 ms of a page's 1.4 ms of server time (docs/benchmarks.md).
Most requests are a query of one root field (a page of cases, of referrals); where the
compiled path completes its value (schema/compiled.py; not `node(id:)`, an interface), what
does not change from one request to the next is worked out once per document (`RootPlan`):
the root field, its resolve info but for the request's context, the completion function,
and the arguments when the operation declares no variables. A request then coerces its
variables and reads the arguments with graphql-core's own functions, calls the same
resolver with the resolve info graphql-core would give it, and completes the value.

graphql-core stays the reference and the fallback. Variables or arguments that do not
coerce, a resolver that raises, a completion that gives up: the request is executed by
graphql-core after all. A resolver that already ran is not called again: its outcome (value
or exception) is handed to graphql-core in its place (`replaying`), so no statement runs
twice and the answer, errors, paths and null propagation are exactly graphql-core's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, TypeGuard

from graphql import (
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLField,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
)
from graphql.execution.collect_fields import collect_fields
from graphql.execution.incremental.incremental_executor import IncrementalExecutor
from graphql.execution.values import VariableValues, get_argument_values, get_variable_values
from graphql.pyutils import Path, gather_with_cancel
from graphql.type.definition import GraphQLResolveInfoHelpers

from kizuna.schema.compiled import Plan, PlanCache
from kizuna.schema.identity_cache import IdentityCache

# graphql-core's default for `execute`: the same variable errors either way.
MAX_COERCION_ERRORS = 50
CACHED_ROOTS = 256
_IMMUTABLE = (str, int, float, bool, Enum)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a root resolver gave, handed to graphql-core in place of calling it again."""

    value: Any
    error: Exception | None = None


def replaying(resolve: Callable[..., Any]) -> Callable[..., Any]:
    """`resolve`, except that with an `Outcome` as its source (graphql-core passes the
    operation's root value to a root field) it answers with that outcome."""
    if getattr(resolve, "replays", False):
        return resolve

    def resolve_or_replay(source: Any, info: GraphQLResolveInfo[Any], **arguments: Any) -> Any:
        if type(source) is Outcome:
            if source.error is not None:
                raise source.error
            return source.value
        return resolve(source, info, **arguments)

    resolve_or_replay.replays = True  # type: ignore[attr-defined]
    return resolve_or_replay


def replay_root_fields(schema: GraphQLSchema) -> None:
    """Let every root query field's resolver be replayed (`replaying`)."""
    query = schema.query_type
    for field in () if query is None else query.fields.values():
        if field.resolve is not None:
            field.resolve = replaying(field.resolve)


@dataclass(frozen=True, slots=True)
class RootPlan:
    """What a query of one root field does the same on every request."""

    operation: OperationDefinitionNode
    field: GraphQLField
    field_node: FieldNode
    field_nodes: list[FieldNode]
    response_key: str
    path: Path
    parent_type: GraphQLObjectType
    fragments: dict[str, FragmentDefinitionNode]
    complete: Plan
    fixed: tuple[VariableValues, dict[str, Any]] | None
    """The variables and the arguments, if the operation declares no variables and every
    argument is a value no resolver can change (a string, a number, an enum member)."""

    def arguments(
        self, schema: GraphQLSchema, variables: dict[str, Any] | None
    ) -> tuple[VariableValues, dict[str, Any]] | None:
        """The request's coerced variables and the field's arguments, as graphql-core reads
        them; None if they do not coerce (graphql-core then says why)."""
        if self.fixed is not None:
            return self.fixed
        values = get_variable_values(
            schema, self.operation.variable_definitions or (), variables or {}, max_errors=MAX_COERCION_ERRORS
        )
        if isinstance(values, list):
            return None
        try:
            return values, get_argument_values(self.field, self.field_node, values)
        except Exception:  # noqa: BLE001  (graphql-core reports it as the field's error)
            return None


def root_plan(executor: IncrementalExecutor, plans: PlanCache) -> RootPlan | None:
    """The plan of `executor`'s operation, if it is a query of exactly one field of the
    query type, without directives, whose value the compiled path completes."""
    operation = executor.operation
    query = executor.schema.query_type
    if query is None or operation.operation is not OperationType.QUERY or operation.directives:
        return None
    selections = operation.selection_set.selections
    if len(selections) != 1 or not isinstance(selections[0], FieldNode) or selections[0].directives:
        return None
    node = selections[0]
    field = query.fields.get(node.name.value)  # None for __typename and introspection
    if field is None or field.resolve is None:
        return None
    grouped = collect_fields(
        executor.schema, executor.fragments, executor.variable_values, query, operation
    ).grouped_field_set
    ((response_key, group),) = grouped.items()
    complete = plans.plan(executor, field.type, group)
    if complete is None:
        return None
    fixed = None
    if not operation.variable_definitions:
        try:
            arguments = get_argument_values(field, node, executor.variable_values)
        except Exception:  # noqa: BLE001  (graphql-core reports it, request by request)
            return None
        # Read once only if no request can change them: a list or an input object is
        # read anew for each request, as graphql-core does.
        if all(isinstance(value, _IMMUTABLE) or value is None for value in arguments.values()):
            fixed = (executor.variable_values, arguments)
    return RootPlan(
        operation,
        field,
        node,
        [node],
        response_key,
        Path(None, response_key, query.name),
        query,
        executor.fragment_definitions,
        complete,
        fixed,
    )


async def execute_root(
    plan: RootPlan,
    schema: GraphQLSchema,
    *,
    context: Any,
    variables: dict[str, Any] | None,
    is_awaitable: Callable[[Any], TypeGuard[Awaitable[Any]]],
) -> ExecutionResult | Outcome | None:
    """Run `plan`'s query for one request. Where anything is not as the plan expects, what
    graphql-core is to execute the operation with instead: None if the resolver did not
    run, its `Outcome` if it did."""
    arguments = plan.arguments(schema, variables)
    if arguments is None:
        return None
    variable_values, field_arguments = arguments
    tracked: list[Awaitable[Any]] = []
    info = GraphQLResolveInfo(
        plan.field_node.name.value,
        plan.field_nodes,
        plan.field.type,
        plan.parent_type,
        plan.path,
        schema,
        plan.fragments,
        None,
        plan.operation,
        variable_values,
        context,
        is_awaitable,
        None,
        GraphQLResolveInfoHelpers(gather=_gather, track=_tracker(tracked, is_awaitable)),
    )
    try:
        value = plan.field.resolve(None, info, **field_arguments)  # type: ignore[misc]
        if is_awaitable(value):
            value = await value
    except Exception as error:  # noqa: BLE001  (graphql-core makes it the field's error)
        await _settle(tracked)
        return Outcome(None, error)
    await _settle(tracked)
    try:
        data = plan.complete(value)
    except Exception:  # noqa: BLE001  (graphql-core completes it, errors and all)
        return Outcome(value)
    return ExecutionResult({plan.response_key: data}, None)


def _gather(values: Sequence[Awaitable[Any]]) -> Awaitable[list[Any]]:
    """`info.async_helpers.gather`, as graphql-core's executor gives it."""
    return gather_with_cancel(*values)


def _tracker(tracked: list[Awaitable[Any]], is_awaitable: Callable[[Any], bool]) -> Callable[[Sequence[Any]], None]:
    """`info.async_helpers.track`: the resolver's pending work, settled before the answer
    (graphql-core's executor settles it before it completes too)."""

    def track(values: Sequence[Any]) -> None:
        tracked.extend(value for value in values if is_awaitable(value))

    return track


async def _settle(tracked: list[Awaitable[Any]]) -> None:
    if tracked:
        await asyncio.gather(*tracked, return_exceptions=True)


class RootPlans(IdentityCache["RootPlan | None"]):
    """Root plans by (document, operation name); a document with none is remembered too."""

    def __init__(self, size: int = CACHED_ROOTS) -> None:
        super().__init__(size)
        self.taken = 0
        """How many requests were answered by a root plan (the differential tests read it)."""
