"""Preparing and executing operations: parse and validate once per document, execute many.

Strawberry defines the schema and resolves the fields; this module runs graphql-core's
pipeline around it directly. Strawberry's `Schema.execute` builds its extensions and runs
their hooks on every request, and validation rules added as extensions (depth, aliases)
run again on every request: a fifth of a page's time. Here a document is parsed (with a
token limit) and validated (standard rules plus depth and alias limits, and no
introspection in production) once, and the prepared operation is cached by its text.

The compiled path plugs in here (DESIGN section 5, issue 18): graphql-core's executor
completes values through schema/compiled.py's plans, and a query of one root field is
answered without graphql-core's executor at all (schema/compiled_root.py), graphql-core
remaining the fallback of both.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import lru_cache
from operator import attrgetter
from typing import Any, TypeGuard, cast

from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
    StringValueNode,
    execute,
    get_operation_ast,
    parse,
    specified_rules,
    validate,
)
from graphql.execution.incremental.incremental_executor import IncrementalExecutor
from graphql.validation import ASTValidationRule, NoSchemaIntrospectionCustomRule, ValidationRule
from strawberry import Schema
from strawberry.execution.is_awaitable import optimized_is_awaitable
from strawberry.extensions.max_aliases import create_validator as max_aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as max_depth_rule

from kizuna.schema.compiled import PlanCache, compiled_executor
from kizuna.schema.compiled_root import Outcome, RootPlan, RootPlans, execute_root, replay_root_fields, root_plan
from kizuna.schema.cost import operation_cost
from kizuna.schema.identity_cache import MISS, IdentityCache

MAX_DEPTH = 10
MAX_ALIASES = 30
MAX_TOKENS = 2000
CACHED_DOCUMENTS = 256
# strawberry's check is the fast one; graphql-core types it as a TypeGuard
IS_AWAITABLE = cast("Callable[[Any], TypeGuard[Awaitable[Any]]]", optimized_is_awaitable)


@dataclass(frozen=True, slots=True)
class PreparedDocument:
    """A document as parsed (None if it did not) and its errors (none when it may be executed)."""

    document: DocumentNode | None
    errors: tuple[GraphQLError, ...]

    def operation(self, operation_name: str | None) -> OperationDefinitionNode | None:
        return None if self.document is None else get_operation_ast(self.document, operation_name)


def _read_plain_fields_directly(schema: GraphQLSchema) -> None:
    """Resolve fields that only read an attribute with one call instead of strawberry's two.

    Strawberry marks such a field's resolver `_is_default` (no resolver of its own, no
    permission classes, no field extensions); it then calls the field's default resolver,
    which reads the attribute. A page of 50 cases resolves some 600 of these.
    """
    for graphql_type in schema.type_map.values():
        if not isinstance(graphql_type, GraphQLObjectType) or graphql_type.name.startswith("__"):
            continue
        for graphql_field in graphql_type.fields.values():
            definition = (graphql_field.extensions or {}).get("strawberry-definition")
            if definition is not None and getattr(graphql_field.resolve, "_is_default", False):
                graphql_field.resolve = _attribute_reader(definition.python_name)


def _attribute_reader(name: str) -> Callable[..., Any]:
    read = attrgetter(name)

    def resolve(source: Any, _info: Any) -> Any:
        return read(source)

    # What the compiled path reads instead of calling it (schema/compiled.py).
    resolve.reads_attribute = name  # type: ignore[attr-defined]
    return resolve


NUL_MESSAGE = "Text may not contain the NUL character (U+0000): PostgreSQL cannot store it."


class NoNulCharacters(ValidationRule):
    """A string literal holding U+0000 is refused with the document: no text column can
    store it, and the database would answer the statement with an error, not the caller."""

    def enter_string_value(self, node: StringValueNode, *_args: Any) -> None:
        if "\x00" in node.value:
            self.report_error(GraphQLError(NUL_MESSAGE, node))


class Executor:
    """Runs operations against one schema; documents are prepared once and cached."""

    def __init__(self, schema: Schema, *, introspection: bool, compiled: bool = True) -> None:
        self._graphql_schema: GraphQLSchema = schema._schema
        self._rules: tuple[type[ASTValidationRule], ...] = (
            *specified_rules,
            max_depth_rule(MAX_DEPTH, None),
            max_aliases_rule(MAX_ALIASES),
            NoNulCharacters,
            *(() if introspection else (NoSchemaIntrospectionCustomRule,)),
        )
        self.prepare = lru_cache(maxsize=CACHED_DOCUMENTS)(self.parse_and_validate)
        _read_plain_fields_directly(self._graphql_schema)
        self.plans = PlanCache()
        self._fixed_costs: IdentityCache[int] = IdentityCache(CACHED_DOCUMENTS)
        self._executor_class = compiled_executor(self.plans) if compiled else None
        self.roots = RootPlans()
        if compiled:
            replay_root_fields(self._graphql_schema)

    def cost(self, document: DocumentNode, operation: OperationDefinitionNode, variables: dict[str, Any] | None) -> int:
        """What `operation` may cost with `variables` (schema/cost.py)."""
        if operation.variable_definitions:
            return operation_cost(self._graphql_schema, document, operation, variables)
        # Without variables, an operation costs the same every time: weighed once.
        cost = self._fixed_costs.get((operation,))
        if cost is MISS:
            cost = operation_cost(self._graphql_schema, document, operation, None)
            self._fixed_costs.put((operation,), cost)
        return cost

    def parse_and_validate(self, query: str) -> PreparedDocument:
        """`query` prepared, not cached: `prepare` caches it by its text (the least used of
        CACHED_DOCUMENTS goes), the trusted documents keep theirs (schema/trusted_documents.py)."""
        try:
            document = parse(query, max_tokens=MAX_TOKENS)
        except GraphQLError as error:
            return PreparedDocument(None, (error,))
        return PreparedDocument(document, tuple(validate(self._graphql_schema, document, self._rules)))

    async def execute(
        self,
        document: DocumentNode,
        *,
        context: Any,
        variables: dict[str, Any] | None,
        operation_name: str | None,
    ) -> ExecutionResult:
        plan = self._root_plan(document, context, variables, operation_name)
        if plan is None:
            return await self._execute(document, context, variables, operation_name, None)
        answer = await execute_root(
            plan, self._graphql_schema, context=context, variables=variables, is_awaitable=IS_AWAITABLE
        )
        if isinstance(answer, ExecutionResult):
            self.roots.taken += 1
            self.plans.compiled += 1  # the root field's value
            return answer
        return await self._execute(document, context, variables, operation_name, answer)

    def _root_plan(
        self, document: DocumentNode, context: Any, variables: dict[str, Any] | None, operation_name: str | None
    ) -> RootPlan | None:
        """The document's root plan (schema/compiled_root.py), made on its first request."""
        if self._executor_class is None:
            return None
        plan = self.roots.get((document,), operation_name)
        if plan is not MISS:
            return plan
        executor = self._executor_class.build(self._graphql_schema, document, None, context, variables, operation_name)
        if not isinstance(executor, IncrementalExecutor):  # no such operation, or variables that do not coerce
            return None
        plan = root_plan(executor, self.plans)
        self.roots.put((document,), plan, operation_name)
        return plan

    async def _execute(
        self,
        document: DocumentNode,
        context: Any,
        variables: dict[str, Any] | None,
        operation_name: str | None,
        root: Outcome | None,
    ) -> ExecutionResult:
        """graphql-core's execution; `root`: what the root resolver already gave, if it ran."""
        outcome = execute(
            self._graphql_schema,
            document,
            root_value=root,
            context_value=context,
            variable_values=variables,
            operation_name=operation_name,
            is_awaitable=IS_AWAITABLE,
            executor_class=self._executor_class,
        )
        return await outcome if isinstance(outcome, Awaitable) else outcome
