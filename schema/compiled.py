"""A compiled completion path beside graphql-core's (DESIGN section 5, issue 18).

graphql-core completes a result field by field: for every field of every object it builds
the resolve info, calls the resolver, and completes the value through several generic
steps, some ten microseconds a field. Most of a page's fields only read an attribute of an
object its resolver returned (schema/execution.py `attribute_reader`). For such a subtree
(each object's fields read attributes, each value is a scalar, an enum, a list or such an
object), this module generates once a Python function that completes the whole value in
straight-line code: one dictionary per object, written in graphql-core's key order.

graphql-core stays the reference and the fallback. The compiled function gives up on
anything it does not expect (a null in a non-null place, a value of another type than
its fast path's, a failed coercion, any exception), and graphql-core then completes the
same, already resolved value itself, so errors, their paths and null propagation are
exactly graphql-core's. What is compiled and what is not: docs/benchmarks.md.

Generated code holds no text from a document: names, aliases and types are bound as
values of the function's namespace, and the attribute names are the schema's own.
"""

from __future__ import annotations

import datetime as dt
import itertools
import keyword
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import Enum
from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLField,
    GraphQLFloat,
    GraphQLID,
    GraphQLInt,
    GraphQLLeafType,
    GraphQLList,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLString,
    InlineFragmentNode,
    SelectionSetNode,
    Undefined,
    VariableNode,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
)
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet, collect_subfields
from graphql.execution.incremental.incremental_executor import IncrementalExecutor
from graphql.language import Visitor, visit
from graphql.pyutils import Path
from strawberry.schema.types.base_scalars import isoformat

from kizuna.schema.identity_cache import MISS, IdentityCache
from kizuna.schema.rows import Column, Converted, Member, Nested, Present, Reader, Rows, RowShape, shapes_of

CACHED_PLANS = 4096
MAX_INT = 2**31 - 1
MIN_INT = -(2**31)


class GiveUp(Exception):
    """The compiled function met something it does not complete; graphql-core will."""


Plan = Callable[[Any], Any]


def attribute_name(resolve: Callable[..., Any] | None) -> str | None:
    """The attribute a field's resolver reads, if it is schema/execution.py's reader."""
    return getattr(resolve, "reads_attribute", None)


def _strawberry_is_type_of(is_type_of: Callable[..., Any]) -> bool:
    """Whether `is_type_of` is the one strawberry gives a type with interfaces: it reads the
    object only (never the resolve info), so it can be called without one."""
    return getattr(is_type_of, "__qualname__", "").endswith("_get_is_type_of.<locals>.is_type_of")


class _NotCompilable(Exception):
    """A part of the selection the compiler does not handle: graphql-core completes it."""


class _UsesVariables(Visitor):
    found = False

    def enter_variable(self, _node: VariableNode, *_args: Any) -> None:
        self.found = True


class _Compiler:
    """Generates one completion function for a value of `return_type` selected by a field
    group; None where a part of it cannot be compiled."""

    def __init__(self, executor: IncrementalExecutor) -> None:
        self.executor = executor
        self.namespace: dict[str, Any] = {
            "GiveUp": GiveUp,
            "Undefined": Undefined,
            "isfinite": math.isfinite,
            "Rows": Rows,
            "required": _required,
        }
        self.lines: list[str] = []
        self._names = itertools.count()

    def name(self, prefix: str) -> str:
        return f"{prefix}{next(self._names)}"

    def bind(self, value: Any, prefix: str = "c") -> str:
        name = self.name(prefix)
        self.namespace[name] = value
        return name

    def compile(self, return_type: GraphQLOutputType, field_details_list: FieldDetailsList) -> Plan | None:
        try:
            entry = self.value(return_type, field_details_list)
        except _NotCompilable:
            return None
        exec("\n".join(self.lines), self.namespace)  # noqa: S102  (generated from the schema, see the module's docstring)
        plan: Plan = self.namespace[entry]
        return plan

    def value(self, return_type: GraphQLOutputType, field_details_list: FieldDetailsList) -> str:
        """The name of a generated function completing one value of `return_type`."""
        if is_non_null_type(return_type):
            inner = self.value(return_type.of_type, field_details_list)
            name = self.name("nonnull")
            self.lines += [
                f"def {name}(v):",
                f"    r = {inner}(v)",
                "    if r is None:",
                "        raise GiveUp",
                "    return r",
            ]
            return name
        if is_list_type(return_type):
            return self.list_value(return_type, field_details_list)
        if is_leaf_type(return_type):
            return self.leaf_value(return_type)
        if is_object_type(return_type):
            return self.object_value(return_type, field_details_list)
        raise _NotCompilable  # interfaces and unions

    def list_value(self, return_type: GraphQLList[Any], field_details_list: FieldDetailsList) -> str:
        item = self.value(return_type.of_type, field_details_list)
        from_rows = self.rows_table(return_type.of_type, field_details_list)
        name = self.name("list")
        self.lines += [
            f"def {name}(v):",
            "    if v is None or v is Undefined:",
            "        return None",
            *(
                [
                    "    if type(v) is Rows:",
                    f"        f = {from_rows}.get(v.shape)",
                    "        if f is None:",
                    "            raise GiveUp",
                    "        c = v.context",
                    "        return [f(r, c) for r in v.rows]",
                ]
                if from_rows
                else []
            ),
            "    if type(v) is not list and type(v) is not tuple:",
            "        raise GiveUp",
            f"    return [{item}(i) for i in v]",
        ]
        return name

    def rows_table(self, item_type: GraphQLOutputType, field_details_list: FieldDetailsList) -> str | None:
        """A table of the item's completions from rows, by shape (schema/rows.py): one for
        each shape of the item's type that has every selected field; None if none has."""
        named = item_type.of_type if is_non_null_type(item_type) else item_type
        if not is_object_type(named):
            return None
        completions = {}
        for shape in shapes_of(_origin(named)):
            try:
                completions[self.bind(shape, "shape")] = self.row_object_value(named, field_details_list, shape)
            except _NotCompilable:
                continue
        if not completions:
            return None
        table = self.name("rows")
        self.lines.append(f"{table} = {{{', '.join(f'{s}: {f}' for s, f in completions.items())}}}")
        return table

    def row_object_value(
        self, return_type: GraphQLObjectType, field_details_list: FieldDetailsList, shape: RowShape[Any]
    ) -> str:
        """The name of a generated function completing one object of `return_type` from a
        row and its list's context, with `shape`'s readers: no object is built."""
        name = self.name("rowobj")
        display = self.row_object_display(return_type, field_details_list, shape)
        self.lines += [f"def {name}(r, c):", f"    return {display}"]
        return name

    def row_object_display(
        self, return_type: GraphQLObjectType, field_details_list: FieldDetailsList, shape: RowShape[Any]
    ) -> str:
        """One object of `return_type` from the row `r` and the context `c`, as an
        expression: its nested objects are written inside it, and the common readers
        (schema/rows.py) inline."""
        if shape.graphql_type is not _origin(return_type):
            raise _NotCompilable

        def from_row(field: GraphQLField, group: FieldDetailsList, attribute: str) -> str:
            read = shape.fields.get(attribute)
            if read is None:
                raise _NotCompilable
            if not isinstance(read, Nested):
                return self.completion(field.type, group, self.read_expression(read))
            field_type = field.type
            nullable = not is_non_null_type(field_type)
            named = field_type.of_type if is_non_null_type(field_type) else field_type
            if not is_object_type(named):
                raise _NotCompilable
            inner = self.row_object_display(named, group, read.shape)
            if read.present is None:
                return inner
            inner = f"({inner} if {self.read_expression(read.present)} else None)"
            return inner if nullable else f"required({inner})"

        return self.dict_display(return_type, field_details_list, from_row)

    def read_expression(self, read: Reader) -> str:
        """What `read` reads from the row `r` (with the context `c`), as an expression."""
        if isinstance(read, Column):
            return f"r[{self.bind(read.name, 'col')}]"
        if isinstance(read, Converted):
            return f"{self.bind(read.convert, 'convert')}(r[{self.bind(read.name, 'col')}])"
        if isinstance(read, Member):
            # A value that names no member raises KeyError: the value is given up, and
            # graphql-core's completion meets the reader's own error.
            return f"{self.bind(read.by_value, 'members')}[r[{self.bind(read.name, 'col')}]]"
        if isinstance(read, Present):
            return f"(r[{self.bind(read.name, 'col')}] is not None)"
        return f"{self.bind(read, 'read')}(r, c)"

    def leaf_value(self, return_type: GraphQLLeafType) -> str:
        name = self.name("leaf")
        coerce = self.bind(return_type.coerce_output_value, "coerce")
        fast = self.fast_leaf(return_type)
        self.lines += [
            f"def {name}(v):",
            "    if v is None or v is Undefined:",
            "        return None",
            *([f"    if {fast.test('v', 'v')}:", f"        return {fast.result('v')}"] if fast else []),
            f"    r = {coerce}(v)",
            "    if r is None or r is Undefined:",
            "        raise GiveUp",
            "    return r",
        ]
        return name

    def fast_leaf(self, return_type: GraphQLLeafType) -> _FastLeaf | None:
        """Where graphql-core's coercion of a value of one Python type is known without
        calling it: the value itself (strings, booleans, 32-bit ints, finite floats), a date
        or a moment's `isoformat()` (strawberry's Date and DateTime, for exactly `date` and
        `datetime`), or a strawberry enum member's name, as the enum's own coercion names it
        (it scans every value for each member it is given)."""
        plain = {GraphQLString: str, GraphQLID: str, GraphQLBoolean: bool, GraphQLInt: int, GraphQLFloat: float}
        if return_type in plain:
            checks = {GraphQLInt: f"{MIN_INT} <= {{}} <= {MAX_INT}", GraphQLFloat: "isfinite({})"}
            return _FastLeaf(self.bind(plain[return_type], "type"), checks.get(return_type), "{}")
        # strawberry's Date and DateTime: what their coercion calls, without the call.
        if getattr(return_type, "coerce_output_value", None) is isoformat:
            moments = {"Date": dt.date, "DateTime": dt.datetime}
            if return_type.name in moments:
                return _FastLeaf(self.bind(moments[return_type.name], "type"), None, "{}.isoformat()")
        members = getattr(return_type, "wrapped_cls", None)
        if not isinstance(return_type, GraphQLEnumType) or not (
            isinstance(members, type) and issubclass(members, Enum)
        ):
            return None
        names = {}
        for item in members:
            try:
                names[item] = return_type.coerce_output_value(item)
            except Exception:  # noqa: BLE001, S112  (a member it cannot name gives up at run time)
                continue
        return _FastLeaf(self.bind(members, "enum"), None, f"{self.bind(names, 'names')}[{{}}]")

    def completion(self, field_type: GraphQLOutputType, group: FieldDetailsList, value: str) -> str:
        """An expression completing `value` (an expression) as `field_type`: a leaf's fast
        path inline (a call less per value and level), its function otherwise."""
        complete = self.value(field_type, group)
        named = field_type.of_type if is_non_null_type(field_type) else field_type
        fast = self.fast_leaf(named) if is_leaf_type(named) else None
        if fast is None:
            return f"{complete}({value})"
        return f"({fast.result('x')} if {fast.test(f'(x := {value})', 'x')} else {complete}(x))"

    def object_value(self, return_type: GraphQLObjectType, field_details_list: FieldDetailsList) -> str:
        is_type_of = return_type.is_type_of
        if is_type_of is not None and not _strawberry_is_type_of(is_type_of):
            raise _NotCompilable

        def from_attribute(field: GraphQLField, group: FieldDetailsList, attribute: str) -> str:
            if attribute.isidentifier() and not keyword.iskeyword(attribute):
                return self.completion(field.type, group, f"v.{attribute}")
            return self.completion(field.type, group, f"getattr(v, {self.bind(attribute, 'a')})")

        display = self.dict_display(return_type, field_details_list, from_attribute)
        name = self.name("obj")
        check = self.bind(is_type_of, "is_type_of") if is_type_of is not None else None
        self.lines += [
            f"def {name}(v):",
            "    if v is None or v is Undefined:",
            "        return None",
            *([f"    if {check}(v, None) is not True:", "        raise GiveUp"] if check else []),
            f"    return {display}",
        ]
        return name

    def dict_display(
        self,
        return_type: GraphQLObjectType,
        field_details_list: FieldDetailsList,
        value: Callable[[GraphQLField, FieldDetailsList, str], str],
    ) -> str:
        """One object's answer as a dictionary display, in graphql-core's key order:
        `__typename` a constant, every other field the expression `value` writes from the
        field, its group and the attribute it reads."""
        entries: list[str] = []
        for response_key, group in self.subfields(return_type, field_details_list).items():
            key = self.bind(response_key, "k")
            field_name = group[0].node.name.value
            if field_name == "__typename":
                entries.append(f"{key}: {self.bind(return_type.name, 't')}")
                continue
            attribute = self.attribute(return_type, field_name, group)
            entries.append(f"{key}: {value(return_type.fields[field_name], group, attribute)}")
        return f"{{{', '.join(entries)}}}"

    def subfields(self, return_type: GraphQLObjectType, field_details_list: FieldDetailsList) -> GroupedFieldSet:
        """What the document selects of `return_type`, as graphql-core collects it."""
        executor = self.executor
        grouped, new_defer_usages, forbidden = collect_subfields(
            executor.schema,
            executor.fragments,
            executor.variable_values,
            executor.operation,
            return_type,
            field_details_list,
            executor.hide_suggestions,
        )
        if new_defer_usages or forbidden:
            raise _NotCompilable
        for group in grouped.values():
            if any(d.defer_usage is not None or d.fragment_variable_values for d in group):
                raise _NotCompilable
        return grouped

    @staticmethod
    def attribute(return_type: GraphQLObjectType, field_name: str, group: FieldDetailsList) -> str:
        """The attribute a selected field reads; not compilable if it has a resolver of its
        own or arguments."""
        field = return_type.fields.get(field_name)
        attribute = None if field is None else attribute_name(field.resolve)
        if attribute is None or any(d.node.arguments for d in group):
            raise _NotCompilable
        return attribute


@dataclass(frozen=True, slots=True)
class _FastLeaf:
    """A leaf's fast path, as code: a value of exactly `python_type` (for which `check`
    holds) completes as `completed`. `check` and `completed` format the value's name."""

    python_type: str
    check: str | None
    completed: str

    def test(self, value: str, name: str) -> str:
        """The test of `value` (an expression, which may assign `name`), then of `name`."""
        exact = f"type({value}) is {self.python_type}"
        return exact if self.check is None else f"{exact} and {self.check.format(name)}"

    def result(self, name: str) -> str:
        return self.completed.format(name)


def _required(value: Any) -> Any:
    if value is None:
        raise GiveUp
    return value


def _origin(graphql_type: GraphQLObjectType) -> Any:
    """The strawberry class behind an object type (None for a type strawberry did not make)."""
    definition = (graphql_type.extensions or {}).get("strawberry-definition")
    return getattr(definition, "origin", None)


def _selections(node: FieldNode, fragments: dict[str, Any]) -> Iterator[Any]:
    """Every selection below `node`, through fragment spreads and inline fragments."""
    pending: list[SelectionSetNode | None] = [node.selection_set]
    seen: set[str] = set()
    while pending:
        selection_set = pending.pop()
        if selection_set is None:
            continue
        for selection in selection_set.selections:
            yield selection
            if isinstance(selection, FieldNode | InlineFragmentNode):
                pending.append(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
                seen.add(selection.name.value)
                fragment = fragments.get(selection.name.value)
                if fragment is not None:
                    pending.append(fragment.definition.selection_set)


def depends_on_variables(field_details_list: FieldDetailsList, fragments: dict[str, Any]) -> bool:
    """Whether what is selected below depends on the request's variables (a directive or an
    argument naming one): such a subtree is collected anew by graphql-core each time."""
    finder = _UsesVariables()
    for details in field_details_list:
        for selection in _selections(details.node, fragments):
            for directive in selection.directives or ():
                visit(directive, finder)
            if isinstance(selection, FieldNode):
                for argument in selection.arguments or ():
                    visit(argument, finder)
            if finder.found:
                return True
    return False


class PlanCache:
    """Compiled plans by (type, field nodes), for one schema (`IdentityCache`)."""

    def __init__(self, size: int = CACHED_PLANS) -> None:
        self._plans: IdentityCache[Plan | None] = IdentityCache(size)
        self.compiled = 0
        """How many values the compiled path completed (the differential test reads it)."""

    def plan(
        self, executor: IncrementalExecutor, return_type: GraphQLOutputType, field_details_list: FieldDetailsList
    ) -> Plan | None:
        made_from = (return_type, *(d.node for d in field_details_list))
        plan = self._plans.get(made_from)
        if plan is not MISS:
            return plan
        plan = None
        if not depends_on_variables(field_details_list, executor.fragments):
            plan = _Compiler(executor).compile(return_type, field_details_list)
        self._plans.put(made_from, plan)
        return plan


def compiled_executor(plans: PlanCache) -> type[IncrementalExecutor]:
    """graphql-core's executor, completing through `plans` where it can."""

    class CompiledExecutor(IncrementalExecutor):
        def complete_value(  # noqa: PLR0917  (graphql-core's signature)
            self,
            return_type: GraphQLOutputType,
            field_details_list: FieldDetailsList,
            info: GraphQLResolveInfo[Any],
            path: Path,
            result: Any,
            position_context: Any,
        ) -> Any:
            if not isinstance(result, Exception):
                plan = plans.plan(self, return_type, field_details_list)
                if plan is not None:
                    try:
                        completed = plan(result)
                    except Exception:  # noqa: BLE001, S110  (graphql-core completes it below, errors and all)
                        pass
                    else:
                        plans.compiled += 1
                        return completed
            return super().complete_value(return_type, field_details_list, info, path, result, position_context)

    return CompiledExecutor
