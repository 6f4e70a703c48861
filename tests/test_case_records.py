"""A case's records over GraphQL and in SQL: assessments of the whole family, meetings
(a monitoring meeting moves a case in support to monitoring, with its event), contact
logs; the rules each write keeps, idempotency keys, the audit events, who may read and
write (the database refuses the others too), and another tenant's ids, which fail as
unknown ones and change nothing.

Cases are opened from a school's referral and moved along the flow through GraphQL;
`records_fresh` removes the records the test wrote, then `fresh` the cases.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from kizuna.platform.database import Database
from kizuna.platform.scope import open_scope
from kizuna.platform.vocabulary import AppRole, MeetingKind
from kizuna.schema.records import service
from kizuna.schema.relay import decode_global_id, encode_global_id
from kizuna.tests.audit_events import audited
from kizuna.tests.conftest import Janitor, rows_added_are_removed

SAITAMA_CITY = "111007"
KAWAGOE = "112011"
SEEDED = (SAITAMA_CITY, KAWAGOE)
ERRORS = "userErrors { field message code }"
MEETING = "id caseId kind heldOn decisions nextReviewOn participants { name organization { id } }"
ASSESS = f"""mutation($input: RecordAssessmentInput!) {{ recordAssessment(input: $input) {{
  assessment {{ id caseId assessedOn careHoursPerWeek schoolAttendanceEffect sleepEffect ownWishes familySituation }}
  {ERRORS} }} }}"""
MEET = f"""mutation($input: RecordMeetingInput!) {{ recordMeeting(input: $input) {{
  meeting {{ {MEETING} }} {ERRORS} }} }}"""
CONTACT = f"""mutation($input: RecordContactInput!) {{ recordContact(input: $input) {{
  contactLog {{ id caseId kind contactedAt summary }} {ERRORS} }} }}"""
CASE = f"""query($id: ID!) {{ node(id: $id) {{ ... on Case {{ stage
  assessments {{ id assessedOn }} meetings {{ id kind }} latestMeeting {{ {MEETING} }}
  contactLogs(first: 2) {{ edges {{ cursor node {{ id summary }} }} pageInfo {{ hasNextPage endCursor }} }} }} }} }}"""
MORE_LOGS = """query($id: ID!, $after: String) { node(id: $id) { ... on Case {
  contactLogs(first: 2, after: $after) { edges { node { id } } pageInfo { hasNextPage } } } } }"""
NODE = "query($id: ID!) { node(id: $id) { id } }"
SEND = f"mutation($input: CreateReferralInput!) {{ createReferral(input: $input) {{ referral {{ id }} {ERRORS} }} }}"
ACCEPT = f"mutation($input: AcceptReferralInput!) {{ acceptReferral(input: $input) {{ case {{ id }} {ERRORS} }} }}"
MOVE = f"mutation($input: MoveCaseStageInput!) {{ moveCaseStage(input: $input) {{ case {{ stage }} {ERRORS} }} }}"
PLAN = f"""mutation($input: CreateSupportPlanInput!) {{ createSupportPlan(input: $input) {{
  supportPlan {{ id }} {ERRORS} }} }}"""
REQUEST = f"""mutation($input: RequestApprovalInput!) {{ requestApproval(input: $input) {{
  approval {{ id }} {ERRORS} }} }}"""
DECIDE = f"""mutation($input: DecideApprovalInput!) {{ decideApproval(input: $input) {{
  approval {{ id }} {ERRORS} }} }}"""
CONCERN = {
    "source": "SCHOOL",
    "childDisplayName": "中学2年 田中さん",
    "noticed": "母の介護で遅刻が続く",
    "urgency": "SOON",
}
RECORD_TABLES = ("meeting_participant", "meeting", "assessment", "contact_log")  # children first
EVENTS = """SELECT kind, from_stage, to_stage, actor, reason FROM kizuna.case_event
WHERE municipality_code = $1 AND case_id = $2 ORDER BY occurred_at, id"""
STAGE = "SELECT stage FROM kizuna.carer_case WHERE municipality_code = $1 AND id = $2"
COUNT = "SELECT count(*) FROM kizuna.{} WHERE municipality_code = $1"
FINGERPRINT = """
SELECT md5(string_agg(t, '|' ORDER BY t)) FROM (
    SELECT a.*::text AS t FROM kizuna.assessment a WHERE municipality_code = $1
    UNION ALL SELECT m.*::text FROM kizuna.meeting m WHERE municipality_code = $1
    UNION ALL SELECT p.*::text FROM kizuna.meeting_participant p WHERE municipality_code = $1
    UNION ALL SELECT l.*::text FROM kizuna.contact_log l WHERE municipality_code = $1
    UNION ALL SELECT c.*::text FROM kizuna.carer_case c WHERE municipality_code = $1
    UNION ALL SELECT e.*::text FROM kizuna.case_event e WHERE municipality_code = $1) rows
"""


def today() -> dt.date:
    return dt.datetime.now(ZoneInfo("Asia/Tokyo")).date()


def key(global_id: str) -> uuid.UUID:
    return decode_global_id(global_id)[1]


def ok(body: dict[str, Any], field: str) -> dict[str, Any]:
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"][field]
    assert payload["userErrors"] == [], payload
    return payload


def refused(body: dict[str, Any], field: str) -> dict[str, Any]:
    assert "errors" not in body, body
    assert body["data"][field] is not None
    (error,) = body["data"][field]["userErrors"]
    assert all(v is None for k, v in body["data"][field].items() if k != "userErrors")
    found: dict[str, Any] = error
    return found


def assessment(case: str, **changes: Any) -> dict[str, Any]:
    return {
        "caseId": case,
        "assessedOn": today().isoformat(),
        "careHoursPerWeek": 21.5,
        "schoolAttendanceEffect": 2,
        "studyEffect": 2,
        "healthEffect": 1,
        "sleepEffect": 3,
        "friendshipEffect": 1,
        "futurePlansEffect": 2,
        "ownWishes": "部活を続けたい",
        "familySituation": "母（精神疾患）と弟（小3）の3人世帯。祖母が週1回来る",
    } | changes


def meeting(case: str, kind: str = "MONITORING", **changes: Any) -> dict[str, Any]:
    return {
        "caseId": case,
        "kind": kind,
        "heldOn": today().isoformat(),
        "participants": [{"name": "担当ケースワーカー"}],
        "decisions": "ヘルパー派遣を継続し、3か月後に見直す",
        "nextReviewOn": (today() + dt.timedelta(days=90)).isoformat(),
    } | changes


def contact(case: str, **changes: Any) -> dict[str, Any]:
    return {
        "caseId": case,
        "kind": "HOME_VISIT",
        "contactedAt": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "summary": "家庭訪問。母の体調は安定。本人は睡眠不足を訴える",
    } | changes


@pytest.fixture
async def records_fresh(admin_conn: asyncpg.Connection, janitor: Janitor, fresh: None) -> AsyncIterator[None]:
    """Afterwards, as the superuser, before `fresh` removes the cases: the records the test added."""
    async with rows_added_are_removed(admin_conn, janitor, RECORD_TABLES):
        yield


@pytest.fixture
def case_in(graphql: Callable[..., Any], admin_conn: asyncpg.Connection) -> Callable[..., Any]:
    """`await case_in(stage)`: a new case moved through GraphQL to INTAKE, CONFERENCE or
    SUPPORT (with an approved plan), in さいたま市 unless told."""

    async def open_one(stage: str = "INTAKE", municipality: str = SAITAMA_CITY) -> str:
        person = await admin_conn.fetchval(
            "SELECT id FROM kizuna.person WHERE municipality_code = $1 ORDER BY id LIMIT 1", municipality
        )
        sent = ok(graphql(SEND, AppRole.SCHOOL_STAFF, municipality, {"input": CONCERN}), "createReferral")
        into = {"id": sent["referral"]["id"], "personId": encode_global_id("Person", person), "category": "YOUNG_CARER"}
        case: str = ok(graphql(ACCEPT, AppRole.CASEWORKER, municipality, {"input": into}), "acceptReferral")["case"][
            "id"
        ]
        path = {"INTAKE": [], "CONFERENCE": ["SHARING", "GATHERING", "CONFERENCE"]}.get(
            stage, ["SHARING", "GATHERING", "CONFERENCE"]
        )
        for step in path:
            ok(
                graphql(MOVE, AppRole.CASEWORKER, municipality, {"input": {"id": case, "toStage": step}}),
                "moveCaseStage",
            )
        if stage == "SUPPORT":
            plan = {"caseId": case, "goals": "家事の負担を減らす", "periodStart": today().isoformat(),
                    "periodEnd": (today() + dt.timedelta(days=180)).isoformat()}  # fmt: skip
            plan_id = ok(graphql(PLAN, AppRole.CASEWORKER, municipality, {"input": plan}), "createSupportPlan")
            asked = {"caseId": case, "subject": "SUPPORT_PLAN", "supportPlanId": plan_id["supportPlan"]["id"]}
            approval = ok(graphql(REQUEST, AppRole.CASEWORKER, municipality, {"input": asked}), "requestApproval")
            decision = {"id": approval["approval"]["id"], "approve": True}
            ok(graphql(DECIDE, AppRole.SUPERVISOR, municipality, {"input": decision}), "decideApproval")
            ok(
                graphql(MOVE, AppRole.CASEWORKER, municipality, {"input": {"id": case, "toStage": "SUPPORT"}}),
                "moveCaseStage",
            )
        return case

    return open_one


async def a_seeded_case(admin_conn: asyncpg.Connection, *, closed: bool) -> str:
    found = await admin_conn.fetchval(
        "SELECT id FROM kizuna.carer_case WHERE municipality_code = $1 AND (stage = 'closed') = $2 ORDER BY id LIMIT 1",
        SAITAMA_CITY,
        closed,
    )
    return encode_global_id("Case", found)


async def a_closed_case(admin_conn: asyncpg.Connection) -> str:
    return await a_seeded_case(admin_conn, closed=True)


async def an_open_case(admin_conn: asyncpg.Connection) -> str:
    return await a_seeded_case(admin_conn, closed=False)


async def an_organisation(admin_conn: asyncpg.Connection, municipality: str = SAITAMA_CITY) -> str:
    found = await admin_conn.fetchval(
        "SELECT id FROM kizuna.organisation WHERE municipality_code = $1 ORDER BY id LIMIT 1", municipality
    )
    return encode_global_id("Organization", found)


async def counts(admin_conn: asyncpg.Connection) -> dict[str, int]:
    return {t: await admin_conn.fetchval(COUNT.format(t), SAITAMA_CITY) for t in (*RECORD_TABLES, "case_event")}


@pytest.mark.usefixtures("records_fresh")
class TestAssessments:
    async def test_a_caseworker_records_one_and_the_case_lists_it_newest_first(
        self,
        case_in: Callable[..., Any],
        graphql: Callable[..., Any],
        admin_conn: asyncpg.Connection,
        user: Callable[..., Any],
    ) -> None:
        case = await case_in()
        older = ok(
            graphql(ASSESS, AppRole.CASEWORKER, SAITAMA_CITY, {"input": assessment(case, assessedOn="2026-04-01")}),
            "recordAssessment",
        )["assessment"]
        newer = ok(graphql(ASSESS, AppRole.COORDINATOR, SAITAMA_CITY, {"input": assessment(case)}), "recordAssessment")[
            "assessment"
        ]
        assert (newer["caseId"], newer["careHoursPerWeek"], newer["sleepEffect"]) == (case, 21.5, 3)
        assert newer["familySituation"].startswith("母")
        listed = graphql(CASE, AppRole.MUNICIPAL_SYSTEM, SAITAMA_CITY, {"id": case})["data"]["node"]["assessments"]
        assert [a["id"] for a in listed] == [newer["id"], older["id"]]
        stored = await admin_conn.fetchrow(
            "SELECT assessor, care_hours_per_week FROM kizuna.assessment WHERE municipality_code = $1 AND id = $2",
            SAITAMA_CITY,
            key(newer["id"]),
        )
        coordinator = user(AppRole.COORDINATOR, SAITAMA_CITY).user_id
        assert (stored["assessor"], str(stored["care_hours_per_week"])) == (str(coordinator), "21.5")
        assert await audited(admin_conn, "assessment.record", key(newer["id"])) == 1
        # read when the mutation answered with it, and when the municipal system listed it
        assert await audited(admin_conn, "assessment.read", key(older["id"])) == 2

    async def test_a_retry_with_the_same_key_records_once(
        self, case_in: Callable[..., Any], graphql: Callable[..., Any], admin_conn: asyncpg.Connection
    ) -> None:
        case = await case_in()
        retry = {"input": assessment(case, idempotencyKey=f"assess-{uuid.uuid4()}")}
        first = ok(graphql(ASSESS, AppRole.CASEWORKER, SAITAMA_CITY, retry), "recordAssessment")["assessment"]
        again = ok(graphql(ASSESS, AppRole.CASEWORKER, SAITAMA_CITY, retry), "recordAssessment")["assessment"]
        assert again == first
        assert await audited(admin_conn, "assessment.record", key(first["id"])) == 1
        other_day = {"input": retry["input"] | {"assessedOn": "2026-01-05"}}
        error = refused(graphql(ASSESS, AppRole.CASEWORKER, SAITAMA_CITY, other_day), "recordAssessment")
        assert (error["field"], error["code"]) == ("idempotencyKey", "CONFLICT")

    @pytest.mark.parametrize(
        ("change", "expected"),
        [
            ({"sleepEffect": 4}, ("sleepEffect", "BAD_USER_INPUT")),
            ({"schoolAttendanceEffect": -1}, ("schoolAttendanceEffect", "BAD_USER_INPUT")),
            ({"careHoursPerWeek": 168.5}, ("careHoursPerWeek", "BAD_USER_INPUT")),
            ({"careHoursPerWeek": 1.25}, ("careHoursPerWeek", "BAD_USER_INPUT")),
            ({"assessedOn": "2999-01-01"}, ("assessedOn", "BAD_USER_INPUT")),
            ({"ownWishes": "　"}, ("ownWishes", "BAD_USER_INPUT")),
            ({"notes": "あ" * 4001}, ("notes", "BAD_USER_INPUT")),
            ({"caseId": "not-an-id"}, ("caseId", "BAD_USER_INPUT")),
            ({"caseId": encode_global_id("Person", uuid.uuid4())}, ("caseId", "NOT_FOUND")),
            ({"idempotencyKey": ""}, ("idempotencyKey", "BAD_USER_INPUT")),
        ],
    )
    async def test_bad_input_is_named_and_writes_nothing(
        self,
        graphql: Callable[..., Any],
        admin_conn: asyncpg.Connection,
        change: dict[str, Any],
        expected: tuple[str, str],
    ) -> None:
        case = await an_open_case(admin_conn)
        before = await counts(admin_conn)
        error = refused(
            graphql(ASSESS, AppRole.CASEWORKER, SAITAMA_CITY, {"input": assessment(case, **change)}), "recordAssessment"
        )
        assert (error["field"], error["code"]) == expected
        assert await counts(admin_conn) == before


@pytest.mark.usefixtures("records_fresh")
class TestMeetings:
    async def test_a_monitoring_meeting_moves_a_case_in_support_to_monitoring_with_its_event(
        self,
        case_in: Callable[..., Any],
        graphql: Callable[..., Any],
        admin_conn: asyncpg.Connection,
        user: Callable[..., Any],
    ) -> None:
        case = await case_in("SUPPORT")
        agency = await an_organisation(admin_conn)
        participants = [{"name": "担当ケースワーカー"}, {"name": "地域包括 相談員", "organizationId": agency}]
        recorded = ok(
            graphql(MEET, AppRole.CASEWORKER, SAITAMA_CITY, {"input": meeting(case, participants=participants)}),
            "recordMeeting",
        )["meeting"]
        assert recorded["kind"] == "MONITORING"
        assert [(p["name"], (p["organization"] or {}).get("id")) for p in recorded["participants"]] == [
            ("担当ケースワーカー", None),
            ("地域包括 相談員", agency),
        ]
        assert await admin_conn.fetchval(STAGE, SAITAMA_CITY, key(case)) == "monitoring"
        last = (await admin_conn.fetch(EVENTS, SAITAMA_CITY, key(case)))[-1]
        caseworker = user(AppRole.CASEWORKER, SAITAMA_CITY).user_id
        assert (last["kind"], last["from_stage"], last["to_stage"], last["actor"]) == (
            "stage_changed",
            "support",
            "monitoring",
            str(caseworker),
        )
        assert recorded["id"] in last["reason"]
        assert "進行管理会議" in last["reason"]
        assert await audited(admin_conn, "meeting.record", key(recorded["id"])) == 1
        participants = await admin_conn.fetch(
            "SELECT id FROM kizuna.meeting_participant WHERE municipality_code = $1 AND meeting_id = $2",
            SAITAMA_CITY,
            key(recorded["id"]),
        )
        for participant in participants:
            assert await audited(admin_conn, "meeting.record", participant["id"]) == 1
        assert await audited(admin_conn, "case.move", key(case)) >= 1
        node = graphql(CASE, AppRole.CASEWORKER, SAITAMA_CITY, {"id": case})["data"]["node"]
        assert node["stage"] == "MONITORING"
        assert node["latestMeeting"] == recorded
        # read when the mutation answered with it, and once by the query (meetings and latestMeeting)
        assert await audited(admin_conn, "meeting.read", key(recorded["id"])) == 2

    async def test_a_meeting_about_no_single_case_reads_by_id(
        self, graphql: Callable[..., Any], admin_conn: asyncpg.Connection
    ) -> None:
        """The yotaikyo practitioners' meetings of the demo data name no case."""
        practitioners = await admin_conn.fetchval(
            "SELECT id FROM kizuna.meeting WHERE municipality_code = $1 AND case_id IS NULL LIMIT 1", SAITAMA_CITY
        )
        read = "query($id: ID!) { node(id: $id) { ... on Meeting { caseId kind participants { name } } } }"
        found = graphql(
            read, AppRole.MUNICIPAL_SYSTEM, SAITAMA_CITY, {"id": encode_global_id("Meeting", practitioners)}
        )
        assert "errors" not in found, found
        assert (found["data"]["node"]["caseId"], found["data"]["node"]["kind"]) == (None, "YOTAIKYO_PRACTITIONERS")

    async def test_two_monitoring_meetings_at_once_move_the_case_once(
        self,
        case_in: Callable[..., Any],
        database: Database,
        caller_of: Callable[..., Any],
        admin_conn: asyncpg.Connection,
    ) -> None:
        """Each takes the case's lock before it reads the stage, as a move does: the second
        finds the case in monitoring and only records."""
        case = await case_in("SUPPORT")
        events = len(await admin_conn.fetch(EVENTS, SAITAMA_CITY, key(case)))

        async def record(role: AppRole) -> None:
            new = service.NewMeeting(
                case_id=key(case),
                kind=MeetingKind.MONITORING,
                held_on=today(),
                decisions="継続",
                participants=[service.NewParticipant("担当")],
            )
            async with open_scope(
                database, caller_of(role, SAITAMA_CITY), request_id=uuid.uuid4().hex, readonly=False
            ) as scope:
                await service.do_record_meeting(scope, new)

        await asyncio.gather(record(AppRole.CASEWORKER), record(AppRole.COORDINATOR))
        moves = [e for e in await admin_conn.fetch(EVENTS, SAITAMA_CITY, key(case)) if e["to_stage"] is not None]
        assert len(await admin_conn.fetch(EVENTS, SAITAMA_CITY, key(case))) == events + 1
        assert (moves[-1]["from_stage"], moves[-1]["to_stage"]) == ("support", "monitoring")
        meetings = "SELECT count(*) FROM kizuna.meeting WHERE municipality_code = $1 AND case_id = $2"
        assert await admin_conn.fetchval(meetings, SAITAMA_CITY, key(case)) == 2

    async def test_a_retried_monitoring_meeting_is_recorded_and_moves_once(
        self, case_in: Callable[..., Any], graphql: Callable[..., Any], admin_conn: asyncpg.Connection
    ) -> None:
        case = await case_in("SUPPORT")
        retry = {"input": meeting(case, idempotencyKey=f"meeting-{uuid.uuid4()}")}
        first = ok(graphql(MEET, AppRole.CASEWORKER, SAITAMA_CITY, retry), "recordMeeting")["meeting"]
        events = len(await admin_conn.fetch(EVENTS, SAITAMA_CITY, key(case)))
        again = ok(graphql(MEET, AppRole.CASEWORKER, SAITAMA_CITY, retry), "recordMeeting")["meeting"]
        assert again == first
        assert len(await admin_conn.fetch(EVENTS, SAITAMA_CITY, key(case))) == events
        other = {"input": retry["input"] | {"kind": "CASE_CONFERENCE"}}
        error = refused(graphql(MEET, AppRole.CASEWORKER, SAITAMA_CITY, other), "recordMeeting")
        assert (error["field"], error["code"]) == ("idempotencyKey", "CONFLICT")

    @pytest.mark.parametrize(
        ("stage", "kind"),
        [
            ("INTAKE", "MONITORING"),
            ("SUPPORT", "CASE_CONFERENCE"),
            ("CONFERENCE", "CASE_CONFERENCE"),
            ("SUPPORT", "MULTI_AGENCY"),
        ],
    )
    async def test_other_meetings_are_recorded_and_leave_the_stage(
        self,
        case_in: Callable[..., Any],
        graphql: Callable[..., Any],
        admin_conn: asyncpg.Connection,
        stage: str,
        kind: str,
    ) -> None:
        case = await case_in(stage)
        events = await admin_conn.fetch(EVENTS, SAITAMA_CITY, key(case))
        ok(graphql(MEET, AppRole.SUPERVISOR, SAITAMA_CITY, {"input": meeting(case, kind)}), "recordMeeting")
        assert await admin_conn.fetchval(STAGE, SAITAMA_CITY, key(case)) == stage.lower()
        assert await admin_conn.fetch(EVENTS, SAITAMA_CITY, key(case)) == events

    async def test_a_second_monitoring_meeting_leaves_a_case_in_monitoring(
        self, case_in: Callable[..., Any], graphql: Callable[..., Any], admin_conn: asyncpg.Connection
    ) -> None:
        case = await case_in("SUPPORT")
        ok(graphql(MEET, AppRole.CASEWORKER, SAITAMA_CITY, {"input": meeting(case)}), "recordMeeting")
        events = await admin_conn.fetch(EVENTS, SAITAMA_CITY, key(case))
        ok(graphql(MEET, AppRole.CASEWORKER, SAITAMA_CITY, {"input": meeting(case)}), "recordMeeting")
        assert await admin_conn.fetchval(STAGE, SAITAMA_CITY, key(case)) == "monitoring"
        assert await admin_conn.fetch(EVENTS, SAITAMA_CITY, key(case)) == events

    async def test_a_refused_monitoring_meeting_neither_records_nor_moves(
        self, case_in: Callable[..., Any], graphql: Callable[..., Any], admin_conn: asyncpg.Connection
    ) -> None:
        case = await case_in("SUPPORT")
        elsewhere = await an_organisation(admin_conn, KAWAGOE)
        before = await counts(admin_conn)
        bad = meeting(case, participants=[{"name": "川越市の職員", "organizationId": elsewhere}])
        error = refused(graphql(MEET, AppRole.CASEWORKER, SAITAMA_CITY, {"input": bad}), "recordMeeting")
        assert (error["field"], error["code"]) == ("participants", "BAD_USER_INPUT")
        assert await admin_conn.fetchval(STAGE, SAITAMA_CITY, key(case)) == "support"
        assert await counts(admin_conn) == before

    @pytest.mark.parametrize(
        ("change", "expected"),
        [
            ({"heldOn": "2999-01-01", "nextReviewOn": None}, ("heldOn", "BAD_USER_INPUT")),
            ({"nextReviewOn": "2020-01-01"}, ("nextReviewOn", "BAD_USER_INPUT")),
            ({"participants": []}, ("participants", "BAD_USER_INPUT")),
            ({"participants": [{"name": " "}]}, ("participants", "BAD_USER_INPUT")),
            (
                {"participants": [{"name": "某", "organizationId": encode_global_id("Organization", uuid.uuid4())}]},
                ("participants", "NOT_FOUND"),
            ),
            ({"decisions": ""}, ("decisions", "BAD_USER_INPUT")),
            ({"idempotencyKey": "k" * 201}, ("idempotencyKey", "BAD_USER_INPUT")),
        ],
    )
    async def test_bad_input_is_named_and_writes_nothing(
        self,
        graphql: Callable[..., Any],
        admin_conn: asyncpg.Connection,
        change: dict[str, Any],
        expected: tuple[str, str],
    ) -> None:
        case = await an_open_case(admin_conn)
        stage = await admin_conn.fetchval(STAGE, SAITAMA_CITY, key(case))
        before = await counts(admin_conn)
        error = refused(
            graphql(MEET, AppRole.CASEWORKER, SAITAMA_CITY, {"input": meeting(case, **change)}), "recordMeeting"
        )
        assert (error["field"], error["code"]) == expected
        assert await counts(admin_conn) == before
        assert await admin_conn.fetchval(STAGE, SAITAMA_CITY, key(case)) == stage


@pytest.mark.usefixtures("records_fresh")
class TestContactLogs:
    async def test_logged_contacts_page_newest_first(
        self, case_in: Callable[..., Any], graphql: Callable[..., Any], admin_conn: asyncpg.Connection
    ) -> None:
        case = await case_in()
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        logged = [
            ok(
                graphql(
                    CONTACT,
                    AppRole.CASEWORKER,
                    SAITAMA_CITY,
                    {"input": contact(case, contactedAt=(now - dt.timedelta(days=d)).isoformat(), summary=f"記録{d}")},
                ),
                "recordContact",
            )["contactLog"]
            for d in (3, 1, 2)
        ]
        page = graphql(CASE, AppRole.CASEWORKER, SAITAMA_CITY, {"id": case})["data"]["node"]["contactLogs"]
        assert [e["node"]["summary"] for e in page["edges"]] == ["記録1", "記録2"]
        assert page["pageInfo"]["hasNextPage"] is True
        rest = graphql(
            MORE_LOGS, AppRole.CASEWORKER, SAITAMA_CITY, {"id": case, "after": page["pageInfo"]["endCursor"]}
        )
        logs = rest["data"]["node"]["contactLogs"]
        assert ([e["node"]["id"] for e in logs["edges"]], logs["pageInfo"]["hasNextPage"]) == ([logged[0]["id"]], False)
        assert await audited(admin_conn, "contact_log.record", key(logged[0]["id"])) == 1
        # read when the mutation answered with it, and on the second page
        assert await audited(admin_conn, "contact_log.read", key(logged[0]["id"])) == 2

    async def test_a_retry_with_the_same_key_logs_once(
        self, case_in: Callable[..., Any], graphql: Callable[..., Any], admin_conn: asyncpg.Connection
    ) -> None:
        case = await case_in()
        retry = {"input": contact(case, idempotencyKey=f"contact-{uuid.uuid4()}")}
        first = ok(graphql(CONTACT, AppRole.CASEWORKER, SAITAMA_CITY, retry), "recordContact")["contactLog"]
        assert ok(graphql(CONTACT, AppRole.CASEWORKER, SAITAMA_CITY, retry), "recordContact")["contactLog"] == first
        assert (
            await admin_conn.fetchval(
                "SELECT count(*) FROM kizuna.contact_log WHERE municipality_code = $1 AND case_id = $2",
                SAITAMA_CITY,
                key(case),
            )
            == 1
        )

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"contactedAt": "2999-01-01T10:00:00+09:00"}, "contactedAt"),
            ({"contactedAt": "2026-01-05T10:00:00"}, "contactedAt"),  # no time zone
            ({"summary": ""}, "summary"),
            ({"summary": "あ" * 4001}, "summary"),
        ],
    )
    async def test_bad_input_is_named_and_writes_nothing(
        self,
        graphql: Callable[..., Any],
        admin_conn: asyncpg.Connection,
        change: dict[str, Any],
        field: str,
    ) -> None:
        case = await an_open_case(admin_conn)
        before = await counts(admin_conn)
        error = refused(
            graphql(CONTACT, AppRole.CASEWORKER, SAITAMA_CITY, {"input": contact(case, **change)}), "recordContact"
        )
        assert (error["field"], error["code"]) == (field, "BAD_USER_INPUT")
        assert await counts(admin_conn) == before


Write = tuple[str, str, Callable[..., dict[str, Any]]]


@pytest.mark.usefixtures("records_fresh")
class TestEveryWrite:
    WRITES: tuple[Write, ...] = (
        (ASSESS, "recordAssessment", assessment),
        (MEET, "recordMeeting", meeting),
        (CONTACT, "recordContact", contact),
    )

    @pytest.mark.parametrize("write", WRITES, ids=["assessment", "meeting", "contact"])
    async def test_a_closed_case_takes_no_new_record(
        self, graphql: Callable[..., Any], admin_conn: asyncpg.Connection, write: Write
    ) -> None:
        document, field, make = write
        before = await counts(admin_conn)
        error = refused(
            graphql(document, AppRole.CASEWORKER, SAITAMA_CITY, {"input": make(await a_closed_case(admin_conn))}), field
        )
        assert (error["field"], error["code"]) == ("caseId", "CONFLICT")
        assert "再開" in error["message"]
        assert await counts(admin_conn) == before

    @pytest.mark.parametrize(
        "role", [AppRole.SCHOOL_STAFF, AppRole.SCHOOL_SOCIAL_WORKER, AppRole.WELFARE_WORKER, AppRole.MUNICIPAL_SYSTEM]
    )
    @pytest.mark.parametrize("write", WRITES, ids=["assessment", "meeting", "contact"])
    async def test_only_municipal_staff_write(
        self, graphql: Callable[..., Any], admin_conn: asyncpg.Connection, write: Write, role: AppRole
    ) -> None:
        document, field, make = write
        case = await an_open_case(admin_conn)
        before = await counts(admin_conn)
        error = refused(graphql(document, role, SAITAMA_CITY, {"input": make(case)}), field)
        assert (error["field"], error["code"]) == (None, "FORBIDDEN")
        assert await counts(admin_conn) == before

    async def test_another_tenant_s_case_fails_like_an_unknown_one_and_changes_nothing(
        self, case_in: Callable[..., Any], graphql: Callable[..., Any], admin_conn: asyncpg.Connection
    ) -> None:
        theirs = await case_in("SUPPORT", KAWAGOE)
        unknown = encode_global_id("Case", uuid.uuid4())
        before = await admin_conn.fetchval(FINGERPRINT, KAWAGOE)
        for document, field, make in self.WRITES:
            for role in (AppRole.CASEWORKER, AppRole.SUPERVISOR):
                crossed = refused(graphql(document, role, SAITAMA_CITY, {"input": make(theirs)}), field)
                missing = refused(graphql(document, role, SAITAMA_CITY, {"input": make(unknown)}), field)
                assert crossed == missing, field
                assert (crossed["field"], crossed["code"]) == ("caseId", "NOT_FOUND"), field
        assert await admin_conn.fetchval(FINGERPRINT, KAWAGOE) == before

    async def test_another_tenant_s_records_are_unknown_ids(
        self, case_in: Callable[..., Any], graphql: Callable[..., Any]
    ) -> None:
        theirs = await case_in(municipality=KAWAGOE)
        written = [
            ok(graphql(document, AppRole.CASEWORKER, KAWAGOE, {"input": make(theirs)}), field)
            for document, field, make in self.WRITES
        ]
        ids = [
            payload[name]["id"] for payload, name in zip(written, ("assessment", "meeting", "contactLog"), strict=True)
        ]
        for global_id in ids:
            assert graphql(NODE, AppRole.CASEWORKER, KAWAGOE, {"id": global_id})["data"]["node"] == {"id": global_id}
            crossed = graphql(NODE, AppRole.CASEWORKER, SAITAMA_CITY, {"id": global_id})
            assert crossed["data"]["node"] is None
            assert crossed["errors"][0]["extensions"]["code"] == "NOT_FOUND"


class TestTheDatabaseHoldsTheRules:
    """The same rules in SQL, as each request's app role: a resolver that forgot a check
    would still be refused."""

    @pytest.mark.parametrize(
        ("role", "municipality"),
        [
            (AppRole.SCHOOL_STAFF, SAITAMA_CITY),
            (AppRole.SCHOOL_SOCIAL_WORKER, SAITAMA_CITY),
            (AppRole.WELFARE_WORKER, SAITAMA_CITY),
            (AppRole.PREFECTURE_ANALYST, "110001"),
            (AppRole.PLATFORM_ADMIN, "110001"),
        ],
    )
    @pytest.mark.parametrize("table", ["assessment", "contact_log"])
    async def test_schools_agencies_and_the_prefecture_read_no_assessment_or_contact(
        self, as_user: Callable[..., Any], role: AppRole, municipality: str, table: str
    ) -> None:
        async with as_user(role, municipality) as conn:
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.fetch(f"SELECT id FROM kizuna.{table} WHERE municipality_code = $1", municipality)

    @pytest.mark.parametrize(
        "statement",
        [
            "UPDATE kizuna.contact_log SET summary = 'x' WHERE municipality_code = $1",
            "UPDATE kizuna.assessment SET notes = 'x' WHERE municipality_code = $1",
            "UPDATE kizuna.meeting SET decisions = 'x' WHERE municipality_code = $1",
            "DELETE FROM kizuna.meeting_participant WHERE municipality_code = $1",
            "DELETE FROM kizuna.contact_log WHERE municipality_code = $1",
        ],
    )
    async def test_records_are_append_only_even_for_a_supervisor(
        self, as_user: Callable[..., Any], statement: str
    ) -> None:
        async with as_user(AppRole.SUPERVISOR, SAITAMA_CITY) as conn:
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(statement, SAITAMA_CITY)

    async def test_a_caseworker_logs_only_in_their_own_name(
        self, as_user: Callable[..., Any], admin_conn: asyncpg.Connection, user: Callable[..., Any]
    ) -> None:
        case = await admin_conn.fetchval(
            "SELECT id FROM kizuna.carer_case WHERE municipality_code = $1 ORDER BY id LIMIT 1", SAITAMA_CITY
        )
        me = user(AppRole.CASEWORKER, SAITAMA_CITY)
        insert = (
            "INSERT INTO kizuna.contact_log (municipality_code, id, case_id, kind, contacted_at, summary, recorded_by)"
            " VALUES ($1, $2, $3, 'phone', now(), '電話', $4)"
        )
        async with as_user(AppRole.CASEWORKER, SAITAMA_CITY) as conn:
            await conn.execute(insert, SAITAMA_CITY, uuid.uuid4(), case, str(me.user_id))  # rolled back
        async with as_user(AppRole.CASEWORKER, SAITAMA_CITY) as conn:
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(insert, SAITAMA_CITY, uuid.uuid4(), case, str(uuid.uuid4()))
        async with as_user(AppRole.COORDINATOR, SAITAMA_CITY) as conn:
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(
                    "INSERT INTO kizuna.assessment (municipality_code, id, case_id, assessed_on, assessor,"
                    " care_hours_per_week, school_attendance_effect, study_effect, health_effect, sleep_effect,"
                    " friendship_effect, future_plans_effect)"
                    " VALUES ($1, $2, $3, current_date, $4, 1, 0, 0, 0, 0, 0, 0)",
                    SAITAMA_CITY,
                    uuid.uuid4(),
                    case,
                    str(me.user_id),
                )

    async def test_a_municipal_system_reads_and_writes_nothing(
        self, as_user: Callable[..., Any], admin_conn: asyncpg.Connection
    ) -> None:
        case = await admin_conn.fetchval(
            "SELECT id FROM kizuna.carer_case WHERE municipality_code = $1 ORDER BY id LIMIT 1", SAITAMA_CITY
        )
        async with as_user(AppRole.MUNICIPAL_SYSTEM, SAITAMA_CITY) as conn:
            assert await conn.fetchval(COUNT.format("meeting"), SAITAMA_CITY) > 0
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(
                    "INSERT INTO kizuna.meeting (municipality_code, id, case_id, kind, held_on)"
                    " VALUES ($1, $2, $3, 'monitoring', current_date)",
                    SAITAMA_CITY,
                    uuid.uuid4(),
                    case,
                )

    async def test_a_caseworker_sees_no_other_tenant_s_records(self, as_user: Callable[..., Any]) -> None:
        async with as_user(AppRole.CASEWORKER, SAITAMA_CITY) as conn:
            for table in RECORD_TABLES:
                assert await conn.fetchval(COUNT.format(table), KAWAGOE) == 0
                assert await conn.fetchval(f"SELECT count(*) FROM kizuna.{table}") == await conn.fetchval(
                    COUNT.format(table), SAITAMA_CITY
                )
