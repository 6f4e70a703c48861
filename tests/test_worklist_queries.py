"""What a caseworker's inbox and a case page ask the API for, attacked:

- `cases(assignedToMe: true)`: the cases whose worker or coordinator is the caller (as
  `assignCase` sets them), of the caller's tenant only, even when another tenant's case
  names the same user;
- `CaseConnection.stageCounts`: every stage's count under the same filters, equal to what
  the database holds, in one statement with `totalCount`, priced as a count;
- `referrals(status:)`: that status only, and a school still its own organisation's only;
- `Case.approvals`: the case's own, newest first, for the roles that may list approvals;
  a municipal system, which may read the case, gets null and FORBIDDEN for them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import asyncpg
import httpx
import pytest

from kizuna.platform.vocabulary import AppRole, CaseStage
from kizuna.schema.cost import COUNT_COST
from kizuna.schema.relay import decode_global_id, encode_global_id
from kizuna.tenants.demo_users import DemoUser

SAITAMA_CITY = "111007"
KAWAGOE = "112011"

MY_CASES = """query($mine: Boolean!, $category: CarerCategory, $stage: CaseStage) {
  cases(first: 100, assignedToMe: $mine, category: $category, stage: $stage) {
    totalCount stageCounts { stage count } nodes { id }
  }
}"""
ASSIGN = """mutation($input: AssignCaseInput!) { assignCase(input: $input) { userErrors { code } } }"""
MEMBERSHIPS = """{ memberships(first: 100) { nodes { id role } } }"""
MINE_SQL = """
SELECT c.id FROM kizuna.carer_case c
WHERE c.municipality_code = $1 AND (c.assigned_worker = $2 OR c.coordinator = $2)"""
STAGES_SQL = "SELECT stage, count(*) FROM kizuna.carer_case WHERE municipality_code = $1 GROUP BY stage"


def data(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]
    return result


def ids(nodes: list[dict[str, Any]]) -> set[Any]:
    return {decode_global_id(node["id"])[1] for node in nodes}


@pytest.fixture
async def kawagoe_case_naming_our_caseworker(
    admin_conn: asyncpg.Connection, user: Callable[[AppRole, str], DemoUser]
) -> AsyncIterator[Any]:
    """A case of 川越市 whose worker column holds さいたま市's caseworker's user id (as a
    user with memberships in both would have it); put back afterwards."""
    row = await admin_conn.fetchrow(
        "SELECT id, assigned_worker FROM kizuna.carer_case WHERE municipality_code = $1 ORDER BY id LIMIT 1", KAWAGOE
    )
    ours = str(user(AppRole.CASEWORKER, SAITAMA_CITY).user_id)
    update = "UPDATE kizuna.carer_case SET assigned_worker = $3 WHERE municipality_code = $1 AND id = $2"
    await admin_conn.execute(update, KAWAGOE, row["id"], ours)
    yield row["id"]
    await admin_conn.execute(update, KAWAGOE, row["id"], row["assigned_worker"])


class TestMyCases:
    @pytest.mark.parametrize("role", [AppRole.CASEWORKER, AppRole.COORDINATOR])
    async def test_my_cases_are_those_i_work_of_my_tenant_only(
        self,
        graphql: Callable[..., Any],
        admin_conn: asyncpg.Connection,
        user: Callable[[AppRole, str], DemoUser],
        role: AppRole,
        kawagoe_case_naming_our_caseworker: Any,
    ) -> None:
        me = str(user(role, SAITAMA_CITY).user_id)
        expected = {row["id"] for row in await admin_conn.fetch(MINE_SQL, SAITAMA_CITY, me)}
        everyone = await admin_conn.fetchval(
            "SELECT count(*) FROM kizuna.carer_case WHERE municipality_code = $1", SAITAMA_CITY
        )
        assert expected
        # The demo's caseworker works every case of the tenant, its coordinator the young carers' only.
        assert (len(expected) < everyone) is (role is AppRole.COORDINATOR)
        mine = data(graphql(MY_CASES, role, SAITAMA_CITY, {"mine": True}))["cases"]
        assert mine["totalCount"] == len(expected)
        assert ids(mine["nodes"]) <= expected
        assert len(mine["nodes"]) == min(100, len(expected))
        assert kawagoe_case_naming_our_caseworker not in ids(mine["nodes"])
        everything = data(graphql(MY_CASES, role, SAITAMA_CITY, {"mine": False}))["cases"]
        assert everything["totalCount"] == everyone

    async def test_an_assignment_makes_a_case_mine(
        self, graphql: Callable[..., Any], admin_conn: asyncpg.Connection, fresh: None
    ) -> None:
        case = await admin_conn.fetchrow(
            "SELECT id, assigned_worker, assigned_worker_name FROM kizuna.carer_case"
            " WHERE municipality_code = $1 AND stage <> 'closed' ORDER BY id LIMIT 1",
            SAITAMA_CITY,
        )
        staff = {
            n["role"]: n["id"]
            for n in data(graphql(MEMBERSHIPS, AppRole.SUPERVISOR, SAITAMA_CITY))["memberships"]["nodes"]
        }
        before = ids(data(graphql(MY_CASES, AppRole.SUPERVISOR, SAITAMA_CITY, {"mine": True}))["cases"]["nodes"])
        assert case["id"] not in before
        variables = {"input": {"id": encode_global_id("Case", case["id"]), "workerMembershipId": staff["SUPERVISOR"]}}
        try:
            assert data(graphql(ASSIGN, AppRole.SUPERVISOR, SAITAMA_CITY, variables))["assignCase"]["userErrors"] == []
            after = data(graphql(MY_CASES, AppRole.SUPERVISOR, SAITAMA_CITY, {"mine": True}))["cases"]
            assert ids(after["nodes"]) == before | {case["id"]}
            caseworker = data(graphql(MY_CASES, AppRole.CASEWORKER, SAITAMA_CITY, {"mine": True}))["cases"]
            assert case["id"] not in ids(caseworker["nodes"])
        finally:
            await admin_conn.execute(
                "UPDATE kizuna.carer_case SET assigned_worker = $3, assigned_worker_name = $4"
                " WHERE municipality_code = $1 AND id = $2",
                SAITAMA_CITY,
                *case.values(),
            )

    @pytest.mark.parametrize("role", [AppRole.SCHOOL_STAFF, AppRole.WELFARE_WORKER])
    def test_roles_without_cases_are_refused_mine_too(self, graphql: Callable[..., Any], role: AppRole) -> None:
        body = graphql(MY_CASES, role, SAITAMA_CITY, {"mine": True})
        assert body["data"] == {"cases": None}
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


class TestStageCounts:
    async def test_every_stage_counted_as_the_database_holds_them(
        self, graphql: Callable[..., Any], admin_conn: asyncpg.Connection
    ) -> None:
        held = {row["stage"]: row["count"] for row in await admin_conn.fetch(STAGES_SQL, SAITAMA_CITY)}
        body = graphql(MY_CASES, AppRole.CASEWORKER, SAITAMA_CITY, {"mine": False})
        counts = data(body)["cases"]["stageCounts"]
        assert [c["stage"] for c in counts] == [stage.name for stage in CaseStage]  # the flow's order, 0 included
        assert {c["stage"]: c["count"] for c in counts} == {s.name: held.get(s.value, 0) for s in CaseStage}
        assert sum(held.values()) == data(body)["cases"]["totalCount"]
        # Counting is priced as totalCount is: the page, and two counts.
        assert body["extensions"]["cost"]["requested"] == 100 + 2 * COUNT_COST

    def test_the_filters_hold_for_the_counts(self, graphql: Callable[..., Any]) -> None:
        for variables in (
            {"mine": True},
            {"mine": True, "category": "YOUNG_CARER"},
            {"mine": False, "stage": "SUPPORT"},
        ):
            cases = data(graphql(MY_CASES, AppRole.COORDINATOR, SAITAMA_CITY, variables))["cases"]
            counts = {c["stage"]: c["count"] for c in cases["stageCounts"]}
            assert sum(counts.values()) == cases["totalCount"], variables
            if "stage" in variables:
                assert counts == {s.name: cases["totalCount"] if s.name == "SUPPORT" else 0 for s in CaseStage}

    def test_a_flood_of_counts_is_refused_before_it_runs(self, http: httpx.Client, token: Callable[..., str]) -> None:
        flood = "{ " + " ".join(f"a{i}: cases(first: 1) {{ stageCounts {{ count }} }}" for i in range(30)) + " }"
        bearer = token(AppRole.CASEWORKER, SAITAMA_CITY)
        answer = http.post("/graphql", json={"query": flood}, headers={"authorization": f"Bearer {bearer}"})
        assert answer.status_code == 400
        (error,) = answer.json()["errors"]
        assert error["extensions"]["cost"]["requested"] == 30 * (1 + COUNT_COST)


REFERRALS = """query($status: ReferralStatus) {
  referrals(first: 100, status: $status) { totalCount nodes { id status referrerOrganization { id } } }
}"""


class TestReferralsByStatus:
    @pytest.mark.parametrize("status", ["SUBMITTED", "ACCEPTED", "DECLINED"])
    async def test_a_caseworker_gets_that_status_of_the_tenant_only(
        self, graphql: Callable[..., Any], admin_conn: asyncpg.Connection, status: str
    ) -> None:
        held = {
            row["id"]
            for row in await admin_conn.fetch(
                "SELECT id FROM kizuna.referral WHERE municipality_code = $1 AND status = $2",
                SAITAMA_CITY,
                status.lower(),
            )
        }
        assert held
        referrals = data(graphql(REFERRALS, AppRole.CASEWORKER, SAITAMA_CITY, {"status": status}))["referrals"]
        assert {n["status"] for n in referrals["nodes"]} == {status}
        assert ids(referrals["nodes"]) <= held
        assert referrals["totalCount"] == len(held)

    def test_a_school_gets_its_own_organisations_only(
        self, graphql: Callable[..., Any], user: Callable[[AppRole, str], DemoUser]
    ) -> None:
        own = encode_global_id("Organization", user(AppRole.SCHOOL_STAFF, SAITAMA_CITY).organisation_id)
        everything = data(graphql(REFERRALS, AppRole.SCHOOL_STAFF, SAITAMA_CITY, {"status": None}))["referrals"]
        assert {n["referrerOrganization"]["id"] for n in everything["nodes"]} == {own}
        for status in {n["status"] for n in everything["nodes"]}:
            some = data(graphql(REFERRALS, AppRole.SCHOOL_STAFF, SAITAMA_CITY, {"status": status}))["referrals"]
            assert some["totalCount"] == sum(1 for n in everything["nodes"] if n["status"] == status)
            assert {n["referrerOrganization"]["id"] for n in some["nodes"]} == {own}

    def test_a_status_that_is_not_one_is_bad_input(self, graphql: Callable[..., Any]) -> None:
        body = graphql(REFERRALS, AppRole.CASEWORKER, SAITAMA_CITY, {"status": "LOST"})
        assert "data" not in body or body["data"] is None
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


CASE_APPROVALS = """query($id: ID!) {
  node(id: $id) { ... on Case { id stage approvals { id caseId subject status requestedAt } } }
}"""
# 25 cases (each may list 100 requests: a page of 100 would cost 10,100), in support, where
# the demo's cases hold their plan's approval.
PAGE_APPROVALS = """{ cases(first: 25, stage: SUPPORT) { nodes { id approvals { id caseId } } } }"""


class TestCaseApprovals:
    async def test_a_case_lists_its_own_newest_first(
        self, graphql: Callable[..., Any], admin_conn: asyncpg.Connection
    ) -> None:
        rows = await admin_conn.fetch(
            "SELECT case_id, id FROM kizuna.approval WHERE municipality_code = $1 ORDER BY case_id, requested_at DESC",
            SAITAMA_CITY,
        )
        case_id = max({r["case_id"] for r in rows}, key=lambda c: sum(1 for r in rows if r["case_id"] == c))
        expected = [r["id"] for r in rows if r["case_id"] == case_id]
        assert len(expected) > 1  # the demo's cases in support hold a plan's approval and more
        global_id = encode_global_id("Case", case_id)
        case = data(graphql(CASE_APPROVALS, AppRole.CASEWORKER, SAITAMA_CITY, {"id": global_id}))["node"]
        assert [decode_global_id(a["id"])[1] for a in case["approvals"]] == expected
        assert {a["caseId"] for a in case["approvals"]} == {global_id}

    def test_a_page_of_cases_each_with_its_own(self, graphql: Callable[..., Any]) -> None:
        nodes = data(graphql(PAGE_APPROVALS, AppRole.COORDINATOR, SAITAMA_CITY))["cases"]["nodes"]
        assert any(node["approvals"] for node in nodes)
        for node in nodes:
            assert {a["caseId"] for a in node["approvals"]} <= {node["id"]}

    def test_a_municipal_system_reads_the_case_not_its_approvals(self, graphql: Callable[..., Any]) -> None:
        body = graphql(PAGE_APPROVALS, AppRole.MUNICIPAL_SYSTEM, SAITAMA_CITY)
        nodes = body["data"]["cases"]["nodes"]
        assert nodes
        assert all(node["approvals"] is None for node in nodes)
        assert {e["extensions"]["code"] for e in body["errors"]} == {"FORBIDDEN"}

    def test_another_tenants_case_gives_none_of_its_approvals(self, graphql: Callable[..., Any]) -> None:
        theirs = data(graphql(PAGE_APPROVALS, AppRole.CASEWORKER, KAWAGOE))["cases"]["nodes"][0]["id"]
        body = graphql(CASE_APPROVALS, AppRole.CASEWORKER, SAITAMA_CITY, {"id": theirs})
        assert body["data"] == {"node": None}
        assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
