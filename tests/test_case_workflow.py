"""A case through the workflow over GraphQL, stage by stage, with the approvals its moves
need; refused moves; who may decide; and another tenant's ids.

Every case here is opened from a referral the test sends; `fresh` (tests/conftest.py)
removes what the test made.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import asyncpg
import pytest

from kizuna.platform.ids import uuid7
from kizuna.platform.vocabulary import AppRole
from kizuna.schema.relay import decode_global_id, encode_global_id

SAITAMA_CITY = "111007"
KAWAGOE = "112011"
ERRORS = "userErrors { field message code rule }"
SEND = f"mutation($input: CreateReferralInput!) {{ createReferral(input: $input) {{ referral {{ id }} {ERRORS} }} }}"
ACCEPT = f"""mutation($input: AcceptReferralInput!) {{ acceptReferral(input: $input) {{
  case {{ id stage }} {ERRORS} }} }}"""
MOVE = f"""mutation($input: MoveCaseStageInput!) {{ moveCaseStage(input: $input) {{
  case {{ id stage }} {ERRORS} }} }}"""
REQUEST = f"""mutation($input: RequestApprovalInput!) {{ requestApproval(input: $input) {{
  approval {{ id subject status caseId }} {ERRORS} }} }}"""
DECIDE = f"""mutation($input: DecideApprovalInput!) {{ decideApproval(input: $input) {{
  approval {{ id status comment decidedAt }} {ERRORS} }} }}"""
PLAN = f"""mutation($input: CreateSupportPlanInput!) {{ createSupportPlan(input: $input) {{
  supportPlan {{ id version goals }} {ERRORS} }} }}"""
APPLY = f"""mutation($input: ApplyForDispatchInput!) {{ applyForDispatch(input: $input) {{
  helperDispatch {{ id }} {ERRORS} }} }}"""
END_DISPATCH = f"""mutation($input: EndDispatchInput!) {{ endDispatch(input: $input) {{
  helperDispatch {{ id }} {ERRORS} }} }}"""
NOTIFICATIONS = "{ notifications(first: 50) { edges { node { id subject status comment caseId } } } }"
WAITING = "{ approvals(status: REQUESTED, first: 100) { edges { node { id caseId } } } }"
PLANS = "query($id: ID!) { supportPlans(caseId: $id) { id version } }"
CONCERN = {
    "source": "SCHOOL",
    "childDisplayName": "中学1年 佐藤さん",
    "noticed": "弟の世話で欠席が続く",
    "urgency": "SOON",
}


def ok(body: dict[str, Any], field: str) -> dict[str, Any]:
    payload: dict[str, Any] = body["data"][field]
    assert payload["userErrors"] == [], payload
    return payload


def refused(body: dict[str, Any], field: str) -> dict[str, Any]:
    (error,) = body["data"][field]["userErrors"]
    result: dict[str, Any] = error
    return result


@pytest.fixture
async def new_case(graphql: Callable[..., Any], admin_conn: asyncpg.Connection) -> Callable[..., Any]:
    """`await new_case()`: a case at intake in さいたま市, opened from a school's referral."""
    person = await admin_conn.fetchval(
        "SELECT id FROM kizuna.person WHERE municipality_code = $1 ORDER BY id LIMIT 1", SAITAMA_CITY
    )

    async def open_one(municipality: str = SAITAMA_CITY) -> str:
        who = person
        if municipality != SAITAMA_CITY:
            who = await admin_conn.fetchval(
                "SELECT id FROM kizuna.person WHERE municipality_code = $1 ORDER BY id LIMIT 1", municipality
            )
        sent = ok(graphql(SEND, AppRole.SCHOOL_STAFF, municipality, {"input": CONCERN}), "createReferral")
        into = {"id": sent["referral"]["id"], "personId": encode_global_id("Person", who), "category": "YOUNG_CARER"}
        case: str = ok(graphql(ACCEPT, AppRole.CASEWORKER, municipality, {"input": into}), "acceptReferral")["case"][
            "id"
        ]
        return case

    return open_one


def a_plan(graphql: Callable[..., Any], case: str) -> str:
    """A support plan of `case`, written by its caseworker."""
    plan = {
        "caseId": case,
        "goals": "登校を続けられるよう家事の負担を減らす",
        "periodStart": "2026-12-01",
        "periodEnd": "2027-05-31",
    }
    written = ok(graphql(PLAN, AppRole.CASEWORKER, SAITAMA_CITY, {"input": plan}), "createSupportPlan")
    plan_id: str = written["supportPlan"]["id"]
    return plan_id


def move(graphql: Callable[..., Any], case: str, stage: str, role: AppRole = AppRole.CASEWORKER) -> dict[str, Any]:
    body: dict[str, Any] = graphql(
        MOVE, role, SAITAMA_CITY, {"input": {"id": case, "toStage": stage, "reason": "試験"}}
    )
    return body


def approve(graphql: Callable[..., Any], case: str, subject: str, plan: str | None = None) -> str:
    """Requested by the caseworker, approved by the supervisor; the approval's id."""
    asked = {"caseId": case, "subject": subject, "supportPlanId": plan}
    approval: str = ok(graphql(REQUEST, AppRole.CASEWORKER, SAITAMA_CITY, {"input": asked}), "requestApproval")[
        "approval"
    ]["id"]
    ok(
        graphql(DECIDE, AppRole.SUPERVISOR, SAITAMA_CITY, {"input": {"id": approval, "approve": True}}),
        "decideApproval",
    )
    return approval


@pytest.mark.usefixtures("fresh")
class TestTheFlow:
    async def test_from_intake_to_closed_and_reopened_with_every_approval(
        self, new_case: Callable[..., Any], graphql: Callable[..., Any], admin_conn: asyncpg.Connection
    ) -> None:
        case = await new_case()
        for stage in ("SHARING", "GATHERING", "CONFERENCE"):
            assert ok(move(graphql, case, stage), "moveCaseStage")["case"]["stage"] == stage
        # Support needs an approved plan.
        error = refused(move(graphql, case, "SUPPORT"), "moveCaseStage")
        assert (error["field"], error["code"], error["rule"]) == (
            "toStage",
            "CONFLICT",
            "SUPPORT_PLAN_APPROVAL_REQUIRED",
        )
        plan = a_plan(graphql, case)
        assert [
            p["id"] for p in graphql(PLANS, AppRole.CASEWORKER, SAITAMA_CITY, {"id": case})["data"]["supportPlans"]
        ] == [plan]
        approve(graphql, case, "SUPPORT_PLAN", plan)
        ok(move(graphql, case, "SUPPORT"), "moveCaseStage")
        ok(move(graphql, case, "MONITORING"), "moveCaseStage")
        # Closing needs a closure approval; the plan approval was used by the move to support.
        assert refused(move(graphql, case, "CLOSED"), "moveCaseStage")["rule"] == "CLOSURE_APPROVAL_REQUIRED"
        approve(graphql, case, "CLOSURE")
        assert ok(move(graphql, case, "CLOSED"), "moveCaseStage")["case"]["stage"] == "CLOSED"
        # Reopening goes to support and needs a new approved plan.
        assert refused(move(graphql, case, "SUPPORT"), "moveCaseStage")["code"] == "CONFLICT"
        approve(graphql, case, "SUPPORT_PLAN", plan)
        assert ok(move(graphql, case, "SUPPORT"), "moveCaseStage")["case"]["stage"] == "SUPPORT"

        events = await admin_conn.fetch(
            "SELECT kind, from_stage, to_stage, actor, reason FROM kizuna.case_event"
            " WHERE municipality_code = $1 AND case_id = $2 ORDER BY occurred_at, id",
            SAITAMA_CITY,
            decode_global_id(case)[1],
        )
        moves = [(e["from_stage"], e["to_stage"]) for e in events if e["to_stage"] is not None]
        assert moves == [
            (None, "intake"),
            ("intake", "sharing"),
            ("sharing", "gathering"),
            ("gathering", "conference"),
            ("conference", "support"),
            ("support", "monitoring"),
            ("monitoring", "closed"),
            ("closed", "support"),
        ]
        kinds = [e["kind"] for e in events]
        assert kinds.count("approval_requested") == kinds.count("approved") == 3
        assert kinds[-1] == "reopened"
        closed_at = await admin_conn.fetchval(
            "SELECT closed_at FROM kizuna.carer_case WHERE municipality_code = $1 AND id = $2",
            SAITAMA_CITY,
            decode_global_id(case)[1],
        )
        assert closed_at is None  # reopened

    async def test_a_case_whose_helper_dispatch_has_not_ended_is_not_closed(
        self, new_case: Callable[..., Any], graphql: Callable[..., Any], admin_conn: asyncpg.Connection
    ) -> None:
        case = await new_case()
        await admin_conn.execute(
            "UPDATE kizuna.carer_case SET stage = 'monitoring' WHERE municipality_code = $1 AND id = $2",
            SAITAMA_CITY,
            decode_global_id(case)[1],
        )
        applied = {"caseId": case, "appliedOn": "2026-11-02"}
        dispatch = ok(graphql(APPLY, AppRole.CASEWORKER, SAITAMA_CITY, {"input": applied}), "applyForDispatch")
        approve(graphql, case, "CLOSURE")
        error = refused(move(graphql, case, "CLOSED"), "moveCaseStage")
        assert (error["field"], error["code"]) == ("toStage", "CONFLICT")
        stage = "SELECT stage FROM kizuna.carer_case WHERE municipality_code = $1 AND id = $2"
        assert await admin_conn.fetchval(stage, SAITAMA_CITY, decode_global_id(case)[1]) == "monitoring"
        ended = {"id": dispatch["helperDispatch"]["id"]}
        ok(graphql(END_DISPATCH, AppRole.CASEWORKER, SAITAMA_CITY, {"input": ended}), "endDispatch")
        assert ok(move(graphql, case, "CLOSED"), "moveCaseStage")["case"]["stage"] == "CLOSED"

    # The stage it is in, and two stages the flow does not reach from intake.
    @pytest.mark.parametrize("stage", ["INTAKE", "SUPPORT", "CLOSED"])
    async def test_a_move_off_the_flow_is_refused_and_writes_nothing(
        self, new_case: Callable[..., Any], graphql: Callable[..., Any], admin_conn: asyncpg.Connection, stage: str
    ) -> None:
        case = await new_case()
        count = "SELECT count(*) FROM kizuna.case_event WHERE municipality_code = $1 AND case_id = $2"
        before = await admin_conn.fetchval(count, SAITAMA_CITY, decode_global_id(case)[1])
        error = refused(move(graphql, case, stage), "moveCaseStage")
        assert (error["field"], error["code"]) == ("toStage", "BAD_USER_INPUT")
        assert await admin_conn.fetchval(count, SAITAMA_CITY, decode_global_id(case)[1]) == before

    async def test_an_approval_the_next_move_does_not_need_is_refused(
        self, new_case: Callable[..., Any], graphql: Callable[..., Any]
    ) -> None:
        case = await new_case()
        for stage in ("SHARING", "GATHERING", "CONFERENCE", "MULTI_AGENCY_MEETING"):
            ok(move(graphql, case, stage), "moveCaseStage")
        # No closure from here: only the plan is asked for.
        closure = graphql(REQUEST, AppRole.CASEWORKER, SAITAMA_CITY, {"input": {"caseId": case, "subject": "CLOSURE"}})
        assert refused(closure, "requestApproval")["field"] == "subject"


@pytest.mark.usefixtures("fresh")
class TestApprovals:
    async def test_a_rejection_needs_a_reason_and_nobody_approves_their_own_request(
        self, new_case: Callable[..., Any], graphql: Callable[..., Any], admin_conn: asyncpg.Connection
    ) -> None:
        case = await new_case()
        for stage in ("SHARING", "GATHERING", "CONFERENCE"):
            ok(move(graphql, case, stage), "moveCaseStage")
        plan = a_plan(graphql, case)
        asked = {"caseId": case, "subject": "SUPPORT_PLAN", "supportPlanId": plan}
        approval = ok(graphql(REQUEST, AppRole.CASEWORKER, SAITAMA_CITY, {"input": asked}), "requestApproval")[
            "approval"
        ]
        assert approval["status"] == "REQUESTED"
        again = graphql(REQUEST, AppRole.COORDINATOR, SAITAMA_CITY, {"input": asked})
        assert refused(again, "requestApproval")["code"] == "CONFLICT"  # one waits at a time
        waiting = graphql(WAITING, AppRole.SUPERVISOR, SAITAMA_CITY)["data"]["approvals"]["edges"]
        assert approval["id"] in {e["node"]["id"] for e in waiting}

        caseworker = graphql(
            DECIDE, AppRole.CASEWORKER, SAITAMA_CITY, {"input": {"id": approval["id"], "approve": True}}
        )
        assert refused(caseworker, "decideApproval")["code"] == "FORBIDDEN"
        bare = graphql(DECIDE, AppRole.SUPERVISOR, SAITAMA_CITY, {"input": {"id": approval["id"], "approve": False}})
        assert refused(bare, "decideApproval")["field"] == "comment"
        reason = "目標を具体的に書いてください。"
        rejected = graphql(
            DECIDE,
            AppRole.SUPERVISOR,
            SAITAMA_CITY,
            {"input": {"id": approval["id"], "approve": False, "comment": reason}},
        )
        assert ok(rejected, "decideApproval")["approval"]["status"] == "REJECTED"
        mine = graphql(NOTIFICATIONS, AppRole.CASEWORKER, SAITAMA_CITY)["data"]["notifications"]["edges"]
        assert {
            "id": approval["id"],
            "subject": "SUPPORT_PLAN",
            "status": "REJECTED",
            "comment": reason,
            "caseId": case,
        } in [e["node"] for e in mine]
        # Still no plan approved: support stays closed.
        assert refused(move(graphql, case, "SUPPORT"), "moveCaseStage")["code"] == "CONFLICT"

        # A supervisor's own request waits for another supervisor.
        own = ok(graphql(REQUEST, AppRole.SUPERVISOR, SAITAMA_CITY, {"input": asked}), "requestApproval")["approval"]
        selfish = graphql(DECIDE, AppRole.SUPERVISOR, SAITAMA_CITY, {"input": {"id": own["id"], "approve": True}})
        assert refused(selfish, "decideApproval")["code"] == "FORBIDDEN"

    @pytest.mark.parametrize("role", [AppRole.SCHOOL_STAFF, AppRole.WELFARE_WORKER, AppRole.MUNICIPAL_SYSTEM])
    async def test_schools_agencies_and_systems_move_nothing(
        self, new_case: Callable[..., Any], graphql: Callable[..., Any], role: AppRole
    ) -> None:
        case = await new_case()
        assert refused(move(graphql, case, "SHARING", role), "moveCaseStage")["code"] == "FORBIDDEN"
        assert graphql(NOTIFICATIONS, role, SAITAMA_CITY)["errors"][0]["extensions"]["code"] == "FORBIDDEN"


@pytest.mark.usefixtures("fresh")
class TestAnotherTenantsCase:
    FINGERPRINT = """
    SELECT md5(string_agg(t, '|' ORDER BY t)) FROM (
        SELECT c.*::text AS t FROM kizuna.carer_case c WHERE municipality_code = $1
        UNION ALL SELECT e.*::text FROM kizuna.case_event e WHERE municipality_code = $1
        UNION ALL SELECT a.*::text FROM kizuna.approval a WHERE municipality_code = $1) rows
    """

    async def test_every_mutation_fails_like_an_unknown_id_and_changes_nothing(
        self, new_case: Callable[..., Any], graphql: Callable[..., Any], admin_conn: asyncpg.Connection
    ) -> None:
        theirs = await new_case(KAWAGOE)
        their_approval = encode_global_id(
            "Approval",
            await admin_conn.fetchval(
                "SELECT id FROM kizuna.approval WHERE municipality_code = $1 AND status = 'requested' LIMIT 1", KAWAGOE
            )
            or uuid.uuid4(),
        )
        before = await admin_conn.fetchval(self.FINGERPRINT, KAWAGOE)
        unknown_case, unknown_approval = (
            encode_global_id("Case", uuid.uuid4()),
            encode_global_id("Approval", uuid.uuid4()),
        )
        # (document, payload, role, the input with an id, the field that names it)
        attempts: list[tuple[str, str, AppRole, Callable[[str], dict[str, Any]], str]] = [
            (MOVE, "moveCaseStage", AppRole.CASEWORKER, lambda c: {"id": c, "toStage": "SHARING"}, "id"),
            (REQUEST, "requestApproval", AppRole.CASEWORKER, lambda c: {"caseId": c, "subject": "CLOSURE"}, "caseId"),
            (DECIDE, "decideApproval", AppRole.SUPERVISOR, lambda a: {"id": a, "approve": True}, "id"),
        ]
        for document, field, role, make, named in attempts:
            their_id, unknown_id = (
                (their_approval, unknown_approval) if field == "decideApproval" else (theirs, unknown_case)
            )
            crossed = refused(graphql(document, role, SAITAMA_CITY, {"input": make(their_id)}), field)
            missing = refused(graphql(document, role, SAITAMA_CITY, {"input": make(unknown_id)}), field)
            assert crossed == missing, field
            assert (crossed["field"], crossed["code"]) == (named, "NOT_FOUND"), field
        assert await admin_conn.fetchval(self.FINGERPRINT, KAWAGOE) == before


class TestTheDatabaseHoldsTheApprovals:
    async def test_a_caseworker_cannot_approve_nor_record_an_approved_one(
        self, as_user: Callable[..., Any], admin_conn: asyncpg.Connection
    ) -> None:
        requested = await admin_conn.fetchval(
            "SELECT id FROM kizuna.approval WHERE municipality_code = $1 AND status = 'requested' LIMIT 1", SAITAMA_CITY
        )
        case = await admin_conn.fetchval(
            "SELECT id FROM kizuna.carer_case WHERE municipality_code = $1 LIMIT 1", SAITAMA_CITY
        )
        async with as_user(AppRole.CASEWORKER, SAITAMA_CITY) as conn:
            # Only a supervisor may write a decision's columns (0029). A savepoint: the
            # refusal aborts it, and the insert below is tried in the same transaction.
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
                async with conn.transaction():
                    await conn.execute(
                        "UPDATE kizuna.approval SET status = 'approved', decided_by = kizuna.current_subject(),"
                        " decided_at = now() WHERE municipality_code = $1 AND id = $2",
                        SAITAMA_CITY,
                        requested,
                    )
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
                await conn.execute(
                    "INSERT INTO kizuna.approval (municipality_code, id, case_id, subject, status, requested_by,"
                    " requested_at, decided_by, decided_at) VALUES ($1, $2, $3, 'closure', 'approved', 'someone',"
                    " now(), kizuna.current_subject(), now())",
                    SAITAMA_CITY,
                    uuid7(),
                    case,
                )

    async def test_a_supervisor_cannot_approve_their_own_request_in_sql_either(
        self, as_user: Callable[..., Any], admin_conn: asyncpg.Connection
    ) -> None:
        case = await admin_conn.fetchval(
            "SELECT id FROM kizuna.carer_case WHERE municipality_code = $1 LIMIT 1", SAITAMA_CITY
        )
        async with as_user(AppRole.SUPERVISOR, SAITAMA_CITY) as conn:
            with pytest.raises(asyncpg.CheckViolationError, match="not_self_approved"):
                await conn.execute(
                    "INSERT INTO kizuna.approval (municipality_code, id, case_id, subject, status, requested_by,"
                    " requested_at, decided_by, decided_at) VALUES ($1, $2, $3, 'closure', 'approved',"
                    " kizuna.current_subject(), now(), kizuna.current_subject(), now())",
                    SAITAMA_CITY,
                    uuid7(),
                    case,
                )


@pytest.mark.usefixtures("fresh")
class TestSupportPlans:
    def plan(self, case: str, **changes: str) -> dict[str, Any]:
        return {
            "caseId": case,
            "goals": "家事の負担を減らし、登校を続けられるようにする",
            "periodStart": "2026-12-01",
            "periodEnd": "2027-05-31",
        } | changes

    async def test_each_plan_is_the_cases_next_version(
        self, new_case: Callable[..., Any], graphql: Callable[..., Any], admin_conn: asyncpg.Connection
    ) -> None:
        case = await new_case()
        first = ok(graphql(PLAN, AppRole.CASEWORKER, SAITAMA_CITY, {"input": self.plan(case)}), "createSupportPlan")
        second = ok(graphql(PLAN, AppRole.COORDINATOR, SAITAMA_CITY, {"input": self.plan(case)}), "createSupportPlan")
        assert (first["supportPlan"]["version"], second["supportPlan"]["version"]) == (1, 2)
        count = (
            "SELECT count(*) FROM kizuna.audit_event WHERE municipality_code = $1 AND action = 'support_plan.create'"
        )
        assert (
            await admin_conn.fetchval(
                count + " AND entity_id = $2", SAITAMA_CITY, decode_global_id(second["supportPlan"]["id"])[1]
            )
            == 1
        )

    async def test_a_retry_with_the_same_key_writes_one_version(
        self, new_case: Callable[..., Any], graphql: Callable[..., Any], admin_conn: asyncpg.Connection
    ) -> None:
        case, other = await new_case(), await new_case()
        retry = {"input": self.plan(case, idempotencyKey=f"plan-{uuid.uuid4()}")}
        first = ok(graphql(PLAN, AppRole.CASEWORKER, SAITAMA_CITY, retry), "createSupportPlan")["supportPlan"]
        again = ok(graphql(PLAN, AppRole.COORDINATOR, SAITAMA_CITY, retry), "createSupportPlan")["supportPlan"]
        assert again == first
        plans = "SELECT count(*) FROM kizuna.support_plan WHERE municipality_code = $1 AND case_id = $2"
        assert await admin_conn.fetchval(plans, SAITAMA_CITY, decode_global_id(case)[1]) == 1
        audited = "SELECT count(*) FROM kizuna.audit_event WHERE municipality_code = $1 AND entity_id = $2"
        assert await admin_conn.fetchval(audited, SAITAMA_CITY, decode_global_id(first["id"])[1]) == 1
        for reused in ({"goals": "別の目標"}, {"caseId": other}, {"periodEnd": "2027-04-30"}):
            body = graphql(PLAN, AppRole.CASEWORKER, SAITAMA_CITY, {"input": retry["input"] | reused})
            error = refused(body, "createSupportPlan")
            assert (error["field"], error["code"], error["rule"]) == ("idempotencyKey", "CONFLICT", "RECORD_KEY_REUSED")
        assert await admin_conn.fetchval(plans, SAITAMA_CITY, decode_global_id(other)[1]) == 0

    async def test_a_key_is_the_tenants_own(
        self, new_case: Callable[..., Any], graphql: Callable[..., Any], admin_conn: asyncpg.Connection
    ) -> None:
        # The same key in another municipality is another key: neither finds nor blocks the other.
        key = f"plan-{uuid.uuid4()}"
        ours, theirs = await new_case(), await new_case(KAWAGOE)
        mine = ok(
            graphql(PLAN, AppRole.CASEWORKER, SAITAMA_CITY, {"input": self.plan(ours, idempotencyKey=key)}),
            "createSupportPlan",
        )["supportPlan"]
        their = ok(
            graphql(PLAN, AppRole.CASEWORKER, KAWAGOE, {"input": self.plan(theirs, idempotencyKey=key)}),
            "createSupportPlan",
        )["supportPlan"]
        assert mine["id"] != their["id"]
        keyed = "SELECT count(*) FROM kizuna.support_plan WHERE municipality_code = $1 AND idempotency_key = $2"
        assert [await admin_conn.fetchval(keyed, m, key) for m in (SAITAMA_CITY, KAWAGOE)] == [1, 1]

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"goals": " "}, "goals"),
            ({"periodEnd": "2026-11-30"}, "periodEnd"),
            ({"periodEnd": "2028-01-01"}, "periodEnd"),
            ({"idempotencyKey": ""}, "idempotencyKey"),
            ({"idempotencyKey": "k" * 201}, "idempotencyKey"),
        ],
    )
    async def test_bad_input_is_named(
        self, new_case: Callable[..., Any], graphql: Callable[..., Any], changes: dict[str, str], field: str
    ) -> None:
        case = await new_case()
        body = graphql(PLAN, AppRole.CASEWORKER, SAITAMA_CITY, {"input": self.plan(case, **changes)})
        error = refused(body, "createSupportPlan")
        assert (error["field"], error["code"]) == (field, "BAD_USER_INPUT")

    async def test_another_tenants_case_is_not_found_and_gets_no_plan(
        self, new_case: Callable[..., Any], graphql: Callable[..., Any], admin_conn: asyncpg.Connection
    ) -> None:
        theirs = await new_case(KAWAGOE)
        crossed = refused(
            graphql(PLAN, AppRole.CASEWORKER, SAITAMA_CITY, {"input": self.plan(theirs)}), "createSupportPlan"
        )
        missing = refused(
            graphql(
                PLAN, AppRole.CASEWORKER, SAITAMA_CITY, {"input": self.plan(encode_global_id("Case", uuid.uuid4()))}
            ),
            "createSupportPlan",
        )
        assert crossed == missing
        assert (crossed["field"], crossed["code"]) == ("caseId", "NOT_FOUND")
        plans = "SELECT count(*) FROM kizuna.support_plan WHERE municipality_code = $1 AND case_id = $2"
        assert await admin_conn.fetchval(plans, KAWAGOE, decode_global_id(theirs)[1]) == 0
