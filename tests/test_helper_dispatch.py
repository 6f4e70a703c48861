"""Helper dispatch (子育て世帯ヘルパー派遣) over GraphQL and in SQL: seed 002's steps in
order and refused out of order, the visit rules (120 minutes, one an ISO week, within the
period, also across a new year and after an extension), extensions, idempotent creates,
the audit events, who may do what, another tenant's ids, and two visits of one week sent
at once.

Every dispatch here is made on a case opened from a school's referral in the test;
`fresh` (tests/conftest.py) removes what the test made.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid
from collections.abc import Callable
from typing import Any

import asyncpg
import pytest

from kizuna.platform.i18n import Language, Message
from kizuna.platform.vocabulary import AppRole
from kizuna.schema.relay import decode_global_id, encode_global_id
from kizuna.tests.audit_events import audited

SAITAMA_CITY = "111007"
KAWAGOE = "112011"
ERRORS = "userErrors { field message code }"
DISPATCH = """helperDispatch { id caseId status provider { id kind } appliedOn surveyedOn plan decidedOn
  periodStart periodEnd extendedUntil visits { id visitedOn minutes tasks } }"""
STEPS = {
    "applyForDispatch": "ApplyForDispatchInput",
    "recordDispatchSurvey": "RecordDispatchSurveyInput",
    "planDispatch": "PlanDispatchInput",
    "decideDispatch": "DecideDispatchInput",
    "extendDispatch": "ExtendDispatchInput",
    "moveDispatchToMonitoring": "MoveDispatchToMonitoringInput",
    "resumeDispatch": "ResumeDispatchInput",
    "endDispatch": "EndDispatchInput",
}
VISIT = f"""mutation($input: RecordHelperVisitInput!) {{ recordHelperVisit(input: $input) {{
  helperVisit {{ id dispatchId caseId visitedOn minutes tasks activities observations }}
  helperDispatch {{ id status }} {ERRORS} }} }}"""
SEND = "mutation($input: CreateReferralInput!) { createReferral(input: $input) { referral { id } } }"
ACCEPT = "mutation($input: AcceptReferralInput!) { acceptReferral(input: $input) { case { id } } }"
CASE = "query($id: ID!) { node(id: $id) { ... on Case { openDispatch { id status } dispatches { id status } } } }"
CONCERN = {"source": "SCHOOL", "childDisplayName": "中学1年 佐藤さん", "noticed": "弟の世話", "urgency": "SOON"}
# 2025-12-08 is a Monday; the period runs six months less a day.
APPLIED, SURVEYED, DECIDED = dt.date(2025, 12, 1), dt.date(2025, 12, 3), dt.date(2025, 12, 5)
START, END = dt.date(2025, 12, 8), dt.date(2026, 6, 7)
FINGERPRINT = """
SELECT md5(string_agg(t, '|' ORDER BY t)) FROM (
    SELECT d.*::text AS t FROM kizuna.helper_dispatch d WHERE municipality_code = $1
    UNION ALL SELECT v.*::text FROM kizuna.helper_visit v WHERE municipality_code = $1
    UNION ALL SELECT c.*::text FROM kizuna.carer_case c WHERE municipality_code = $1) rows
"""

pytestmark = pytest.mark.usefixtures("fresh")


def mutation(field: str) -> str:
    return f"mutation($input: {STEPS[field]}!) {{ {field}(input: $input) {{ {DISPATCH} {ERRORS} }} }}"


def key(global_id: str) -> uuid.UUID:
    return decode_global_id(global_id)[1]


def text(message: Message, **params: object) -> str:
    return message.in_(Language.JA, **params)


class Desk:
    """A municipality's staff at work on dispatches, through GraphQL."""

    def __init__(self, graphql: Callable[..., dict[str, Any]], provider: str, municipality: str) -> None:
        self.graphql, self.provider, self.municipality = graphql, provider, municipality

    def send(self, field: str, role: AppRole = AppRole.CASEWORKER, /, **values: Any) -> dict[str, Any]:
        document = VISIT if field == "recordHelperVisit" else mutation(field)
        body = self.graphql(document, role, self.municipality, {"input": _json(values)})
        assert "errors" not in body, body
        payload: dict[str, Any] = body["data"][field]
        return payload

    def ok(self, field: str, role: AppRole = AppRole.CASEWORKER, /, **values: Any) -> dict[str, Any]:
        payload = self.send(field, role, **values)
        assert payload["userErrors"] == [], payload
        return payload

    def refused(self, field: str, role: AppRole = AppRole.CASEWORKER, /, **values: Any) -> dict[str, Any]:
        payload = self.send(field, role, **values)
        (error,) = payload["userErrors"]
        found: dict[str, Any] = error
        return found

    def new_case(self) -> str:
        sent = self.graphql(SEND, AppRole.SCHOOL_STAFF, self.municipality, {"input": CONCERN})
        person = self._a_person()
        into = {"id": sent["data"]["createReferral"]["referral"]["id"], "personId": person, "category": "YOUNG_CARER"}
        case: str = self.graphql(ACCEPT, AppRole.CASEWORKER, self.municipality, {"input": into})["data"][
            "acceptReferral"
        ]["case"]["id"]
        return case

    def _a_person(self) -> str:
        found = self.graphql("{ people(first: 1) { edges { node { id } } } }", AppRole.CASEWORKER, self.municipality)
        person: str = found["data"]["people"]["edges"][0]["node"]["id"]
        return person

    def dispatch(self, until: str = "decided", case: str | None = None) -> str:
        """A new case's dispatch, taken through the steps up to `until`; its id."""
        applied = self.ok(
            "applyForDispatch", caseId=case or self.new_case(), appliedOn=APPLIED, providerOrganizationId=self.provider
        )
        dispatch: str = applied["helperDispatch"]["id"]
        steps: list[tuple[str, str, dict[str, Any]]] = [
            ("surveyed", "recordDispatchSurvey", {"surveyedOn": SURVEYED}),
            ("planned", "planDispatch", {"plan": "週1回・2時間以内。調理と、弟の保育園の送迎。"}),
            ("decided", "decideDispatch", {"decidedOn": DECIDED, "periodStart": START, "periodEnd": END}),
        ]
        for status, field, values in steps:
            if until == "applied":
                break
            self.ok(field, id=dispatch, **values)
            if status == until:
                break
        return dispatch

    def visit(self, dispatch: str, day: dt.date, minutes: int = 90, **more: Any) -> dict[str, Any]:
        return self.send(
            "recordHelperVisit", dispatchId=dispatch, visitedOn=day, minutes=minutes, tasks=["HOUSEWORK"], **more
        )


def _json(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in values.items()}


@pytest.fixture
async def provider(admin_conn: asyncpg.Connection) -> str:
    found = await admin_conn.fetchval(
        "SELECT id FROM kizuna.organisation WHERE kind = 'home_help_provider' ORDER BY id LIMIT 1"
    )
    return encode_global_id("Organization", found)


@pytest.fixture
def desk(graphql: Callable[..., dict[str, Any]], provider: str) -> Desk:
    return Desk(graphql, provider, SAITAMA_CITY)


class TestTheFlow:
    async def test_from_the_application_to_the_end_each_step_audited(
        self, desk: Desk, graphql: Callable[..., Any], admin_conn: asyncpg.Connection
    ) -> None:
        case = desk.new_case()
        applied = desk.ok("applyForDispatch", caseId=case, appliedOn=APPLIED, providerOrganizationId=desk.provider)
        dispatch = applied["helperDispatch"]
        assert (dispatch["status"], dispatch["caseId"], dispatch["provider"]["kind"]) == (
            "APPLIED",
            case,
            "HOME_HELP_PROVIDER",
        )
        statuses = [
            desk.ok("recordDispatchSurvey", id=dispatch["id"], surveyedOn=SURVEYED),
            desk.ok("planDispatch", AppRole.COORDINATOR, id=dispatch["id"], plan="週1回、調理と送迎"),
            desk.ok(
                "decideDispatch",
                AppRole.SUPERVISOR,
                id=dispatch["id"],
                decidedOn=DECIDED,
                periodStart=START,
                periodEnd=END,
            ),
        ]
        assert [s["helperDispatch"]["status"] for s in statuses] == ["SURVEYED", "PLANNED", "DECIDED"]
        decided = statuses[-1]["helperDispatch"]
        assert (decided["surveyedOn"], decided["plan"], decided["periodStart"], decided["periodEnd"]) == (
            "2025-12-03",
            "週1回、調理と送迎",
            "2025-12-08",
            "2026-06-07",
        )
        visit = desk.visit(
            dispatch["id"], START, 120, observations="母の表情が明るくなってきた。", activities="調理・配膳"
        )
        assert visit["userErrors"] == []
        assert visit["helperDispatch"]["status"] == "IN_SERVICE"  # the first visit starts the service
        assert visit["helperVisit"]["tasks"] == ["HOUSEWORK"]
        assert visit["helperVisit"]["observations"] == "母の表情が明るくなってきた。"
        moves = [
            desk.ok("moveDispatchToMonitoring", id=dispatch["id"]),
            desk.ok("resumeDispatch", id=dispatch["id"]),
            desk.ok("moveDispatchToMonitoring", id=dispatch["id"]),
        ]
        assert [m["helperDispatch"]["status"] for m in moves] == ["MONITORING", "IN_SERVICE", "MONITORING"]
        seen = graphql(CASE, AppRole.CASEWORKER, SAITAMA_CITY, {"id": case})["data"]["node"]
        assert seen["openDispatch"] == {"id": dispatch["id"], "status": "MONITORING"}
        ended = desk.ok("endDispatch", id=dispatch["id"])
        assert ended["helperDispatch"]["status"] == "ENDED"
        assert [v["visitedOn"] for v in ended["helperDispatch"]["visits"]] == ["2025-12-08"]
        seen = graphql(CASE, AppRole.CASEWORKER, SAITAMA_CITY, {"id": case})["data"]["node"]
        assert seen == {"openDispatch": None, "dispatches": [{"id": dispatch["id"], "status": "ENDED"}]}

        dispatch_key = key(dispatch["id"])
        for action, count in (
            ("helper_dispatch.apply", 1),
            ("helper_dispatch.survey", 1),
            ("helper_dispatch.plan", 1),
            ("helper_dispatch.decide", 1),
            ("helper_dispatch.move", 5),  # into service with the visit, monitoring twice, back once, the end
        ):
            assert await audited(admin_conn, action, dispatch_key) == count, action
        assert await audited(admin_conn, "helper_dispatch.read", dispatch_key) > 0
        assert await audited(admin_conn, "helper_visit.record", key(visit["helperVisit"]["id"])) == 1

    async def test_steps_out_of_order_are_refused_and_change_nothing(
        self, desk: Desk, admin_conn: asyncpg.Connection
    ) -> None:
        applied = desk.dispatch("applied")
        before = await admin_conn.fetchval(FINGERPRINT, SAITAMA_CITY)
        step_refused = text(Message.DISPATCH_STEP_NOT_ALLOWED)
        for field, values in (
            ("planDispatch", {"plan": "計画"}),
            ("decideDispatch", {"decidedOn": DECIDED, "periodStart": START, "periodEnd": END}),
            ("moveDispatchToMonitoring", {}),
            ("resumeDispatch", {}),
        ):
            error = desk.refused(field, id=applied, **values)
            assert (error["code"], error["field"], error["message"]) == ("CONFLICT", "status", step_refused), field
        assert desk.refused("extendDispatch", id=applied, extendedUntil=END)["code"] == "CONFLICT"
        not_decided = desk.visit(applied, START)["userErrors"][0]
        assert (not_decided["field"], not_decided["message"]) == ("visitedOn", text(Message.DISPATCH_NOT_DECIDED))
        assert await admin_conn.fetchval(FINGERPRINT, SAITAMA_CITY) == before

        decided = desk.dispatch("decided")
        assert desk.refused("recordDispatchSurvey", id=decided, surveyedOn=SURVEYED)["code"] == "CONFLICT"
        assert desk.refused("moveDispatchToMonitoring", id=decided)["code"] == "CONFLICT"  # no visit yet
        desk.ok("endDispatch", id=decided)
        for field, values in (("endDispatch", {}), ("extendDispatch", {"extendedUntil": "2026-07-01"})):
            assert desk.refused(field, id=decided, **values)["code"] == "CONFLICT", field
        assert desk.visit(decided, START)["userErrors"][0]["code"] == "CONFLICT"

    def test_an_application_may_be_withdrawn_at_any_step_before_the_service(self, desk: Desk) -> None:
        for until in ("applied", "surveyed", "planned", "decided"):
            ended = desk.ok("endDispatch", id=desk.dispatch(until))
            assert ended["helperDispatch"]["status"] == "ENDED", until

    def test_each_step_is_dated_no_earlier_than_the_one_before(self, desk: Desk) -> None:
        dispatch = desk.dispatch("applied")
        day_before = (APPLIED - dt.timedelta(days=1)).isoformat()
        error = desk.refused("recordDispatchSurvey", id=dispatch, surveyedOn=day_before)
        assert (error["code"], error["field"]) == ("BAD_USER_INPUT", "surveyedOn")
        assert error["message"] == text(Message.DATE_BEFORE_PREVIOUS_STEP, previous="2025-12-01")
        desk.ok("recordDispatchSurvey", id=dispatch, surveyedOn=SURVEYED)
        desk.ok("planDispatch", id=dispatch, plan="計画")
        early = {"decidedOn": "2025-12-02", "periodStart": START, "periodEnd": END}
        assert desk.refused("decideDispatch", id=dispatch, **early)["field"] == "decidedOn"
        before_decision = {"decidedOn": DECIDED, "periodStart": "2025-12-04", "periodEnd": END}
        assert desk.refused("decideDispatch", id=dispatch, **before_decision)["field"] == "periodStart"

    def test_the_decision_needs_a_provider(self, desk: Desk) -> None:
        case = desk.new_case()
        dispatch = desk.ok("applyForDispatch", caseId=case, appliedOn=APPLIED)["helperDispatch"]["id"]
        desk.ok("recordDispatchSurvey", id=dispatch, surveyedOn=SURVEYED)
        desk.ok("planDispatch", id=dispatch, plan="計画")
        decision = {"decidedOn": DECIDED, "periodStart": START, "periodEnd": END}
        error = desk.refused("decideDispatch", id=dispatch, **decision)
        assert (error["code"], error["message"]) == ("BAD_USER_INPUT", text(Message.PROVIDER_REQUIRED))

    def test_the_plan_may_name_the_provider_and_the_decision_grants_six_months_at_most(self, desk: Desk) -> None:
        case = desk.new_case()
        dispatch = desk.ok("applyForDispatch", caseId=case, appliedOn=APPLIED)["helperDispatch"]["id"]
        desk.ok("recordDispatchSurvey", id=dispatch, surveyedOn=SURVEYED)
        planned = desk.ok("planDispatch", id=dispatch, plan="計画", providerOrganizationId=desk.provider)
        assert planned["helperDispatch"]["provider"]["id"] == desk.provider
        too_long = {"decidedOn": DECIDED, "periodStart": START, "periodEnd": "2026-06-09"}
        error = desk.refused("decideDispatch", id=dispatch, **too_long)
        assert (error["code"], error["field"], error["message"]) == (
            "BAD_USER_INPUT",
            "periodEnd",
            text(Message.PERIOD_TOO_LONG, months=6),
        )
        longest = {"decidedOn": DECIDED, "periodStart": START, "periodEnd": "2026-06-08"}
        assert desk.ok("decideDispatch", id=dispatch, **longest)["helperDispatch"]["periodEnd"] == "2026-06-08"

    async def test_a_provider_is_a_home_help_provider(self, desk: Desk, admin_conn: asyncpg.Connection) -> None:
        school = await admin_conn.fetchval(
            "SELECT id FROM kizuna.organisation WHERE kind = 'junior_high_school' ORDER BY id LIMIT 1"
        )
        case = desk.new_case()
        for provider, code in ((school, "BAD_USER_INPUT"), (uuid.uuid4(), "NOT_FOUND")):
            error = desk.refused(
                "applyForDispatch",
                caseId=case,
                appliedOn=APPLIED,
                providerOrganizationId=encode_global_id("Organization", provider),
            )
            assert (error["code"], error["field"]) == (code, "providerOrganizationId")

    async def test_one_open_dispatch_a_case_and_none_for_a_closed_case(
        self, desk: Desk, admin_conn: asyncpg.Connection
    ) -> None:
        case = desk.new_case()
        first = desk.dispatch("applied", case=case)
        error = desk.refused("applyForDispatch", caseId=case, appliedOn=APPLIED)
        assert (error["code"], error["field"], error["message"]) == (
            "CONFLICT",
            "caseId",
            text(Message.DISPATCH_ALREADY_OPEN),
        )
        desk.ok("endDispatch", id=first)
        desk.ok("applyForDispatch", caseId=case, appliedOn=SURVEYED)  # once ended, apply again
        closed = desk.new_case()
        await admin_conn.execute(
            "UPDATE kizuna.carer_case SET stage = 'closed', closed_at = now() WHERE municipality_code = $1 AND id = $2",
            SAITAMA_CITY,
            key(closed),
        )
        error = desk.refused("applyForDispatch", caseId=closed, appliedOn=APPLIED)
        assert (error["code"], error["message"]) == ("CONFLICT", text(Message.DISPATCH_FOR_CLOSED_CASE))

    async def test_a_retried_application_or_visit_is_written_once(
        self, desk: Desk, admin_conn: asyncpg.Connection
    ) -> None:
        case = desk.new_case()
        once = {"caseId": case, "appliedOn": APPLIED, "idempotencyKey": "dispatch-retry-1"}
        first = desk.ok("applyForDispatch", **once)["helperDispatch"]["id"]
        assert desk.ok("applyForDispatch", **once)["helperDispatch"]["id"] == first
        assert await audited(admin_conn, "helper_dispatch.apply", key(first)) == 1
        other = desk.refused("applyForDispatch", **once | {"caseId": desk.new_case()})
        assert (other["code"], other["field"]) == ("CONFLICT", "idempotencyKey")

        dispatch = desk.dispatch()
        visit = desk.visit(dispatch, START, idempotencyKey="visit-retry-1")["helperVisit"]["id"]
        assert desk.visit(dispatch, START, idempotencyKey="visit-retry-1")["helperVisit"]["id"] == visit
        assert await audited(admin_conn, "helper_visit.record", key(visit)) == 1
        reused = desk.visit(dispatch, START + dt.timedelta(days=7), idempotencyKey="visit-retry-1")["userErrors"]
        assert [(e["code"], e["field"]) for e in reused] == [("CONFLICT", "idempotencyKey")]


class TestVisits:
    @pytest.mark.parametrize(("minutes", "allowed"), [(0, False), (1, True), (120, True), (121, False)])
    def test_a_visit_lasts_120_minutes_at_most(self, desk: Desk, minutes: int, allowed: bool) -> None:
        errors = desk.visit(desk.dispatch(), START, minutes)["userErrors"]
        if allowed:
            assert errors == []
        else:
            assert [(e["code"], e["field"], e["message"]) for e in errors] == [
                ("BAD_USER_INPUT", "minutes", text(Message.VISIT_MINUTES, max=120))
            ]

    def test_one_visit_an_iso_week_monday_to_sunday(self, desk: Desk) -> None:
        dispatch = desk.dispatch()
        assert desk.visit(dispatch, START)["userErrors"] == []  # Monday 8 December
        sunday = desk.visit(dispatch, dt.date(2025, 12, 14))["userErrors"]
        assert [(e["code"], e["field"], e["message"]) for e in sunday] == [
            ("CONFLICT", "visitedOn", text(Message.SECOND_VISIT_IN_WEEK))
        ]
        assert desk.visit(dispatch, dt.date(2025, 12, 15))["userErrors"] == []  # the next Monday

    def test_the_iso_week_across_the_new_year(self, desk: Desk) -> None:
        """28 December 2025 is the Sunday of 2025-W52; 31 December 2025 and 2 January 2026
        are both in 2026-W01, a week of two calendar years."""
        dispatch = desk.dispatch()
        assert desk.visit(dispatch, dt.date(2025, 12, 28))["userErrors"] == []
        assert desk.visit(dispatch, dt.date(2025, 12, 31))["userErrors"] == []  # another ISO week
        new_year = desk.visit(dispatch, dt.date(2026, 1, 2))["userErrors"]
        assert [(e["code"], e["field"]) for e in new_year] == [("CONFLICT", "visitedOn")]
        assert desk.visit(dispatch, dt.date(2026, 1, 5))["userErrors"] == []

    def test_only_within_the_period_and_its_extension(self, desk: Desk) -> None:
        dispatch = desk.dispatch()
        outside = text(Message.VISIT_OUTSIDE_PERIOD, start="2025-12-08", end="2026-06-07")
        for day in (START - dt.timedelta(days=1), END + dt.timedelta(days=1)):
            errors = desk.visit(dispatch, day)["userErrors"]
            assert [(e["code"], e["field"], e["message"]) for e in errors] == [
                ("BAD_USER_INPUT", "visitedOn", outside)
            ], day
        extended = desk.ok("extendDispatch", id=dispatch, extendedUntil="2026-09-30")["helperDispatch"]
        assert extended["extendedUntil"] == "2026-09-30"
        assert desk.visit(dispatch, END + dt.timedelta(days=1))["userErrors"] == []
        assert desk.visit(dispatch, dt.date(2026, 9, 30))["userErrors"] == []
        after = desk.visit(dispatch, dt.date(2026, 10, 1))["userErrors"]
        assert [e["message"] for e in after] == [
            text(Message.VISIT_OUTSIDE_PERIOD, start="2025-12-08", end="2026-09-30")
        ]

    @pytest.mark.parametrize(
        ("tasks", "message"),
        [([], Message.VISIT_TASKS_REQUIRED), (["HOUSEWORK", "PERSONAL_CARE"], Message.VISIT_TASK_OUTSIDE_SERVICE)],
    )
    def test_a_visit_names_what_the_service_provides(self, desk: Desk, tasks: list[str], message: Message) -> None:
        dispatch = desk.dispatch()
        payload = desk.send("recordHelperVisit", dispatchId=dispatch, visitedOn=START, minutes=60, tasks=tasks)
        assert [(e["code"], e["field"], e["message"]) for e in payload["userErrors"]] == [
            ("BAD_USER_INPUT", "tasks", text(message))
        ]

    def test_the_visits_of_a_week(self, desk: Desk, graphql: Callable[..., Any]) -> None:
        dispatch = desk.dispatch()
        visit = desk.visit(dispatch, dt.date(2025, 12, 10))["helperVisit"]
        week = graphql(
            '{ helperVisits(from: "2025-12-08", to: "2025-12-14") { id dispatchId caseId visitedOn } }',
            AppRole.COORDINATOR,
            SAITAMA_CITY,
        )
        assert visit["id"] in [v["id"] for v in week["data"]["helperVisits"]]
        too_long = graphql(
            '{ helperVisits(from: "2025-12-01", to: "2026-01-31") { id } }', AppRole.CASEWORKER, SAITAMA_CITY
        )
        assert too_long["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


class TestExtension:
    def test_six_months_at_most_each_time_and_after_the_current_end(self, desk: Desk) -> None:
        dispatch = desk.dispatch()
        error = desk.refused("extendDispatch", id=dispatch, extendedUntil="2026-12-08")  # 6 months past 06-07 is 12-07
        assert (error["code"], error["field"], error["message"]) == (
            "BAD_USER_INPUT",
            "extendedUntil",
            text(Message.EXTENSION_TOO_LONG, months=6),
        )
        assert (
            desk.ok("extendDispatch", id=dispatch, extendedUntil="2026-12-07")["helperDispatch"]["extendedUntil"]
            == "2026-12-07"
        )
        again = desk.ok("extendDispatch", id=dispatch, extendedUntil="2027-06-07")  # extended again, from the new end
        assert again["helperDispatch"]["extendedUntil"] == "2027-06-07"
        for until in ("2027-06-07", "2026-06-01"):
            assert desk.refused("extendDispatch", id=dispatch, extendedUntil=until)["field"] == "extendedUntil"


class TestWhoMay:
    @pytest.mark.parametrize("role", [AppRole.CASEWORKER, AppRole.COORDINATOR, AppRole.SUPERVISOR])
    def test_municipal_staff_take_every_step(self, desk: Desk, role: AppRole) -> None:
        case = desk.new_case()
        dispatch = desk.ok(
            "applyForDispatch", role, caseId=case, appliedOn=APPLIED, providerOrganizationId=desk.provider
        )
        key_ = dispatch["helperDispatch"]["id"]
        desk.ok("recordDispatchSurvey", role, id=key_, surveyedOn=SURVEYED)
        desk.ok("planDispatch", role, id=key_, plan="計画")
        desk.ok("decideDispatch", role, id=key_, decidedOn=DECIDED, periodStart=START, periodEnd=END)
        assert (
            desk.send("recordHelperVisit", role, dispatchId=key_, visitedOn=START, minutes=60, tasks=["WATCHING_OVER"])[
                "userErrors"
            ]
            == []
        )

    def test_the_municipal_system_reads_and_writes_nothing(self, desk: Desk, graphql: Callable[..., Any]) -> None:
        dispatch = desk.dispatch()
        read = graphql(
            "query($id: ID!) { node(id: $id) { ... on HelperDispatch { id status visits { id } } } }",
            AppRole.MUNICIPAL_SYSTEM,
            SAITAMA_CITY,
            {"id": dispatch},
        )
        assert read["data"]["node"] == {"id": dispatch, "status": "DECIDED", "visits": []}
        visit = {"dispatchId": dispatch, "visitedOn": START, "minutes": 60, "tasks": ["HOUSEWORK"]}
        error = desk.refused("recordHelperVisit", AppRole.MUNICIPAL_SYSTEM, **visit)
        assert (error["code"], error["field"]) == ("FORBIDDEN", None)

    @pytest.mark.parametrize("role", [AppRole.SCHOOL_STAFF, AppRole.SCHOOL_SOCIAL_WORKER, AppRole.WELFARE_WORKER])
    def test_schools_and_agencies_read_no_dispatch(
        self, desk: Desk, graphql: Callable[..., Any], role: AppRole
    ) -> None:
        dispatch = desk.dispatch()
        read = graphql("query($id: ID!) { node(id: $id) { id } }", role, SAITAMA_CITY, {"id": dispatch})
        assert read["errors"][0]["extensions"]["code"] == "FORBIDDEN"


class TestAnotherTenantsIds:
    """Every mutation, as さいたま市's caseworker, with 川越市's ids: NOT_FOUND, exactly as for
    an unknown id, and 川越市's dispatches, visits and cases unchanged."""

    async def test_every_mutation_fails_like_an_unknown_id_and_changes_nothing(
        self, graphql: Callable[..., Any], provider: str, admin_conn: asyncpg.Connection
    ) -> None:
        theirs = Desk(graphql, provider, KAWAGOE)
        their_case = theirs.new_case()
        their_dispatch = theirs.dispatch(case=their_case)
        theirs.visit(their_dispatch, START)
        ours = Desk(graphql, provider, SAITAMA_CITY)
        before = await admin_conn.fetchval(FINGERPRINT, KAWAGOE)

        def attempt(field: str, id_field: str, type_name: str, their_key: uuid.UUID, **rest: Any) -> None:
            crossed = ours.refused(field, **rest | {id_field: encode_global_id(type_name, their_key)})
            missing = ours.refused(field, **rest | {id_field: encode_global_id(type_name, uuid.uuid4())})
            assert crossed == missing, field
            assert (crossed["field"], crossed["code"]) == (id_field, "NOT_FOUND"), field

        dispatch_key = key(their_dispatch)
        attempt("applyForDispatch", "caseId", "Case", key(their_case), appliedOn=APPLIED)
        attempt("recordDispatchSurvey", "id", "HelperDispatch", dispatch_key, surveyedOn=SURVEYED)
        attempt("planDispatch", "id", "HelperDispatch", dispatch_key, plan="計画")
        attempt(
            "decideDispatch", "id", "HelperDispatch", dispatch_key, decidedOn=DECIDED, periodStart=START, periodEnd=END
        )
        attempt("extendDispatch", "id", "HelperDispatch", dispatch_key, extendedUntil="2026-09-01")
        attempt(
            "recordHelperVisit",
            "dispatchId",
            "HelperDispatch",
            dispatch_key,
            visitedOn=START + dt.timedelta(days=7),
            minutes=60,
            tasks=["HOUSEWORK"],
        )
        for field in ("moveDispatchToMonitoring", "resumeDispatch", "endDispatch"):
            attempt(field, "id", "HelperDispatch", dispatch_key)
        assert await admin_conn.fetchval(FINGERPRINT, KAWAGOE) == before
        # And reading: their dispatch and visit are unknown ids here.
        visit = await admin_conn.fetchval(
            "SELECT id FROM kizuna.helper_visit WHERE municipality_code = $1 AND dispatch_id = $2",
            KAWAGOE,
            dispatch_key,
        )
        for type_name, their in (("HelperDispatch", dispatch_key), ("HelperVisit", visit)):
            body = graphql(
                "query($id: ID!) { node(id: $id) { id } }",
                AppRole.CASEWORKER,
                SAITAMA_CITY,
                {"id": encode_global_id(type_name, their)},
            )
            assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"


class TestConcurrency:
    async def test_two_visits_of_one_week_sent_at_once_make_one_visit_and_one_user_error(
        self, desk: Desk, admin_conn: asyncpg.Connection
    ) -> None:
        dispatch = desk.dispatch()
        waiting = (
            # Active in the locked read: waiting for the lock here, or for a worker on Citus.
            "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND pid <> pg_backend_pid()"
            " AND query LIKE '%FROM kizuna.helper_dispatch%FOR UPDATE%'"
        )
        # Hold the dispatch so that both requests are waiting for it, then let them race.
        async with admin_conn.transaction():
            await admin_conn.execute(
                "SELECT id FROM kizuna.helper_dispatch WHERE municipality_code = $1 AND id = $2 FOR UPDATE",
                SAITAMA_CITY,
                key(dispatch),
            )
            racing = [
                asyncio.create_task(asyncio.to_thread(desk.visit, dispatch, day))
                for day in (dt.date(2025, 12, 9), dt.date(2025, 12, 11))
            ]
            deadline = time.monotonic() + 20
            # Inside a transaction the activity view is a snapshot: cleared for each look.
            while (
                await admin_conn.execute("SELECT pg_stat_clear_snapshot()") and await admin_conn.fetchval(waiting) < 2
            ):
                assert time.monotonic() < deadline, "the two visits never waited for the dispatch"
                await asyncio.sleep(0.05)
        answers = await asyncio.gather(*racing)
        errors = sorted((e["code"], e["field"]) for a in answers for e in a["userErrors"])
        assert errors == [("CONFLICT", "visitedOn")]
        assert (
            await admin_conn.fetchval(
                "SELECT count(*) FROM kizuna.helper_visit WHERE municipality_code = $1 AND dispatch_id = $2",
                SAITAMA_CITY,
                key(dispatch),
            )
            == 1
        )


class TestTheDatabaseRefuses:
    """In SQL, as the app role of each request: a resolver that forgot a rule would still
    be refused by the database's second line."""

    async def test_a_caseworker_s_sql_cannot_break_the_visit_rules(
        self, desk: Desk, as_user: Callable[..., Any]
    ) -> None:
        dispatch = key(desk.dispatch())
        insert = (
            "INSERT INTO kizuna.helper_visit (municipality_code, id, dispatch_id, visited_on, minutes, tasks)"
            " VALUES ($1, $2, $3, $4, $5, $6::kizuna.care_task[])"
        )
        attempts = [
            ((START, 121, ["housework"]), asyncpg.CheckViolationError),
            ((START, 60, ["personal_care"]), asyncpg.CheckViolationError),
        ]
        for values, error in attempts:
            async with as_user(AppRole.CASEWORKER, SAITAMA_CITY) as conn:
                with pytest.raises(error):
                    await conn.execute(insert, SAITAMA_CITY, uuid.uuid4(), dispatch, *values)
        async with as_user(AppRole.CASEWORKER, SAITAMA_CITY) as conn:
            await conn.execute(insert, SAITAMA_CITY, uuid.uuid4(), dispatch, START, 60, ["housework"])
            with pytest.raises(asyncpg.UniqueViolationError):  # Sunday of the same ISO week
                await conn.execute(
                    insert, SAITAMA_CITY, uuid.uuid4(), dispatch, dt.date(2025, 12, 14), 60, ["housework"]
                )
        async with as_user(AppRole.CASEWORKER, SAITAMA_CITY) as conn:
            with pytest.raises(asyncpg.InsufficientPrivilegeError):  # a visit is never changed
                await conn.execute(
                    "UPDATE kizuna.helper_visit SET minutes = 60 WHERE municipality_code = $1", SAITAMA_CITY
                )

    async def test_a_caseworker_s_sql_cannot_break_the_dispatch_rules(
        self, desk: Desk, as_user: Callable[..., Any], admin_conn: asyncpg.Connection
    ) -> None:
        dispatch = key(desk.dispatch("planned"))
        case = await admin_conn.fetchval(
            "SELECT case_id FROM kizuna.helper_dispatch WHERE municipality_code = $1 AND id = $2",
            SAITAMA_CITY,
            dispatch,
        )
        update = "UPDATE kizuna.helper_dispatch SET {} WHERE municipality_code = $1 AND id = $2"
        for change, error in (
            ("status = 'decided'", asyncpg.CheckViolationError),  # decided without its decision
            (
                "status = 'decided', decided_on = '2025-12-05', period_start = '2025-12-08', period_end = '2026-06-09'",
                asyncpg.CheckViolationError,  # more than six months
            ),
            ("case_id = case_id", asyncpg.InsufficientPrivilegeError),  # not a step's column
            ("applied_on = '2025-11-01'", asyncpg.InsufficientPrivilegeError),
        ):
            async with as_user(AppRole.CASEWORKER, SAITAMA_CITY) as conn:
                with pytest.raises(error):
                    await conn.execute(update.format(change), SAITAMA_CITY, dispatch)
        async with as_user(AppRole.CASEWORKER, SAITAMA_CITY) as conn:
            with pytest.raises(asyncpg.InsufficientPrivilegeError):  # only an application, never a decided one
                await conn.execute(
                    "INSERT INTO kizuna.helper_dispatch (municipality_code, id, case_id, status, applied_on,"
                    " survey_visit_on, plan, decided_on, period_start, period_end)"
                    " VALUES ($1, $2, $3, 'decided', '2025-12-01', '2025-12-01', '計画', '2025-12-01',"
                    " '2025-12-01', '2026-01-01')",
                    SAITAMA_CITY,
                    uuid.uuid4(),
                    case,
                )
        async with as_user(AppRole.CASEWORKER, SAITAMA_CITY) as conn:
            with pytest.raises(asyncpg.UniqueViolationError):  # a second open dispatch of the case
                await conn.execute(
                    "INSERT INTO kizuna.helper_dispatch (municipality_code, id, case_id, status, applied_on)"
                    " VALUES ($1, $2, $3, 'applied', '2025-12-01')",
                    SAITAMA_CITY,
                    uuid.uuid4(),
                    case,
                )
        await admin_conn.execute(
            "UPDATE kizuna.helper_dispatch SET status = 'ended' WHERE municipality_code = $1 AND id = $2",
            SAITAMA_CITY,
            dispatch,
        )
        async with as_user(AppRole.CASEWORKER, SAITAMA_CITY) as conn:
            # An ended dispatch is not changed again: row security hides it from UPDATE.
            assert await conn.execute(update.format("status = 'applied'"), SAITAMA_CITY, dispatch) == "UPDATE 0"

    async def test_another_tenant_s_rows_are_out_of_reach(self, desk: Desk, as_user: Callable[..., Any]) -> None:
        dispatch = key(desk.dispatch())
        async with as_user(AppRole.CASEWORKER, KAWAGOE) as conn:
            count = "SELECT count(*) FROM kizuna.helper_dispatch WHERE municipality_code = $1 AND id = $2"
            assert await conn.fetchval(count, SAITAMA_CITY, dispatch) == 0
            with pytest.raises(asyncpg.InsufficientPrivilegeError):  # row security's WITH CHECK
                await conn.execute(
                    "INSERT INTO kizuna.helper_visit (municipality_code, id, dispatch_id, visited_on, minutes, tasks)"
                    " VALUES ($1, $2, $3, '2025-12-08', 60, '{housework}')",
                    SAITAMA_CITY,
                    uuid.uuid4(),
                    dispatch,
                )

    @pytest.mark.parametrize("table", ["helper_dispatch", "helper_visit"])
    @pytest.mark.parametrize(
        ("role", "home", "act_in"),
        [
            (AppRole.SCHOOL_STAFF, SAITAMA_CITY, None),
            (AppRole.SCHOOL_SOCIAL_WORKER, SAITAMA_CITY, None),
            (AppRole.WELFARE_WORKER, SAITAMA_CITY, None),
            (AppRole.PREFECTURE_ANALYST, "110001", None),
            (AppRole.PLATFORM_ADMIN, "110001", SAITAMA_CITY),
        ],
    )
    async def test_schools_agencies_and_the_prefecture_read_none(
        self, as_user: Callable[..., Any], role: AppRole, home: str, act_in: str | None, table: str
    ) -> None:
        async with as_user(role, home, act_in=act_in) as conn:
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.fetchval(f"SELECT count(*) FROM kizuna.{table} WHERE municipality_code = $1", act_in or home)

    async def test_the_municipal_system_reads_and_writes_nothing(self, as_user: Callable[..., Any]) -> None:
        async with as_user(AppRole.MUNICIPAL_SYSTEM, SAITAMA_CITY) as conn:
            assert (
                await conn.fetchval(
                    "SELECT count(*) FROM kizuna.helper_visit WHERE municipality_code = $1", SAITAMA_CITY
                )
                > 0
            )
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(
                    "UPDATE kizuna.helper_dispatch SET status = 'ended' WHERE municipality_code = $1", SAITAMA_CITY
                )
