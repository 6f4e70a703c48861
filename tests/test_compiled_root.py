"""A query of one root field is answered without graphql-core's executor
(schema/compiled_root.py), byte for byte as graphql-core answers it, and where it does not
go that way, graphql-core answers without the resolver running twice.

Each test runs the same document on a plain graphql-core executor and on the compiled one,
over one small schema whose resolvers count their calls and fail on demand."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import pytest
import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from kizuna.schema.execution import Executor
from kizuna.schema.identity_cache import MISS
from kizuna.tests.test_compiled import answers, plain_and_compiled


@strawberry.type
class Item:
    name: str
    count: int


@strawberry.type
class Page:
    items: list[Item]


@dataclass
class Behaviour:
    """What the resolvers do in the running test, and what they saw."""

    items: list[Any] = field(default_factory=lambda: [Item(name="一", count=1), Item(name="二", count=2)])
    error: Exception | None = None
    calls: list[dict[str, Any]] = field(default_factory=list)
    tracked: list[str] = field(default_factory=list)


NOW = Behaviour()


def _seen(info: Info[Any, Any], **arguments: Any) -> Page:
    raw = info._raw_info
    NOW.calls.append(
        {
            "arguments": arguments,
            "field": raw.field_name,
            "path": raw.path.as_list(),
            "type": str(raw.return_type),
            "parent": raw.parent_type.name,
            "variables": raw.variable_values.coerced,
            "operation": raw.operation.name.value if raw.operation.name else None,
            "fragments": sorted(raw.fragments),
            "root": raw.root_value,
            "context": raw.context,
        }
    )
    if NOW.error is not None:
        raise NOW.error
    return Page(items=NOW.items)


@strawberry.type
class Query:
    @strawberry.field
    async def page(self, info: Info[Any, Any], first: int = 10, word: str | None = None) -> Page:
        await asyncio.sleep(0)
        return _seen(info, first=first, word=word)

    @strawberry.field
    def plain_page(self, info: Info[Any, Any]) -> Page | None:
        return _seen(info)

    @strawberry.field
    async def tracking_page(self, info: Info[Any, Any]) -> Page:
        async def later() -> None:
            await asyncio.sleep(0.01)
            NOW.tracked.append("settled")

        info._raw_info.async_helpers.track([later()])
        return _seen(info)

    @strawberry.field
    def tagged(self, info: Info[Any, Any], tags: list[str]) -> Page:
        return _seen(info, tags=tags)

    @strawberry.field
    def other(self) -> int:
        return 1


SCHEMA = strawberry.Schema(query=Query)
PAGE = "{ page(first: 2) { items { name count } } }"


@pytest.fixture(autouse=True)
def behaviour() -> Behaviour:
    NOW.__init__()  # type: ignore[misc]
    return NOW


async def both(
    query: str,
    variables: dict[str, Any] | None = None,
    operation: str | None = None,
    executors: tuple[Executor, Executor] | None = None,
) -> list[Any]:
    """Plain and compiled JSON answers, the compiled executor, and each executor's calls
    (new executors unless `executors` are given)."""
    plain, compiled = executors or plain_and_compiled(SCHEMA, introspection=True)
    plain_answer = await answers((plain,), query, variables, operation, "context")
    plain_calls = list(NOW.calls)
    NOW.calls.clear()
    compiled_answer = await answers((compiled,), query, variables, operation, "context")
    return [plain_answer[0], compiled_answer[0], compiled, plain_calls, list(NOW.calls)]


class TestAnsweredWithoutTheExecutor:
    async def test_a_page_is_graphql_cores_answer(self) -> None:
        plain, compiled, executor, plain_calls, calls = await both(PAGE)
        assert compiled == plain
        assert (
            plain
            == '{"data":{"page":{"items":[{"name":"一","count":1},{"name":"二","count":2}]}},"errors":[]}'.encode()
        )
        assert executor.roots.taken == 1
        assert calls == plain_calls  # one call, with what graphql-core gives the resolver

    async def test_the_resolver_sees_what_graphql_core_shows_it(self) -> None:
        query = "query Named($w: String) { p: page(word: $w) { ...F } } fragment F on Page { items { name } }"
        plain, compiled, executor, plain_calls, calls = await both(query, {"w": "語"}, "Named")
        assert compiled == plain
        assert executor.roots.taken == 1
        assert calls == plain_calls
        assert calls[0]["arguments"] == {"first": 10, "word": "語"}
        assert calls[0]["path"] == ["p"]
        assert calls[0]["fragments"] == ["F"]
        assert calls[0]["root"] is None

    async def test_variables_are_coerced_on_every_request(self) -> None:
        executor = Executor(SCHEMA, introspection=False)
        query = "query($n: Int) { page(first: $n) { items { name } } }"
        for n in (1, 2, 3):
            await answers((executor,), query, {"n": n}, None, None)
        assert [c["arguments"]["first"] for c in NOW.calls] == [1, 2, 3]
        assert executor.roots.taken == 3

    @pytest.mark.parametrize(
        ("query", "fixed"),
        [
            (PAGE, True),
            ('{ page(word: "語") { items { name } } }', True),
            ('{ tagged(tags: ["a"]) { items { name } } }', False),
        ],
        ids=["a number", "a string", "a list"],
    )
    async def test_literal_arguments_are_read_once_unless_a_resolver_could_change_them(
        self, query: str, fixed: bool
    ) -> None:
        executor = Executor(SCHEMA, introspection=False)
        await answers((executor,), query, None, None, None)
        document = executor.prepare(query).document
        assert document is not None
        plan = executor.roots.get((document,))
        assert plan is not MISS
        assert plan is not None
        assert (plan.fixed is not None) is fixed
        await answers((executor,), query, None, None, None)
        assert NOW.calls[0]["arguments"] == NOW.calls[1]["arguments"]
        assert executor.roots.taken == 2

    async def test_pending_work_a_resolver_tracks_is_settled_before_the_answer(self) -> None:
        plain, compiled, executor, _, _ = await both("{ trackingPage { items { name } } }")
        assert compiled == plain
        assert executor.roots.taken == 1
        assert NOW.tracked == ["settled", "settled"]


FAILING = [
    ("a GraphQL error", GraphQLError("見つかりません。", extensions={"code": "NOT_FOUND"}), PAGE),
    ("any other exception", ValueError("壊れた"), PAGE),
    ("a synchronous resolver's exception", ValueError("壊れた"), "{ plainPage { items { name } } }"),
]


def assert_graphql_core_answered_with_one_call(
    plain: bytes, compiled: bytes, executor: Executor, plain_calls: list[Any], calls: list[Any]
) -> None:
    """graphql-core answered, errors and all, and the resolver ran once on each path."""
    assert compiled == plain
    assert b'"errors":[]' not in plain
    assert executor.roots.taken == 0
    assert len(calls) == len(plain_calls) == 1


class TestLeftToGraphQLCore:
    @pytest.mark.parametrize(("error", "query"), [c[1:] for c in FAILING], ids=[c[0] for c in FAILING])
    async def test_a_resolver_that_raises_is_not_called_again(self, error: Exception, query: str) -> None:
        NOW.error = error
        assert_graphql_core_answered_with_one_call(*await both(query))

    @pytest.mark.parametrize(
        "items",
        [[Item(name=None, count=1)], [Item(name="一", count="one")], [None], "not a list"],  # type: ignore[arg-type]
        ids=["a null name", "a string count", "a null item", "not a list"],
    )
    async def test_a_value_the_compiled_path_gives_up_is_completed_once_resolved(self, items: Any) -> None:
        NOW.items = items
        assert_graphql_core_answered_with_one_call(*await both(PAGE))

    @pytest.mark.parametrize(
        "variables", [{"n": "two"}, {"n": 2**40}, {}], ids=["a string", "an int too big", "a missing non-null"]
    )
    async def test_variables_that_do_not_coerce_are_graphql_cores_errors(self, variables: dict[str, Any]) -> None:
        query = "query($n: Int!) { page(first: $n) { items { name } } }"
        executors = plain_and_compiled(SCHEMA)
        await answers(executors[1:], query, {"n": 1}, None, None)  # planned with good variables
        NOW.calls.clear()
        plain, compiled, executor, _, calls = await both(query, variables, executors=executors)
        assert compiled == plain
        assert b'"data":null' in plain
        assert calls == []
        assert executor.roots.taken == 1  # the good variables' request only

    async def test_an_argument_that_does_not_coerce_is_graphql_cores_error(self) -> None:
        # `first` is an Int! with a default: a nullable variable may fill it, but not with null.
        query = "query($n: Int) { page(first: $n) { items { name } } }"
        plain, compiled, executor, _, calls = await both(query, {"n": None})
        assert compiled == plain
        assert b"has invalid value" in plain
        assert calls == []
        assert executor.roots.taken == 0

    @pytest.mark.parametrize(
        "query",
        [
            "{ page { items { name } } other }",
            "{ __typename }",
            "{ page @include(if: true) { items { name } } }",
            "{ ...Q } fragment Q on Query { page { items { name } } }",
            "{ __schema { queryType { name } } }",
        ],
        ids=["two root fields", "__typename", "a directive at the root", "a fragment at the root", "introspection"],
    )
    async def test_other_operations_run_on_graphql_core(self, query: str) -> None:
        plain, compiled, executor, _, _ = await both(query)
        assert compiled == plain
        assert executor.roots.taken == 0
