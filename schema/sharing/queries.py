"""`caseParticipants`, `consents`, `emergencyAccesses` (staff) and `sharedCases` (agencies)."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import strawberry
from strawberry.types import Info

from kizuna.platform import audit
from kizuna.platform.scope import Scope
from kizuna.platform.vocabulary import ConsentGiver, MeetingKind, OrganisationKind
from kizuna.schema.cost import ListSize
from kizuna.schema.errors import not_found
from kizuna.schema.permissions import Operation, require
from kizuna.schema.relay import decode_global_id, encode_global_id, register_node
from kizuna.schema.sharing import service
from kizuna.schema.sharing.types import (
    CaseParticipant,
    Consent,
    EmergencyAccess,
    SharedCase,
    SharedMeeting,
    SharedPlanGoals,
)
from kizuna.schema.tenants.types import Organization

# Row security gives an agency only its shared cases' rows (0022); the explicit condition
# says so here too and lets the planner use the case index. 1,000 rows bound the answer.
SHARED_MEETINGS = """
SELECT case_id, kind, held_on, decisions, next_review_on FROM kizuna.meeting
WHERE municipality_code = $1 AND case_id = ANY (kizuna.shared_cases())
ORDER BY case_id, held_on DESC LIMIT 1000"""
SHARED_PLANS = """
SELECT case_id, version, goals, period_start, period_end FROM kizuna.support_plan
WHERE municipality_code = $1 AND case_id = ANY (kizuna.shared_cases())
ORDER BY case_id, version DESC LIMIT 1000"""
# How many cases an agency is shared: not capped by itself (the cases of the 1,000 meetings
# and 1,000 plans read at most), so an estimate for the cost.
SHARED_CASES_ASSUMED = 50


def to_participant(row: asyncpg.Record) -> CaseParticipant:
    return CaseParticipant(
        id=strawberry.ID(encode_global_id("CaseParticipant", row["id"])),
        case_id=strawberry.ID(encode_global_id("Case", row["case_id"])),
        organization=Organization.of(row["org_id"], row["org_name"], row["org_kind"]),
        role=row["role"],
        added_at=row["added_at"],
    )


def to_consent(scope: Scope, row: asyncpg.Record) -> Consent:
    """A consent as the answer shows it; its read is audited here (it names the person's wishes)."""
    audit.record_reads(scope, "consent", (row["id"],))
    return Consent(
        id=strawberry.ID(encode_global_id("Consent", row["id"])),
        case_id=strawberry.ID(encode_global_id("Case", row["case_id"])),
        given_by=ConsentGiver(row["given_by"]),
        guardian_name=row["guardian_name"],
        purpose=row["purpose"],
        organization_ids=[strawberry.ID(encode_global_id("Organization", o)) for o in row["shared_organisation_ids"]],
        organization_kinds=[OrganisationKind(k) for k in row["kinds"]],
        given_at=row["given_at"],
        expires_on=row["expires_on"],
        withdrawn_at=row["withdrawn_at"],
        withdrawal_reason=row["withdrawal_reason"],
    )


def to_access(row: asyncpg.Record) -> EmergencyAccess:
    return EmergencyAccess(
        id=strawberry.ID(encode_global_id("EmergencyAccess", row["id"])),
        case_id=strawberry.ID(encode_global_id("Case", row["case_id"])),
        subject=row["subject"],
        reason=row["reason"],
        granted_at=row["granted_at"],
        expires_at=row["expires_at"],
    )


def to_shared_cases(scope: Scope, meetings: list[asyncpg.Record], plans: list[asyncpg.Record]) -> list[SharedCase]:
    """The shared view of each case that has a meeting or a plan to show; each case's read
    is audited (`case.read`, as a staff member's is)."""
    cases: dict[uuid.UUID, SharedCase] = {}
    for m in meetings:
        meeting = SharedMeeting(
            kind=MeetingKind(m["kind"]),
            held_on=m["held_on"],
            decisions=m["decisions"],
            next_review_on=m["next_review_on"],
        )
        cases.setdefault(m["case_id"], _shared_case(m["case_id"])).meetings.append(meeting)
    for p in plans:
        goals = SharedPlanGoals(
            version=p["version"], goals=p["goals"], period_start=p["period_start"], period_end=p["period_end"]
        )
        cases.setdefault(p["case_id"], _shared_case(p["case_id"])).plan_goals.append(goals)
    audit.record_reads(scope, "case", cases)
    return list(cases.values())


def _shared_case(case_id: uuid.UUID) -> SharedCase:
    return SharedCase(case_id=strawberry.ID(encode_global_id("Case", case_id)), meetings=[], plan_goals=[])


def _case_key(case_id: strawberry.ID) -> uuid.UUID:
    type_name, key = decode_global_id(case_id)
    if type_name != "Case":
        raise not_found()
    return key


@strawberry.type
class SharingQueries:
    @strawberry.field(
        description="ケースに参加する機関（最大100件）", directives=[ListSize(assumed_size=service.MAX_LISTED)]
    )
    async def case_participants(self, info: Info[Scope, Any], case_id: strawberry.ID) -> list[CaseParticipant] | None:
        scope = info.context
        require(scope.caller, Operation.CASE_PARTICIPANTS)
        return [to_participant(r) for r in await scope.tx.fetch(service.PARTICIPANTS_OF_CASE, _case_key(case_id))]

    @strawberry.field(
        description="ケースの同意（撤回されたものも含む、新しい順、最大100件）",
        directives=[ListSize(assumed_size=service.MAX_LISTED)],
    )
    async def consents(self, info: Info[Scope, Any], case_id: strawberry.ID) -> list[Consent] | None:
        scope = info.context
        require(scope.caller, Operation.CONSENTS)
        return [to_consent(scope, r) for r in await scope.tx.fetch(service.CONSENTS_OF_CASE, _case_key(case_id))]

    @strawberry.field(
        description="緊急時の閲覧（新しい順、最大100件）。スーパーバイザーが確認する",
        directives=[ListSize(assumed_size=service.MAX_LISTED)],
    )
    async def emergency_accesses(self, info: Info[Scope, Any]) -> list[EmergencyAccess] | None:
        scope = info.context
        require(scope.caller, Operation.EMERGENCY_ACCESSES)
        return [to_access(r) for r in await scope.tx.fetch(service.RECENT_ACCESSES)]

    @strawberry.field(
        description="所属機関に共有されたケース（会議の決定事項と計画の目標のみ）",
        directives=[ListSize(assumed_size=SHARED_CASES_ASSUMED)],
    )
    async def shared_cases(self, info: Info[Scope, Any]) -> list[SharedCase] | None:
        scope = info.context
        require(scope.caller, Operation.SHARED_CASES)
        meetings = await scope.tx.fetch(SHARED_MEETINGS)
        plans = await scope.tx.fetch(SHARED_PLANS)
        return to_shared_cases(scope, meetings, plans)


async def _shared_case_node(scope: Scope, key: uuid.UUID) -> SharedCase | None:
    require(scope.caller, Operation.SHARED_CASES)
    found = to_shared_cases(
        scope, await scope.tx.fetch(SHARED_MEETINGS, [key]), await scope.tx.fetch(SHARED_PLANS, [key])
    )
    return found[0] if found else None


async def _participant_node(scope: Scope, key: uuid.UUID) -> CaseParticipant | None:
    require(scope.caller, Operation.CASE_PARTICIPANTS)
    row = await scope.tx.fetchrow(service.PARTICIPANT_BY_ID, key)
    return None if row is None else to_participant(row)


async def _consent_node(scope: Scope, key: uuid.UUID) -> Consent | None:
    require(scope.caller, Operation.CONSENTS)
    row = await scope.tx.fetchrow(service.CONSENT_BY_ID, key)
    return None if row is None else to_consent(scope, row)


async def _access_node(scope: Scope, key: uuid.UUID) -> EmergencyAccess | None:
    require(scope.caller, Operation.EMERGENCY_ACCESSES)
    row = await scope.tx.fetchrow(service.ACCESS_BY_ID, key)
    return None if row is None else to_access(row)


register_node(
    "CaseParticipant", tag=51, graphql_type=CaseParticipant, table="case_participant", resolve=_participant_node
)
register_node("Consent", tag=52, graphql_type=Consent, table="consent", resolve=_consent_node)
register_node("EmergencyAccess", tag=53, graphql_type=EmergencyAccess, table="emergency_access", resolve=_access_node)
