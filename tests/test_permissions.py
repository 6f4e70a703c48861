"""The role × operation matrix (`schema/permissions.py`): the generated page is current,
every operation of the schema is in it, and every cell, allowed and refused, is tried
through GraphQL as that role (NetBox's habit: a test per cell).

A refusal by the matrix is a FORBIDDEN error, or a FORBIDDEN user error that names no
field (a narrower rule names the field it concerns). An allowed role may still be told
NOT_FOUND or BAD_USER_INPUT: the ids below are made up.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import graphql
import pytest
from strawberry.printer import print_schema

from kizuna.platform.vocabulary import AppRole
from kizuna.schema.permissions import DESCRIPTIONS, PERMISSIONS, Operation, markdown
from kizuna.schema.relay import encode_global_id
from kizuna.schema.root import build_schema

PAGE = Path(__file__).resolve().parent.parent / "docs" / "permissions.md"
# Root fields every signed-in role reads: who they are and the public registry.
OPEN_TO_EVERY_ROLE = {"viewer", "municipalities", "municipality", "organizations", "node"}
PREFECTURE_ROLES = {AppRole.PREFECTURE_ANALYST, AppRole.PLATFORM_ADMIN}
ERRORS = "userErrors { field code }"


def some(type_name: str) -> str:
    return encode_global_id(type_name, uuid.uuid4())


def source_for(role: AppRole) -> str:
    """A source the role may send from, if it may send at all."""
    if role in (AppRole.SCHOOL_STAFF, AppRole.SCHOOL_SOCIAL_WORKER):
        return "SCHOOL"
    return "WELFARE_AGENCY" if role is AppRole.WELFARE_WORKER else "LINE_CONSULTATION"


def attempt(operation: Operation, role: AppRole) -> tuple[str, dict[str, Any]]:
    """A document that performs `operation`, and its variables."""
    page = "{ %s(first: 1) { edges { node { __typename } } } }"
    by_id = "query($id: ID!) { %s { __typename } }"
    queries: dict[Operation, tuple[str, dict[str, Any]]] = {
        Operation.CASES: (page % "cases", {}),
        Operation.NODE_CASE: (by_id % "node(id: $id)", {"id": some("Case")}),
        Operation.NODE_PERSON: (by_id % "node(id: $id)", {"id": some("Person")}),
        Operation.PEOPLE: (page % "people", {}),
        Operation.NODE_HOUSEHOLD: (by_id % "node(id: $id)", {"id": some("Household")}),
        Operation.NODE_CARE_RELATIONSHIP: (by_id % "node(id: $id)", {"id": some("CareRelationship")}),
        Operation.SUPPORT_PLANS: (by_id % "supportPlans(caseId: $id)", {"id": some("Case")}),
        Operation.NODE_ASSESSMENT: (by_id % "node(id: $id)", {"id": some("Assessment")}),
        Operation.NODE_MEETING: (by_id % "node(id: $id)", {"id": some("Meeting")}),
        Operation.NODE_CONTACT_LOG: (by_id % "node(id: $id)", {"id": some("ContactLog")}),
        Operation.APPROVALS: (page % "approvals", {}),
        Operation.NOTIFICATIONS: (page % "notifications", {}),
        Operation.REFERRALS: (page % "referrals", {}),
        Operation.MEMBERSHIPS: (page % "memberships", {}),
        Operation.GRANTABLE_ROLES: ("{ grantableRoles }", {}),
        Operation.AUDIT_EVENTS: (page % "auditEvents", {}),
        Operation.NODE_HELPER_DISPATCH: (by_id % "node(id: $id)", {"id": some("HelperDispatch")}),
        Operation.NODE_HELPER_VISIT: (by_id % "node(id: $id)", {"id": some("HelperVisit")}),
        Operation.HELPER_VISITS: ('{ helperVisits(from: "2026-12-07", to: "2026-12-13") { __typename } }', {}),
        Operation.CASE_PARTICIPANTS: (by_id % "caseParticipants(caseId: $id)", {"id": some("Case")}),
        Operation.CONSENTS: (by_id % "consents(caseId: $id)", {"id": some("Case")}),
        Operation.SHARED_CASES: ("{ sharedCases { __typename } }", {}),
        Operation.EMERGENCY_ACCESSES: ("{ emergencyAccesses { __typename } }", {}),
        Operation.MUNICIPALITY_STATUS: ("{ municipalityStatus(fiscalYear: 2025) { __typename } }", {}),
        Operation.PROGRAMME_ACTIVITIES: ("{ programmeActivities(fiscalYear: 2025) { __typename } }", {}),
        Operation.NODE_PROGRAMME_ACTIVITY: (by_id % "node(id: $id)", {"id": some("ProgrammeActivity")}),
        Operation.SUBMISSIONS: ("{ submissions(fiscalYear: 1999) { __typename } }", {}),
        Operation.INDICATORS: ("{ indicators { __typename } }", {}),
        Operation.PREFECTURE_STATS: ("{ prefectureStats { unsuppressed } }", {}),
    }
    if operation in queries:
        return queries[operation]
    reason = {"reason": "権限の試験"}
    inputs: dict[Operation, dict[str, Any]] = {
        Operation.MOVE_CASE_STAGE: {"id": some("Case"), "toStage": "SHARING"},
        Operation.ASSIGN_CASE: {"id": some("Case"), "reason": "担当の見直し"},
        Operation.CREATE_SUPPORT_PLAN: {
            "caseId": some("Case"),
            "goals": "権限の試験",
            "periodStart": "2026-12-01",
            "periodEnd": "2027-05-31",
        },
        Operation.REQUEST_APPROVAL: {"caseId": some("Case"), "subject": "CLOSURE"},
        Operation.RECORD_ASSESSMENT: {
            "caseId": some("Case"),
            "assessedOn": "2026-04-01",
            "careHoursPerWeek": 1,
            "schoolAttendanceEffect": 0,
            "studyEffect": 0,
            "healthEffect": 0,
            "sleepEffect": 0,
            "friendshipEffect": 0,
            "futurePlansEffect": 0,
        },
        Operation.RECORD_MEETING: {
            "caseId": some("Case"),
            "kind": "MONITORING",
            "heldOn": "2026-04-01",
            "participants": [{"name": "権限 試験"}],
            "decisions": "権限の試験",
        },
        Operation.RECORD_CONTACT: {
            "caseId": some("Case"),
            "kind": "PHONE",
            "contactedAt": "2026-04-01T10:00:00+09:00",
            "summary": "権限の試験",
        },
        Operation.DECIDE_APPROVAL: {"id": some("Approval"), "approve": True},
        Operation.CREATE_REFERRAL: {
            "source": source_for(role),
            "childDisplayName": "権限 試験",
            "noticed": "権限の試験",
            "urgency": "ROUTINE",
        },
        Operation.ACCEPT_REFERRAL: {"id": some("Referral"), "caseId": some("Case")},
        Operation.DECLINE_REFERRAL: {"id": some("Referral")} | reason,
        Operation.MERGE_REFERRAL: {"id": some("Referral"), "intoId": some("Referral")},
        Operation.REVOKE_REFERRAL: {"id": some("Referral")},
        Operation.WITHDRAW_REFERRAL: {"id": some("Referral")} | reason,
        Operation.GRANT_MEMBERSHIP: {
            "issuer": "https://idp.example/",
            "subject": "permissions-test",
            "displayName": "権限 試験",
            "role": "CASEWORKER",
            "organizationId": some("Organization"),
        },
        Operation.REVOKE_MEMBERSHIP: {"id": some("Membership")},
        # A made-up household: an allowed role is told NOT_FOUND and nothing is written.
        Operation.CREATE_PERSON: {
            "familyName": "権限",
            "givenName": "試験",
            "familyNameKana": "けんげん",
            "givenNameKana": "しけん",
            "birthDate": "2010-04-01",
            "householdId": some("Household"),
        },
        Operation.ADD_CARE_RELATIONSHIP: {
            "carerId": some("Person"),
            "caredForId": some("Person"),
            "relationship": "母",
            "hoursPerWeek": 1,
        },
        Operation.REMOVE_CARE_RELATIONSHIP: {"id": some("CareRelationship")},
        # Made-up cases and dispatches: an allowed role is told NOT_FOUND, nothing is written.
        Operation.APPLY_FOR_DISPATCH: {"caseId": some("Case"), "appliedOn": "2026-12-01"},
        Operation.RECORD_DISPATCH_SURVEY: {"id": some("HelperDispatch"), "surveyedOn": "2026-12-03"},
        Operation.PLAN_DISPATCH: {"id": some("HelperDispatch"), "plan": "権限の試験"},
        Operation.DECIDE_DISPATCH: {
            "id": some("HelperDispatch"),
            "decidedOn": "2026-12-07",
            "periodStart": "2026-12-14",
            "periodEnd": "2027-06-13",
        },
        Operation.EXTEND_DISPATCH: {"id": some("HelperDispatch"), "extendedUntil": "2027-09-13"},
        Operation.RECORD_HELPER_VISIT: {
            "dispatchId": some("HelperDispatch"),
            "visitedOn": "2026-12-15",
            "minutes": 90,
            "tasks": ["HOUSEWORK"],
        },
        Operation.MOVE_DISPATCH_TO_MONITORING: {"id": some("HelperDispatch")},
        Operation.RESUME_DISPATCH: {"id": some("HelperDispatch")},
        Operation.END_DISPATCH: {"id": some("HelperDispatch")},
        Operation.MERGE_PEOPLE: {"keepPersonId": some("Person"), "duplicatePersonId": some("Person")} | reason,
        Operation.UNDO_PERSON_MERGE: {"duplicatePersonId": some("Person")} | reason,
        Operation.ADD_CASE_PARTICIPANT: {
            "caseId": some("Case"),
            "organizationId": some("Organization"),
            "role": "支援",
        },
        Operation.REMOVE_CASE_PARTICIPANT: {"id": some("CaseParticipant")},
        Operation.REGISTER_WITH_YOTAIKYO: {"caseId": some("Case")} | reason,
        Operation.DEREGISTER_FROM_YOTAIKYO: {"caseId": some("Case")} | reason,
        Operation.RECORD_CONSENT: {
            "caseId": some("Case"),
            "givenBy": "SELF",
            "purpose": "権限の試験",
            "organizationKinds": ["NPO"],
            "expiresOn": "2099-01-01",
        },
        Operation.WITHDRAW_CONSENT: {"consentId": some("Consent")},
        Operation.SHARE_WITHOUT_CONSENT: {"caseId": some("Case"), "organizationId": some("Organization")} | reason,
        Operation.OPEN_EMERGENCY_ACCESS: {"caseId": some("Case"), "reason": "権限の試験のための閲覧", "hours": 1},
        # A fiscal year out of range: an allowed role is told BAD_USER_INPUT, nothing is written.
        Operation.SAVE_MUNICIPALITY_STATUS: {
            "fiscalYear": 1999,
            "oneStopWindow": True,
            "complexCaseTeam": True,
            "jusoteki": "NONE",
            "carerSalons": 0,
            "childrensPlaces": 0,
            "youngCarerCoordinators": 0,
            "kodomoKateiCenter": False,
            "advisorDispatch": False,
        },
        Operation.SUBMIT_MUNICIPALITY_STATUS: {"fiscalYear": 1999},
        Operation.RECORD_PROGRAMME_ACTIVITY: {"fiscalYear": 1999, "kind": "OUTREACH_LECTURE", "title": "権限の試験"},
        Operation.REMOVE_PROGRAMME_ACTIVITY: {"id": some("ProgrammeActivity")},
        Operation.SUBMIT_PROGRAMME_FIGURES: {"fiscalYear": 1999},
        Operation.ACCEPT_SUBMISSION: {"municipalityCode": "392014", "fiscalYear": 2025, "figures": "PROGRAMMES"},
        Operation.RETURN_SUBMISSION: {
            "municipalityCode": "392014",
            "fiscalYear": 2025,
            "figures": "PROGRAMMES",
            "comment": "権限の試験",
        },
        # An invalid key: an allowed role is told BAD_USER_INPUT, nothing is written.
        Operation.ADD_INDICATOR: {
            "key": "Not a key",
            "name": "権限の試験",
            "unit": "人",
            "figure": "SUPPORT_STAFF_TRAINED",
            "target": "1",
            "targetFiscalYear": 2026,
        },
        Operation.RETIRE_INDICATOR: {"key": "no_such_indicator"},
    }
    field = operation.value
    input_type = field[0].upper() + field[1:] + "Input"
    return f"mutation($input: {input_type}!) {{ {field}(input: $input) {{ {ERRORS} }} }}", {"input": inputs[operation]}


def refused_by_the_matrix(body: dict[str, Any]) -> bool:
    codes = {e["extensions"]["code"] for e in body.get("errors") or []}
    if "FORBIDDEN" in codes:
        return True
    payloads = [p for p in (body.get("data") or {}).values() if isinstance(p, dict) and "userErrors" in p]
    return any(e["code"] == "FORBIDDEN" and e["field"] is None for p in payloads for e in p["userErrors"])


def test_the_page_is_generated_from_the_table() -> None:
    assert PAGE.read_text() == markdown(), "regenerate docs/permissions.md (its first lines say how)"


def test_every_operation_is_described_and_held_by_someone() -> None:
    assert set(DESCRIPTIONS) == set(Operation) == set(PERMISSIONS)
    assert all(PERMISSIONS[o] for o in Operation)


def test_every_root_field_is_in_the_table_or_open_to_every_role() -> None:
    schema = graphql.build_schema(print_schema(build_schema()))
    assert schema.query_type is not None
    assert schema.mutation_type is not None
    fields = set(schema.query_type.fields) | set(schema.mutation_type.fields)
    in_table = {o.value.split("(")[0] for o in Operation}
    assert fields - in_table - OPEN_TO_EVERY_ROLE == set()
    assert in_table - fields == set()


@pytest.mark.parametrize(
    ("operation", "role"), list(itertools.product(Operation, AppRole)), ids=lambda v: str(getattr(v, "value", v))
)
def test_each_cell(
    graphql: Callable[..., dict[str, Any]], request: pytest.FixtureRequest, operation: Operation, role: AppRole
) -> None:
    if operation is Operation.CREATE_REFERRAL:  # the one cell that writes when allowed
        request.getfixturevalue("fresh")
    home = "110001" if role in PREFECTURE_ROLES else "111007"
    document, variables = attempt(operation, role)
    body = graphql(document, role, home, variables)
    if role in PERMISSIONS[operation]:
        assert not refused_by_the_matrix(body), body
    else:
        assert refused_by_the_matrix(body), body
