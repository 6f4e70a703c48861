"""Submission and acceptance through GraphQL (issue 16, item 2): 川越市 enters and submits
its status and programme figures of a fiscal year, 埼玉県's analyst returns them with a
reason, the municipality corrects and submits again, the analyst accepts; accepted
figures are frozen until the prefecture sends them back. Bad input and another tenant's
or prefecture's ids change nothing (a superuser's fingerprint). The database's own
refusals are in tests/test_submissions_sql.py."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import asyncpg
import pytest

from kizuna.platform.vocabulary import AppRole
from kizuna.schema.relay import encode_global_id
from kizuna.tests.test_submissions_sql import kochi  # noqa: F401  (a fixture: 高知県 and 高知市)

SAITAMA_CITY = "111007"
KAWAGOE = "112011"
PREFECTURE = "110001"
YEAR = 2095
ERRORS = "userErrors { field code message }"
STATUS_FIELDS = "fiscalYear oneStopWindow carerSalons childrensPlaces state submittedAt decidedAt returnComment"
SAVE = f"""
mutation($input: SaveMunicipalityStatusInput!) {{
  saveMunicipalityStatus(input: $input) {{ municipalityStatus {{ {STATUS_FIELDS} }} {ERRORS} }}
}}"""
SUBMIT = f"""
mutation($input: SubmitMunicipalityStatusInput!) {{
  submitMunicipalityStatus(input: $input) {{ municipalityStatus {{ {STATUS_FIELDS} }} {ERRORS} }}
}}"""
SUBMISSION_FIELDS = "municipality { code name } fiscalYear figures state submittedAt decidedAt returnComment"
ACCEPT = f"""
mutation($input: AcceptSubmissionInput!) {{
  acceptSubmission(input: $input) {{ submission {{ {SUBMISSION_FIELDS} }} {ERRORS} }}
}}"""
RETURN = f"""
mutation($input: ReturnSubmissionInput!) {{
  returnSubmission(input: $input) {{ submission {{ {SUBMISSION_FIELDS} }} {ERRORS} }}
}}"""
RECORD = f"""
mutation($input: RecordProgrammeActivityInput!) {{
  recordProgrammeActivity(input: $input) {{ programmeActivity {{ id title participants }} {ERRORS} }}
}}"""
REMOVE = f"""
mutation($input: RemoveProgrammeActivityInput!) {{ removeProgrammeActivity(input: $input) {{ removedId {ERRORS} }} }}
"""
SUBMIT_PROGRAMMES = f"""
mutation($input: SubmitProgrammeFiguresInput!) {{
  submitProgrammeFigures(input: $input) {{ submission {{ {SUBMISSION_FIELDS} }} {ERRORS} }}
}}"""
PENDING = f"""
query($year: Int) {{ submissions(fiscalYear: $year, state: SUBMITTED) {{ {SUBMISSION_FIELDS} }} }}
"""
STATUS_INPUT = {
    "fiscalYear": YEAR,
    "oneStopWindow": True,
    "complexCaseTeam": False,
    "jusoteki": "TRANSITION_PREPARATION",
    "carerSalons": 3,
    "childrensPlaces": 40,
    "youngCarerCoordinators": 1,
    "kodomoKateiCenter": True,
    "advisorDispatch": False,
}
LECTURE = {"fiscalYear": YEAR, "kind": "OUTREACH_LECTURE", "title": "ヤングケアラー出前授業（川越市立第一中学校）"}
FIGURE_TABLES = ("municipality_status", "programme_submission", "programme_activity")


def payload(body: dict[str, Any], field: str) -> dict[str, Any]:
    assert "errors" not in body, body
    found: dict[str, Any] = body["data"][field]
    return found


def error_of(body: dict[str, Any], field: str) -> dict[str, Any]:
    (error,) = payload(body, field)["userErrors"]
    found: dict[str, Any] = error
    return found


@pytest.fixture
async def year_of_kawagoe(admin_conn: asyncpg.Connection, tidy: Any) -> AsyncIterator[None]:
    """Afterwards, as the superuser: every figure of the test's fiscal year."""
    yield
    for table in reversed(FIGURE_TABLES):
        await admin_conn.execute(
            f"DELETE FROM kizuna.{table} WHERE municipality_code = $1 AND fiscal_year = $2", KAWAGOE, YEAR
        )


async def fingerprint(admin_conn: asyncpg.Connection, code: str) -> list[Any]:
    """A tenant's figures and submissions, as the superuser sees them."""
    return [
        [
            tuple(r)
            for r in await admin_conn.fetch(
                f"SELECT * FROM kizuna.{table} WHERE municipality_code = $1 ORDER BY id", code
            )
        ]
        for table in FIGURE_TABLES
    ]


@pytest.fixture
def kawagoe(graphql: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    def run(document: str, variables: dict[str, Any], role: AppRole = AppRole.SUPERVISOR) -> dict[str, Any]:
        return graphql(document, role, KAWAGOE, variables)

    return run


@pytest.fixture
def prefecture(graphql: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    def run(document: str, variables: dict[str, Any]) -> dict[str, Any]:
        return graphql(document, AppRole.PREFECTURE_ANALYST, PREFECTURE, variables)

    return run


def decision(figures: str, code: str = KAWAGOE, **more: Any) -> dict[str, Any]:
    return {"input": {"municipalityCode": code, "fiscalYear": YEAR, "figures": figures, **more}}


@pytest.mark.usefixtures("year_of_kawagoe")
class TestTheStatusOfAYear:
    def test_drafted_submitted_returned_corrected_accepted_frozen(self, kawagoe: Any, prefecture: Any) -> None:
        draft = payload(kawagoe(SAVE, {"input": STATUS_INPUT}, AppRole.COORDINATOR), "saveMunicipalityStatus")
        assert draft["municipalityStatus"]["state"] == "DRAFT"
        # A coordinator drafts; only a supervisor submits.
        assert (
            error_of(kawagoe(SUBMIT, {"input": {"fiscalYear": YEAR}}, AppRole.COORDINATOR), "submitMunicipalityStatus")[
                "code"
            ]
            == "FORBIDDEN"
        )
        submitted = payload(kawagoe(SUBMIT, {"input": {"fiscalYear": YEAR}}), "submitMunicipalityStatus")
        assert submitted["municipalityStatus"]["state"] == "SUBMITTED"
        assert error_of(kawagoe(SAVE, {"input": STATUS_INPUT}), "saveMunicipalityStatus")["code"] == "CONFLICT"

        pending = prefecture(PENDING, {"year": YEAR})["data"]["submissions"]
        assert [(s["municipality"]["code"], s["figures"]) for s in pending] == [(KAWAGOE, "MUNICIPALITY_STATUS")]

        reason = "こどもの居場所の数をご確認ください。"
        returned = payload(prefecture(RETURN, decision("MUNICIPALITY_STATUS", comment=reason)), "returnSubmission")
        assert returned["submission"]["state"] == "RETURNED"
        status = payload(kawagoe(SAVE, {"input": STATUS_INPUT | {"childrensPlaces": 41}}), "saveMunicipalityStatus")
        assert status["municipalityStatus"]["state"] == "RETURNED"
        assert status["municipalityStatus"]["returnComment"] == reason
        payload(kawagoe(SUBMIT, {"input": {"fiscalYear": YEAR}}), "submitMunicipalityStatus")

        accepted = payload(prefecture(ACCEPT, decision("MUNICIPALITY_STATUS")), "acceptSubmission")["submission"]
        assert accepted["state"] == "ACCEPTED"
        assert accepted["returnComment"] == reason  # kept: the history of this year's figures
        assert error_of(kawagoe(SAVE, {"input": STATUS_INPUT}), "saveMunicipalityStatus")["code"] == "CONFLICT"
        assert error_of(prefecture(ACCEPT, decision("MUNICIPALITY_STATUS")), "acceptSubmission")["code"] == "CONFLICT"

        # A correction: the prefecture sends the accepted figures back, they are corrected and accepted again.
        payload(
            prefecture(RETURN, decision("MUNICIPALITY_STATUS", comment="訂正の申出により差戻し")), "returnSubmission"
        )
        payload(kawagoe(SAVE, {"input": STATUS_INPUT | {"childrensPlaces": 42}}), "saveMunicipalityStatus")
        payload(kawagoe(SUBMIT, {"input": {"fiscalYear": YEAR}}), "submitMunicipalityStatus")
        payload(prefecture(ACCEPT, decision("MUNICIPALITY_STATUS")), "acceptSubmission")
        read = kawagoe(f"{{ municipalityStatus(fiscalYear: {YEAR}) {{ {STATUS_FIELDS} }} }}", {})
        assert read["data"]["municipalityStatus"]["childrensPlaces"] == 42

    async def test_decisions_are_audited_in_the_prefectures_log(
        self, kawagoe: Any, prefecture: Any, admin_conn: asyncpg.Connection, tidy: Any
    ) -> None:
        payload(kawagoe(SAVE, {"input": STATUS_INPUT}), "saveMunicipalityStatus")
        payload(kawagoe(SUBMIT, {"input": {"fiscalYear": YEAR}}), "submitMunicipalityStatus")
        payload(prefecture(ACCEPT, decision("MUNICIPALITY_STATUS")), "acceptSubmission")
        events = await admin_conn.fetch(
            "SELECT municipality_code, action FROM kizuna.audit_event WHERE occurred_at >= $1 AND entity = $2",
            tidy.began,
            "municipality_status",
        )
        assert sorted((e["municipality_code"], e["action"]) for e in events) == [
            (PREFECTURE, "municipality_status.accept"),
            (KAWAGOE, "municipality_status.create"),
            (KAWAGOE, "municipality_status.submit"),
        ]

    async def test_bad_input_writes_nothing(
        self, kawagoe: Any, prefecture: Any, admin_conn: asyncpg.Connection
    ) -> None:
        before = await fingerprint(admin_conn, KAWAGOE)
        assert error_of(kawagoe(SAVE, {"input": STATUS_INPUT | {"carerSalons": -1}}), "saveMunicipalityStatus") | {
            "message": ""
        } == {"field": "carerSalons", "code": "BAD_USER_INPUT", "message": ""}
        assert (
            error_of(kawagoe(SAVE, {"input": STATUS_INPUT | {"fiscalYear": 1999}}), "saveMunicipalityStatus")["field"]
            == "fiscalYear"
        )
        assert (
            error_of(kawagoe(SUBMIT, {"input": {"fiscalYear": YEAR}}), "submitMunicipalityStatus")["code"]
            == "NOT_FOUND"
        )
        payload(kawagoe(SAVE, {"input": STATUS_INPUT}), "saveMunicipalityStatus")
        payload(kawagoe(SUBMIT, {"input": {"fiscalYear": YEAR}}), "submitMunicipalityStatus")
        middle = await fingerprint(admin_conn, KAWAGOE)
        assert (
            error_of(prefecture(RETURN, decision("MUNICIPALITY_STATUS", comment="  ")), "returnSubmission")["code"]
            == "BAD_USER_INPUT"
        )
        assert await fingerprint(admin_conn, KAWAGOE) == middle != before


@pytest.mark.usefixtures("year_of_kawagoe")
class TestProgrammeFigures:
    def test_recorded_submitted_accepted_then_frozen(self, kawagoe: Any, prefecture: Any) -> None:
        key = f"lecture-{uuid.uuid4()}"
        first = payload(
            kawagoe(RECORD, {"input": LECTURE | {"participants": 120, "idempotencyKey": key}}),
            "recordProgrammeActivity",
        )
        again = payload(
            kawagoe(RECORD, {"input": LECTURE | {"participants": 120, "idempotencyKey": key}}),
            "recordProgrammeActivity",
        )
        assert first["programmeActivity"]["id"] == again["programmeActivity"]["id"]
        reused = kawagoe(RECORD, {"input": LECTURE | {"participants": 90, "idempotencyKey": key}})
        assert error_of(reused, "recordProgrammeActivity")["code"] == "CONFLICT"
        listed = kawagoe(f"{{ programmeActivities(fiscalYear: {YEAR}) {{ id participants }} }}", {})
        assert listed["data"]["programmeActivities"] == [{"id": first["programmeActivity"]["id"], "participants": 120}]

        submitted = payload(kawagoe(SUBMIT_PROGRAMMES, {"input": {"fiscalYear": YEAR}}), "submitProgrammeFigures")
        assert submitted["submission"]["state"] == "SUBMITTED"
        assert (
            error_of(kawagoe(RECORD, {"input": LECTURE | {"participants": 1}}), "recordProgrammeActivity")["code"]
            == "CONFLICT"
        )
        accepted = payload(prefecture(ACCEPT, decision("PROGRAMMES")), "acceptSubmission")
        assert accepted["submission"]["state"] == "ACCEPTED"
        removed = kawagoe(REMOVE, {"input": {"id": first["programmeActivity"]["id"]}}, AppRole.COORDINATOR)
        assert error_of(removed, "removeProgrammeActivity")["code"] == "CONFLICT"

    def test_a_survey_takes_a_percent_and_a_lecture_a_count(self, kawagoe: Any) -> None:
        survey = {"fiscalYear": YEAR, "kind": "AWARENESS_SURVEY", "title": "ヤングケアラー実態調査"}
        assert (
            error_of(kawagoe(RECORD, {"input": survey | {"participants": 3}}), "recordProgrammeActivity")["field"]
            == "kind"
        )
        assert error_of(kawagoe(RECORD, {"input": LECTURE}), "recordProgrammeActivity")["field"] == "kind"
        bad = survey | {"ageGroup": "中学2年生", "percent": "101"}
        assert error_of(kawagoe(RECORD, {"input": bad}), "recordProgrammeActivity")["field"] == "percent"
        outside = LECTURE | {"participants": 3, "heldOn": f"{YEAR + 1}-04-01"}
        assert error_of(kawagoe(RECORD, {"input": outside}), "recordProgrammeActivity")["field"] == "heldOn"
        good = survey | {"ageGroup": "中学2年生", "percent": "42.5"}
        assert payload(kawagoe(RECORD, {"input": good}), "recordProgrammeActivity")["userErrors"] == []


@pytest.mark.usefixtures("year_of_kawagoe", "kochi")
class TestAnotherTenantOrPrefecture:
    async def test_another_tenants_activity_is_not_found_and_unchanged(
        self, kawagoe: Any, graphql: Callable[..., dict[str, Any]], admin_conn: asyncpg.Connection
    ) -> None:
        theirs = payload(kawagoe(RECORD, {"input": LECTURE | {"participants": 5}}), "recordProgrammeActivity")
        before = await fingerprint(admin_conn, KAWAGOE)
        crossed = graphql(
            REMOVE, AppRole.SUPERVISOR, SAITAMA_CITY, {"input": {"id": theirs["programmeActivity"]["id"]}}
        )
        unknown = graphql(
            REMOVE,
            AppRole.SUPERVISOR,
            SAITAMA_CITY,
            {"input": {"id": encode_global_id("ProgrammeActivity", uuid.uuid4())}},
        )
        assert error_of(crossed, "removeProgrammeActivity") == error_of(unknown, "removeProgrammeActivity")
        assert error_of(crossed, "removeProgrammeActivity")["code"] == "NOT_FOUND"
        assert await fingerprint(admin_conn, KAWAGOE) == before

    async def test_another_prefectures_municipality_is_not_found_and_unchanged(
        self, prefecture: Any, admin_conn: asyncpg.Connection
    ) -> None:
        await admin_conn.execute(
            "UPDATE kizuna.programme_submission SET submission = 'submitted', decided_at = NULL, decided_by = NULL"
            " WHERE municipality_code = '392014' AND fiscal_year = 2025 AND submission <> 'draft'"
        )
        before = await fingerprint(admin_conn, "392014")
        answers = [
            error_of(
                prefecture(ACCEPT, {"input": {"municipalityCode": code, "fiscalYear": 2025, "figures": "PROGRAMMES"}}),
                "acceptSubmission",
            )
            for code in ("392014", "999999", PREFECTURE)
        ]
        assert answers[0] == answers[1] == answers[2]
        assert answers[0]["code"] == "NOT_FOUND"
        assert await fingerprint(admin_conn, "392014") == before
        every = prefecture("{ submissions { municipality { code } } }", {})["data"]["submissions"]
        assert every
        assert {s["municipality"]["code"][:2] for s in every} == {"11"}

    def test_a_municipality_lists_its_own_submissions_only(self, graphql: Callable[..., dict[str, Any]]) -> None:
        mine = graphql("{ submissions { municipality { code } state } }", AppRole.SUPERVISOR, KAWAGOE)
        assert {s["municipality"]["code"] for s in mine["data"]["submissions"]} == {KAWAGOE}
