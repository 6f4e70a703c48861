"""No N+1: a page of 50 cases costs the same statements as a page of 1."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import pytest

from kizuna.platform.caller import Caller
from kizuna.platform.database import Database
from kizuna.platform.ids import uuid7
from kizuna.platform.runtime import DatabaseUrls
from kizuna.platform.scope import open_scope
from kizuna.platform.vocabulary import AppRole
from kizuna.schema.execution import Executor
from kizuna.schema.root import build_schema

SAITAMA_CITY = "111007"
QUERY = """query($first: Int!) { cases(first: $first) { %s edges { node { id stage municipality { code }
  person { id familyName givenName } leadOrganization { id name } %s } } } }"""
OPEN_DISPATCH = "openDispatch { id status periodEnd provider { name } }"

LATEST_MEETING = "latestMeeting { id kind heldOn decisions nextReviewOn }"


async def statements_for(urls: DatabaseUrls, user: Any, first: int, *, total: bool, fields: str = "") -> list[str]:
    seen: list[str] = []
    database = await Database.connect(urls.app, size=1, on_statement=seen.append)
    me = user(AppRole.CASEWORKER, SAITAMA_CITY)
    caller = Caller(
        user_id=me.user_id,
        issuer="https://idp.example/",
        subject=me.subject,
        role=me.role,
        municipality_code=SAITAMA_CITY,
        organisation_id=me.organisation_id,
    )
    executor = Executor(build_schema(), introspection=False)
    prepared = executor.prepare(QUERY % ("totalCount" if total else "", fields))
    assert prepared.document is not None
    try:
        # The first run on a new connection also carries asyncpg's one-time type
        # introspection (for the enums); count the second.
        for _ in range(2):
            seen.clear()
            async with open_scope(database, caller, request_id=uuid.uuid4().hex, readonly=False) as scope:
                result = await executor.execute(
                    prepared.document,
                    variables={"first": first},
                    context=scope,
                    operation_name=None,
                )
            assert result.errors is None, result.errors
            assert result.data is not None
            assert len(result.data["cases"]["edges"]) == first
    finally:
        await database.close()
    return [s for s in seen if not s.lstrip().upper().startswith(("BEGIN", "COMMIT", "SELECT KIZUNA.BEGIN_REQUEST"))]


async def test_a_page_of_50_costs_what_a_page_of_1_costs(urls: DatabaseUrls, user: Any) -> None:
    one = await statements_for(urls, user, 1, total=False)
    fifty = await statements_for(urls, user, 50, total=False)
    # the page statement, with persons and organisations joined in; then the read audit:
    # one event per case and per person, all in one INSERT before COMMIT
    assert len(one) == len(fifty) == 2
    assert all(s.lstrip().startswith("INSERT INTO kizuna.audit_event") for s in (one[1], fifty[1]))


async def test_total_count_is_counted_in_the_page_statement_only_when_selected(urls: DatabaseUrls, user: Any) -> None:
    counted = await statements_for(urls, user, 50, total=True)
    uncounted = await statements_for(urls, user, 50, total=False)
    assert len(counted) == len(uncounted) == 2
    assert "count(*)" in counted[0]
    assert "count(*)" not in uncounted[0]


@pytest.mark.usefixtures("fresh")
async def test_the_open_dispatch_of_every_case_is_one_statement_more(
    urls: DatabaseUrls, user: Any, admin_conn: asyncpg.Connection
) -> None:
    # Applications for a few cases of the page, so that it answers some dispatches.
    newest = await admin_conn.fetch(
        "SELECT id FROM kizuna.carer_case WHERE municipality_code = $1 ORDER BY opened_at DESC, id DESC LIMIT 5",
        SAITAMA_CITY,
    )
    await admin_conn.executemany(
        "INSERT INTO kizuna.helper_dispatch (municipality_code, id, case_id, status, applied_on)"
        " VALUES ($1, $2, $3, 'applied', '2026-11-02')",
        [(SAITAMA_CITY, uuid7(), row["id"]) for row in newest],
    )
    without = await statements_for(urls, user, 50, total=False)
    one = await statements_for(urls, user, 1, total=False, fields=OPEN_DISPATCH)
    fifty = await statements_for(urls, user, 50, total=False, fields=OPEN_DISPATCH)
    # the page; the open dispatches of all its cases at once; the read audit (cases,
    # people and the dispatches read, in one INSERT)
    assert len(fifty) == len(one) == len(without) + 1 == 3
    assert "helper_dispatch" in fifty[1]
    assert fifty[2].lstrip().startswith("INSERT INTO kizuna.audit_event")


async def test_the_latest_meeting_of_a_page_is_one_statement_more(urls: DatabaseUrls, user: Any) -> None:
    without = await statements_for(urls, user, 50, total=False)
    one = await statements_for(urls, user, 1, total=False, fields=LATEST_MEETING)
    fifty = await statements_for(urls, user, 50, total=False, fields=LATEST_MEETING)
    # the page; every case's latest meeting in one statement; the read audit (cases,
    # persons and meetings in one INSERT)
    assert len(one) == len(fifty) == len(without) + 1 == 3
    assert "DISTINCT ON (case_id)" in fifty[1]
    assert fifty[2].lstrip().startswith("INSERT INTO kizuna.audit_event")


@pytest.mark.usefixtures("fresh")
async def test_the_caseworkers_page_costs_at_most_four_statements(
    urls: DatabaseUrls, user: Any, admin_conn: asyncpg.Connection
) -> None:
    """Issue 15's page: 50 cases with person, stage, lead organisation, latest meeting and
    open dispatch, and their total: at most 4 statements, whatever the page's size."""
    newest = await admin_conn.fetch(
        "SELECT id FROM kizuna.carer_case WHERE municipality_code = $1 ORDER BY opened_at DESC, id DESC LIMIT 5",
        SAITAMA_CITY,
    )
    await admin_conn.executemany(
        "INSERT INTO kizuna.helper_dispatch (municipality_code, id, case_id, status, applied_on)"
        " VALUES ($1, $2, $3, 'applied', '2026-11-02')",
        [(SAITAMA_CITY, uuid7(), row["id"]) for row in newest],
    )
    fields = f"{OPEN_DISPATCH} {LATEST_MEETING}"
    one = await statements_for(urls, user, 1, total=True, fields=fields)
    fifty = await statements_for(urls, user, 50, total=True, fields=fields)
    # the page with its count, every case's latest meeting, every case's open dispatch, the read audit
    assert len(one) == len(fifty) == 4
    assert fifty[-1].lstrip().startswith("INSERT INTO kizuna.audit_event")


async def test_the_people_of_a_page_are_read_together(urls: DatabaseUrls, user: Any) -> None:
    """A person's other fields and care relationships on a page of cases: one statement
    each for the whole page, not one per case."""
    fields = "details: person { birthDate household { name } careRelationships { relationship } }"
    one = await statements_for(urls, user, 1, total=False, fields=fields)
    fifty = await statements_for(urls, user, 50, total=False, fields=fields)
    # the page; the people's rows; their care relationships; the read audit
    assert len(one) == len(fifty) == 4
    assert "ANY($2::uuid[])" in fifty[1]
