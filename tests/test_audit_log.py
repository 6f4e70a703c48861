"""`auditEvents`: a tenant's audit log, read by its supervisors only, newest first, paged,
and never another tenant's events. The events are made by real grants (removed after)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import asyncpg
import pytest

from kizuna.platform import audit, audit_seal
from kizuna.platform.caller import Caller
from kizuna.platform.database import Database
from kizuna.platform.scope import open_scope
from kizuna.platform.settings import Settings
from kizuna.platform.vocabulary import AppRole
from kizuna.schema.audit import service
from kizuna.schema.relay import Keyset, encode_global_id
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


FILTERED = """query($actor: AuditActorInput, $objectId: ID, $since: DateTime, $before: DateTime, $entity: String) {
  auditEvents(first: 100, actor: $actor, objectId: $objectId, since: $since, before: $before, entity: $entity) {
    edges { node { occurredAt action entity entityId entityIds role actor { issuer subject } } }
  }
}"""
READ_CASE = """query($id: ID!) { node(id: $id) { ... on Case { stage } } }"""
A_CASE = """{ cases(first: 1) { edges { node { id } } } }"""


def filtered(graphql: Any, code: str = SAITAMA_CITY, **variables: Any) -> list[dict[str, Any]]:
    body = graphql(FILTERED, AppRole.SUPERVISOR, code, variables)
    assert "errors" not in body, body
    return [edge["node"] for edge in body["data"]["auditEvents"]["edges"]]


@pytest.fixture
def case_read(graphql: Any, tidy: Tidy) -> str:
    """A case of さいたま市 that its caseworker, and then its coordinator, read by id."""
    case_id: str = graphql(A_CASE, AppRole.CASEWORKER, SAITAMA_CITY)["data"]["cases"]["edges"][0]["node"]["id"]
    for role in (AppRole.CASEWORKER, AppRole.COORDINATOR):
        assert "errors" not in graphql(READ_CASE, role, SAITAMA_CITY, {"id": case_id})
    return case_id


def test_a_supervisor_sees_who_read_a_case(
    graphql: Any, case_read: str, tidy: Tidy, user: Any, settings: Settings
) -> None:
    events = filtered(graphql, objectId=case_read, since=tidy.began.isoformat())
    # Reads name their objects in entityIds (a page's read event names the page's cases).
    assert all(case_read in e["entityIds"] and e["entityId"] is None for e in events)
    readers = {(e["action"], e["role"], e["actor"]["subject"]) for e in events}
    assert readers == {
        ("case.read", role.name, user(role, SAITAMA_CITY).subject) for role in (AppRole.CASEWORKER, AppRole.COORDINATOR)
    }
    assert {e["actor"]["issuer"] for e in events} == {settings.issuer}


def test_a_supervisor_sees_what_one_user_did(
    graphql: Any, case_read: str, tidy: Tidy, user: Any, settings: Settings
) -> None:
    caseworker = user(AppRole.CASEWORKER, SAITAMA_CITY).subject
    events = filtered(graphql, actor={"issuer": settings.issuer, "subject": caseworker}, since=tidy.began.isoformat())
    # The caseworker's page of one case, then the case by id: the person read on the page too.
    assert any(e["action"] == "case.read" and case_read in e["entityIds"] for e in events)
    assert {e["actor"]["subject"] for e in events} == {caseworker}
    nobody = filtered(graphql, actor={"issuer": settings.issuer, "subject": "nobody-at-all"})
    assert nobody == []


def test_dates_bound_the_page(graphql: Any, case_read: str, tidy: Tidy) -> None:
    since = filtered(graphql, since=tidy.began.isoformat())
    assert since
    assert all(dt.datetime.fromisoformat(e["occurredAt"]) >= tidy.began for e in since)
    before = filtered(graphql, objectId=case_read, before=tidy.began.isoformat())
    assert all(dt.datetime.fromisoformat(e["occurredAt"]) < tidy.began for e in before)
    assert "COORDINATOR" not in {e["role"] for e in before}  # its read came after `began`


def test_another_tenants_object_finds_nothing(graphql: Any, case_read: str, tidy: Tidy) -> None:
    """An id of さいたま市's case, asked for by 川越市's supervisor: the same empty page as
    for an object nobody touched, not an error that would tell the id exists."""
    assert filtered(graphql, KAWAGOE, objectId=case_read) == []
    unknown = encode_global_id("Case", uuid.uuid4())
    assert filtered(graphql, KAWAGOE, objectId=unknown) == []


def test_an_id_the_log_cannot_name_is_bad_input(graphql: Any, case_read: str) -> None:
    organisation = encode_global_id("Organization", demo_users.organisation_id(SAITAMA_CITY, "department"))
    for variables in ({"objectId": organisation}, {"objectId": case_read, "entity": "membership"}, {"objectId": "x"}):
        body = graphql(FILTERED, AppRole.SUPERVISOR, SAITAMA_CITY, variables)
        assert body["data"] == {"auditEvents": None}
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize("role", [AppRole.CASEWORKER, AppRole.COORDINATOR, AppRole.SCHOOL_STAFF])
def test_filters_open_nothing_to_other_roles(graphql: Any, case_read: str, role: AppRole) -> None:
    body = graphql(FILTERED, role, SAITAMA_CITY, {"objectId": case_read})
    assert body["data"] == {"auditEvents": None}
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_an_objects_page_is_the_same_whichever_way_it_is_found(
    database: Database, caller_of: Callable[[AppRole, str], Caller], tidy: Tidy
) -> None:
    """An object's events are looked for among the newest events first, then all of them
    (schema/audit/service.py `event_page`): with any window, any page size and any
    cursor, the pages put together are the object's events, newest first, and no other."""
    target, other, third = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    kinds = [
        audit.Event("case.update", "case", target, ("risk_level",)),
        audit.Event("case.read", "case", None, entity_ids=sorted([target, other])),
        audit.Event("case.read", "case", None, entity_ids=[other]),
        audit.Event("case.update", "case", other, ("stage",)),
        audit.Event("case.read", "case", None, entity_ids=sorted([third, target])),
    ]
    caseworker = caller_of(AppRole.CASEWORKER, SAITAMA_CITY)
    for n in range(25):  # one request each: each its own moment
        async with open_scope(database, caseworker, request_id=f"t{n}", readonly=False) as scope:
            await audit.record_many(scope, [kinds[n % len(kinds)]])

    supervisor = caller_of(AppRole.SUPERVISOR, SAITAMA_CITY)
    async with open_scope(database, supervisor, request_id="t", readonly=True) as scope:
        every = await scope.tx.fetch(
            "SELECT id, occurred_at, entity_id, entity_ids FROM kizuna.audit_event"
            " WHERE municipality_code = $1 AND occurred_at >= $2",
            tidy.began,
        )
    expected = [
        e["id"]
        for e in sorted(every, key=lambda e: (e["occurred_at"], e["id"]), reverse=True)
        if e["entity_id"] == target or target in (e["entity_ids"] or ())
    ]
    assert len(expected) == 15

    by_object = service.EventFilter(entity="case", entity_id=target)
    for window in (1, 2, 7, service.RECENT_WINDOW):
        for first in (1, 4, 20):
            found: list[uuid.UUID] = []
            after = None
            async with open_scope(database, supervisor, request_id="t", readonly=True) as scope:
                while True:
                    rows = await service.event_page(scope.tx, by_object, first=first, after=after, recent_window=window)
                    found += [row["id"] for row in rows[:first]]
                    if len(rows) <= first:
                        break
                    after = Keyset(rows[first - 1]["occurred_at"], rows[first - 1]["id"])
            assert found == expected, (window, first)
