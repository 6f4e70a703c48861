"""Sharing a case through GraphQL (issue 15, items 6 and 7): participating agencies, the
yotaikyo registration, consent (recorded, withdrawn, expired), sharing without consent,
break the glass, and what an agency or a school social worker then reads (`sharedCases`:
meeting decisions and plan goals, nothing else). Every rule is also tried in SQL as the
role, in tests/test_case_sharing_sql.py.

The agency is the demo welfare worker's organisation (or the SSW's); each test uses a demo
case of さいたま市 with meetings and plans that the organisation does not take part in.
`fresh` removes what a test wrote, and `yotaikyo_kept` restores the registration.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import asyncpg
import pytest

from kizuna.platform.vocabulary import AppRole
from kizuna.schema.cases.workflow import JAPAN
from kizuna.schema.relay import decode_global_id, encode_global_id
from kizuna.tenants import demo_users
from kizuna.tests.audit_events import audited

SAITAMA_CITY = "111007"
KAWAGOE = "112011"
AGENCIES = (AppRole.WELFARE_WORKER, AppRole.SCHOOL_SOCIAL_WORKER)
ERRORS = "userErrors { field message code }"
PARTICIPANT = "participant { id caseId role organization { id kind } }"
ADD = f"mutation($input: AddCaseParticipantInput!) {{ addCaseParticipant(input: $input) {{ {PARTICIPANT} {ERRORS} }} }}"
REMOVE = f"""mutation($input: RemoveCaseParticipantInput!) {{ removeCaseParticipant(input: $input) {{
  {PARTICIPANT} {ERRORS} }} }}"""
REGISTER = f"""mutation($input: RegisterCaseWithYotaikyoInput!) {{ registerCaseWithYotaikyo(input: $input) {{
  caseId {ERRORS} }} }}"""
DEREGISTER = f"""mutation($input: DeregisterCaseFromYotaikyoInput!) {{ deregisterCaseFromYotaikyo(input: $input) {{
  caseId {ERRORS} }} }}"""
CONSENT = """consent { id givenBy guardianName purpose organizationIds organizationKinds expiresOn withdrawnAt
  withdrawalReason }"""
RECORD = f"mutation($input: RecordConsentInput!) {{ recordConsent(input: $input) {{ {CONSENT} {ERRORS} }} }}"
WITHDRAW = f"mutation($input: WithdrawConsentInput!) {{ withdrawConsent(input: $input) {{ {CONSENT} {ERRORS} }} }}"
OVERRIDE = f"""mutation($input: ShareCaseWithoutConsentInput!) {{ shareCaseWithoutConsent(input: $input) {{
  caseId {ERRORS} }} }}"""
OPEN = f"""mutation($input: OpenEmergencyAccessInput!) {{ openEmergencyAccess(input: $input) {{
  emergencyAccess {{ id caseId subject reason grantedAt expiresAt }} {ERRORS} }} }}"""
SHARED = "{ sharedCases { caseId meetings { kind heldOn decisions nextReviewOn } planGoals { version goals } } }"
ACCESSES = "{ emergencyAccesses { id caseId subject reason grantedAt expiresAt } }"
PARTICIPANTS = "query($id: ID!) { caseParticipants(caseId: $id) { id organization { id } role } }"
CONSENTS = "query($id: ID!) { consents(caseId: $id) { id withdrawnAt } }"
NODE = "query($id: ID!) { node(id: $id) { id } }"
REASON = "関係機関で見守る必要があるため"
# A demo case of the tenant with meetings and plans, the organisation taking no part in it.
A_CASE = """
SELECT c.id FROM kizuna.carer_case c
WHERE c.municipality_code = $1 AND NOT c.yotaikyo_registered
  AND EXISTS (SELECT 1 FROM kizuna.meeting m WHERE m.municipality_code = c.municipality_code AND m.case_id = c.id
              AND m.decisions IS NOT NULL)
  AND EXISTS (SELECT 1 FROM kizuna.support_plan p WHERE p.municipality_code = c.municipality_code AND p.case_id = c.id)
  AND NOT EXISTS (SELECT 1 FROM kizuna.case_participant p WHERE p.municipality_code = c.municipality_code
                  AND p.case_id = c.id AND p.organisation_id = $2)
ORDER BY c.id LIMIT 1 OFFSET $3
"""
FINGERPRINT = """
SELECT md5(string_agg(t, '|' ORDER BY t)) FROM (
    SELECT p.*::text AS t FROM kizuna.case_participant p WHERE municipality_code = $1
    UNION ALL SELECT s.*::text FROM kizuna.case_share s WHERE municipality_code = $1
    UNION ALL SELECT c.*::text FROM kizuna.consent c WHERE municipality_code = $1
    UNION ALL SELECT e.*::text FROM kizuna.emergency_access e WHERE municipality_code = $1
    UNION ALL SELECT c.*::text FROM kizuna.carer_case c WHERE municipality_code = $1
    UNION ALL SELECT e.*::text FROM kizuna.case_event e WHERE municipality_code = $1) rows
"""

pytestmark = pytest.mark.usefixtures("fresh")


def today() -> dt.date:
    """Today where consents are given (their expiry is a date in Japan)."""
    return dt.datetime.now(JAPAN).date()


def payload(body: dict[str, Any], field: str) -> dict[str, Any]:
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"][field]
    return result


def ok(body: dict[str, Any], field: str) -> dict[str, Any]:
    result = payload(body, field)
    assert result["userErrors"] == [], result
    return result


def refused(body: dict[str, Any], field: str) -> dict[str, Any]:
    (error,) = payload(body, field)["userErrors"]
    found: dict[str, Any] = error
    return found


def key(global_id: str) -> uuid.UUID:
    return decode_global_id(global_id)[1]


@pytest.fixture
def organisation_of(user: Callable[[AppRole, str], demo_users.DemoUser]) -> Callable[[AppRole], str]:
    """The global id of the organisation of `role`'s demo user in さいたま市."""
    return lambda role: encode_global_id("Organization", user(role, SAITAMA_CITY).organisation_id)


@pytest.fixture
async def a_case(admin_conn: asyncpg.Connection, user: Any) -> Callable[..., Any]:
    """The global id of a demo case of さいたま市 (the `nth`) that neither agency takes part in."""

    async def find(nth: int = 0) -> str:
        case_id = None
        for offset in range(nth, nth + 50):
            candidate = await admin_conn.fetchval(
                A_CASE, SAITAMA_CITY, user(AppRole.WELFARE_WORKER, SAITAMA_CITY).organisation_id, offset
            )
            taken = await admin_conn.fetchval(
                "SELECT count(*) FROM kizuna.case_participant WHERE municipality_code = $1 AND case_id = $2"
                " AND organisation_id = $3",
                SAITAMA_CITY,
                candidate,
                user(AppRole.SCHOOL_SOCIAL_WORKER, SAITAMA_CITY).organisation_id,
            )
            if not taken:
                case_id = candidate
                break
        assert case_id is not None
        return encode_global_id("Case", case_id)

    return find


@pytest.fixture
async def yotaikyo_kept(admin_conn: asyncpg.Connection) -> AsyncIterator[None]:
    """Afterwards, every case of さいたま市 registered as it was before the test."""
    registered = await admin_conn.fetch(
        "SELECT id FROM kizuna.carer_case WHERE municipality_code = $1 AND yotaikyo_registered", SAITAMA_CITY
    )
    yield
    await admin_conn.execute(
        "UPDATE kizuna.carer_case SET yotaikyo_registered = (id = ANY($2)) WHERE municipality_code = $1",
        SAITAMA_CITY,
        [r["id"] for r in registered],
    )


@pytest.fixture
def join(graphql: Callable[..., Any], organisation_of: Callable[[AppRole], str]) -> Callable[..., dict[str, Any]]:
    """`role`'s organisation added to `case` by a caseworker; the participant."""

    def add(case: str, role: AppRole = AppRole.WELFARE_WORKER) -> dict[str, Any]:
        variables = {"input": {"caseId": case, "organizationId": organisation_of(role), "role": "見守り"}}
        participant: dict[str, Any] = ok(
            graphql(ADD, AppRole.CASEWORKER, SAITAMA_CITY, variables), "addCaseParticipant"
        )["participant"]
        return participant

    return add


@pytest.fixture
def shared_with(graphql: Callable[..., Any]) -> Callable[[AppRole], dict[str, dict[str, Any]]]:
    """What `role` reads in `sharedCases`, by case id (a request of its own)."""

    def read(role: AppRole) -> dict[str, dict[str, Any]]:
        body = graphql(SHARED, role, SAITAMA_CITY)
        assert "errors" not in body, body
        return {c["caseId"]: c for c in body["data"]["sharedCases"]}

    return read


@pytest.fixture
def consent_to(graphql: Callable[..., Any]) -> Callable[..., dict[str, Any]]:
    """Record a consent for `case` as a caseworker (with `changes`); the payload."""

    def record(case: str, **changes: Any) -> dict[str, Any]:
        tomorrow_year = (today() + dt.timedelta(days=365)).isoformat()
        new = {
            "caseId": case,
            "givenBy": "SELF",
            "purpose": "支援に必要な範囲での情報共有",
            "organizationKinds": ["COMMUNITY_GENERAL_SUPPORT_CENTER"],
            "expiresOn": tomorrow_year,
        }
        return payload(graphql(RECORD, AppRole.CASEWORKER, SAITAMA_CITY, {"input": new | changes}), "recordConsent")

    return record


class TestParticipantsAndTheYotaikyo:
    async def test_a_participant_alone_sees_nothing(
        self, a_case: Any, join: Any, shared_with: Any, graphql: Any, admin_conn: asyncpg.Connection
    ) -> None:
        case = await a_case()
        participant = join(case)
        assert participant["role"] == "見守り"
        assert participant["caseId"] == case
        listed = graphql(PARTICIPANTS, AppRole.CASEWORKER, SAITAMA_CITY, {"id": case})["data"]["caseParticipants"]
        assert participant["id"] in {p["id"] for p in listed}
        assert await audited(admin_conn, "case_participant.add", key(participant["id"])) == 1
        assert case not in shared_with(AppRole.WELFARE_WORKER)

    @pytest.mark.usefixtures("yotaikyo_kept")
    @pytest.mark.parametrize("role", AGENCIES)
    async def test_the_yotaikyo_shares_decisions_and_goals_only(  # noqa: PLR0917  (pytest passes fixtures by name)
        self, role: AppRole, a_case: Any, join: Any, shared_with: Any, graphql: Any, admin_conn: asyncpg.Connection
    ) -> None:
        case = await a_case()
        join(case, role)
        ok(graphql(REGISTER, AppRole.COORDINATOR, SAITAMA_CITY, {"input": {"caseId": case, "reason": REASON}}),
           "registerCaseWithYotaikyo")  # fmt: skip
        event = await admin_conn.fetchrow(
            "SELECT reason, actor FROM kizuna.case_event WHERE municipality_code = $1 AND case_id = $2"
            " AND kind = 'yotaikyo_registered'",
            SAITAMA_CITY,
            key(case),
        )
        assert event is not None
        assert event["reason"] == REASON
        seen = shared_with(role)
        assert set(seen) == {case}
        decisions = await admin_conn.fetch(
            "SELECT decisions FROM kizuna.meeting WHERE municipality_code = $1 AND case_id = $2",
            SAITAMA_CITY,
            key(case),
        )
        assert sorted(str(m["decisions"]) for m in seen[case]["meetings"]) == sorted(
            str(d["decisions"]) for d in decisions
        )
        assert seen[case]["planGoals"]
        ok(graphql(DEREGISTER, AppRole.COORDINATOR, SAITAMA_CITY, {"input": {"caseId": case, "reason": REASON}}),
           "deregisterCaseFromYotaikyo")  # fmt: skip
        assert shared_with(role) == {}

    @pytest.mark.usefixtures("yotaikyo_kept")
    async def test_registered_once(self, a_case: Any, graphql: Any) -> None:
        case = await a_case()
        variables = {"input": {"caseId": case, "reason": REASON}}
        ok(graphql(REGISTER, AppRole.CASEWORKER, SAITAMA_CITY, variables), "registerCaseWithYotaikyo")
        error = refused(graphql(REGISTER, AppRole.CASEWORKER, SAITAMA_CITY, variables), "registerCaseWithYotaikyo")
        assert (error["field"], error["code"]) == ("caseId", "CONFLICT")

    @pytest.mark.usefixtures("yotaikyo_kept")
    async def test_removing_the_participant_ends_its_access(
        self, a_case: Any, join: Any, shared_with: Any, graphql: Any
    ) -> None:
        case = await a_case()
        participant = join(case)
        ok(graphql(REGISTER, AppRole.CASEWORKER, SAITAMA_CITY, {"input": {"caseId": case, "reason": REASON}}),
           "registerCaseWithYotaikyo")  # fmt: skip
        assert case in shared_with(AppRole.WELFARE_WORKER)
        ok(graphql(REMOVE, AppRole.CASEWORKER, SAITAMA_CITY, {"input": {"id": participant["id"]}}),
           "removeCaseParticipant")  # fmt: skip
        assert shared_with(AppRole.WELFARE_WORKER) == {}

    async def test_an_organisation_serving_another_tenant_is_not_found(
        self, a_case: Any, graphql: Any, admin_conn: asyncpg.Connection
    ) -> None:
        theirs = await admin_conn.fetchval(
            "SELECT id FROM kizuna.organisation WHERE municipality_code = $1 LIMIT 1", KAWAGOE
        )
        variables = {"caseId": await a_case(), "organizationId": encode_global_id("Organization", theirs), "role": "x"}
        error = refused(graphql(ADD, AppRole.CASEWORKER, SAITAMA_CITY, {"input": variables}), "addCaseParticipant")
        assert (error["field"], error["code"]) == ("organizationId", "NOT_FOUND")

    @pytest.mark.parametrize("role", AGENCIES)
    async def test_an_agency_opening_a_staff_case_is_told_what_a_missing_one_gives(
        self, role: AppRole, a_case: Any, graphql: Any
    ) -> None:
        case = await a_case()
        opened = graphql(NODE, role, SAITAMA_CITY, {"id": case})
        missing = graphql(NODE, role, SAITAMA_CITY, {"id": encode_global_id("Case", uuid.uuid4())})
        for body in (opened, missing):
            assert body["data"] == {"node": None}
        assert opened["errors"][0]["extensions"]["code"] == missing["errors"][0]["extensions"]["code"]
        assert opened["errors"][0]["message"] == missing["errors"][0]["message"]


class TestConsent:
    async def test_a_consent_by_kind_shares_until_it_is_withdrawn(  # noqa: PLR0917  (pytest passes fixtures by name)
        self, a_case: Any, join: Any, consent_to: Any, shared_with: Any, graphql: Any, admin_conn: asyncpg.Connection
    ) -> None:
        case = await a_case()
        join(case)
        consent = consent_to(case)["consent"]
        assert consent["withdrawnAt"] is None
        assert await audited(admin_conn, "consent.record", key(consent["id"])) == 1
        assert set(shared_with(AppRole.WELFARE_WORKER)) == {case}
        assert shared_with(AppRole.SCHOOL_SOCIAL_WORKER) == {}  # another kind, not named
        withdrawn = ok(
            graphql(
                WITHDRAW,
                AppRole.CASEWORKER,
                SAITAMA_CITY,
                {"input": {"consentId": consent["id"], "reason": "本人の申し出"}},
            ),
            "withdrawConsent",
        )["consent"]
        assert withdrawn["withdrawnAt"] is not None
        assert withdrawn["withdrawalReason"] == "本人の申し出"
        assert await audited(admin_conn, "consent.withdraw", key(consent["id"])) == 1
        assert shared_with(AppRole.WELFARE_WORKER) == {}
        again = graphql(WITHDRAW, AppRole.CASEWORKER, SAITAMA_CITY, {"input": {"consentId": consent["id"]}})
        assert (refused(again, "withdrawConsent")["code"]) == "CONFLICT"

    async def test_a_consent_naming_the_organisation(
        self, a_case: Any, join: Any, consent_to: Any, shared_with: Any, organisation_of: Any
    ) -> None:
        case = await a_case()
        join(case, AppRole.SCHOOL_SOCIAL_WORKER)
        consent_to(case, organizationKinds=[], organizationIds=[organisation_of(AppRole.SCHOOL_SOCIAL_WORKER)])
        assert set(shared_with(AppRole.SCHOOL_SOCIAL_WORKER)) == {case}

    async def test_a_consent_given_before_the_organisation_joined(
        self, a_case: Any, join: Any, consent_to: Any, shared_with: Any
    ) -> None:
        case = await a_case()
        consent_to(case)
        assert shared_with(AppRole.WELFARE_WORKER) == {}
        join(case)
        assert set(shared_with(AppRole.WELFARE_WORKER)) == {case}

    async def test_an_expired_consent_shares_nothing(
        self, a_case: Any, join: Any, consent_to: Any, shared_with: Any, admin_conn: asyncpg.Connection
    ) -> None:
        case = await a_case()
        join(case)
        consent_to(case)
        assert set(shared_with(AppRole.WELFARE_WORKER)) == {case}
        await admin_conn.execute(
            "UPDATE kizuna.case_share SET expires_at = now() - interval '1 second'"
            " WHERE municipality_code = $1 AND case_id = $2",
            SAITAMA_CITY,
            key(case),
        )
        assert shared_with(AppRole.WELFARE_WORKER) == {}

    @pytest.mark.usefixtures("yotaikyo_kept")
    async def test_the_yotaikyo_outlasts_a_withdrawal(
        self, a_case: Any, join: Any, consent_to: Any, shared_with: Any, graphql: Any
    ) -> None:
        case = await a_case()
        join(case)
        consent = consent_to(case)["consent"]
        ok(graphql(REGISTER, AppRole.CASEWORKER, SAITAMA_CITY, {"input": {"caseId": case, "reason": REASON}}),
           "registerCaseWithYotaikyo")  # fmt: skip
        ok(
            graphql(WITHDRAW, AppRole.CASEWORKER, SAITAMA_CITY, {"input": {"consentId": consent["id"]}}),
            "withdrawConsent",
        )
        assert set(shared_with(AppRole.WELFARE_WORKER)) == {case}

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"givenBy": "GUARDIAN"}, "guardianName"),
            ({"guardianName": "山田 花子"}, "guardianName"),
            ({"organizationKinds": []}, "organizationIds"),
            ({"expiresOn": today().isoformat()}, "expiresOn"),
            ({"purpose": " "}, "purpose"),
        ],
    )
    async def test_bad_input_writes_nothing(
        self, changes: dict[str, Any], field: str, a_case: Any, consent_to: Any, admin_conn: asyncpg.Connection
    ) -> None:
        count = "SELECT count(*) FROM kizuna.consent WHERE municipality_code = $1"
        before = await admin_conn.fetchval(count, SAITAMA_CITY)
        error = only_error(consent_to(await a_case(), **changes))
        assert (error["field"], error["code"]) == (field, "BAD_USER_INPUT")
        assert await admin_conn.fetchval(count, SAITAMA_CITY) == before

    async def test_a_retry_returns_the_first_consent(
        self, a_case: Any, consent_to: Any, admin_conn: asyncpg.Connection
    ) -> None:
        case = await a_case()
        first = consent_to(case, idempotencyKey="consent-retry")["consent"]
        again = consent_to(case, idempotencyKey="consent-retry")["consent"]
        assert first == again
        assert (
            await admin_conn.fetchval(
                "SELECT count(*) FROM kizuna.consent"
                " WHERE municipality_code = $1 AND idempotency_key = 'consent-retry'",
                SAITAMA_CITY,
            )
            == 1
        )
        elsewhere = only_error(consent_to(await a_case(1), idempotencyKey="consent-retry"))
        assert (elsewhere["field"], elsewhere["code"]) == ("idempotencyKey", "CONFLICT")

    async def test_consents_are_listed_with_their_withdrawals(self, a_case: Any, consent_to: Any, graphql: Any) -> None:
        case = await a_case()
        consent = consent_to(case)["consent"]
        graphql(WITHDRAW, AppRole.CASEWORKER, SAITAMA_CITY, {"input": {"consentId": consent["id"]}})
        renewed = consent_to(case)["consent"]
        listed = graphql(CONSENTS, AppRole.SUPERVISOR, SAITAMA_CITY, {"id": case})["data"]["consents"]
        by_id = {c["id"]: c for c in listed}
        assert by_id[consent["id"]]["withdrawnAt"] is not None
        assert by_id[renewed["id"]]["withdrawnAt"] is None


def only_error(result: dict[str, Any]) -> dict[str, Any]:
    (error,) = result["userErrors"]
    found: dict[str, Any] = error
    return found


class TestSharingWithoutConsent:
    async def test_a_supervisor_shares_with_a_participant_saying_why(  # noqa: PLR0917  (pytest passes fixtures by name)
        self, a_case: Any, join: Any, shared_with: Any, graphql: Any, organisation_of: Any, admin_conn: Any
    ) -> None:
        case = await a_case()
        join(case)
        variables = {
            "input": {"caseId": case, "organizationId": organisation_of(AppRole.WELFARE_WORKER), "reason": REASON}
        }
        ok(graphql(OVERRIDE, AppRole.SUPERVISOR, SAITAMA_CITY, variables), "shareCaseWithoutConsent")
        assert set(shared_with(AppRole.WELFARE_WORKER)) == {case}
        share = await admin_conn.fetchrow(
            "SELECT id, reason FROM kizuna.case_share"
            " WHERE municipality_code = $1 AND case_id = $2 AND basis = 'override'",
            SAITAMA_CITY,
            key(case),
        )
        assert share["reason"] == REASON
        assert await audited(admin_conn, "case_share.override", share["id"]) == 1

    @pytest.mark.parametrize("role", [AppRole.CASEWORKER, AppRole.COORDINATOR])
    async def test_nobody_else_may(
        self, role: AppRole, a_case: Any, join: Any, graphql: Any, organisation_of: Any
    ) -> None:
        case = await a_case()
        join(case)
        variables = {
            "input": {"caseId": case, "organizationId": organisation_of(AppRole.WELFARE_WORKER), "reason": REASON}
        }
        assert (
            refused(graphql(OVERRIDE, role, SAITAMA_CITY, variables), "shareCaseWithoutConsent")["code"] == "FORBIDDEN"
        )

    async def test_a_retry_with_the_same_key_shares_once(
        self, a_case: Any, join: Any, graphql: Any, organisation_of: Any, admin_conn: asyncpg.Connection
    ) -> None:
        case, other = await a_case(), await a_case(1)
        join(case)
        agency = organisation_of(AppRole.WELFARE_WORKER)
        retry = {
            "input": {"caseId": case, "organizationId": agency, "reason": REASON, "idempotencyKey": f"s-{uuid.uuid4()}"}
        }
        for _ in range(2):
            ok(graphql(OVERRIDE, AppRole.SUPERVISOR, SAITAMA_CITY, retry), "shareCaseWithoutConsent")
        overrides = (
            "SELECT count(*) FROM kizuna.case_share"
            " WHERE municipality_code = $1 AND case_id = $2 AND basis = 'override'"
        )
        assert await admin_conn.fetchval(overrides, SAITAMA_CITY, key(case)) == 1
        for reused in ({"reason": "別の理由で見守りが必要なため"}, {"caseId": other}):
            body = graphql(OVERRIDE, AppRole.SUPERVISOR, SAITAMA_CITY, {"input": retry["input"] | reused})
            error = refused(body, "shareCaseWithoutConsent")
            assert (error["field"], error["code"]) == ("idempotencyKey", "CONFLICT")
        assert await admin_conn.fetchval(overrides, SAITAMA_CITY, key(other)) == 0

    async def test_only_with_a_participant(self, a_case: Any, graphql: Any, organisation_of: Any) -> None:
        variables = {
            "input": {
                "caseId": await a_case(),
                "organizationId": organisation_of(AppRole.WELFARE_WORKER),
                "reason": REASON,
            }
        }
        error = refused(graphql(OVERRIDE, AppRole.SUPERVISOR, SAITAMA_CITY, variables), "shareCaseWithoutConsent")
        assert (error["field"], error["code"]) == ("organizationId", "BAD_USER_INPUT")


class TestBreakTheGlass:
    @pytest.mark.parametrize("role", AGENCIES)
    async def test_opened_listed_for_the_supervisor_and_over_when_it_expires(  # noqa: PLR0917  (pytest passes fixtures by name)
        self, role: AppRole, a_case: Any, shared_with: Any, graphql: Any, admin_conn: asyncpg.Connection, user: Any
    ) -> None:
        case = await a_case()
        variables = {"input": {"caseId": case, "reason": "夜間に本人から連絡があり状況確認が必要", "hours": 2}}
        access = ok(graphql(OPEN, role, SAITAMA_CITY, variables), "openEmergencyAccess")["emergencyAccess"]
        granted = dt.datetime.fromisoformat(access["grantedAt"])
        assert dt.datetime.fromisoformat(access["expiresAt"]) - granted == dt.timedelta(hours=2)
        assert access["subject"] == str(user(role, SAITAMA_CITY).user_id)
        assert await audited(admin_conn, "emergency_access.open", key(access["id"])) == 1
        assert set(shared_with(role)) == {case}
        listed = graphql(ACCESSES, AppRole.SUPERVISOR, SAITAMA_CITY)["data"]["emergencyAccesses"]
        assert access in listed
        await admin_conn.execute(
            # A bound value: Citus refuses a STABLE operator on a column in an UPDATE.
            "UPDATE kizuna.emergency_access SET expires_at = $3 WHERE municipality_code = $1 AND id = $2",
            SAITAMA_CITY,
            key(access["id"]),
            granted + dt.timedelta(microseconds=1),
        )
        assert shared_with(role) == {}

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"reason": "確認のため"}, "reason"),
            ({"hours": 25}, "hours"),
            ({"hours": 0}, "hours"),
            ({"idempotencyKey": ""}, "idempotencyKey"),
            ({"idempotencyKey": "k" * 201}, "idempotencyKey"),
        ],
    )
    async def test_bad_input_writes_nothing(
        self, changes: dict[str, Any], field: str, a_case: Any, graphql: Any, admin_conn: asyncpg.Connection
    ) -> None:
        count = "SELECT count(*) FROM kizuna.emergency_access WHERE municipality_code = $1"
        before = await admin_conn.fetchval(count, SAITAMA_CITY)
        variables = {"caseId": await a_case(), "reason": "夜間に本人から連絡があり状況確認が必要", "hours": 2}
        error = refused(
            graphql(OPEN, AppRole.WELFARE_WORKER, SAITAMA_CITY, {"input": variables | changes}), "openEmergencyAccess"
        )
        assert (error["field"], error["code"]) == (field, "BAD_USER_INPUT")
        assert await admin_conn.fetchval(count, SAITAMA_CITY) == before

    async def test_a_retry_with_the_same_key_opens_once(self, a_case: Any, graphql: Any) -> None:
        case, other = await a_case(), await a_case(1)
        opening = {"caseId": case, "reason": "夜間に本人から連絡があり状況確認が必要", "hours": 2}
        retry = {"input": opening | {"idempotencyKey": f"glass-{uuid.uuid4()}"}}
        first = ok(graphql(OPEN, AppRole.WELFARE_WORKER, SAITAMA_CITY, retry), "openEmergencyAccess")
        again = ok(graphql(OPEN, AppRole.WELFARE_WORKER, SAITAMA_CITY, retry), "openEmergencyAccess")
        assert again == first
        listed = graphql(ACCESSES, AppRole.SUPERVISOR, SAITAMA_CITY)["data"]["emergencyAccesses"]
        assert [a["caseId"] for a in listed].count(case) == 1
        for reused in ({"hours": 3}, {"caseId": other}, {"reason": "休日に学校から連絡があり確認が必要"}):
            body = graphql(OPEN, AppRole.WELFARE_WORKER, SAITAMA_CITY, {"input": retry["input"] | reused})
            error = refused(body, "openEmergencyAccess")
            assert (error["field"], error["code"]) == ("idempotencyKey", "CONFLICT")
        # The key is the worker's own: another worker's same key opens their own access.
        theirs = ok(graphql(OPEN, AppRole.SCHOOL_SOCIAL_WORKER, SAITAMA_CITY, retry), "openEmergencyAccess")
        assert theirs["emergencyAccess"]["id"] != first["emergencyAccess"]["id"]

    async def test_staff_do_not_break_the_glass(self, a_case: Any, graphql: Any) -> None:
        variables = {
            "input": {"caseId": await a_case(), "reason": "夜間に本人から連絡があり状況確認が必要", "hours": 2}
        }
        assert (
            refused(graphql(OPEN, AppRole.CASEWORKER, SAITAMA_CITY, variables), "openEmergencyAccess")["code"]
            == "FORBIDDEN"
        )


class TestAnotherTenantsIds:
    """Every mutation, as さいたま市's staff (or agency), with 川越市's ids: refused as an
    unknown id is, and 川越市's participants, shares, consents, emergency accesses, cases
    and case events unchanged (a superuser's fingerprint)."""

    async def test_every_mutation_fails_like_an_unknown_id_and_changes_nothing(
        self, graphql: Any, admin_conn: asyncpg.Connection, organisation_of: Any
    ) -> None:
        their_case = await admin_conn.fetchval("SELECT id FROM kizuna.carer_case WHERE municipality_code = $1", KAWAGOE)
        their_participant = await admin_conn.fetchval(
            "SELECT id FROM kizuna.case_participant WHERE municipality_code = $1", KAWAGOE
        )
        their_consent = await admin_conn.fetchval("SELECT id FROM kizuna.consent WHERE municipality_code = $1", KAWAGOE)
        before = await admin_conn.fetchval(FINGERPRINT, KAWAGOE)
        welfare = organisation_of(AppRole.WELFARE_WORKER)
        expires = (today() + dt.timedelta(days=30)).isoformat()
        attempts = [
            (ADD, "addCaseParticipant", AppRole.CASEWORKER, "Case", their_case, "caseId",
             {"organizationId": welfare, "role": "見守り"}),
            (REMOVE, "removeCaseParticipant", AppRole.CASEWORKER, "CaseParticipant", their_participant, "id", {}),
            (REGISTER, "registerCaseWithYotaikyo", AppRole.CASEWORKER, "Case", their_case, "caseId",
             {"reason": REASON}),
            (DEREGISTER, "deregisterCaseFromYotaikyo", AppRole.CASEWORKER, "Case", their_case, "caseId",
             {"reason": REASON}),
            (RECORD, "recordConsent", AppRole.CASEWORKER, "Case", their_case, "caseId",
             {"givenBy": "SELF", "purpose": "共有", "organizationKinds": ["NPO"], "expiresOn": expires}),
            (WITHDRAW, "withdrawConsent", AppRole.CASEWORKER, "Consent", their_consent, "consentId", {}),
            (OVERRIDE, "shareCaseWithoutConsent", AppRole.SUPERVISOR, "Case", their_case, "caseId",
             {"organizationId": welfare, "reason": REASON}),
            (OPEN, "openEmergencyAccess", AppRole.WELFARE_WORKER, "Case", their_case, "caseId",
             {"reason": "夜間に本人から連絡があり状況確認が必要", "hours": 1}),
        ]  # fmt: skip
        for document, field, role, type_name, theirs, id_field, rest in attempts:
            crossed_id = {id_field: encode_global_id(type_name, theirs)}
            missing_id = {id_field: encode_global_id(type_name, uuid.uuid4())}
            crossed = refused(graphql(document, role, SAITAMA_CITY, {"input": rest | crossed_id}), field)
            missing = refused(graphql(document, role, SAITAMA_CITY, {"input": rest | missing_id}), field)
            assert crossed == missing, field
            assert (crossed["field"], crossed["code"]) == (id_field, "NOT_FOUND"), field
        assert await admin_conn.fetchval(FINGERPRINT, KAWAGOE) == before
