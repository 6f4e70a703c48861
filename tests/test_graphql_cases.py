"""`cases`, `referrals`, `node`, `viewer` and the registry over real HTTP."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import pytest

from kizuna.platform.vocabulary import AppRole
from kizuna.schema.relay import encode_global_id

SAITAMA_CITY = "111007"
KAWAGOE = "112011"
PREFECTURE = "110001"

CASES = """
query Cases($first: Int, $after: String, $stage: CaseStage, $category: CarerCategory) {
  cases(first: $first, after: $after, stage: $stage, category: $category) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id municipality { code } stage category openedAt
      person { id familyName givenName } leadOrganization { id name } } }
  }
}
"""


def cases(graphql: Any, role: AppRole, municipality: str, **variables: Any) -> dict[str, Any]:
    body = graphql(CASES, role, municipality, variables)
    assert "errors" not in body, body
    connection: dict[str, Any] = body["data"]["cases"]
    return connection


class TestCases:
    def test_caseworker_sees_only_own_tenant(self, graphql: Any) -> None:
        page = cases(graphql, AppRole.CASEWORKER, SAITAMA_CITY, first=100)
        assert page["edges"]
        assert {e["node"]["municipality"]["code"] for e in page["edges"]} == {SAITAMA_CITY}

    def test_two_tenants_see_disjoint_cases(self, graphql: Any) -> None:
        a = {e["node"]["id"] for e in cases(graphql, AppRole.CASEWORKER, SAITAMA_CITY, first=100)["edges"]}
        b = {e["node"]["id"] for e in cases(graphql, AppRole.CASEWORKER, KAWAGOE, first=100)["edges"]}
        assert a
        assert b
        assert not a & b

    def test_pages_walk_the_whole_list_in_order(self, graphql: Any) -> None:
        total = cases(graphql, AppRole.SUPERVISOR, KAWAGOE, first=1)["totalCount"]
        seen: list[str] = []
        after = None
        while True:
            page = cases(graphql, AppRole.SUPERVISOR, KAWAGOE, first=7, after=after)
            seen += [e["node"]["openedAt"] + e["node"]["id"] for e in page["edges"]]
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        assert len(seen) == total == len(set(seen))
        assert [s[:25] for s in seen] == sorted((s[:25] for s in seen), reverse=True)

    def test_every_page_counts_the_whole_list_and_so_does_a_page_past_its_end(self, graphql: Any) -> None:
        """The count comes in the page's own statement; a page with no rows has no row to
        hold it, and counts on its own."""
        total = cases(graphql, AppRole.SUPERVISOR, KAWAGOE, first=1)["totalCount"]
        after, counts = None, []
        while True:
            page = cases(graphql, AppRole.SUPERVISOR, KAWAGOE, first=7, after=after)
            counts.append(page["totalCount"])
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        past = cases(graphql, AppRole.SUPERVISOR, KAWAGOE, first=7, after=page["pageInfo"]["endCursor"])
        assert past["edges"] == []
        assert len(counts) > 1
        assert set(counts) == {past["totalCount"]} == {total}

    def test_filters(self, graphql: Any) -> None:
        page = cases(graphql, AppRole.CASEWORKER, SAITAMA_CITY, first=100, stage="SUPPORT", category="YOUNG_CARER")
        assert page["edges"]
        assert {(e["node"]["stage"], e["node"]["category"]) for e in page["edges"]} == {("SUPPORT", "YOUNG_CARER")}
        assert page["totalCount"] == len(page["edges"])

    @pytest.mark.parametrize("first", [-1, 101])
    def test_page_size_is_bounded(self, graphql: Any, first: int) -> None:
        body = graphql(CASES, AppRole.CASEWORKER, SAITAMA_CITY, {"first": first})
        assert body["data"] == {"cases": None}
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"

    def test_malformed_cursor_is_bad_input(self, graphql: Any) -> None:
        body = graphql(CASES, AppRole.CASEWORKER, SAITAMA_CITY, {"after": "not-a-cursor"})
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"

    @pytest.mark.parametrize("role", [AppRole.SCHOOL_STAFF, AppRole.SCHOOL_SOCIAL_WORKER, AppRole.WELFARE_WORKER])
    def test_schools_and_agencies_cannot_read_cases(self, graphql: Any, role: AppRole) -> None:
        body = graphql(CASES, role, SAITAMA_CITY)
        assert body["data"] == {"cases": None}
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    @pytest.mark.parametrize("role", [AppRole.PREFECTURE_ANALYST, AppRole.PLATFORM_ADMIN])
    def test_prefecture_and_admins_read_no_person(self, graphql: Any, role: AppRole) -> None:
        body = graphql(CASES, role, PREFECTURE)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


class TestNode:
    QUERY = "query($id: ID!) { node(id: $id) { id ... on Case { stage person { familyName } } } }"

    def test_own_case_by_id(self, graphql: Any) -> None:
        case_id = cases(graphql, AppRole.CASEWORKER, SAITAMA_CITY, first=1)["edges"][0]["node"]["id"]
        body = graphql(self.QUERY, AppRole.CASEWORKER, SAITAMA_CITY, {"id": case_id})
        assert body["data"]["node"]["id"] == case_id

    def test_another_tenants_case_is_like_an_unknown_id(self, graphql: Any) -> None:
        theirs = cases(graphql, AppRole.CASEWORKER, KAWAGOE, first=1)["edges"][0]["node"]["id"]
        random_id = encode_global_id("Case", uuid.uuid4())
        crossed = graphql(self.QUERY, AppRole.CASEWORKER, SAITAMA_CITY, {"id": theirs})
        unknown = graphql(self.QUERY, AppRole.CASEWORKER, SAITAMA_CITY, {"id": random_id})
        for body in (crossed, unknown):
            assert body["data"] == {"node": None}
            assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
        assert crossed["errors"][0]["message"] == unknown["errors"][0]["message"]

    def test_another_tenants_person_is_not_found(self, graphql: Any) -> None:
        theirs = cases(graphql, AppRole.CASEWORKER, KAWAGOE, first=1)["edges"][0]["node"]["person"]["id"]
        body = graphql("query($id: ID!) { node(id: $id) { id } }", AppRole.CASEWORKER, SAITAMA_CITY, {"id": theirs})
        assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"

    @pytest.mark.parametrize(
        "bad",
        [
            "",
            "!!!",
            encode_global_id("Case", uuid.uuid4())[:-3],  # truncated
            base64.urlsafe_b64encode(b"\x63" + uuid.uuid4().bytes).decode().rstrip("="),  # unknown type
            "Q2FzZTo3OGMzZTcwMS1iMjRhLTQ1NjQtOTZmYS1iMDI5ZDc2MGMwOTA",  # text ids are not ids here
        ],
    )
    def test_malformed_ids(self, graphql: Any, bad: str) -> None:
        body = graphql(self.QUERY, AppRole.CASEWORKER, SAITAMA_CITY, {"id": bad})
        assert body["data"] == {"node": None}
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


REFERRALS = """
query($after: String) { referrals(first: 100, after: $after) { totalCount
  edges { node { id source status urgency noticed receivedAt referrerOrganization { id name } } } } }
"""


class TestReferrals:
    def test_school_sees_only_its_own_referrals(self, graphql: Any, user: Any) -> None:
        teacher = user(AppRole.SCHOOL_STAFF, SAITAMA_CITY)
        body = graphql(REFERRALS, AppRole.SCHOOL_STAFF, SAITAMA_CITY)
        edges = body["data"]["referrals"]["edges"]
        assert edges
        own = encode_global_id("Organization", teacher.organisation_id)
        assert {e["node"]["referrerOrganization"]["id"] for e in edges} == {own}
        assert body["data"]["referrals"]["totalCount"] == len(edges)

    def test_caseworker_sees_every_source_of_own_tenant(self, graphql: Any) -> None:
        body = graphql(REFERRALS, AppRole.CASEWORKER, SAITAMA_CITY)
        sources = {e["node"]["source"] for e in body["data"]["referrals"]["edges"]}
        assert {"SCHOOL", "LINE_CONSULTATION"} <= sources

    @pytest.mark.parametrize("status", [None, "SUBMITTED"])
    def test_every_page_counts_them_all_and_so_does_a_page_past_the_end(self, graphql: Any, status: str | None) -> None:
        query = """query($after: String, $status: ReferralStatus) {
          referrals(first: 3, after: $after, status: $status) {
            totalCount pageInfo { hasNextPage endCursor } edges { node { id status } } } }"""
        after, counts, seen = None, [], []
        while True:
            page = graphql(query, AppRole.CASEWORKER, SAITAMA_CITY, {"after": after, "status": status})["data"]
            counts.append(page["referrals"]["totalCount"])
            seen += [e["node"]["status"] for e in page["referrals"]["edges"]]
            after = page["referrals"]["pageInfo"]["endCursor"]
            if not page["referrals"]["pageInfo"]["hasNextPage"]:
                break
        past = graphql(query, AppRole.CASEWORKER, SAITAMA_CITY, {"after": after, "status": status})["data"]
        assert past["referrals"]["edges"] == []
        assert len(counts) > 1
        assert set(counts) == {past["referrals"]["totalCount"]} == {len(seen)}
        assert status is None or set(seen) == {status}


class TestViewerAndRegistry:
    def test_viewer(self, graphql: Any, user: Any) -> None:
        me = user(AppRole.COORDINATOR, KAWAGOE)
        body = graphql(
            "{ viewer { subject role municipality { code name } organization { id name } } }",
            AppRole.COORDINATOR,
            KAWAGOE,
        )
        viewer = body["data"]["viewer"]
        assert viewer["subject"] == me.subject
        assert viewer["role"] == "COORDINATOR"
        assert viewer["municipality"] == {"code": KAWAGOE, "name": "川越市"}
        assert viewer["organization"]["id"] == encode_global_id("Organization", me.organisation_id)

    def test_municipalities_is_the_deployments_registry(self, graphql: Any) -> None:
        body = graphql(
            "{ municipalities { code name nameKana kind prefectureCode } }", AppRole.CASEWORKER, SAITAMA_CITY
        )
        rows = body["data"]["municipalities"]
        assert len(rows) == 64
        assert rows[0] == {
            "code": "110001",
            "name": "埼玉県",
            "nameKana": "さいたまけん",
            "kind": "PREFECTURE",
            "prefectureCode": "11",
        }
        assert {r["prefectureCode"] for r in rows} == {"11"}

    def test_municipality_by_code(self, graphql: Any) -> None:
        query = "query($c: String!) { municipality(code: $c) { code name kind } }"
        assert graphql(query, AppRole.CASEWORKER, SAITAMA_CITY, {"c": "112089"})["data"]["municipality"] == {
            "code": "112089",
            "name": "所沢市",
            "kind": "SPECIAL_CITY",
        }
        # Kochi's capital is not in a Saitama deployment
        assert graphql(query, AppRole.CASEWORKER, SAITAMA_CITY, {"c": "392014"})["data"]["municipality"] is None


class TestRootFieldsFailAlone:
    """A refused root field is null with its own error; its siblings still answer."""

    QUERY = "{ cases(first: 1) { totalCount } referrals(first: 100) { totalCount } viewer { role } }"

    def test_school_social_worker_gets_referrals_without_cases(self, graphql: Any) -> None:
        body = graphql(self.QUERY, AppRole.SCHOOL_SOCIAL_WORKER, SAITAMA_CITY)
        assert body["data"]["cases"] is None
        assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [(["cases"], "FORBIDDEN")]
        assert body["data"]["referrals"]["totalCount"] >= 0
        assert body["data"]["viewer"] == {"role": "SCHOOL_SOCIAL_WORKER"}

    def test_unknown_node_beside_a_connection(self, graphql: Any) -> None:
        query = "query($id: ID!) { node(id: $id) { id } cases(first: 1) { totalCount } }"
        body = graphql(query, AppRole.CASEWORKER, SAITAMA_CITY, {"id": encode_global_id("Case", uuid.uuid4())})
        assert body["data"]["node"] is None
        assert body["errors"][0]["path"] == ["node"]
        assert body["data"]["cases"]["totalCount"] > 0
