"""`recordAssessment`, `recordMeeting` and `recordContact`: a case's records, each audited
in the request's transaction; a broken rule is a user error and writes nothing."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import strawberry
from strawberry.types import Info

from kizuna.platform.i18n import Message
from kizuna.platform.scope import Scope
from kizuna.schema.errors import Refused
from kizuna.schema.records import service
from kizuna.schema.records.types import (
    RecordAssessmentInput,
    RecordAssessmentPayload,
    RecordContactInput,
    RecordContactPayload,
    RecordMeetingInput,
    RecordMeetingPayload,
    to_assessment,
    to_contact_log,
    to_meeting,
)
from kizuna.schema.writes import input_key


def _case_key(global_id: str) -> uuid.UUID:
    return input_key(global_id, "Case", field="caseId", not_found=Message.NO_SUCH_CASE)


@strawberry.type
class RecordMutations:
    @strawberry.mutation(description="アセスメントを記録する。監査記録を残す")
    async def record_assessment(
        self,
        info: Info[Scope, Any],
        input: RecordAssessmentInput,  # noqa: A002  (Relay's name for a mutation's one argument)
    ) -> RecordAssessmentPayload:
        scope = info.context
        try:
            new = service.NewAssessment(
                case_id=_case_key(input.case_id),
                assessed_on=input.assessed_on,
                care_hours_per_week=Decimal(str(input.care_hours_per_week)),  # the value as written
                effects=(
                    input.school_attendance_effect,
                    input.study_effect,
                    input.health_effect,
                    input.sleep_effect,
                    input.friendship_effect,
                    input.future_plans_effect,
                ),
                own_wishes=input.own_wishes,
                family_situation=input.family_situation,
                notes=input.notes,
                idempotency_key=input.idempotency_key,
            )
            assessment_id = await service.do_record_assessment(scope, new)
        except Refused as refusal:
            return RecordAssessmentPayload.refused(refusal, scope)
        row = await service.assessment_by_id(scope.tx, assessment_id)
        return RecordAssessmentPayload(assessment=None if row is None else to_assessment(scope, row))

    @strawberry.mutation(
        description="開催した会議を記録する。支援中のケースの進行管理会議は、ケースを進行管理に進める。監査記録を残す"
    )
    async def record_meeting(
        self,
        info: Info[Scope, Any],
        input: RecordMeetingInput,  # noqa: A002  (Relay's name for a mutation's one argument)
    ) -> RecordMeetingPayload:
        scope = info.context
        try:
            new = service.NewMeeting(
                case_id=_case_key(input.case_id),
                kind=input.kind,
                held_on=input.held_on,
                decisions=input.decisions,
                participants=[
                    service.NewParticipant(
                        name=p.name,
                        organisation_id=None
                        if p.organization_id is None
                        else input_key(
                            p.organization_id,
                            "Organization",
                            field="participants",
                            not_found=Message.NO_SUCH_ORGANISATION,
                        ),
                    )
                    for p in input.participants
                ],
                next_review_on=input.next_review_on,
                idempotency_key=input.idempotency_key,
            )
            meeting_id = await service.do_record_meeting(scope, new)
        except Refused as refusal:
            return RecordMeetingPayload.refused(refusal, scope)
        row = await service.meeting_by_id(scope.tx, meeting_id)
        return RecordMeetingPayload(meeting=None if row is None else to_meeting(scope, row))

    @strawberry.mutation(description="支援記録（面談、家庭訪問、同行訪問、電話）を書く。監査記録を残す")
    async def record_contact(
        self,
        info: Info[Scope, Any],
        input: RecordContactInput,  # noqa: A002  (Relay's name for a mutation's one argument)
    ) -> RecordContactPayload:
        scope = info.context
        try:
            new = service.NewContact(
                case_id=_case_key(input.case_id),
                kind=input.kind,
                contacted_at=input.contacted_at,
                summary=input.summary,
                idempotency_key=input.idempotency_key,
            )
            contact_id = await service.do_record_contact(scope, new)
        except Refused as refusal:
            return RecordContactPayload.refused(refusal, scope)
        row = await service.contact_by_id(scope.tx, contact_id)
        return RecordContactPayload(contact_log=None if row is None else to_contact_log(scope, row))
