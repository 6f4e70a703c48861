"""Referrals through GraphQL, attacked: who may send, decide, revoke and withdraw; what a
sender sees afterwards (the status and the reason, never the case); what a refusal writes
(nothing); and another tenant's ids, which fail as unknown ones and change nothing.

Each test sends its own referrals; the `fresh` fixture (tests/conftest.py) removes every
referral, case and case event the test made, and the audit events.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import asyncpg
import pytest

from kizuna.platform.vocabulary import AppRole
from kizuna.schema.relay import decode_global_id, encode_global_id

SAITAMA_CITY = "111007"
KAWAGOE = "112011"
SEEDED = (SAITAMA_CITY, KAWAGOE)
REFERRAL = "referral { id status source careTasks familyAware decisionReason decidedAt childDisplayName }"
ERRORS = "userErrors { field message code }"
CREATE = f"mutation($input: CreateReferralInput!) {{ createReferral(input: $input) {{ {REFERRAL} {ERRORS} }} }}"
ACCEPT = f"""mutation($input: AcceptReferralInput!) {{ acceptReferral(input: $input) {{
  {REFERRAL} case {{ id stage category person {{ id }} }} {ERRORS} }} }}"""
DECLINE = f"mutation($input: DeclineReferralInput!) {{ declineReferral(input: $input) {{ {REFERRAL} {ERRORS} }} }}"
MERGE = f"mutation($input: MergeReferralInput!) {{ mergeReferral(input: $input) {{ {REFERRAL} {ERRORS} }} }}"
REVOKE = f"mutation($input: RevokeReferralInput!) {{ revokeReferral(input: $input) {{ {REFERRAL} {ERRORS} }} }}"
WITHDRAW = f"""mutation($input: WithdrawReferralInput!) {{ withdrawReferral(input: $input) {{
  {REFERRAL} {ERRORS} }} }}"""
MINE = "{ referrals(first: 100) { edges { node { id status decisionReason } } } }"
NODE = "query($id: ID!) { node(id: $id) { id } }"
FROM_SCHOOL = {
    "source": "SCHOOL",
    "childDisplayName": "中学2年 山田さん",
    "noticed": "遅刻が増え、弟の送迎をしていると話していた。",
    "urgency": "SOON",
    "careTasks": ["SIBLING_CARE", "HOUSEWORK"],
    "familyAware": False,
}


def created(body: dict[str, Any], field: str = "createReferral") -> dict[str, Any]:
    payload = body["data"][field]
    assert payload["userErrors"] == [], payload
    referral: dict[str, Any] = payload["referral"]
    return referral


def refused(body: dict[str, Any], field: str) -> dict[str, Any]:
    """The payload's one user error (and no object)."""
    payload = body["data"][field]
    assert payload["referral"] is None, payload
    (error,) = payload["userErrors"]
    result: dict[str, Any] = error
    return result


@pytest.fixture
def send(graphql: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """A school's referral in さいたま市 (or as `role` with `changes`), sent and checked."""

    def run(role: AppRole = AppRole.SCHOOL_STAFF, municipality: str = SAITAMA_CITY, **changes: Any) -> dict[str, Any]:
        return created(graphql(CREATE, role, municipality, {"input": FROM_SCHOOL | changes}))

    return run


async def a_person(admin_conn: asyncpg.Connection, municipality: str = SAITAMA_CITY) -> str:
    person = await admin_conn.fetchval(
        "SELECT id FROM kizuna.person WHERE municipality_code = $1 ORDER BY id LIMIT 1", municipality
    )
    return encode_global_id("Person", person)


async def a_case(admin_conn: asyncpg.Connection, *, closed: bool, municipality: str = SAITAMA_CITY) -> str:
    case = await admin_conn.fetchval(
        "SELECT id FROM kizuna.carer_case WHERE municipality_code = $1 AND (stage = 'closed') = $2 ORDER BY id LIMIT 1",
        municipality,
        closed,
    )
    return encode_global_id("Case", case)


async def audited(admin_conn: asyncpg.Connection, action: str, entity_id: str) -> int:
    count: int = await admin_conn.fetchval(
        "SELECT count(*) FROM kizuna.audit_event WHERE municipality_code = $1 AND action = $2 AND entity_id = $3",
        SAITAMA_CITY,
        action,
        _key(entity_id),
    )
    return count


def _key(global_id: str) -> uuid.UUID:
    return decode_global_id(global_id)[1]


@pytest.mark.usefixtures("fresh")
class TestCreateReferral:
    async def test_a_teacher_sends_a_concern_and_sees_it_submitted(
        self, send: Callable[..., dict[str, Any]], graphql: Callable[..., Any], admin_conn: asyncpg.Connection
    ) -> None:
        referral = send()
        assert referral["status"] == "SUBMITTED"
        assert referral["careTasks"] == ["HOUSEWORK", "SIBLING_CARE"]  # in the vocabulary's order
        assert referral["familyAware"] is False
        mine = graphql(MINE, AppRole.SCHOOL_STAFF, SAITAMA_CITY)["data"]["referrals"]["edges"]
        assert referral["id"] in {e["node"]["id"] for e in mine}
        assert await audited(admin_conn, "referral.send", referral["id"]) == 1

    async def test_a_retry_with_the_same_key_sends_once(
        self, graphql: Callable[..., Any], admin_conn: asyncpg.Connection
    ) -> None:
        attempt = {"input": FROM_SCHOOL | {"idempotencyKey": f"concern-{uuid.uuid4()}"}}
        first = created(graphql(CREATE, AppRole.SCHOOL_STAFF, SAITAMA_CITY, attempt))
        again = created(graphql(CREATE, AppRole.SCHOOL_STAFF, SAITAMA_CITY, attempt))
        assert again["id"] == first["id"]
        assert await audited(admin_conn, "referral.send", first["id"]) == 1

        other = {"input": attempt["input"] | {"noticed": "別の気づき"}}
        error = refused(graphql(CREATE, AppRole.SCHOOL_STAFF, SAITAMA_CITY, other), "createReferral")
        assert (error["field"], error["code"]) == ("idempotencyKey", "CONFLICT")

    @pytest.mark.parametrize(
        ("role", "source"),
        [
            (AppRole.SCHOOL_STAFF, "WELFARE_AGENCY"),
            (AppRole.SCHOOL_SOCIAL_WORKER, "LINE_CONSULTATION"),
            (AppRole.WELFARE_WORKER, "SCHOOL"),
        ],
    )
    def test_a_sender_sends_only_from_its_own_kind_of_source(
        self, graphql: Callable[..., Any], role: AppRole, source: str
    ) -> None:
        body = graphql(CREATE, role, SAITAMA_CITY, {"input": FROM_SCHOOL | {"source": source}})
        error = refused(body, "createReferral")
        assert (error["field"], error["code"]) == ("source", "FORBIDDEN")

    def test_municipal_staff_record_a_consultation_from_any_source(self, send: Callable[..., Any]) -> None:
        referral = send(AppRole.CASEWORKER, source="LINE_CONSULTATION")
        assert (referral["status"], referral["source"]) == ("SUBMITTED", "LINE_CONSULTATION")

    @pytest.mark.parametrize("role", [AppRole.MUNICIPAL_SYSTEM, AppRole.PLATFORM_ADMIN])
    def test_roles_that_send_nothing_are_refused(self, graphql: Callable[..., Any], role: AppRole) -> None:
        body = graphql(
            CREATE, role, SAITAMA_CITY if role is AppRole.MUNICIPAL_SYSTEM else "110001", {"input": FROM_SCHOOL}
        )
        assert refused(body, "createReferral")["code"] == "FORBIDDEN"

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"noticed": "  "}, "noticed"),
            ({"noticed": "あ" * 2001}, "noticed"),
            ({"childDisplayName": ""}, "childDisplayName"),
            ({"idempotencyKey": ""}, "idempotencyKey"),
        ],
    )
    async def test_bad_input_is_named_and_writes_nothing(
        self, graphql: Callable[..., Any], admin_conn: asyncpg.Connection, change: dict[str, str], field: str
    ) -> None:
        count = "SELECT count(*) FROM kizuna.referral WHERE municipality_code = $1"
        before = await admin_conn.fetchval(count, SAITAMA_CITY)
        error = refused(
            graphql(CREATE, AppRole.SCHOOL_STAFF, SAITAMA_CITY, {"input": FROM_SCHOOL | change}), "createReferral"
        )
        assert (error["field"], error["code"]) == (field, "BAD_USER_INPUT")
        assert await admin_conn.fetchval(count, SAITAMA_CITY) == before


@pytest.mark.usefixtures("fresh")
class TestAcceptReferral:
    async def test_a_caseworker_opens_a_case_from_a_school_referral(
        self, send: Callable[..., Any], graphql: Callable[..., Any], admin_conn: asyncpg.Connection
    ) -> None:
        referral = send()
        person = await a_person(admin_conn)
        body = graphql(
            ACCEPT,
            AppRole.CASEWORKER,
            SAITAMA_CITY,
            {"input": {"id": referral["id"], "personId": person, "category": "YOUNG_CARER"}},
        )
        payload = body["data"]["acceptReferral"]
        assert payload["userErrors"] == []
        assert payload["referral"]["status"] == "ACCEPTED"
        case = payload["case"]
        assert (case["stage"], case["category"], case["person"]["id"]) == ("INTAKE", "YOUNG_CARER", person)
        history = await admin_conn.fetch(
            "SELECT kind, to_stage FROM kizuna.case_event WHERE municipality_code = $1 AND case_id = $2",
            SAITAMA_CITY,
            _key(case["id"]),
        )
        assert [(e["kind"], e["to_stage"]) for e in history] == [("opened", "intake")]
        assert await audited(admin_conn, "referral.accept", referral["id"]) == 1
        assert await audited(admin_conn, "case.open", case["id"]) == 1

        # The school sees that it was accepted, and nothing of the case.
        mine = graphql(MINE, AppRole.SCHOOL_STAFF, SAITAMA_CITY)["data"]["referrals"]["edges"]
        assert {"id": referral["id"], "status": "ACCEPTED", "decisionReason": None} in [e["node"] for e in mine]
        assert (
            graphql(NODE, AppRole.SCHOOL_STAFF, SAITAMA_CITY, {"id": case["id"]})["errors"][0]["extensions"]["code"]
            == "FORBIDDEN"
        )

    async def test_into_an_open_case_yes_into_a_closed_one_no(
        self, send: Callable[..., Any], graphql: Callable[..., Any], admin_conn: asyncpg.Connection
    ) -> None:
        closed = await a_case(admin_conn, closed=True)
        first = send()
        error = refused(
            graphql(ACCEPT, AppRole.COORDINATOR, SAITAMA_CITY, {"input": {"id": first["id"], "caseId": closed}}),
            "acceptReferral",
        )
        assert (error["field"], error["code"]) == ("caseId", "CONFLICT")
        open_case = await a_case(admin_conn, closed=False)
        body = graphql(ACCEPT, AppRole.COORDINATOR, SAITAMA_CITY, {"input": {"id": first["id"], "caseId": open_case}})
        assert body["data"]["acceptReferral"]["case"]["id"] == open_case

    @pytest.mark.parametrize("into", [{}, {"caseId": "case", "personId": "person"}])
    async def test_either_a_case_or_a_person_not_both_nor_neither(
        self,
        send: Callable[..., Any],
        graphql: Callable[..., Any],
        admin_conn: asyncpg.Connection,
        into: dict[str, str],
    ) -> None:
        referral = send()
        named = {
            "caseId": await a_case(admin_conn, closed=False),
            "personId": await a_person(admin_conn),
        }
        choice = {key: named[key] for key in into}
        error = refused(
            graphql(ACCEPT, AppRole.CASEWORKER, SAITAMA_CITY, {"input": {"id": referral["id"], **choice}}),
            "acceptReferral",
        )
        assert (error["field"], error["code"]) == (None, "BAD_USER_INPUT")

    async def test_a_new_case_needs_its_category(
        self, send: Callable[..., Any], graphql: Callable[..., Any], admin_conn: asyncpg.Connection
    ) -> None:
        referral = send()
        body = graphql(
            ACCEPT,
            AppRole.CASEWORKER,
            SAITAMA_CITY,
            {"input": {"id": referral["id"], "personId": await a_person(admin_conn)}},
        )
        assert refused(body, "acceptReferral")["field"] == "category"

    @pytest.mark.parametrize("role", [AppRole.SCHOOL_STAFF, AppRole.SCHOOL_SOCIAL_WORKER, AppRole.MUNICIPAL_SYSTEM])
    async def test_only_municipal_staff_decide(
        self, send: Callable[..., Any], graphql: Callable[..., Any], admin_conn: asyncpg.Connection, role: AppRole
    ) -> None:
        referral = send()
        body = graphql(
            ACCEPT,
            role,
            SAITAMA_CITY,
            {"input": {"id": referral["id"], "caseId": await a_case(admin_conn, closed=False)}},
        )
        assert refused(body, "acceptReferral")["code"] == "FORBIDDEN"
        body = graphql(DECLINE, role, SAITAMA_CITY, {"input": {"id": referral["id"], "reason": "理由"}})
        assert refused(body, "declineReferral")["code"] == "FORBIDDEN"


@pytest.mark.usefixtures("fresh")
class TestDeclineMergeRevokeWithdraw:
    async def test_a_decline_needs_a_reason_which_the_school_reads(
        self, send: Callable[..., Any], graphql: Callable[..., Any], admin_conn: asyncpg.Connection
    ) -> None:
        referral = send()
        error = refused(
            graphql(DECLINE, AppRole.CASEWORKER, SAITAMA_CITY, {"input": {"id": referral["id"], "reason": " "}}),
            "declineReferral",
        )
        assert (error["field"], error["code"]) == ("reason", "BAD_USER_INPUT")
        reason = "市外に住んでいるため、住所地の窓口を案内しました。"
        declined = created(
            graphql(DECLINE, AppRole.CASEWORKER, SAITAMA_CITY, {"input": {"id": referral["id"], "reason": reason}}),
            "declineReferral",
        )
        assert (declined["status"], declined["decisionReason"]) == ("DECLINED", reason)
        mine = graphql(MINE, AppRole.SCHOOL_STAFF, SAITAMA_CITY)["data"]["referrals"]["edges"]
        assert {"id": referral["id"], "status": "DECLINED", "decisionReason": reason} in [e["node"] for e in mine]
        # Decided once: nothing decides it again.
        again = graphql(
            ACCEPT,
            AppRole.CASEWORKER,
            SAITAMA_CITY,
            {"input": {"id": referral["id"], "caseId": await a_case(admin_conn, closed=False)}},
        )
        assert refused(again, "acceptReferral")["code"] == "CONFLICT"

    async def test_a_duplicate_merges_into_an_accepted_referral_and_joins_its_case(
        self, send: Callable[..., Any], graphql: Callable[..., Any], admin_conn: asyncpg.Connection
    ) -> None:
        first, second, third = send(), send(), send()
        error = refused(
            graphql(MERGE, AppRole.CASEWORKER, SAITAMA_CITY, {"input": {"id": second["id"], "intoId": first["id"]}}),
            "mergeReferral",
        )
        assert (error["field"], error["code"]) == ("intoId", "CONFLICT")  # the first is not accepted yet
        case = await a_case(admin_conn, closed=False)
        graphql(ACCEPT, AppRole.CASEWORKER, SAITAMA_CITY, {"input": {"id": first["id"], "caseId": case}})
        merged = created(
            graphql(MERGE, AppRole.CASEWORKER, SAITAMA_CITY, {"input": {"id": second["id"], "intoId": first["id"]}}),
            "mergeReferral",
        )
        assert merged["status"] == "MERGED"
        assert await admin_conn.fetchval(
            "SELECT case_id FROM kizuna.referral WHERE municipality_code = $1 AND id = $2",
            SAITAMA_CITY,
            _key(second["id"]),
        ) == _key(case)
        itself = graphql(MERGE, AppRole.CASEWORKER, SAITAMA_CITY, {"input": {"id": third["id"], "intoId": third["id"]}})
        assert refused(itself, "mergeReferral")["field"] == "intoId"

    async def test_its_sender_revokes_it_until_it_is_decided(
        self, send: Callable[..., Any], graphql: Callable[..., Any], admin_conn: asyncpg.Connection
    ) -> None:
        referral, accepted = send(), send()
        revoked = created(
            graphql(REVOKE, AppRole.SCHOOL_STAFF, SAITAMA_CITY, {"input": {"id": referral["id"]}}), "revokeReferral"
        )
        assert revoked["status"] == "REVOKED"
        assert await audited(admin_conn, "referral.revoke", referral["id"]) == 1
        graphql(
            ACCEPT,
            AppRole.CASEWORKER,
            SAITAMA_CITY,
            {"input": {"id": accepted["id"], "caseId": await a_case(admin_conn, closed=False)}},
        )
        late = graphql(REVOKE, AppRole.SCHOOL_STAFF, SAITAMA_CITY, {"input": {"id": accepted["id"]}})
        assert refused(late, "revokeReferral")["code"] == "CONFLICT"

    @pytest.mark.parametrize("role", [AppRole.CASEWORKER, AppRole.SCHOOL_SOCIAL_WORKER])
    def test_nobody_else_revokes_it(self, send: Callable[..., Any], graphql: Callable[..., Any], role: AppRole) -> None:
        referral = send()
        error = refused(graphql(REVOKE, role, SAITAMA_CITY, {"input": {"id": referral["id"]}}), "revokeReferral")
        # Staff are not senders; a school social worker of another organisation does not see it.
        assert error["code"] == ("FORBIDDEN" if role is AppRole.CASEWORKER else "NOT_FOUND")

    def test_a_supervisor_withdraws_with_a_reason_and_a_caseworker_may_not(
        self, send: Callable[..., Any], graphql: Callable[..., Any]
    ) -> None:
        referral = send()
        reason = "同じ内容の相談と重複して登録されたため"
        caseworker = graphql(
            WITHDRAW, AppRole.CASEWORKER, SAITAMA_CITY, {"input": {"id": referral["id"], "reason": reason}}
        )
        assert refused(caseworker, "withdrawReferral")["code"] == "FORBIDDEN"
        withdrawn = created(
            graphql(WITHDRAW, AppRole.SUPERVISOR, SAITAMA_CITY, {"input": {"id": referral["id"], "reason": reason}}),
            "withdrawReferral",
        )
        assert (withdrawn["status"], withdrawn["decisionReason"]) == ("REVOKED", reason)


@pytest.mark.usefixtures("fresh")
class TestAnotherTenantsReferral:
    """Every mutation, as さいたま市's staff, with 川越市's ids: NOT_FOUND, as for an unknown
    id, and 川越市's referrals, cases and events unchanged (a superuser's fingerprint)."""

    FINGERPRINT = """
    SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM (
        SELECT r.*::text AS t FROM kizuna.referral r WHERE municipality_code = $1
        UNION ALL SELECT c.*::text FROM kizuna.carer_case c WHERE municipality_code = $1
        UNION ALL SELECT e.*::text FROM kizuna.case_event e WHERE municipality_code = $1) rows
    """

    async def test_every_mutation_fails_like_an_unknown_id_and_changes_nothing(
        self, send: Callable[..., Any], graphql: Callable[..., Any], admin_conn: asyncpg.Connection
    ) -> None:
        theirs = send(AppRole.SCHOOL_STAFF, KAWAGOE)["id"]
        their_case = await a_case(admin_conn, closed=False, municipality=KAWAGOE)
        their_person = await a_person(admin_conn, KAWAGOE)
        ours = send()["id"]
        unknown = encode_global_id("Referral", uuid.uuid4())
        before = await admin_conn.fetchval(self.FINGERPRINT, KAWAGOE)
        attempts = [
            (
                ACCEPT,
                "acceptReferral",
                AppRole.CASEWORKER,
                {"id": "X", "caseId": await a_case(admin_conn, closed=False)},
            ),
            (
                ACCEPT,
                "acceptReferral",
                AppRole.CASEWORKER,
                {"id": "X", "personId": await a_person(admin_conn), "category": "YOUNG_CARER"},
            ),
            (DECLINE, "declineReferral", AppRole.CASEWORKER, {"id": "X", "reason": "理由"}),
            (MERGE, "mergeReferral", AppRole.CASEWORKER, {"id": "X", "intoId": ours}),
            (WITHDRAW, "withdrawReferral", AppRole.SUPERVISOR, {"id": "X", "reason": "理由"}),
            (REVOKE, "revokeReferral", AppRole.SCHOOL_STAFF, {"id": "X"}),
        ]
        for document, field, role, variables in attempts:
            crossed = refused(graphql(document, role, SAITAMA_CITY, {"input": variables | {"id": theirs}}), field)
            missing = refused(graphql(document, role, SAITAMA_CITY, {"input": variables | {"id": unknown}}), field)
            assert crossed == missing, field
            assert (crossed["field"], crossed["code"]) == ("id", "NOT_FOUND"), field
        # Their case, their person and their referral as the other end of ours.
        for variables, field in (
            ({"id": ours, "caseId": their_case}, "caseId"),
            ({"id": ours, "personId": their_person, "category": "YOUNG_CARER"}, "personId"),
        ):
            error = refused(graphql(ACCEPT, AppRole.CASEWORKER, SAITAMA_CITY, {"input": variables}), "acceptReferral")
            assert (error["field"], error["code"]) == (field, "NOT_FOUND")
        error = refused(
            graphql(MERGE, AppRole.CASEWORKER, SAITAMA_CITY, {"input": {"id": ours, "intoId": theirs}}), "mergeReferral"
        )
        assert (error["field"], error["code"]) == ("intoId", "NOT_FOUND")
        assert await admin_conn.fetchval(self.FINGERPRINT, KAWAGOE) == before


class TestTheDatabaseHoldsTheWorkflow:
    """The same rules in SQL, as the app role of each request: a resolver that forgot a
    check would still be refused."""

    async def test_a_sender_cannot_set_a_declined_referral_back_to_submitted(
        self, as_user: Callable[..., Any], admin_conn: asyncpg.Connection, user: Callable[..., Any]
    ) -> None:
        sender = user(AppRole.SCHOOL_SOCIAL_WORKER, SAITAMA_CITY)
        declined = await admin_conn.fetchval(
            "SELECT id FROM kizuna.referral WHERE municipality_code = $1 AND status = 'declined'"
            " AND referrer_subject = $2 LIMIT 1",
            SAITAMA_CITY,
            str(sender.user_id),
        )
        assert declined is not None  # the demo data holds one for the demo school social worker
        async with as_user(AppRole.SCHOOL_SOCIAL_WORKER, SAITAMA_CITY) as conn:
            status = await conn.execute(
                "UPDATE kizuna.referral SET status = 'submitted', decided_at = NULL"
                " WHERE municipality_code = $1 AND id = $2",
                SAITAMA_CITY,
                declined,
            )
            assert status == "UPDATE 0"

    async def test_a_sender_cannot_accept(self, as_user: Callable[..., Any], admin_conn: asyncpg.Connection) -> None:
        submitted = await admin_conn.fetchval(
            "SELECT id FROM kizuna.referral WHERE municipality_code = $1 AND status = 'submitted' LIMIT 1", SAITAMA_CITY
        )
        async with as_user(AppRole.SCHOOL_STAFF, SAITAMA_CITY) as conn:
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(
                    "UPDATE kizuna.referral SET status = 'accepted', case_id = id"
                    " WHERE municipality_code = $1 AND id = $2",
                    SAITAMA_CITY,
                    submitted,
                )

    @pytest.mark.parametrize(
        "change",
        [
            # Only a supervisor withdraws.
            "status = 'revoked', decided_by = kizuna.current_user_id()",
            # A decision names the request's own user ($3: someone else).
            "status = 'declined', decision_reason = 'x', decided_by = $3",
        ],
    )
    async def test_a_caseworker_decides_only_as_the_role_allows(
        self, as_user: Callable[..., Any], admin_conn: asyncpg.Connection, change: str
    ) -> None:
        submitted = await admin_conn.fetchval(
            "SELECT id FROM kizuna.referral WHERE municipality_code = $1 AND status = 'submitted' LIMIT 1", SAITAMA_CITY
        )
        someone_else = [uuid.uuid4()] if "$3" in change else []
        async with as_user(AppRole.CASEWORKER, SAITAMA_CITY) as conn:
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
                await conn.execute(
                    f"UPDATE kizuna.referral SET {change}, decided_at = now() WHERE municipality_code = $1 AND id = $2",
                    SAITAMA_CITY,
                    submitted,
                    *someone_else,
                )

    async def test_nobody_changes_a_decided_referral(
        self, as_user: Callable[..., Any], admin_conn: asyncpg.Connection
    ) -> None:
        accepted = await admin_conn.fetchval(
            "SELECT id FROM kizuna.referral WHERE municipality_code = $1 AND status = 'accepted' LIMIT 1", SAITAMA_CITY
        )
        for role in (AppRole.CASEWORKER, AppRole.SUPERVISOR):
            async with as_user(role, SAITAMA_CITY) as conn:
                status = await conn.execute(
                    "UPDATE kizuna.referral SET status = 'declined', decision_reason = 'x', case_id = NULL,"
                    " decided_by = kizuna.current_user_id() WHERE municipality_code = $1 AND id = $2",
                    SAITAMA_CITY,
                    accepted,
                )
                assert status == "UPDATE 0", role


@pytest.mark.usefixtures("fresh")
class TestADecisionRacingAnother:
    async def test_a_referral_decided_meanwhile_opens_no_case(
        self, send: Callable[..., dict[str, Any]], graphql: Callable[..., Any], admin_conn: asyncpg.Connection
    ) -> None:
        """Another decision holds the referral while an accept into a new case arrives: the
        accept waits for it, then finds the referral decided and writes nothing (it used to
        open the case first and commit it, orphaned, with its CONFLICT)."""
        referral = send()
        person = await a_person(admin_conn)
        cases = "SELECT count(*) FROM kizuna.carer_case WHERE municipality_code = $1"
        before = await admin_conn.fetchval(cases, SAITAMA_CITY)
        accept = {"id": referral["id"], "personId": person, "category": "YOUNG_CARER"}
        async with admin_conn.transaction():
            await admin_conn.execute(
                "SELECT id FROM kizuna.referral WHERE municipality_code = $1 AND id = $2 FOR UPDATE",
                SAITAMA_CITY,
                _key(referral["id"]),
            )
            racing = asyncio.create_task(
                asyncio.to_thread(graphql, ACCEPT, AppRole.CASEWORKER, SAITAMA_CITY, {"input": accept})
            )
            await asyncio.sleep(1.0)  # the accept is now waiting for the referral
            await admin_conn.execute(
                "UPDATE kizuna.referral SET status = 'declined', decision_reason = '重複', decided_at = now()"
                " WHERE municipality_code = $1 AND id = $2",
                SAITAMA_CITY,
                _key(referral["id"]),
            )
        error = refused(await racing, "acceptReferral")
        assert error["code"] == "CONFLICT"
        assert await admin_conn.fetchval(cases, SAITAMA_CITY) == before
