"""The request scope (`platform/scope.py`) and the write kit (`schema/writes.py`) on the
session's PostgreSQL: what commits, what rolls back, what runs after the commit, and how
an input id is refused."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

import asyncpg
import pytest

import kizuna.schema.root  # noqa: F401  (imports every domain, which registers its Node types)
from kizuna.platform.caller import Caller
from kizuna.platform.database import Database, NoMembership
from kizuna.platform.i18n import Language, Message
from kizuna.platform.scope import open_scope
from kizuna.platform.vocabulary import AppRole
from kizuna.schema.errors import Refused, UserErrorCode
from kizuna.schema.memberships.types import RevokeMembershipPayload
from kizuna.schema.relay import encode_global_id
from kizuna.schema.writes import check_idempotency_key, input_key

SAITAMA_CITY = "111007"
# A change the caseworker may make and the superuser can see: a case's risk level.
A_CASE = (
    "SELECT id, risk_level::text FROM kizuna.carer_case WHERE municipality_code = $1 AND risk_level <> 'high'"
    " ORDER BY id LIMIT 1"
)
MOVE = "UPDATE kizuna.carer_case SET risk_level = $3::kizuna.risk_level WHERE municipality_code = $1 AND id = $2"


async def risk_level(admin_conn: asyncpg.Connection, case: uuid.UUID) -> str | None:
    value: str | None = await admin_conn.fetchval(
        "SELECT risk_level::text FROM kizuna.carer_case WHERE municipality_code = $1 AND id = $2",
        SAITAMA_CITY,
        case,
    )
    return value


class TestOpenScope:
    async def test_the_body_commits_and_then_the_hooks_run(
        self, database: Database, caller_of: Callable[[AppRole, str], Caller], admin_conn: asyncpg.Connection
    ) -> None:
        case, before = await admin_conn.fetchrow(A_CASE, SAITAMA_CITY)
        seen: list[str | None] = []
        caseworker = caller_of(AppRole.CASEWORKER, SAITAMA_CITY)
        try:
            async with open_scope(database, caseworker, request_id="t", readonly=False) as scope:
                await scope.tx.execute(MOVE, case, "high")
                # The hook reads the database as someone else would: after COMMIT only.
                scope.after_commit(lambda: seen.append("ran"))
                assert seen == []
            assert seen == ["ran"]
            assert await risk_level(admin_conn, case) == "high"
        finally:
            await admin_conn.execute(
                MOVE,
                SAITAMA_CITY,
                case,
                before,
            )

    async def test_roll_back_keeps_nothing_and_runs_no_hook(
        self, database: Database, caller_of: Callable[[AppRole, str], Caller], admin_conn: asyncpg.Connection
    ) -> None:
        case, before = await admin_conn.fetchrow(A_CASE, SAITAMA_CITY)
        seen: list[str] = []
        caseworker = caller_of(AppRole.CASEWORKER, SAITAMA_CITY)
        async with open_scope(database, caseworker, request_id="t", readonly=False) as scope:
            await scope.tx.execute(MOVE, case, "high")
            scope.after_commit(lambda: seen.append("ran"))
            scope.roll_back()
        assert seen == []
        assert await risk_level(admin_conn, case) == before

    async def test_an_exception_rolls_back_and_runs_no_hook(
        self, database: Database, caller_of: Callable[[AppRole, str], Caller], admin_conn: asyncpg.Connection
    ) -> None:
        case, before = await admin_conn.fetchrow(A_CASE, SAITAMA_CITY)
        seen: list[str] = []
        caseworker = caller_of(AppRole.CASEWORKER, SAITAMA_CITY)

        async def fail_after_writing() -> None:
            async with open_scope(database, caseworker, request_id="t", readonly=False) as scope:
                await scope.tx.execute(MOVE, case, "high")
                scope.after_commit(lambda: seen.append("ran"))
                raise ZeroDivisionError

        with pytest.raises(ZeroDivisionError):
            await fail_after_writing()
        assert seen == []
        assert await risk_level(admin_conn, case) == before

    async def test_a_statement_whose_awaiter_is_cancelled_still_completes_and_the_request_commits(
        self, database: Database, caller_of: Callable[[AppRole, str], Caller], admin_conn: asyncpg.Connection
    ) -> None:
        # graphql-core cancels a field's sibling fields when its error nulls their parent
        # (gather_with_cancel); a statement cancelled on the server would abort the whole
        # transaction, and the request's audit write and COMMIT would then fail (a 500).
        case, before = await admin_conn.fetchrow(A_CASE, SAITAMA_CITY)
        caseworker = caller_of(AppRole.CASEWORKER, SAITAMA_CITY)
        try:
            async with open_scope(database, caseworker, request_id="t", readonly=False) as scope:
                slow = asyncio.ensure_future(scope.tx.fetchval("SELECT $1::text FROM pg_sleep(0.3)"))
                await asyncio.sleep(0.05)  # the statement is on the server
                slow.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await slow
                await scope.tx.execute(MOVE, case, "high")
            assert await risk_level(admin_conn, case) == "high"
            # Abandoned while running, a statement still holds the connection until it ends:
            # the COMMIT waits for it rather than meeting "another operation is in progress".
            async with open_scope(database, caseworker, request_id="t", readonly=True) as scope:
                abandoned = asyncio.ensure_future(scope.tx.fetchval("SELECT $1::text FROM pg_sleep(0.3)"))
                await asyncio.sleep(0.05)
                abandoned.cancel()
        finally:
            await admin_conn.execute(MOVE, SAITAMA_CITY, case, before)

    async def test_the_request_cancelled_during_its_own_statement_commits_nothing(
        self, database: Database, caller_of: Callable[[AppRole, str], Caller], admin_conn: asyncpg.Connection
    ) -> None:
        # The task that opened the transaction runs its statements unshielded: cancelled
        # (the server shutting down), the request is over, and nothing of it stays.
        case, before = await admin_conn.fetchrow(A_CASE, SAITAMA_CITY)
        caseworker = caller_of(AppRole.CASEWORKER, SAITAMA_CITY)
        reached = asyncio.Event()

        async def request() -> None:
            async with open_scope(database, caseworker, request_id="t", readonly=False) as scope:
                await scope.tx.execute(MOVE, case, "high")
                reached.set()
                await scope.tx.fetchval("SELECT $1::text FROM pg_sleep(5)")

        running = asyncio.ensure_future(request())
        await reached.wait()
        await asyncio.sleep(0.05)  # the sleep is on the server
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(running, 3)  # the server's statement was cancelled, not waited for
        assert await risk_level(admin_conn, case) == before
        async with open_scope(database, caseworker, request_id="t", readonly=True) as scope:
            assert await scope.tx.fetchval("SELECT $1::text") == SAITAMA_CITY  # the pool goes on

    async def test_a_caller_without_that_membership_gets_no_scope(
        self, database: Database, caller_of: Callable[[AppRole, str], Caller]
    ) -> None:
        caseworker = caller_of(AppRole.CASEWORKER, SAITAMA_CITY)
        elsewhere = Caller(
            caseworker.user_id,
            caseworker.issuer,
            caseworker.subject,
            AppRole.SUPERVISOR,  # a role this user does not hold
            SAITAMA_CITY,
            caseworker.organisation_id,
        )
        ran: list[str] = []

        async def open_as_elsewhere() -> None:
            async with open_scope(database, elsewhere, request_id="t", readonly=True):
                ran.append("body")

        with pytest.raises(NoMembership):
            await open_as_elsewhere()
        assert ran == []

    async def test_the_scope_carries_who_and_what_the_deployment_provides(
        self, database: Database, caller_of: Callable[[AppRole, str], Caller]
    ) -> None:
        caseworker = caller_of(AppRole.CASEWORKER, SAITAMA_CITY)
        provided: dict[type, object] = {Language: Language.EN}
        async with open_scope(
            database, caseworker, request_id="r-1", readonly=True, provided=provided, language=Language.EN
        ) as scope:
            assert (scope.caller, scope.role, scope.municipality_code) == (caseworker, AppRole.CASEWORKER, SAITAMA_CITY)
            assert scope.tx.municipality_code == SAITAMA_CITY
            assert (scope.request_id, scope.language) == ("r-1", Language.EN)
            assert scope.get(Language) is Language.EN
            with pytest.raises(LookupError, match="provides no Database"):
                scope.get(Database)


class TestWriteKit:
    def test_an_input_id_of_the_expected_type_gives_its_key(self) -> None:
        key = uuid.uuid4()
        found = input_key(
            encode_global_id("Membership", key), "Membership", field="id", not_found=Message.NO_SUCH_MEMBERSHIP
        )
        assert found == key

    def test_an_id_of_another_type_is_refused_like_an_unknown_one(self) -> None:
        with pytest.raises(Refused) as refused:
            input_key(
                encode_global_id("Case", uuid.uuid4()), "Membership", field="id", not_found=Message.NO_SUCH_MEMBERSHIP
            )
        assert (refused.value.code, refused.value.field) == (UserErrorCode.NOT_FOUND, "id")

    @pytest.mark.parametrize("malformed", ["", "not-an-id", "A" * 23, "Membership:1"])
    def test_a_malformed_id_is_bad_input(self, malformed: str) -> None:
        with pytest.raises(Refused) as refused:
            input_key(malformed, "Membership", field="id", not_found=Message.NO_SUCH_MEMBERSHIP)
        assert (refused.value.code, refused.value.field) == (UserErrorCode.BAD_USER_INPUT, "id")

    @pytest.mark.parametrize("key", ["", "k" * 201])
    def test_an_idempotency_key_must_be_1_to_200_characters(self, key: str) -> None:
        with pytest.raises(Refused) as refused:
            check_idempotency_key(key)
        assert refused.value.field == "idempotencyKey"

    @pytest.mark.parametrize("key", [None, "k", "k" * 200])
    def test_no_key_or_one_of_1_to_200_characters_is_taken(self, key: str | None) -> None:
        check_idempotency_key(key)

    async def test_a_refused_payload_has_no_object_and_the_error_in_the_callers_language(
        self, database: Database, caller_of: Callable[[AppRole, str], Caller]
    ) -> None:
        refusal = Refused(UserErrorCode.NOT_FOUND, "id", Message.NO_SUCH_MEMBERSHIP)
        supervisor = caller_of(AppRole.SUPERVISOR, SAITAMA_CITY)
        async with open_scope(database, supervisor, request_id="t", readonly=True, language=Language.EN) as scope:
            payload = RevokeMembershipPayload.refused(refusal, scope)
        assert payload.membership is None
        (error,) = payload.user_errors
        assert (error.field, error.code) == ("id", UserErrorCode.NOT_FOUND)
        assert error.message == Message.NO_SUCH_MEMBERSHIP.in_(Language.EN)
