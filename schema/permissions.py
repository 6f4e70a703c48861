"""Who may do what: the role × operation matrix, one table (issue 15, item 7).

Every GraphQL operation that reads or changes a tenant's data is a row of `PERMISSIONS`;
resolvers and services ask it, and `docs/permissions.md` is generated from it (a test
fails when the page is stale; `tests/test_permissions.py` tries every cell, allowed and
refused, through GraphQL). This is the second line: the database refuses on its own
(grants, column grants and per-role policies), and these checks make the GraphQL layer
say FORBIDDEN clearly instead of surfacing a permission error. Narrower rules (which
referral source a role may send from, who may revoke a given membership) are the
services' and the database's, after this check.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from kizuna.platform.caller import Caller
from kizuna.platform.vocabulary import AppRole
from kizuna.schema.errors import forbidden


class Operation(enum.StrEnum):
    """A GraphQL operation, by its root field (or `node` of a type)."""

    CASES = "cases"
    NODE_CASE = "node(Case)"
    NODE_PERSON = "node(Person)"
    PEOPLE = "people"
    NODE_HOUSEHOLD = "node(Household)"
    NODE_CARE_RELATIONSHIP = "node(CareRelationship)"
    CREATE_PERSON = "createPerson"
    ADD_CARE_RELATIONSHIP = "addCareRelationship"
    REMOVE_CARE_RELATIONSHIP = "removeCareRelationship"
    MERGE_PEOPLE = "mergePeople"
    UNDO_PERSON_MERGE = "undoPersonMerge"
    SUPPORT_PLANS = "supportPlans"
    CREATE_SUPPORT_PLAN = "createSupportPlan"
    MOVE_CASE_STAGE = "moveCaseStage"
    ASSIGN_CASE = "assignCase"
    NODE_ASSESSMENT = "node(Assessment)"
    NODE_MEETING = "node(Meeting)"
    NODE_CONTACT_LOG = "node(ContactLog)"
    RECORD_ASSESSMENT = "recordAssessment"
    RECORD_MEETING = "recordMeeting"
    RECORD_CONTACT = "recordContact"
    APPROVALS = "approvals"
    NOTIFICATIONS = "notifications"
    REQUEST_APPROVAL = "requestApproval"
    DECIDE_APPROVAL = "decideApproval"
    REFERRALS = "referrals"
    CREATE_REFERRAL = "createReferral"
    ACCEPT_REFERRAL = "acceptReferral"
    DECLINE_REFERRAL = "declineReferral"
    MERGE_REFERRAL = "mergeReferral"
    REVOKE_REFERRAL = "revokeReferral"
    WITHDRAW_REFERRAL = "withdrawReferral"
    MEMBERSHIPS = "memberships"
    GRANTABLE_ROLES = "grantableRoles"
    GRANT_MEMBERSHIP = "grantMembership"
    REVOKE_MEMBERSHIP = "revokeMembership"
    AUDIT_EVENTS = "auditEvents"
    NODE_HELPER_DISPATCH = "node(HelperDispatch)"
    NODE_HELPER_VISIT = "node(HelperVisit)"
    HELPER_VISITS = "helperVisits"
    APPLY_FOR_DISPATCH = "applyForDispatch"
    RECORD_DISPATCH_SURVEY = "recordDispatchSurvey"
    PLAN_DISPATCH = "planDispatch"
    DECIDE_DISPATCH = "decideDispatch"
    EXTEND_DISPATCH = "extendDispatch"
    RECORD_HELPER_VISIT = "recordHelperVisit"
    MOVE_DISPATCH_TO_MONITORING = "moveDispatchToMonitoring"
    RESUME_DISPATCH = "resumeDispatch"
    END_DISPATCH = "endDispatch"
    CASE_PARTICIPANTS = "caseParticipants"
    ADD_CASE_PARTICIPANT = "addCaseParticipant"
    REMOVE_CASE_PARTICIPANT = "removeCaseParticipant"
    REGISTER_WITH_YOTAIKYO = "registerCaseWithYotaikyo"
    DEREGISTER_FROM_YOTAIKYO = "deregisterCaseFromYotaikyo"
    CONSENTS = "consents"
    RECORD_CONSENT = "recordConsent"
    WITHDRAW_CONSENT = "withdrawConsent"
    SHARE_WITHOUT_CONSENT = "shareCaseWithoutConsent"
    SHARED_CASES = "sharedCases"
    OPEN_EMERGENCY_ACCESS = "openEmergencyAccess"
    EMERGENCY_ACCESSES = "emergencyAccesses"
    MUNICIPALITY_STATUS = "municipalityStatus"
    SAVE_MUNICIPALITY_STATUS = "saveMunicipalityStatus"
    SUBMIT_MUNICIPALITY_STATUS = "submitMunicipalityStatus"
    PROGRAMME_ACTIVITIES = "programmeActivities"
    NODE_PROGRAMME_ACTIVITY = "node(ProgrammeActivity)"
    RECORD_PROGRAMME_ACTIVITY = "recordProgrammeActivity"
    REMOVE_PROGRAMME_ACTIVITY = "removeProgrammeActivity"
    SUBMIT_PROGRAMME_FIGURES = "submitProgrammeFigures"
    SUBMISSIONS = "submissions"
    ACCEPT_SUBMISSION = "acceptSubmission"
    RETURN_SUBMISSION = "returnSubmission"
    INDICATORS = "indicators"
    ADD_INDICATOR = "addIndicator"
    RETIRE_INDICATOR = "retireIndicator"
    PREFECTURE_STATS = "prefectureStats"


R = AppRole
_STAFF = frozenset({R.CASEWORKER, R.COORDINATOR, R.SUPERVISOR})
_CASE_READERS = _STAFF | {R.MUNICIPAL_SYSTEM}
_REFERRERS = frozenset({R.SCHOOL_STAFF, R.SCHOOL_SOCIAL_WORKER, R.WELFARE_WORKER})
_MANAGERS = frozenset({R.SUPERVISOR, R.PLATFORM_ADMIN})
# Invited to cases as participants: they read a shared case's decisions and goals only.
_AGENCIES = frozenset({R.WELFARE_WORKER, R.SCHOOL_SOCIAL_WORKER})
# Draft the municipality's status and programme figures (0023); only a supervisor submits.
_DRAFTERS = frozenset({R.COORDINATOR, R.SUPERVISOR})
_ANALYST = frozenset({R.PREFECTURE_ANALYST})

PERMISSIONS: Final[Mapping[Operation, frozenset[AppRole]]] = MappingProxyType(
    {
        Operation.CASES: _CASE_READERS,
        Operation.NODE_CASE: _CASE_READERS,
        Operation.NODE_PERSON: _CASE_READERS,
        # Schools, agencies, the prefecture and administrators read no person (no grant).
        Operation.PEOPLE: _CASE_READERS,
        Operation.NODE_HOUSEHOLD: _CASE_READERS,
        Operation.NODE_CARE_RELATIONSHIP: _CASE_READERS,
        Operation.CREATE_PERSON: _STAFF,
        Operation.ADD_CARE_RELATIONSHIP: _STAFF,
        Operation.REMOVE_CARE_RELATIONSHIP: _STAFF,
        Operation.MERGE_PEOPLE: _STAFF,
        Operation.UNDO_PERSON_MERGE: _STAFF,
        Operation.SUPPORT_PLANS: _CASE_READERS,
        Operation.CREATE_SUPPORT_PLAN: _STAFF,
        Operation.MOVE_CASE_STAGE: _STAFF,
        # The database agrees: caseworkers and coordinators may not update these columns (0018).
        Operation.ASSIGN_CASE: frozenset({R.SUPERVISOR}),
        # Also `Case.assessments`, `Case.meetings` and `latestMeeting`, `Case.contactLogs`.
        # Schools, agencies, the prefecture and administrators: no grant on these tables.
        Operation.NODE_ASSESSMENT: _CASE_READERS,
        Operation.NODE_MEETING: _CASE_READERS,
        Operation.NODE_CONTACT_LOG: _CASE_READERS,
        Operation.RECORD_ASSESSMENT: _STAFF,
        Operation.RECORD_MEETING: _STAFF,
        Operation.RECORD_CONTACT: _STAFF,
        Operation.APPROVALS: _STAFF,
        Operation.NOTIFICATIONS: _STAFF,
        Operation.REQUEST_APPROVAL: _STAFF,
        Operation.DECIDE_APPROVAL: frozenset({R.SUPERVISOR}),
        # A referrer reads its own organisation's referrals only (row security).
        Operation.REFERRALS: _CASE_READERS | _REFERRERS,
        Operation.CREATE_REFERRAL: _STAFF | _REFERRERS,
        Operation.ACCEPT_REFERRAL: _STAFF,
        Operation.DECLINE_REFERRAL: _STAFF,
        Operation.MERGE_REFERRAL: _STAFF,
        # Its sender only (the service compares the sender with the caller).
        Operation.REVOKE_REFERRAL: _REFERRERS,
        Operation.WITHDRAW_REFERRAL: frozenset({R.SUPERVISOR}),
        Operation.MEMBERSHIPS: _MANAGERS,
        Operation.GRANTABLE_ROLES: _MANAGERS,
        Operation.GRANT_MEMBERSHIP: _MANAGERS,
        Operation.REVOKE_MEMBERSHIP: _MANAGERS,
        # Only supervisors are granted SELECT on the log.
        Operation.AUDIT_EVENTS: frozenset({R.SUPERVISOR}),
        # Also a case's `dispatches` and `openDispatch`. Agencies read none (no grant).
        Operation.NODE_HELPER_DISPATCH: _CASE_READERS,
        Operation.NODE_HELPER_VISIT: _CASE_READERS,
        Operation.HELPER_VISITS: _CASE_READERS,
        Operation.APPLY_FOR_DISPATCH: _STAFF,
        Operation.RECORD_DISPATCH_SURVEY: _STAFF,
        Operation.PLAN_DISPATCH: _STAFF,
        Operation.DECIDE_DISPATCH: _STAFF,
        Operation.EXTEND_DISPATCH: _STAFF,
        Operation.RECORD_HELPER_VISIT: _STAFF,
        Operation.MOVE_DISPATCH_TO_MONITORING: _STAFF,
        Operation.RESUME_DISPATCH: _STAFF,
        Operation.END_DISPATCH: _STAFF,
        Operation.CASE_PARTICIPANTS: _CASE_READERS,
        Operation.ADD_CASE_PARTICIPANT: _STAFF,
        Operation.REMOVE_CASE_PARTICIPANT: _STAFF,
        Operation.REGISTER_WITH_YOTAIKYO: _STAFF,
        Operation.DEREGISTER_FROM_YOTAIKYO: _STAFF,
        Operation.CONSENTS: _CASE_READERS,
        Operation.RECORD_CONSENT: _STAFF,
        Operation.WITHDRAW_CONSENT: _STAFF,
        # The role allowed to override consent (the database's INSERT policy says the same).
        Operation.SHARE_WITHOUT_CONSENT: frozenset({R.SUPERVISOR}),
        # Row security narrows them to the cases shared with them, and columns to the shared view.
        Operation.SHARED_CASES: _AGENCIES,
        Operation.OPEN_EMERGENCY_ACCESS: _AGENCIES,
        # Supervisors review every break of the glass.
        Operation.EMERGENCY_ACCESSES: frozenset({R.SUPERVISOR}),
        # The municipality's own figures; the prefecture reads them through `submissions`
        # and the stats path. The database agrees (0023: grants, column grants, policies).
        Operation.MUNICIPALITY_STATUS: _CASE_READERS,
        Operation.SAVE_MUNICIPALITY_STATUS: _DRAFTERS,
        Operation.SUBMIT_MUNICIPALITY_STATUS: frozenset({R.SUPERVISOR}),
        # The prefecture's analyst keeps the prefecture's own programmes in its own tenant
        # (NN000C, where its membership is held: 0005), which it never submits (0026).
        Operation.PROGRAMME_ACTIVITIES: _CASE_READERS | _ANALYST,
        Operation.NODE_PROGRAMME_ACTIVITY: _CASE_READERS | _ANALYST,
        Operation.RECORD_PROGRAMME_ACTIVITY: _DRAFTERS | _ANALYST,
        Operation.REMOVE_PROGRAMME_ACTIVITY: _DRAFTERS | _ANALYST,
        Operation.SUBMIT_PROGRAMME_FIGURES: frozenset({R.SUPERVISOR}),
        # The analyst: its prefecture's municipalities'; municipal staff: their own.
        Operation.SUBMISSIONS: _STAFF | _ANALYST,
        Operation.ACCEPT_SUBMISSION: _ANALYST,
        Operation.RETURN_SUBMISSION: _ANALYST,
        # Their own prefecture's (row security on the prefecture code for writes). A supervisor
        # reads the plan's values too, not which other municipalities are missing (0026).
        Operation.INDICATORS: _ANALYST | {R.SUPERVISOR},
        Operation.ADD_INDICATOR: _ANALYST,
        Operation.RETIRE_INDICATOR: _ANALYST,
        # The analyst reads the published (suppressed) figures of its prefecture, a supervisor
        # its own municipality's unsuppressed; nobody else is granted anything in `stats`.
        Operation.PREFECTURE_STATS: frozenset({R.PREFECTURE_ANALYST, R.SUPERVISOR}),
    }
)
DESCRIPTIONS: Final[Mapping[Operation, str]] = MappingProxyType(
    {
        Operation.CASES: "list the tenant's cases (`assignedToMe`: those one works), counted by stage",
        Operation.NODE_CASE: "read a case by id",
        Operation.NODE_PERSON: "read a person by id",
        Operation.PEOPLE: "list or search the tenant's people (name in kanji or kana)",
        Operation.NODE_HOUSEHOLD: "read a household by id",
        Operation.NODE_CARE_RELATIONSHIP: "read a care relationship by id",
        Operation.CREATE_PERSON: "record a person (search before create: possible duplicates first)",
        Operation.ADD_CARE_RELATIONSHIP: "record who cares for whom",
        Operation.REMOVE_CARE_RELATIONSHIP: "remove a care relationship",
        Operation.MERGE_PEOPLE: "merge a duplicate person into the one kept (every reference moves)",
        Operation.UNDO_PERSON_MERGE: "undo a merge (the moved references go back)",
        Operation.SUPPORT_PLANS: "read a case's support plans",
        Operation.CREATE_SUPPORT_PLAN: "write a case's next support plan version",
        Operation.MOVE_CASE_STAGE: "move a case along the workflow",
        Operation.ASSIGN_CASE: "assign a case's worker, coordinator and lead organisation",
        Operation.NODE_ASSESSMENT: "read an assessment (by id, or a case's `assessments`)",
        Operation.NODE_MEETING: "read a meeting (by id, or a case's `meetings`, `latestMeeting`)",
        Operation.NODE_CONTACT_LOG: "read a contact log (by id, or a case's `contactLogs`)",
        Operation.RECORD_ASSESSMENT: "record an assessment of the family (open cases)",
        Operation.RECORD_MEETING: "record a meeting (a monitoring meeting moves a case in support to monitoring)",
        Operation.RECORD_CONTACT: "log a contact: interview, home visit, joint visit, phone (open cases)",
        Operation.APPROVALS: "list approvals (what waits for a supervisor; also a case's `approvals`)",
        Operation.NOTIFICATIONS: "read the decisions on one's own approval requests",
        Operation.REQUEST_APPROVAL: "ask for a support plan's or a closure's approval",
        Operation.DECIDE_APPROVAL: "approve or reject (never one's own request)",
        Operation.REFERRALS: "list referrals (a referrer: its organisation's only)",
        Operation.CREATE_REFERRAL: "send a referral (a referrer: from its own kind of source)",
        Operation.ACCEPT_REFERRAL: "accept a referral into a case",
        Operation.DECLINE_REFERRAL: "decline a referral, with a reason",
        Operation.MERGE_REFERRAL: "merge a referral into an accepted one",
        Operation.REVOKE_REFERRAL: "revoke one's own submitted referral",
        Operation.WITHDRAW_REFERRAL: "withdraw a submitted referral, with a reason",
        Operation.MEMBERSHIPS: "list the tenant's memberships",
        Operation.GRANTABLE_ROLES: "list the roles one may grant in the tenant (a form's choices)",
        Operation.GRANT_MEMBERSHIP: "grant a membership (a supervisor: the working roles only)",
        Operation.REVOKE_MEMBERSHIP: "revoke a membership (never one's own)",
        Operation.AUDIT_EVENTS: "read the tenant's audit log",
        Operation.NODE_HELPER_DISPATCH: "read a helper dispatch (also a case's dispatches and open dispatch)",
        Operation.NODE_HELPER_VISIT: "read a helper visit by id",
        Operation.HELPER_VISITS: "list the helper visits of a period (a month at most)",
        Operation.APPLY_FOR_DISPATCH: "record a household's application for a helper dispatch",
        Operation.RECORD_DISPATCH_SURVEY: "record the joint survey visit",
        Operation.PLAN_DISPATCH: "write the dispatch plan",
        Operation.DECIDE_DISPATCH: "decide the dispatch and its period (6 months at most)",
        Operation.EXTEND_DISPATCH: "extend a dispatch's period (6 months at most at a time)",
        Operation.RECORD_HELPER_VISIT: "record a helper visit (120 minutes, one an ISO week, in the period)",
        Operation.MOVE_DISPATCH_TO_MONITORING: "move a dispatch to monitoring",
        Operation.RESUME_DISPATCH: "continue a dispatch's service after monitoring",
        Operation.END_DISPATCH: "end a dispatch (or withdraw its application)",
        Operation.CASE_PARTICIPANTS: "list the organisations taking part in a case",
        Operation.ADD_CASE_PARTICIPANT: "add an organisation serving the tenant to a case",
        Operation.REMOVE_CASE_PARTICIPANT: "remove an organisation from a case (its shares are revoked)",
        Operation.REGISTER_WITH_YOTAIKYO: "register a case with the yotaikyo (要保護児童対策地域協議会), with a reason",
        Operation.DEREGISTER_FROM_YOTAIKYO: "take a case off the yotaikyo, with a reason",
        Operation.CONSENTS: "read a case's consents, withdrawn ones included",
        Operation.RECORD_CONSENT: "record a consent to share (never edited afterwards)",
        Operation.WITHDRAW_CONSENT: "withdraw a consent (the shares it gave end at once)",
        Operation.SHARE_WITHOUT_CONSENT: "share a case with a participant without consent, with a reason (override)",
        Operation.SHARED_CASES: "read the meeting decisions and plan goals of the cases shared with one's organisation",
        Operation.OPEN_EMERGENCY_ACCESS: "break the glass: read a case's shared view for up to 24 h, with a reason",
        Operation.EMERGENCY_ACCESSES: "review the tenant's emergency accesses",
        Operation.MUNICIPALITY_STATUS: "read the municipality's status (体制整備) of a fiscal year",
        Operation.SAVE_MUNICIPALITY_STATUS: "enter or correct the year's status while a draft or returned",
        Operation.SUBMIT_MUNICIPALITY_STATUS: "submit the year's status to the prefecture",
        Operation.PROGRAMME_ACTIVITIES: (
            "list the tenant's programme figures of a fiscal year (the prefecture's own, in its tenant)"
        ),
        Operation.NODE_PROGRAMME_ACTIVITY: "read a programme activity by id",
        Operation.RECORD_PROGRAMME_ACTIVITY: (
            "record a programme's figures while the year is a draft or returned (the prefecture's own: always)"
        ),
        Operation.REMOVE_PROGRAMME_ACTIVITY: (
            "remove a programme's figures while the year is a draft or returned (the prefecture's own: always)"
        ),
        Operation.SUBMIT_PROGRAMME_FIGURES: "submit the year's programme figures to the prefecture",
        Operation.SUBMISSIONS: "list submissions and their state (the analyst: its prefecture's municipalities)",
        Operation.ACCEPT_SUBMISSION: "accept a municipality's submitted figures (they count from then on)",
        Operation.RETURN_SUBMISSION: "send a municipality's figures back with the reason (also accepted ones)",
        Operation.INDICATORS: (
            "read the prefecture's indicators (baseline, target, computed values and progress;"
            " which municipalities are missing: the analyst only), retired ones if asked"
        ),
        Operation.ADD_INDICATOR: "add an indicator to one's own prefecture",
        Operation.RETIRE_INDICATOR: "retire an indicator of one's own prefecture (never deleted)",
        Operation.PREFECTURE_STATS: "read the prefecture's figures, suppressed (a supervisor: its own, unsuppressed)",
    }
)


def allowed(operation: Operation) -> frozenset[AppRole]:
    return PERMISSIONS[operation]


def may(role: AppRole, operation: Operation) -> bool:
    return role in PERMISSIONS[operation]


def require(caller: Caller, operation: Operation) -> None:
    """FORBIDDEN (a GraphQL error) unless the caller's role may do `operation`."""
    if not may(caller.role, operation):
        raise forbidden()


def markdown() -> str:
    """`docs/permissions.md`, generated from the table."""
    roles = list(AppRole)
    lines = [
        "# Permissions: who may do what",
        "",
        "Generated from `schema/permissions.py` (`PERMISSIONS`); `tests/test_permissions.py`",
        "fails when this page is stale and tries every cell through GraphQL. Regenerate with",
        "`uv run python -c 'from kizuna.schema.permissions import markdown; print(markdown(), end=\"\")'"
        " > docs/permissions.md`.",
        "The database holds the same limits (grants, column grants, per-role policies) and the",
        "narrower rules each operation names.",
        "",
        "| operation | what | " + " | ".join(r.value for r in roles) + " |",
        "|---|---|" + "---|" * len(roles),
    ]
    for operation in Operation:
        cells = " | ".join("✓" if role in PERMISSIONS[operation] else "—" for role in roles)
        lines.append(f"| `{operation.value}` | {DESCRIPTIONS[operation]} | {cells} |")
    return "\n".join(lines) + "\n"
