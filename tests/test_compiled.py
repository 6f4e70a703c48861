"""The compiled completion path (schema/compiled.py) answers byte for byte what
graphql-core answers, errors and all, and is taken where it says it is.

Two executors over the same schema, one compiled and one plain graphql-core, run the same
document on the same data: on a small schema made to break things (wrong scalars, nulls
in non-null places, enums, lists, aliases, fragments, directives), and on Kizuna's own
schema against the session's database (the cases page, the prefecture's figures, a case
through `node`)."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest
import strawberry

from kizuna.auth.memberships import MembershipDirectory
from kizuna.platform.caller import Caller
from kizuna.platform.database import Database, NoMembership
from kizuna.platform.scope import open_scope
from kizuna.platform.settings import Settings
from kizuna.platform.vocabulary import AppRole
from kizuna.schema.execution import Executor
from kizuna.schema.memberships.service import TrustedIssuers
from kizuna.schema.root import build_schema
from kizuna.schema.rows import Converted, Nested, Present, Rows, RowShape, column, member
from kizuna.tests.sent_queries import SENT

SAITAMA_CITY = "111007"
PREFECTURE = "110001"


@strawberry.enum
class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.type
class Leaf:
    name: str
    count: int
    ratio: float
    flag: bool
    colour: Colour
    maybe: str | None


@strawberry.type
class Branch:
    id: strawberry.ID
    leaves: list[Leaf]
    optional_leaves: list[Leaf | None] | None
    numbers: list[int | None]
    child: Leaf | None


@dataclass
class LeafRow:
    """What a resolver hands over: sometimes not what the schema says."""

    name: Any = "葉"
    count: Any = 1
    ratio: Any = 0.5
    flag: Any = True
    colour: Any = Colour.RED
    maybe: Any = None


@dataclass
class BranchRow:
    id: Any = "b1"
    leaves: Any = field(default_factory=lambda: [LeafRow(), LeafRow(name="二", count=2)])
    optional_leaves: Any = None
    numbers: Any = field(default_factory=lambda: [1, None, 3])
    child: Any = None


@strawberry.type
class Trunk:
    height: int
    label: str | None


@strawberry.type
class Tree:
    id: strawberry.ID
    code: str
    colour: Colour
    trunk: Trunk
    nest: Leaf | None

    @strawberry.field
    def shout(self) -> str:
        """A field of its own resolver: a tree is then built and completed by graphql-core."""
        return self.id.upper()


@strawberry.type
class Grove:
    trees: Sequence[Tree]


TREE_IN_ROW = RowShape(
    Tree,
    {
        "id": column("id"),
        "code": Converted("id", str.upper),
        "colour": member(Colour, "colour"),
        # a reader of its own, called as it is
        "trunk": Nested(RowShape(Trunk, {"height": column("height"), "label": lambda row, _c: row["label"]}), None),
        "nest": Nested(
            RowShape(Leaf, {n: column(n) for n in ("name", "count", "ratio", "flag", "colour", "maybe")}),
            present=Present("name"),
        ),
    },
)


def tree_row(**overrides: Any) -> dict[str, Any]:
    row = {"id": "t1", "colour": "red", "height": 3, "label": None, "name": "葉", "count": 1, "ratio": 0.5}
    row |= {"flag": True, "maybe": None}
    return row | overrides


BRANCH: dict[str, Any] = {}


@strawberry.type
class Query:
    @strawberry.field
    def branch(self) -> Branch:
        return BRANCH["row"]  # type: ignore[no-any-return]

    @strawberry.field
    def maybe_branch(self) -> Branch | None:
        return BRANCH["row"]  # type: ignore[no-any-return]

    @strawberry.field
    def grove(self) -> Grove:
        return Grove(trees=BRANCH["trees"])


SMALL = strawberry.Schema(query=Query)
ALL_FIELDS = (
    "{ branch { id leaves { name count ratio flag colour maybe } optionalLeaves { name } numbers child { name } } }"
)


async def answers(
    executors: tuple[Executor, ...], query: str, variables: dict[str, Any] | None, operation: str | None, context: Any
) -> list[bytes]:
    """Each executor's answer to the document, as JSON."""
    found = []
    for executor in executors:
        prepared = executor.prepare(query)
        assert prepared.document is not None
        assert not prepared.errors, prepared.errors
        result = await executor.execute(
            prepared.document, context=context, variables=variables, operation_name=operation
        )
        errors = [e.formatted for e in result.errors or []]
        found.append(orjson.dumps({"data": result.data, "errors": errors}))
    return found


def deployment(settings: Settings, database: Database) -> dict[type, object]:
    """What the app provides its request scopes (platform/app.py): the fields that read
    the registry, the viewer's memberships or the trusted issuers need them."""
    return {
        Settings: settings,
        TrustedIssuers: TrustedIssuers(lambda: frozenset({settings.issuer})),
        MembershipDirectory: MembershipDirectory(database),
    }


def plain_and_compiled(schema: Any, *, introspection: bool = False) -> tuple[Executor, Executor]:
    return (
        Executor(schema, introspection=introspection, compiled=False),
        Executor(schema, introspection=introspection),
    )


async def both(
    query: str, variables: dict[str, Any] | None = None, *, schema: Any = SMALL, context: Any = None
) -> tuple[bytes, bytes, int]:
    """The JSON of the plain and of the compiled answer, and how many values the compiled
    executor completed itself."""
    executors = plain_and_compiled(schema)
    plain, compiled = await answers(executors, query, variables, None, context)
    return plain, compiled, executors[1].plans.compiled


CASES = [
    ("every kind of value", BranchRow(), ALL_FIELDS, None),
    ("aliases and __typename", BranchRow(), "{ b: branch { __typename i: id leaves { n: name __typename } } }", None),
    (
        "a named and an inline fragment, merged fields",
        BranchRow(),
        "{ branch { ...F leaves { name } ... on Branch { leaves { count } } } }"
        " fragment F on Branch { id leaves { name } }",
        None,
    ),
    (
        "@skip and @include as literals",
        BranchRow(),
        "{ branch { id @skip(if: true) numbers @include(if: true) } }",
        None,
    ),
    (
        "@include from a variable",
        BranchRow(),
        "query($x: Boolean!) { branch { id @include(if: $x) numbers } }",
        {"x": False},
    ),
    ("a null in a non-null leaf", BranchRow(leaves=[LeafRow(name=None)]), ALL_FIELDS, None),
    ("a null in a non-null list", BranchRow(leaves=None), ALL_FIELDS, None),
    ("a null item in a non-null list", BranchRow(leaves=[LeafRow(), None]), ALL_FIELDS, None),
    ("a null branch where it may be", BranchRow(leaves=None), "{ maybeBranch { leaves { name } } }", None),
    ("an int where a string is", BranchRow(leaves=[LeafRow(name=12)]), ALL_FIELDS, None),
    ("a string where an int is", BranchRow(leaves=[LeafRow(count="12")]), ALL_FIELDS, None),
    ("an int too big for Int", BranchRow(leaves=[LeafRow(count=2**40)]), ALL_FIELDS, None),
    ("a bool where an int is", BranchRow(numbers=[True]), ALL_FIELDS, None),
    ("an int where a float is", BranchRow(leaves=[LeafRow(ratio=3)]), ALL_FIELDS, None),
    ("an infinite float", BranchRow(leaves=[LeafRow(ratio=float("inf"))]), ALL_FIELDS, None),
    ("a string where an enum is", BranchRow(leaves=[LeafRow(colour="RED")]), ALL_FIELDS, None),
    ("no such enum value", BranchRow(leaves=[LeafRow(colour="green")]), ALL_FIELDS, None),
    ("a string where a list is", BranchRow(numbers="123"), ALL_FIELDS, None),
    ("a tuple for a list", BranchRow(numbers=(1, 2)), ALL_FIELDS, None),
    ("an object without the attribute", BranchRow(child=object()), ALL_FIELDS, None),
    ("optional leaves with a null item", BranchRow(optional_leaves=[None, LeafRow()]), ALL_FIELDS, None),
]


class TestOnASchemaMadeToBreakThings:
    @pytest.mark.parametrize(("row", "query", "variables"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
    async def test_the_answer_is_graphql_cores_byte_for_byte(self, row: Any, query: str, variables: Any) -> None:
        BRANCH["row"] = row
        plain, compiled, _ = await both(query, variables)
        assert compiled == plain

    async def test_a_well_formed_answer_is_completed_by_the_compiled_path(self) -> None:
        BRANCH["row"] = BranchRow()
        _, _, completed = await both(ALL_FIELDS)
        assert completed == 1  # the root field's whole value, at once

    async def test_a_subtree_with_variables_in_its_directives_is_left_to_graphql_core(self) -> None:
        BRANCH["row"] = BranchRow()
        query = "query($x: Boolean!) { branch { id @include(if: $x) numbers } }"
        _, _, completed = await both(query, {"x": True})
        # graphql-core collects the branch with the variable; its two values, below the
        # directive, are completed each on its own (compiled, as leaves and a list).
        assert completed == 2


TREES = (
    "{ grove { trees { __typename i: id code colour trunk { height label }"
    " nest { name count ratio flag colour maybe } } } }"
)
ROW_CASES = [
    ("well-formed rows", [tree_row(), tree_row(id="t2", name=None, colour="blue", label="幹")], TREES),
    ("a null in a non-null column", [tree_row(height=None)], TREES),
    ("a string where an int is", [tree_row(height="3")], TREES),
    ("an unknown enum value", [tree_row(colour="green")], TREES),
    ("a null enum value", [tree_row(colour=None)], TREES),
    ("a value its converter refuses", [tree_row(id=7)], TREES),
    ("a missing column", [{"id": "t1"}], TREES),
    ("a field with a resolver of its own", [tree_row(), tree_row(id="t2")], "{ grove { trees { id shout } } }"),
    ("no rows", [], TREES),
]


class TestListsKeptAsRows:
    """A `Rows` list (schema/rows.py) is completed from its rows, or, for anything the
    compiled path does not expect, from the objects graphql-core has built of them."""

    @pytest.mark.parametrize(("rows", "query"), [c[1:] for c in ROW_CASES], ids=[c[0] for c in ROW_CASES])
    async def test_the_answer_is_graphql_cores_byte_for_byte(self, rows: list[dict[str, Any]], query: str) -> None:
        answered = []
        for executor in plain_and_compiled(SMALL):
            BRANCH["trees"] = Rows(TREE_IN_ROW, rows)
            answered += await answers((executor,), query, None, None, None)
        plain, compiled = answered
        assert compiled == plain

    async def test_well_formed_rows_are_completed_without_building_an_object(self) -> None:
        BRANCH["trees"] = trees = Rows(TREE_IN_ROW, [tree_row(), tree_row(id="t2", name=None)])
        executor = Executor(SMALL, introspection=False)
        answer = await answers((executor,), TREES, None, None, None)
        assert b'"nest":null' in answer[0]
        assert trees._built is None
        assert executor.plans.compiled == 1

    async def test_a_field_with_a_resolver_builds_the_objects(self) -> None:
        BRANCH["trees"] = trees = Rows(TREE_IN_ROW, [tree_row()])
        await answers((Executor(SMALL, introspection=False),), "{ grove { trees { shout } } }", None, None, None)
        assert trees._built is not None


KIZUNA_DOCUMENTS = [
    (
        AppRole.CASEWORKER,
        SAITAMA_CITY,
        """{ cases(first: 50) { totalCount edges { cursor node { id stage category riskLevel openedAt
          person { id familyName givenName familyNameKana birthDate } leadOrganization { id name kind }
          assignedWorker { displayName } } } pageInfo { hasNextPage endCursor } } }""",
    ),
    (
        AppRole.PREFECTURE_ANALYST,
        PREFECTURE,
        """{ prefectureStats(latestFiscalYear: true) { computedAt threshold unsuppressed
          fiscalYears { year western japanese }
          tables { figure label fiscalYear { year japanese } columns { category label }
            rows { municipalityCode values total withheld { column status } } }
          medians { fiscalYear { year } medians { municipalityCode days status } } } }""",
    ),
    (AppRole.SUPERVISOR, SAITAMA_CITY, "{ referrals(first: 20) { nodes { id source urgency status receivedAt } } }"),
    (
        AppRole.CASEWORKER,
        SAITAMA_CITY,
        """{ cases(first: 50) { totalCount edges { node { id municipality { code } stage category riskLevel
          openedAt closedAt person { id familyName givenName } leadOrganization { id name kind }
          assignedWorker { displayName } coordinator { displayName } } } } }""",
    ),
    (
        AppRole.SUPERVISOR,
        SAITAMA_CITY,
        """{ referrals(first: 50) { totalCount edges { node { id source status urgency noticed childDisplayName
          receivedAt decidedAt referrerOrganization { id name kind } careTasks familyAware decisionReason } } } }""",
    ),
]


class TestOnKizunasSchema:
    @pytest.mark.parametrize(
        ("role", "municipality", "query"),
        KIZUNA_DOCUMENTS,
        ids=["cases", "figures", "referrals", "cases-from-rows", "referrals-from-rows"],
    )
    async def test_the_answer_is_graphql_cores_byte_for_byte(
        self,
        database: Database,
        caller_of: Callable[[AppRole, str], Caller],
        role: AppRole,
        municipality: str,
        query: str,
    ) -> None:
        schema = build_schema()
        async with open_scope(
            database, caller_of(role, municipality), request_id=uuid.uuid4().hex, readonly=False
        ) as scope:
            plain, compiled, completed = await both(query, schema=schema, context=scope)
            scope.roll_back()  # the reads' audit events, twice over
        assert b'"errors":[]' in plain
        assert compiled == plain
        assert completed > 0

    @pytest.mark.parametrize("document", KIZUNA_DOCUMENTS[3:], ids=["cases", "referrals"])
    async def test_a_page_is_completed_from_its_rows(
        self,
        database: Database,
        caller_of: Callable[[AppRole, str], Caller],
        monkeypatch: pytest.MonkeyPatch,
        document: tuple[AppRole, str, str],
    ) -> None:
        role, municipality, query = document
        built: list[Rows[Any]] = []
        objects = Rows._objects

        def building(rows: Rows[Any]) -> list[Any]:
            built.append(rows)
            return objects(rows)

        monkeypatch.setattr(Rows, "_objects", building)
        executor = Executor(build_schema(), introspection=False)
        async with open_scope(
            database, caller_of(role, municipality), request_id=uuid.uuid4().hex, readonly=False
        ) as scope:
            answer = await answers((executor,), query, None, None, scope)
            scope.roll_back()
        assert answer[0].count(b'"node":') > 1
        assert built == []  # no object was made of a row


@pytest.mark.replays_the_suite
async def test_every_query_the_suite_sent_is_answered_alike(
    database: Database, settings: Settings, request: pytest.FixtureRequest
) -> None:
    """Every query document the other tests sent (with its variables, as the same caller),
    run again on both paths against the same database state, in a transaction rolled back."""
    if len({item.path for item in request.session.items}) < 10:
        pytest.skip("replays what the rest of the suite sent: run it with the suite")
    # Introspection too: the development server the tests start answers it.
    executors = plain_and_compiled(build_schema(), introspection=True)
    provided = deployment(settings, database)
    compared = 0
    for query, variables, operation, caller in list(SENT):
        try:
            async with open_scope(
                database, caller, request_id=uuid.uuid4().hex, readonly=False, provided=provided
            ) as scope:
                plain, compiled = await answers(executors, query, orjson.loads(variables), operation, scope)
                scope.roll_back()
        except NoMembership:  # a user or membership a test made, and removed since
            continue
        assert compiled == plain, query
        compared += 1
    assert compared > len(SENT) // 2, (compared, len(SENT))
    assert executors[1].plans.compiled > 0
    assert executors[1].roots.taken > 0  # queries of one root field, without graphql-core's executor
