"""Every read of a person or a case is audited: each object once per request, in the
request's one read event of its kind, in the request's own transaction, all of them in one
statement (issue 15, item 8; migration 0023)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import asyncpg
import httpx
import pytest

from kizuna.platform.vocabulary import AppRole
from kizuna.schema.relay import decode_global_id

SAITAMA_CITY = "111007"
PAGE = "query($first: Int!) { cases(first: $first) { edges { node { id person { id familyName } } } } }"
TWICE = """query($id: ID!) { a: node(id: $id) { id ... on Case { person { id } } }
  b: node(id: $id) { id } page: cases(first: 1) { edges { node { id } } } }"""
READS = """
SELECT action, entity, entity_id, entity_ids, subject, role, fields FROM kizuna.audit_event
WHERE municipality_code = $1 AND request_id = $2 ORDER BY action
"""


@pytest.fixture
def ask(http: httpx.Client, token: Callable[..., str]) -> Callable[..., tuple[dict[str, Any], str]]:
    """POST as the demo user of (role, さいたま市): the body and the request id."""

    def run(query: str, role: AppRole, variables: dict[str, Any] | None = None) -> tuple[dict[str, Any], str]:
        response = http.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"authorization": f"Bearer {token(role, SAITAMA_CITY)}"},
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body, response.headers["x-request-id"]

    return run


@pytest.mark.usefixtures("tidy")
class TestReadAudit:
    async def test_a_page_of_cases_leaves_one_read_event_naming_every_case_and_one_every_person(
        self, ask: Callable[..., Any], admin_conn: asyncpg.Connection, user: Callable[..., Any]
    ) -> None:
        body, request_id = ask(PAGE, AppRole.CASEWORKER, {"first": 3})
        nodes = [e["node"] for e in body["data"]["cases"]["edges"]]
        events = await admin_conn.fetch(READS, SAITAMA_CITY, request_id)
        me = user(AppRole.CASEWORKER, SAITAMA_CITY)
        assert [(e["action"], e["entity"], e["entity_id"]) for e in events] == [
            ("case.read", "case", None),
            ("person.read", "person", None),
        ]
        cases, people = (e["entity_ids"] for e in events)
        assert cases == sorted(decode_global_id(n["id"])[1] for n in nodes)
        assert people == sorted({decode_global_id(n["person"]["id"])[1] for n in nodes})
        assert {(e["subject"], e["role"]) for e in events} == {(str(me.user_id), "caseworker")}

    async def test_an_object_read_twice_in_a_request_is_one_event(
        self, ask: Callable[..., Any], admin_conn: asyncpg.Connection
    ) -> None:
        page, _ = ask(PAGE, AppRole.CASEWORKER, {"first": 1})
        case = page["data"]["cases"]["edges"][0]["node"]["id"]
        _, request_id = ask(TWICE, AppRole.CASEWORKER, {"id": case})
        events = await admin_conn.fetch(READS, SAITAMA_CITY, request_id)
        [cases] = [e["entity_ids"] for e in events if e["entity"] == "case"]
        assert cases.count(decode_global_id(case)[1]) == 1
        assert len(cases) == len(set(cases))

    async def test_a_refused_read_leaves_no_event(
        self, ask: Callable[..., Any], admin_conn: asyncpg.Connection
    ) -> None:
        body, request_id = ask(PAGE, AppRole.SCHOOL_STAFF, {"first": 3})
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        assert await admin_conn.fetch(READS, SAITAMA_CITY, request_id) == []

    async def test_a_mutation_that_fails_keeps_no_read_either(
        self, ask: Callable[..., Any], admin_conn: asyncpg.Connection
    ) -> None:
        """A mutation answered with an error rolls back: its move, and the read of the case
        its payload showed."""
        failing = """mutation($id: ID!) { moveCaseStage(input: {id: $id, toStage: SHARING}) { case { id stage } }
          revokeMembership(input: {id: $id}) { userErrors { code } } }"""
        intake = "{ cases(first: 1, stage: INTAKE) { edges { node { id } } } }"
        page, _ = ask(intake, AppRole.CASEWORKER)
        case = page["data"]["cases"]["edges"][0]["node"]["id"]
        body, request_id = ask(failing, AppRole.CASEWORKER, {"id": case})
        assert body["data"] is None  # revokeMembership is refused to a caseworker: all rolls back
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        assert await admin_conn.fetch(READS, SAITAMA_CITY, request_id) == []
        stage = "SELECT stage FROM kizuna.carer_case WHERE municipality_code = $1 AND id = $2"
        assert await admin_conn.fetchval(stage, SAITAMA_CITY, decode_global_id(case)[1]) == "intake"

    async def test_the_supervisor_reads_who_read_what(
        self, ask: Callable[..., Any], admin_conn: asyncpg.Connection
    ) -> None:
        _, request_id = ask(PAGE, AppRole.CASEWORKER, {"first": 2})
        log = """query($after: String) { auditEvents(first: 100, action: "case.read", after: $after) {
          edges { node { action entityId entityIds requestId } } } }"""
        body, _ = ask(log, AppRole.SUPERVISOR)
        [mine] = [e["node"] for e in body["data"]["auditEvents"]["edges"] if e["node"]["requestId"] == request_id]
        assert mine["action"] == "case.read"
        assert mine["entityId"] is None
        assert len(mine["entityIds"]) == 2
        assert {decode_global_id(key)[0] for key in mine["entityIds"]} == {"Case"}


REFERRAL_PAGE = """query($first: Int!) { referrals(first: $first) {
  edges { node { id childDisplayName noticed } } } }"""
REFERRAL_NODE = "query($id: ID!) { node(id: $id) { id ... on Referral { childDisplayName } } }"
SEND = """mutation($input: CreateReferralInput!) { createReferral(input: $input) {
  referral { id childDisplayName } userErrors { code } } }"""


@pytest.mark.usefixtures("tidy")
class TestReferralReads:
    """A referral names a child (a school's label, such as 中学2年 田中さん) and what was
    noticed about them: whoever reads one is recorded, as for a person or a case (DESIGN
    section 4: every read of a person's data)."""

    @pytest.mark.parametrize("role", [AppRole.CASEWORKER, AppRole.SCHOOL_STAFF])
    async def test_a_page_of_referrals_leaves_one_read_event_naming_each(
        self, ask: Callable[..., Any], admin_conn: asyncpg.Connection, user: Callable[..., Any], role: AppRole
    ) -> None:
        body, request_id = ask(REFERRAL_PAGE, role, {"first": 5})
        nodes = [e["node"] for e in body["data"]["referrals"]["edges"]]
        assert nodes
        events = await admin_conn.fetch(READS, SAITAMA_CITY, request_id)
        assert [(e["action"], e["entity"], e["entity_id"]) for e in events] == [("referral.read", "referral", None)]
        assert events[0]["entity_ids"] == sorted(decode_global_id(n["id"])[1] for n in nodes)
        assert events[0]["subject"] == str(user(role, SAITAMA_CITY).user_id)

    async def test_one_referral_by_its_id_is_a_read(
        self, ask: Callable[..., Any], admin_conn: asyncpg.Connection
    ) -> None:
        page, _ = ask(REFERRAL_PAGE, AppRole.CASEWORKER, {"first": 1})
        referral = page["data"]["referrals"]["edges"][0]["node"]["id"]
        body, request_id = ask(REFERRAL_NODE, AppRole.CASEWORKER, {"id": referral})
        assert body["data"]["node"]["id"] == referral
        events = await admin_conn.fetch(READS, SAITAMA_CITY, request_id)
        assert [(e["action"], e["entity_ids"]) for e in events] == [("referral.read", [decode_global_id(referral)[1]])]

    async def test_a_page_that_shows_none_leaves_no_read(
        self, ask: Callable[..., Any], admin_conn: asyncpg.Connection
    ) -> None:
        counted, counted_id = ask("{ referrals(first: 0) { totalCount } }", AppRole.CASEWORKER)
        assert counted["data"]["referrals"]["totalCount"] > 0
        assert await admin_conn.fetch(READS, SAITAMA_CITY, counted_id) == []

    @pytest.mark.usefixtures("fresh")
    async def test_the_referral_a_mutation_answers_with_is_a_read_beside_its_change(
        self, ask: Callable[..., Any], admin_conn: asyncpg.Connection
    ) -> None:
        concern = {"source": "SCHOOL", "childDisplayName": "中学1年 監査さん", "noticed": "遅刻", "urgency": "SOON"}
        body, request_id = ask(SEND, AppRole.SCHOOL_STAFF, {"input": concern})
        sent = body["data"]["createReferral"]["referral"]
        events = await admin_conn.fetch(READS, SAITAMA_CITY, request_id)
        key = decode_global_id(sent["id"])[1]
        assert [(e["action"], e["entity_id"], e["entity_ids"]) for e in events] == [
            ("referral.read", None, [key]),
            ("referral.send", key, None),
        ]


@pytest.mark.usefixtures("tidy")
async def test_an_empty_page_of_cases_leaves_no_read(ask: Callable[..., Any], admin_conn: asyncpg.Connection) -> None:
    body, request_id = ask("{ cases(first: 0) { totalCount } }", AppRole.CASEWORKER)
    assert body["data"]["cases"]["totalCount"] > 0
    assert await admin_conn.fetch(READS, SAITAMA_CITY, request_id) == []


@pytest.mark.usefixtures("tidy")
class TestACountIsNoRead:
    """A document that asks a connection for its count only is shown no case, person or
    referral: it leaves no read event (it used to name the page's rows, read but not shown).
    A cursor names its row, so `pageInfo` alone still reads the page."""

    @pytest.mark.parametrize("connection", ["cases", "referrals"])
    async def test_the_count_alone_reads_nothing_and_counts_the_same(
        self, ask: Callable[..., Any], admin_conn: asyncpg.Connection, connection: str
    ) -> None:
        counted, request_id = ask(f"{{ {connection}(first: 5) {{ totalCount }} }}", AppRole.CASEWORKER)
        shown, _ = ask(f"{{ {connection}(first: 5) {{ totalCount edges {{ node {{ id }} }} }} }}", AppRole.CASEWORKER)
        assert counted["data"][connection]["totalCount"] == shown["data"][connection]["totalCount"] > 5
        assert await admin_conn.fetch(READS, SAITAMA_CITY, request_id) == []

    @pytest.mark.parametrize(("connection", "entity"), [("cases", "case"), ("referrals", "referral")])
    async def test_a_cursor_alone_is_a_read_of_its_rows(
        self, ask: Callable[..., Any], admin_conn: asyncpg.Connection, connection: str, entity: str
    ) -> None:
        body, request_id = ask(f"{{ {connection}(first: 2) {{ pageInfo {{ endCursor }} }} }}", AppRole.CASEWORKER)
        assert body["data"][connection]["pageInfo"]["endCursor"]
        events = await admin_conn.fetch(READS, SAITAMA_CITY, request_id)
        assert [len(e["entity_ids"]) for e in events if e["entity"] == entity] == [2]

    async def test_nodes_are_a_read_as_edges_are(self, ask: Callable[..., Any], admin_conn: asyncpg.Connection) -> None:
        body, request_id = ask("{ referrals(first: 3) { nodes { id } } }", AppRole.CASEWORKER)
        ids = sorted(decode_global_id(n["id"])[1] for n in body["data"]["referrals"]["nodes"])
        events = await admin_conn.fetch(READS, SAITAMA_CITY, request_id)
        assert [(e["action"], e["entity_ids"]) for e in events] == [("referral.read", ids)]
