"""`auditEvents`: a tenant's audit log, read by its supervisors only, newest first, paged,
and never another tenant's events. The events are made by real grants (removed after)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import asyncpg
import pytest

from kizuna.platform import audit_seal
from kizuna.platform.settings import Settings
from kizuna.platform.vocabulary import AppRole
from kizuna.schema.relay import encode_global_id
from kizuna.tenants import demo_users

if TYPE_CHECKING:
    from kizuna.tests.conftest import Tidy

SAITAMA_CITY = "111007"
KAWAGOE = "112011"
PAGE = """query($first: Int, $after: String) {
  auditEvents(first: $first, after: $after, entity: "membership") {
    edges { cursor node { seq action entity entityId role } }
    pageInfo { hasNextPage endCursor }
  }
}"""
GRANT = """mutation($input: GrantMembershipInput!) {
  grantMembership(input: $input) { membership { id } userErrors { code } }
}"""


@pytest.fixture
def granted(graphql: Any, settings: Settings, tidy: Tidy) -> dict[str, list[str]]:
    """Three memberships granted in さいたま市 and one in 川越市, by their supervisors."""
    made: dict[str, list[str]] = {SAITAMA_CITY: [], KAWAGOE: []}
    for code, count in ((SAITAMA_CITY, 3), (KAWAGOE, 1)):
        for n in range(count):
            variables = {
                "input": {
                    "issuer": settings.issuer,
                    "subject": tidy.subject(f"{code}-{n}"),
                    "displayName": "テスト 職員",
                    "role": "CASEWORKER",
                    "organizationId": encode_global_id("Organization", demo_users.organisation_id(code, "department")),
                }
            }
            body = graphql(GRANT, AppRole.SUPERVISOR, code, variables)
            made[code].append(body["data"]["grantMembership"]["membership"]["id"])
    return made


@pytest.mark.parametrize(
    "role", [AppRole.CASEWORKER, AppRole.COORDINATOR, AppRole.SCHOOL_STAFF, AppRole.MUNICIPAL_SYSTEM]
)
def test_only_supervisors_read_the_log(graphql: Any, role: AppRole) -> None:
    body = graphql(PAGE, role, SAITAMA_CITY)
    assert body["data"] == {"auditEvents": None}
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def newest_three(graphql: Any) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    after = None
    while len(seen) < 3:
        body = graphql(PAGE, AppRole.SUPERVISOR, SAITAMA_CITY, {"first": 2, "after": after})
        connection = body["data"]["auditEvents"]
        seen += [edge["node"] for edge in connection["edges"]]
        assert connection["pageInfo"]["hasNextPage"] or len(seen) >= 3
        after = connection["pageInfo"]["endCursor"]
    return seen[:3]


async def test_a_supervisor_pages_through_their_tenants_log_newest_first(
    graphql: Any, granted: dict[str, list[str]], admin_conn: asyncpg.Connection
) -> None:
    newest = newest_three(graphql)
    assert [e["entityId"] for e in newest] == list(reversed(granted[SAITAMA_CITY]))
    assert {(e["action"], e["entity"], e["role"]) for e in newest} == {("membership.grant", "membership", "SUPERVISOR")}
    # Events count before they are sealed; sealed, they are numbered in the order they committed.
    assert [e["seq"] for e in newest] == [None, None, None]
    await audit_seal.seal_tenant(admin_conn, SAITAMA_CITY)
    sealed = newest_three(graphql)
    assert [e["entityId"] for e in sealed] == list(reversed(granted[SAITAMA_CITY]))
    last = sealed[0]["seq"]
    assert [e["seq"] for e in sealed] == [last, last - 1, last - 2]


def test_another_tenants_events_are_not_in_the_log(graphql: Any, granted: dict[str, list[str]]) -> None:
    kawagoe = graphql(PAGE, AppRole.SUPERVISOR, KAWAGOE, {"first": 100})["data"]["auditEvents"]["edges"]
    ids = {edge["node"]["entityId"] for edge in kawagoe}
    assert granted[KAWAGOE][0] in ids
    assert not ids & set(granted[SAITAMA_CITY])


def test_a_malformed_cursor_is_bad_input(graphql: Any) -> None:
    body = graphql(PAGE, AppRole.SUPERVISOR, SAITAMA_CITY, {"after": "bm90LWEtY3Vyc29y"})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
