"""What an agency or a school social worker reads of a case, tried in SQL as their roles
(issue 15, item 7): the shared view (meeting decisions, plan goals) of the cases shared
with their organisation, while a share is live, and nothing else, whatever they write.

Shares are written here by the superuser (committed first: on Citus a placement written
by one role cannot be read by another in the same transaction); `fresh` removes them.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

import asyncpg
import pytest

from kizuna.platform.ids import uuid7
from kizuna.platform.vocabulary import AppRole
from kizuna.tenants import demo_users

SAITAMA_CITY = "111007"
KAWAGOE = "112011"
AGENCIES = (AppRole.WELFARE_WORKER, AppRole.SCHOOL_SOCIAL_WORKER)
REFUSED = asyncpg.InsufficientPrivilegeError
BEGIN_AGENCY = "SELECT kizuna.begin_agency_request()"
MEETINGS = "SELECT case_id, kind, held_on, decisions, next_review_on FROM kizuna.meeting WHERE municipality_code = $1"
PLANS = "SELECT case_id, version, goals, period_start, period_end FROM kizuna.support_plan WHERE municipality_code = $1"
# Two cases of さいたま市 with meetings and plans.
CASES_WITH_MEETINGS_AND_PLANS = """
SELECT c.id FROM kizuna.carer_case c
WHERE c.municipality_code = $1
  AND EXISTS (SELECT 1 FROM kizuna.meeting m WHERE m.municipality_code = c.municipality_code AND m.case_id = c.id)
  AND EXISTS (SELECT 1 FROM kizuna.support_plan p WHERE p.municipality_code = c.municipality_code AND p.case_id = c.id)
ORDER BY c.id LIMIT 2
"""
INSERT_SHARE = """
INSERT INTO kizuna.case_share (municipality_code, id, case_id, organisation_id, basis, reason, expires_at, created_by)
VALUES ($1, $2, $3, $4, 'override', '見守りのため共有する', $5, 'test')
"""
# Tables an agency reads nothing of (family details, assessments, contact logs …).
NOT_GRANTED = (
    "carer_case",
    "person",
    "household",
    "care_relationship",
    "assessment",
    "contact_log",
    "case_event",
    "case_participant",
    "consent",
    "meeting_participant",
    "approval",
    "helper_dispatch",
    "helper_visit",
)

pytestmark = pytest.mark.usefixtures("fresh")


async def refused(conn: asyncpg.Connection, sql: str, *args: object) -> None:
    """`sql` is refused (in a savepoint, so the transaction goes on)."""
    with pytest.raises(REFUSED):
        async with conn.transaction():
            await conn.execute(sql, *args)


@pytest.fixture
async def cases(admin_conn: asyncpg.Connection) -> tuple[uuid.UUID, uuid.UUID]:
    shared, other = (r["id"] for r in await admin_conn.fetch(CASES_WITH_MEETINGS_AND_PLANS, SAITAMA_CITY))
    return shared, other


@pytest.fixture
def share(admin_conn: asyncpg.Connection, user: Callable[[AppRole, str], demo_users.DemoUser]) -> Callable[..., Any]:
    """Share `case_id` with the organisation of `role`'s demo user (an override, as the
    superuser), expiring at `expires_at`; returns the share's id."""

    async def write(case_id: uuid.UUID, role: AppRole, expires_at: dt.datetime | None = None) -> uuid.UUID:
        share_id = uuid7()
        organisation = user(role, SAITAMA_CITY).organisation_id
        await admin_conn.execute(INSERT_SHARE, SAITAMA_CITY, share_id, case_id, organisation, expires_at)
        return share_id

    return write


@pytest.mark.parametrize("role", AGENCIES)
class TestAnAgencyReadsTheSharedViewOfItsSharedCasesOnly:
    async def test_nothing_shared_nothing_read(self, role: AppRole, as_user: Any, cases: Any) -> None:
        async with as_user(role, SAITAMA_CITY) as conn:
            await conn.execute(BEGIN_AGENCY)
            assert await conn.fetch(MEETINGS, SAITAMA_CITY) == []
            assert await conn.fetch(PLANS, SAITAMA_CITY) == []

    async def test_a_shared_case_s_decisions_and_goals(
        self, role: AppRole, as_user: Any, cases: Any, share: Any, admin_conn: asyncpg.Connection
    ) -> None:
        shared = cases[0]
        await share(shared, role)
        async with as_user(role, SAITAMA_CITY) as conn:
            await conn.execute(BEGIN_AGENCY)
            meetings = await conn.fetch(MEETINGS, SAITAMA_CITY)
            plans = await conn.fetch(PLANS, SAITAMA_CITY)
        assert meetings
        assert {m["case_id"] for m in meetings} == {shared}
        assert plans
        assert {p["case_id"] for p in plans} == {shared}
        expected = await admin_conn.fetchval(
            "SELECT count(*) FROM kizuna.meeting WHERE municipality_code = $1 AND case_id = $2", SAITAMA_CITY, shared
        )
        assert len(meetings) == expected

    async def test_without_the_setting_function_nothing(
        self, role: AppRole, as_user: Any, cases: Any, share: Any
    ) -> None:
        await share(cases[0], role)
        async with as_user(role, SAITAMA_CITY) as conn:
            assert await conn.fetch(MEETINGS, SAITAMA_CITY) == []

    async def test_a_revoked_share_gives_nothing(
        self, role: AppRole, as_user: Any, cases: Any, share: Any, admin_conn: asyncpg.Connection
    ) -> None:
        share_id = await share(cases[0], role)
        await admin_conn.execute(
            "UPDATE kizuna.case_share SET revoked_at = now() WHERE municipality_code = $1 AND id = $2",
            SAITAMA_CITY,
            share_id,
        )
        async with as_user(role, SAITAMA_CITY) as conn:
            await conn.execute(BEGIN_AGENCY)
            assert await conn.fetch(MEETINGS, SAITAMA_CITY) == []

    async def test_an_expired_share_gives_nothing(self, role: AppRole, as_user: Any, cases: Any, share: Any) -> None:
        await share(cases[0], role, dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        async with as_user(role, SAITAMA_CITY) as conn:
            await conn.execute(BEGIN_AGENCY)
            assert await conn.fetch(MEETINGS, SAITAMA_CITY) == []
            assert await conn.fetch(PLANS, SAITAMA_CITY) == []

    async def test_another_organisation_s_share_gives_nothing(
        self, role: AppRole, as_user: Any, cases: Any, share: Any
    ) -> None:
        other_agency = next(a for a in AGENCIES if a is not role)
        await share(cases[0], other_agency)
        async with as_user(role, SAITAMA_CITY) as conn:
            await conn.execute(BEGIN_AGENCY)
            assert await conn.fetch(MEETINGS, SAITAMA_CITY) == []
            assert await conn.fetch("SELECT id FROM kizuna.case_share WHERE municipality_code = $1", SAITAMA_CITY) == []

    @pytest.mark.parametrize("table", NOT_GRANTED)
    async def test_no_other_case_data(self, role: AppRole, table: str, as_user: Any, cases: Any, share: Any) -> None:
        await share(cases[0], role)
        async with as_user(role, SAITAMA_CITY) as conn:
            await conn.execute(BEGIN_AGENCY)
            with pytest.raises(REFUSED):
                await conn.fetch(f"SELECT * FROM kizuna.{table} WHERE municipality_code = $1", SAITAMA_CITY)

    @pytest.mark.parametrize(
        ("table", "column"), [("support_plan", "created_by"), ("support_plan", "created_at"), ("case_share", "reason")]
    )
    async def test_no_other_column(  # noqa: PLR0917  (pytest passes fixtures by name)
        self, role: AppRole, table: str, column: str, as_user: Any, cases: Any, share: Any
    ) -> None:
        await share(cases[0], role)
        async with as_user(role, SAITAMA_CITY) as conn:
            await conn.execute(BEGIN_AGENCY)
            with pytest.raises(REFUSED):
                await conn.fetch(f"SELECT {column} FROM kizuna.{table} WHERE municipality_code = $1", SAITAMA_CITY)

    async def test_the_setting_is_set_once(self, role: AppRole, as_user: Any) -> None:
        async with as_user(role, SAITAMA_CITY) as conn:
            await conn.execute(BEGIN_AGENCY)
            with pytest.raises(asyncpg.ActiveSQLTransactionError):
                await conn.execute(BEGIN_AGENCY)

    async def test_writes_are_refused(self, role: AppRole, as_user: Any, cases: Any, share: Any) -> None:
        await share(cases[0], role)
        async with as_user(role, SAITAMA_CITY) as conn:
            await conn.execute(BEGIN_AGENCY)
            await refused(
                conn,
                "UPDATE kizuna.meeting SET decisions = 'x' WHERE municipality_code = $1 AND case_id = $2",
                SAITAMA_CITY,
                cases[0],
            )
            await refused(
                conn,
                INSERT_SHARE.replace("'test'", "kizuna.current_subject()"),
                SAITAMA_CITY,
                uuid7(),
                cases[1],
                uuid.uuid4(),
                None,
            )

    async def test_no_case_of_another_tenant(self, role: AppRole, as_user: Any, share: Any, cases: Any) -> None:
        await share(cases[0], role)
        async with as_user(role, SAITAMA_CITY) as conn:
            await conn.execute(BEGIN_AGENCY)
            assert await conn.fetch(MEETINGS, KAWAGOE) == []


@pytest.mark.parametrize("role", [AppRole.CASEWORKER, AppRole.COORDINATOR, AppRole.SUPERVISOR, AppRole.SCHOOL_STAFF])
async def test_only_agencies_set_shared_cases(role: AppRole, as_user: Any) -> None:
    async with as_user(role, SAITAMA_CITY) as conn:
        with pytest.raises(REFUSED):
            await conn.execute(BEGIN_AGENCY)


async def test_no_shared_cases_before_begin_request(app_conn: asyncpg.Connection) -> None:
    async with app_conn.transaction():
        with pytest.raises(REFUSED):
            await app_conn.execute(BEGIN_AGENCY)


class TestOverridesAreASupervisorsAlone:
    async def test_a_caseworker_s_override_is_refused(
        self, as_user: Any, cases: Any, user: Callable[[AppRole, str], demo_users.DemoUser]
    ) -> None:
        organisation = user(AppRole.WELFARE_WORKER, SAITAMA_CITY).organisation_id
        for role in (AppRole.CASEWORKER, AppRole.COORDINATOR):
            async with as_user(role, SAITAMA_CITY) as conn:
                with pytest.raises(REFUSED):
                    await conn.execute(
                        INSERT_SHARE.replace("'test'", "kizuna.current_subject()"),
                        SAITAMA_CITY,
                        uuid7(),
                        cases[0],
                        organisation,
                        None,
                    )

    async def test_a_supervisor_s_override_in_their_own_name(
        self, as_user: Any, cases: Any, user: Callable[[AppRole, str], demo_users.DemoUser]
    ) -> None:
        organisation = user(AppRole.WELFARE_WORKER, SAITAMA_CITY).organisation_id
        async with as_user(AppRole.SUPERVISOR, SAITAMA_CITY) as conn:
            await conn.execute(
                INSERT_SHARE.replace("'test'", "kizuna.current_subject()"),
                SAITAMA_CITY,
                uuid7(),
                cases[0],
                organisation,
                None,
            )
            with pytest.raises(REFUSED):  # in someone else's name
                await conn.execute(INSERT_SHARE, SAITAMA_CITY, uuid7(), cases[0], organisation, None)

    async def test_an_override_says_why(self, as_user: Any, cases: Any, user: Any) -> None:
        organisation = user(AppRole.WELFARE_WORKER, SAITAMA_CITY).organisation_id
        async with as_user(AppRole.SUPERVISOR, SAITAMA_CITY) as conn:
            with pytest.raises(asyncpg.CheckViolationError):
                await conn.execute(
                    INSERT_SHARE.replace("'見守りのため共有する'", "' '").replace("'test'", "kizuna.current_subject()"),
                    SAITAMA_CITY,
                    uuid7(),
                    cases[0],
                    organisation,
                    None,
                )

    async def test_a_revoked_share_stays_revoked(self, as_user: Any, cases: Any, share: Any) -> None:
        share_id = await share(cases[0], AppRole.WELFARE_WORKER)
        async with as_user(AppRole.CASEWORKER, SAITAMA_CITY) as conn:
            revoke = "UPDATE kizuna.case_share SET revoked_at = now() WHERE municipality_code = $1 AND id = $2"
            assert await conn.execute(revoke, SAITAMA_CITY, share_id) == "UPDATE 1"
            assert await conn.execute(revoke, SAITAMA_CITY, share_id) == "UPDATE 0"
            await refused(
                conn,
                "UPDATE kizuna.case_share SET expires_at = NULL WHERE municipality_code = $1 AND id = $2",
                SAITAMA_CITY,
                share_id,
            )
            await refused(
                conn, "DELETE FROM kizuna.case_share WHERE municipality_code = $1 AND id = $2", SAITAMA_CITY, share_id
            )


INSERT_CONSENT = """
INSERT INTO kizuna.consent (municipality_code, id, person_id, case_id, given_by, purpose, shared_organisation_ids,
    given_at, withdrawn_at)
VALUES ($1, $2, $3, $4, 'self', '関係機関との情報共有', '{}', now(), $5)
"""


@pytest.fixture
async def consent(admin_conn: asyncpg.Connection, cases: Any) -> uuid.UUID:
    """A consent given (by the superuser) for the first case's carer."""
    person = await admin_conn.fetchval(
        "SELECT person_id FROM kizuna.carer_case WHERE municipality_code = $1 AND id = $2", SAITAMA_CITY, cases[0]
    )
    consent_id = uuid7()
    await admin_conn.execute(INSERT_CONSENT, SAITAMA_CITY, consent_id, person, cases[0], None)
    return consent_id


@pytest.mark.parametrize("role", [AppRole.CASEWORKER, AppRole.COORDINATOR, AppRole.SUPERVISOR])
class TestAGivenConsentIsNeverEdited:
    @pytest.mark.parametrize(
        "change",
        ["purpose = '別の目的'", "expires_on = '2099-01-01'", "shared_organisation_ids = '{}'", "given_at = now()"],
    )
    async def test_no_change_but_withdrawal(self, role: AppRole, change: str, as_user: Any, consent: uuid.UUID) -> None:
        async with as_user(role, SAITAMA_CITY) as conn:
            await refused(
                conn,
                f"UPDATE kizuna.consent SET {change} WHERE municipality_code = $1 AND id = $2",
                SAITAMA_CITY,
                consent,
            )

    async def test_withdrawn_once_and_for_good(self, role: AppRole, as_user: Any, consent: uuid.UUID) -> None:
        withdraw = (
            "UPDATE kizuna.consent SET withdrawn_at = now(), withdrawal_reason = $3"
            " WHERE municipality_code = $1 AND id = $2"
        )
        async with as_user(role, SAITAMA_CITY) as conn:
            assert await conn.execute(withdraw, SAITAMA_CITY, consent, "本人の申し出") == "UPDATE 1"
            # A withdrawn consent is out of reach of UPDATE: not re-dated, not un-withdrawn.
            assert await conn.execute(withdraw, SAITAMA_CITY, consent, "別の理由") == "UPDATE 0"
            unwithdraw = "UPDATE kizuna.consent SET withdrawn_at = NULL WHERE municipality_code = $1 AND id = $2"
            assert await conn.execute(unwithdraw, SAITAMA_CITY, consent) == "UPDATE 0"

    async def test_a_merge_moves_a_live_consent_only(self, role: AppRole, as_user: Any, consent: uuid.UUID) -> None:
        move = "UPDATE kizuna.consent SET person_id = person_id WHERE municipality_code = $1 AND id = $2"
        withdraw = "UPDATE kizuna.consent SET withdrawn_at = now() WHERE municipality_code = $1 AND id = $2"
        async with as_user(role, SAITAMA_CITY) as conn:
            assert await conn.execute(move, SAITAMA_CITY, consent) == "UPDATE 1"
            assert await conn.execute(withdraw, SAITAMA_CITY, consent) == "UPDATE 1"
            assert await conn.execute(move, SAITAMA_CITY, consent) == "UPDATE 0"

    async def test_never_deleted(self, role: AppRole, as_user: Any, consent: uuid.UUID) -> None:
        async with as_user(role, SAITAMA_CITY) as conn:
            await refused(
                conn, "DELETE FROM kizuna.consent WHERE municipality_code = $1 AND id = $2", SAITAMA_CITY, consent
            )


@pytest.mark.parametrize("role", [AppRole.CASEWORKER, AppRole.COORDINATOR])
async def test_a_worker_records_only_a_live_consent(role: AppRole, as_user: Any, cases: Any, admin_conn: Any) -> None:
    person = await admin_conn.fetchval(
        "SELECT person_id FROM kizuna.carer_case WHERE municipality_code = $1 AND id = $2", SAITAMA_CITY, cases[0]
    )
    async with as_user(role, SAITAMA_CITY) as conn:
        await refused(conn, INSERT_CONSENT, SAITAMA_CITY, uuid7(), person, cases[0], dt.datetime.now(dt.UTC))
        await conn.execute(INSERT_CONSENT, SAITAMA_CITY, uuid7(), person, cases[0], None)


INSERT_ACCESS = """
INSERT INTO kizuna.emergency_access (municipality_code, id, case_id, subject, reason, granted_at, expires_at)
VALUES ($1, $2, $3, $4, '夜間に本人から連絡があり状況確認が必要', $5, $6)
"""


@pytest.mark.parametrize("role", AGENCIES)
class TestBreakTheGlass:
    async def test_opened_for_oneself_gives_the_shared_view_until_it_expires(
        self, role: AppRole, as_user: Any, cases: Any, user: Any, admin_conn: asyncpg.Connection
    ) -> None:
        me = str(user(role, SAITAMA_CITY).user_id)
        now = dt.datetime.now(dt.UTC)
        access = uuid7()
        async with as_user(role, SAITAMA_CITY) as conn:
            await conn.execute(BEGIN_AGENCY)
            await conn.execute(INSERT_ACCESS, SAITAMA_CITY, access, cases[0], me, now, now + dt.timedelta(hours=24))
        # as_user rolls back: write it for good as the superuser, then read as the agency.
        await admin_conn.execute(INSERT_ACCESS, SAITAMA_CITY, access, cases[0], me, now, now + dt.timedelta(hours=1))
        async with as_user(role, SAITAMA_CITY) as conn:
            await conn.execute(BEGIN_AGENCY)
            assert {m["case_id"] for m in await conn.fetch(MEETINGS, SAITAMA_CITY)} == {cases[0]}
        await admin_conn.execute(
            # A bound value: Citus refuses a STABLE operator on a column in an UPDATE.
            "UPDATE kizuna.emergency_access SET expires_at = $3 WHERE municipality_code = $1 AND id = $2",
            SAITAMA_CITY,
            access,
            now + dt.timedelta(microseconds=1),
        )
        async with as_user(role, SAITAMA_CITY) as conn:
            await conn.execute(BEGIN_AGENCY)
            assert await conn.fetch(MEETINGS, SAITAMA_CITY) == []

    async def test_not_for_someone_else(self, role: AppRole, as_user: Any, cases: Any, user: Any) -> None:
        someone = str(user(AppRole.CASEWORKER, SAITAMA_CITY).user_id)
        now = dt.datetime.now(dt.UTC)
        async with as_user(role, SAITAMA_CITY) as conn:
            await refused(
                conn, INSERT_ACCESS, SAITAMA_CITY, uuid7(), cases[0], someone, now, now + dt.timedelta(hours=1)
            )

    async def test_not_for_more_than_a_day_from_now(self, role: AppRole, as_user: Any, cases: Any, user: Any) -> None:
        me = str(user(role, SAITAMA_CITY).user_id)
        later = dt.datetime.now(dt.UTC) + dt.timedelta(days=30)  # granted_at forged into the future
        async with as_user(role, SAITAMA_CITY) as conn:
            await refused(
                conn, INSERT_ACCESS, SAITAMA_CITY, uuid7(), cases[0], me, later, later + dt.timedelta(hours=1)
            )

    async def test_never_changed(self, role: AppRole, as_user: Any) -> None:
        async with as_user(role, SAITAMA_CITY) as conn:
            await refused(
                conn, "UPDATE kizuna.emergency_access SET expires_at = now() WHERE municipality_code = $1", SAITAMA_CITY
            )


async def test_staff_no_longer_change_an_emergency_access(as_user: Any) -> None:
    async with as_user(AppRole.SUPERVISOR, SAITAMA_CITY) as conn:
        await refused(
            conn, "UPDATE kizuna.emergency_access SET expires_at = now() WHERE municipality_code = $1", SAITAMA_CITY
        )
