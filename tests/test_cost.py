"""The document cost (schema/cost.py): every list field of the schema declares its size,
every document Kizuna itself sends is admitted, and a nested abuse is refused over HTTP
before anything of the tenant is read."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLType,
    get_named_type,
    get_operation_ast,
    is_object_type,
    is_required_input_field,
    parse,
    type_from_ast,
    validate,
)
from graphql.execution.values import get_variable_values

from kizuna.platform.vocabulary import AppRole
from kizuna.schema.cost import COUNT_COST, MAX_COST, list_size, operation_cost
from kizuna.schema.pages import documents
from kizuna.schema.relay import MAX_PAGE_SIZE
from kizuna.schema.root import build_schema
from kizuna.tests.test_walkthrough import steps

SAITAMA_CITY = "111007"
BENCH_QUERY = Path(__file__).resolve().parent.parent / "bench" / "cases-query.json"
SCHEMA: GraphQLSchema = build_schema()._schema

# The review's abuse: a full page of cases with every nested list, and the same again
# through `node` and aliases; each part alone is a page a caseworker might ask for.
CASE_RECORDS = """
  history { kind occurredAt }
  meetings { heldOn decisions }
  dispatches { status visits { visitedOn } }
  person { careRelationships { relationship carer { familyName } caredFor { familyName } } }
"""
PARTICIPANTS = "meetings { participants { name } }"
NESTED_ABUSE = (
    "query($id: ID!) { "
    + " ".join(f"p{i}: cases(first: 100) {{ nodes {{ {CASE_RECORDS} {PARTICIPANTS} }} }}" for i in range(3))
    + f" n: node(id: $id) {{ ... on Case {{ {CASE_RECORDS} }} }} }}"
)
ONE_CASE = "query($id: ID!) { node(id: $id) { ... on Case { " + CASE_RECORDS + " } } }"
AUDIT_OF_REQUEST = "SELECT count(*) FROM kizuna.audit_event WHERE municipality_code = $1 AND request_id = $2"


SAMPLE_SCALARS = {
    "ID": "x",
    "String": "x",
    "Int": 1,
    "Boolean": True,
    "Date": "2026-01-05",
    "DateTime": "2026-01-05T09:00:00+09:00",
}


def cost(query: str, variables: dict[str, Any] | None = None) -> int:
    """The cost with `variables`, or with a sample of every variable the operation needs
    (a cost whose variables do not coerce is 0, which would prove nothing)."""
    document = parse(query)
    assert validate(SCHEMA, document) == []
    operation = get_operation_ast(document)
    assert operation is not None
    definitions = operation.variable_definitions or ()
    if variables is None:
        variables = {d.variable.name.value: _sample(type_from_ast(SCHEMA, d.type)) for d in definitions}
    assert not isinstance(get_variable_values(SCHEMA, definitions, variables), list)
    return operation_cost(SCHEMA, document, operation, variables)


def _sample(graphql_type: Any) -> Any:
    if isinstance(graphql_type, GraphQLNonNull):
        return _sample(graphql_type.of_type)
    if isinstance(graphql_type, GraphQLList):
        return [_sample(graphql_type.of_type)]
    if isinstance(graphql_type, GraphQLInputObjectType):
        required = {n: f for n, f in graphql_type.fields.items() if is_required_input_field(f)}
        return {name: _sample(field.type) for name, field in required.items()}
    if isinstance(graphql_type, GraphQLEnumType):
        return next(iter(graphql_type.values))
    return SAMPLE_SCALARS[graphql_type.name]


def _is_list(graphql_type: GraphQLType) -> bool:
    return isinstance(graphql_type.of_type if isinstance(graphql_type, GraphQLNonNull) else graphql_type, GraphQLList)


def fields() -> Iterator[tuple[str, str, GraphQLField]]:
    for type_name, graphql_type in SCHEMA.type_map.items():
        if isinstance(graphql_type, GraphQLObjectType | GraphQLInterfaceType) and not type_name.startswith("__"):
            for name, field in graphql_type.fields.items():
                yield type_name, name, field


class TestDeclarations:
    def test_every_list_field_declares_its_size_or_is_sized_by_every_field_returning_its_type(self) -> None:
        sized_by: dict[str, list[set[str]]] = {}
        for _, _, field in fields():
            declared = list_size(field)
            sized_by.setdefault(get_named_type(field.type).name, []).append(
                set((declared and declared.sized_fields) or ())
            )
        undeclared = [
            f"{type_name}.{name}"
            for type_name, name, field in fields()
            if _is_list(field.type)
            and list_size(field) is None
            and not all(name in sized for sized in sized_by.get(type_name, [set()]))
        ]
        assert undeclared == []

    def test_every_declaration_names_what_exists_and_has_a_size_without_arguments(self) -> None:
        wrong = []
        for type_name, name, field in fields():
            declared = list_size(field)
            if declared is None:
                continue
            returned = get_named_type(field.type)
            lists = {n for n, f in returned.fields.items() if _is_list(f.type)} if is_object_type(returned) else set()
            sized = set(declared.sized_fields or ())
            if (
                not declared.assumed_size  # unset, or 0
                or any(argument not in field.args for argument in declared.slicing_arguments or ())
                or bool(sized) == _is_list(field.type)  # a list declares its size, a connection its lists'
                or not sized <= lists
            ):
                wrong.append(f"{type_name}.{name}")
        assert wrong == []


class TestFigures:
    @pytest.mark.parametrize(
        ("query", "expected"),
        [
            ("{ viewer { role } }", 1),
            ("{ cases(first: 10) { edges { node { id } } pageInfo { hasNextPage } } }", 10),
            ("{ cases(first: 10) { nodes { person { familyName } } } }", 10 + 10),
            ("{ cases { nodes { id } } }", 50),  # the default page size
            ("{ cases(first: 1000) { nodes { id } } }", MAX_PAGE_SIZE),  # refused by its resolver
            ("{ cases(first: 10) { totalCount } a: cases(first: 2) { totalCount } }", 10 + 2 + 2 * COUNT_COST),
            # the stages' counts are one count; a case's approval requests, at most 100 each
            ("{ cases(first: 10) { stageCounts { stage count } } }", 10 + COUNT_COST),
            ("{ cases(first: 2) { nodes { approvals { status } } } }", 2 + 2 * 100),
            # each case's history (the default: its newest 50 events) and each meeting's participants
            ("{ cases(first: 2) { nodes { history { kind } } } }", 2 + 2 * 50),
            ("{ cases(first: 2) { nodes { history(last: 5) { kind } } } }", 2 + 2 * 5),
            ("{ cases(first: 2) { nodes { meetings { participants { name } } } } }", 2 + 200 + 200 * 50),
            ("{ cases(first: 3) { nodes { contactLogs(first: 4) { nodes { id } } } } }", 3 + 3 * 4),
            (
                "query { ...f } fragment f on Query { cases(first: 3) { ...c } } fragment c on CaseConnection"
                " { totalCount nodes { id } }",
                COUNT_COST + 3,
            ),
        ],
    )
    def test_an_object_costs_one_times_the_lists_around_it(self, query: str, expected: int) -> None:
        assert cost(query) == expected

    def test_a_slicing_argument_from_a_variable_or_its_default(self) -> None:
        assert cost("query($n: Int) { referrals(first: $n) { nodes { id } } }", {"n": 7}) == 7
        assert cost("query($n: Int = 30) { referrals(first: $n) { nodes { id } } }", {}) == 30
        assert cost("query($n: Int) { cases(first: 2) { nodes { history(last: $n) { kind } } } }", {"n": 9}) == 20

    @pytest.mark.parametrize("name", documents.registered())
    def test_every_registered_page_document_is_admitted(self, name: str) -> None:
        assert cost(documents.document(name).text) <= MAX_COST

    def test_the_bench_documents_and_the_walkthrough_are_admitted(self) -> None:
        costs = [cost(json.loads(BENCH_QUERY.read_text())["query"])]
        costs += [cost(step.query) for step in steps()]
        assert max(costs) <= MAX_COST

    def test_the_nested_abuse_and_each_of_its_parts(self) -> None:
        assert cost(ONE_CASE) <= MAX_COST  # one case with every record: the case page's kind of read
        assert cost(NESTED_ABUSE) > 100 * MAX_COST


@pytest.fixture
def case_id(graphql: Callable[..., dict[str, Any]]) -> str:
    body = graphql("{ cases(first: 1) { nodes { id } } }", AppRole.CASEWORKER, SAITAMA_CITY)
    case: str = body["data"]["cases"]["nodes"][0]["id"]
    return case


class TestOverHttp:
    def post(self, http: httpx.Client, token: Callable[..., str], query: str, case_id: str) -> httpx.Response:
        return http.post(
            "/graphql",
            json={"query": query, "variables": {"id": case_id}},
            headers={"authorization": f"Bearer {token(AppRole.CASEWORKER, SAITAMA_CITY)}"},
        )

    async def test_the_nested_abuse_is_refused_with_its_cost_and_reads_nothing(
        self, http: httpx.Client, token: Callable[..., str], case_id: str, admin_conn: asyncpg.Connection
    ) -> None:
        refused = self.post(http, token, NESTED_ABUSE, case_id)
        assert refused.status_code == 400
        body = refused.json()
        (error,) = body["errors"]
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert error["extensions"]["cost"] == {"requested": cost(NESTED_ABUSE), "limit": MAX_COST}
        assert "data" not in body
        # Executed, even the one case would have left its read event in the request's
        # transaction; refused, the request has none.
        assert await admin_conn.fetchval(AUDIT_OF_REQUEST, SAITAMA_CITY, refused.headers["x-request-id"]) == 0
        admitted = self.post(http, token, ONE_CASE, case_id)
        assert admitted.status_code == 200, admitted.text
        assert "errors" not in admitted.json()
        assert admitted.json()["extensions"]["cost"]["requested"] == cost(ONE_CASE)
        assert await admin_conn.fetchval(AUDIT_OF_REQUEST, SAITAMA_CITY, admitted.headers["x-request-id"]) > 0


HISTORIES = """query($last: Int) { cases(first: 10) { nodes {
  all: history(last: 100) { kind occurredAt } newest: history(last: $last) { kind occurredAt } } } }"""


class TestHistoryIsCapped:
    def test_last_is_the_newest_events_oldest_first(self, graphql: Callable[..., dict[str, Any]]) -> None:
        body = graphql(HISTORIES, AppRole.CASEWORKER, SAITAMA_CITY, {"last": 2})
        nodes = body["data"]["cases"]["nodes"]
        assert any(len(node["all"]) > 2 for node in nodes)  # the demo data has longer histories
        for node in nodes:
            assert node["newest"] == node["all"][-2:]

    def test_without_last_the_newest_fifty(self, graphql: Callable[..., dict[str, Any]]) -> None:
        query = HISTORIES.replace("query($last: Int)", "query").replace("history(last: $last)", "history")
        body = graphql(query, AppRole.CASEWORKER, SAITAMA_CITY)
        for node in body["data"]["cases"]["nodes"]:
            assert node["newest"] == node["all"][-50:]

    @pytest.mark.parametrize("last", [-1, MAX_PAGE_SIZE + 1])
    def test_a_last_out_of_range_is_refused(self, graphql: Callable[..., dict[str, Any]], last: int) -> None:
        body = graphql(HISTORIES, AppRole.CASEWORKER, SAITAMA_CITY, {"last": last})
        assert {e["extensions"]["code"] for e in body["errors"]} == {"BAD_USER_INPUT"}
        assert "`last` must be between 0 and 100." in body["errors"][0]["message"]
