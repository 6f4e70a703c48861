"""A request whose transaction the database ends over a conflict with concurrent ones (a
deadlock it broke, 40P01; a serialization failure, 40001) is run once more in a new
transaction before anything is answered; conflicts that persist are 503 with
`Retry-After`, and nothing of either attempt stays (issue 18, item 7: during a Citus
rebalance the read audit's INSERT was cancelled as a distributed deadlock).

The conflicts are the database's own errors, raised by a trigger that the test puts on
the audit log for one user's events of one action, as many times as the test asks
(counted by a sequence, which a rollback does not rewind), against the real server.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg
import httpx
import pytest

from kizuna.platform.vocabulary import AppRole
from kizuna.schema.referrals.service import SEND_ACTION

SAITAMA_CITY = "111007"
PAGE = "query { cases(first: 3) { edges { node { id person { id familyName } } } } }"
SEND = """mutation($input: CreateReferralInput!) { createReferral(input: $input) {
  referral { id } userErrors { code } } }"""
EVENTS = "SELECT action FROM kizuna.audit_event WHERE municipality_code = $1 AND request_id = $2 ORDER BY action"

INJECT = """
CREATE SEQUENCE public.kizuna_test_conflicts;
CREATE FUNCTION public.kizuna_test_conflict() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
BEGIN
  IF NEW.subject = TG_ARGV[0] AND NEW.action = TG_ARGV[1] THEN
    IF nextval('public.kizuna_test_conflicts') <= TG_ARGV[2]::int THEN
      RAISE EXCEPTION 'conflict injected by the test' USING ERRCODE = TG_ARGV[3];
    END IF;
  END IF;
  RETURN NEW;
END $$;
"""
REMOVE = """
DROP TRIGGER IF EXISTS kizuna_test_conflict ON kizuna.audit_event;
DROP FUNCTION IF EXISTS public.kizuna_test_conflict();
DROP SEQUENCE IF EXISTS public.kizuna_test_conflicts;
"""

Inject = Callable[..., Awaitable[None]]
Send = Callable[..., httpx.Response]


@pytest.fixture
async def conflicts(admin_conn: asyncpg.Connection, user: Callable[..., Any]) -> AsyncIterator[Inject]:
    """`await conflicts(role, action, times, sqlstate)`: the next `times` audit events of
    `action` by the demo user of `role` in さいたま市 fail with `sqlstate`."""
    await admin_conn.execute(REMOVE + INJECT)

    async def inject(role: AppRole, action: str, times: int, sqlstate: str) -> None:
        subject = user(role, SAITAMA_CITY).user_id
        await admin_conn.execute(
            "CREATE TRIGGER kizuna_test_conflict BEFORE INSERT ON kizuna.audit_event FOR EACH ROW"
            f" EXECUTE FUNCTION public.kizuna_test_conflict('{subject}', '{action}', '{times}', '{sqlstate}')"
        )

    try:
        yield inject
    finally:
        await admin_conn.execute(REMOVE)


async def tries(admin_conn: asyncpg.Connection) -> int:
    """How many events the trigger was asked about (each try of the request writes one)."""
    value, called = await admin_conn.fetchrow("SELECT last_value, is_called FROM public.kizuna_test_conflicts")
    return int(value) if called else 0


@pytest.fixture
def send(http: httpx.Client, token: Callable[..., str]) -> Send:
    """`send(role, query, variables)`: POST as the demo user of `role` in さいたま市."""

    def post(role: AppRole, query: str, variables: dict[str, Any] | None = None) -> httpx.Response:
        bearer = {"authorization": f"Bearer {token(role, SAITAMA_CITY)}"}
        return http.post("/graphql", json={"query": query, "variables": variables}, headers=bearer)

    return post


@pytest.mark.usefixtures("tidy")
class TestAConflictIsRunAgain:
    @pytest.mark.parametrize("sqlstate", ["40P01", "40001"])
    async def test_a_page_whose_read_audit_met_a_conflict_is_answered_and_audited_once(
        self,
        sqlstate: str,
        conflicts: Inject,
        send: Send,
        admin_conn: asyncpg.Connection,
    ) -> None:
        await conflicts(AppRole.CASEWORKER, "case.read", 1, sqlstate)
        response = send(AppRole.CASEWORKER, PAGE)
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body
        assert len(body["data"]["cases"]["edges"]) == 3
        assert await tries(admin_conn) == 2
        events = await admin_conn.fetch(EVENTS, SAITAMA_CITY, response.headers["x-request-id"])
        assert [e["action"] for e in events] == ["case.read", "person.read"]

    async def test_conflicts_that_persist_are_503_with_retry_after_and_leave_nothing(
        self,
        conflicts: Inject,
        send: Send,
        admin_conn: asyncpg.Connection,
    ) -> None:
        await conflicts(AppRole.CASEWORKER, "case.read", 10, "40P01")
        response = send(AppRole.CASEWORKER, PAGE)
        assert response.status_code == 503
        assert response.headers["retry-after"] == "1"
        request_id = response.headers["x-request-id"]
        assert response.json() == {
            "errors": [
                {
                    "message": "The request met concurrent changes and was not applied; try again.",
                    "extensions": {"code": "UNAVAILABLE", "requestId": request_id},
                }
            ]
        }
        assert await tries(admin_conn) == 2  # run twice, then refused
        assert await admin_conn.fetch(EVENTS, SAITAMA_CITY, request_id) == []

    @pytest.mark.usefixtures("fresh")
    async def test_a_mutation_whose_statement_met_a_conflict_is_written_once(
        self,
        conflicts: Inject,
        send: Send,
        admin_conn: asyncpg.Connection,
    ) -> None:
        await conflicts(AppRole.SCHOOL_STAFF, SEND_ACTION, 1, "40P01")
        concern = {"source": "SCHOOL", "childDisplayName": "衝突テスト 1年", "noticed": "遅刻が続く", "urgency": "SOON"}
        response = send(AppRole.SCHOOL_STAFF, SEND, {"input": concern})
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body
        assert body["data"]["createReferral"]["userErrors"] == []
        assert await tries(admin_conn) == 2
        sent = await admin_conn.fetchval(
            "SELECT count(*) FROM kizuna.referral WHERE municipality_code = $1 AND child_display_name = $2",
            SAITAMA_CITY,
            concern["childDisplayName"],
        )
        assert sent == 1
        events = await admin_conn.fetch(EVENTS, SAITAMA_CITY, response.headers["x-request-id"])
        assert [e["action"] for e in events] == ["referral.read", SEND_ACTION]  # its payload shows it

    async def test_an_error_that_is_no_conflict_is_not_run_again(
        self,
        conflicts: Inject,
        send: Send,
        admin_conn: asyncpg.Connection,
    ) -> None:
        await conflicts(AppRole.CASEWORKER, "case.read", 1, "P0001")
        response = send(AppRole.CASEWORKER, PAGE)
        assert response.status_code == 500
        assert response.json()["errors"][0]["extensions"]["code"] == "INTERNAL"
        assert await tries(admin_conn) == 1
        assert await admin_conn.fetch(EVENTS, SAITAMA_CITY, response.headers["x-request-id"]) == []
