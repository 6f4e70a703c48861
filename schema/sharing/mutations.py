"""Participants, the yotaikyo registration, consent, sharing without consent and break the
glass (issue 15, item 6); a broken rule is a user error and writes nothing."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from kizuna.platform.i18n import Message
from kizuna.platform.scope import Scope
from kizuna.schema.errors import Refused
from kizuna.schema.relay import encode_global_id
from kizuna.schema.sharing import service
from kizuna.schema.sharing.queries import to_access, to_consent, to_participant
from kizuna.schema.sharing.types import (
    AddCaseParticipantInput,
    CaseParticipantPayload,
    ConsentPayload,
    DeregisterCaseFromYotaikyoInput,
    EmergencyAccessPayload,
    OpenEmergencyAccessInput,
    RecordConsentInput,
    RegisterCaseWithYotaikyoInput,
    RemoveCaseParticipantInput,
    ShareCaseWithoutConsentInput,
    ShareCaseWithoutConsentPayload,
    WithdrawConsentInput,
    YotaikyoPayload,
)
from kizuna.schema.writes import input_key


def _case(case_id: str, field: str = "caseId") -> Any:
    return input_key(case_id, "Case", field=field, not_found=Message.NO_SUCH_CASE)


def _organisation(organisation_id: str, field: str = "organizationId") -> Any:
    return input_key(organisation_id, "Organization", field=field, not_found=Message.NO_SUCH_ORGANISATION)


async def _yotaikyo(scope: Scope, case: str, reason: str, *, registered: bool) -> YotaikyoPayload:
    try:
        case_id = _case(case)
        await service.do_set_yotaikyo(scope, case_id, registered=registered, reason=reason)
    except Refused as refusal:
        return YotaikyoPayload.refused(refusal, scope)
    return YotaikyoPayload(case_id=strawberry.ID(encode_global_id("Case", case_id)))


@strawberry.type
class SharingMutations:
    @strawberry.mutation(description="ケースに機関を加える（同意・要対協登録に応じて共有する）。監査記録を残す")
    async def add_case_participant(
        self,
        info: Info[Scope, Any],
        input: AddCaseParticipantInput,  # noqa: A002  (Relay's name for a mutation's one argument)
    ) -> CaseParticipantPayload:
        scope = info.context
        try:
            row = await service.do_add_participant(
                scope, _case(input.case_id), _organisation(input.organization_id), role=input.role
            )
        except Refused as refusal:
            return CaseParticipantPayload.refused(refusal, scope)
        return CaseParticipantPayload(participant=to_participant(row))

    @strawberry.mutation(description="ケースから機関を外す（その機関への共有は直ちに終わる）。監査記録を残す")
    async def remove_case_participant(
        self,
        info: Info[Scope, Any],
        input: RemoveCaseParticipantInput,  # noqa: A002
    ) -> CaseParticipantPayload:
        scope = info.context
        try:
            key = input_key(input.id, "CaseParticipant", field="id", not_found=Message.NO_SUCH_PARTICIPANT)
            row = await service.do_remove_participant(scope, key)
        except Refused as refusal:
            return CaseParticipantPayload.refused(refusal, scope)
        return CaseParticipantPayload(participant=to_participant(row))

    @strawberry.mutation(description="ケースを要保護児童対策地域協議会に登録する（理由を記録する）")
    async def register_case_with_yotaikyo(
        self,
        info: Info[Scope, Any],
        input: RegisterCaseWithYotaikyoInput,  # noqa: A002
    ) -> YotaikyoPayload:
        return await _yotaikyo(info.context, input.case_id, input.reason, registered=True)

    @strawberry.mutation(description="ケースの要保護児童対策地域協議会への登録を解除する（理由を記録する）")
    async def deregister_case_from_yotaikyo(
        self,
        info: Info[Scope, Any],
        input: DeregisterCaseFromYotaikyoInput,  # noqa: A002
    ) -> YotaikyoPayload:
        return await _yotaikyo(info.context, input.case_id, input.reason, registered=False)

    @strawberry.mutation(description="同意を記録する（変更はできず、撤回と新しい同意で改める）。監査記録を残す")
    async def record_consent(
        self,
        info: Info[Scope, Any],
        input: RecordConsentInput,  # noqa: A002
    ) -> ConsentPayload:
        scope = info.context
        try:
            case_id = _case(input.case_id)
            new = service.NewConsent(
                given_by=input.given_by,
                guardian_name=input.guardian_name,
                purpose=input.purpose,
                organisation_ids=tuple(_organisation(o, "organizationIds") for o in input.organization_ids),
                organisation_kinds=tuple(input.organization_kinds),
                expires_on=input.expires_on,
                idempotency_key=input.idempotency_key,
            )
            consent_id = await service.do_record_consent(scope, case_id, new)
        except Refused as refusal:
            return ConsentPayload.refused(refusal, scope)
        row = await scope.tx.fetchrow(service.CONSENT_BY_ID, consent_id)
        return ConsentPayload(consent=None if row is None else to_consent(scope, row))

    @strawberry.mutation(description="同意を撤回する（その同意による共有は直ちに終わる）。監査記録を残す")
    async def withdraw_consent(
        self,
        info: Info[Scope, Any],
        input: WithdrawConsentInput,  # noqa: A002
    ) -> ConsentPayload:
        scope = info.context
        try:
            key = input_key(input.consent_id, "Consent", field="consentId", not_found=Message.NO_SUCH_CONSENT)
            await service.do_withdraw_consent(scope, key, reason=input.reason)
        except Refused as refusal:
            return ConsentPayload.refused(refusal, scope)
        row = await scope.tx.fetchrow(service.CONSENT_BY_ID, key)
        return ConsentPayload(consent=None if row is None else to_consent(scope, row))

    @strawberry.mutation(description="同意によらずに参加機関と共有する（スーパーバイザーのみ、理由を記録する）")
    async def share_case_without_consent(
        self,
        info: Info[Scope, Any],
        input: ShareCaseWithoutConsentInput,  # noqa: A002
    ) -> ShareCaseWithoutConsentPayload:
        scope = info.context
        try:
            case_id = _case(input.case_id)
            await service.do_share_without_consent(
                scope,
                case_id,
                _organisation(input.organization_id),
                reason=input.reason,
                idempotency_key=input.idempotency_key,
            )
        except Refused as refusal:
            return ShareCaseWithoutConsentPayload.refused(refusal, scope)
        return ShareCaseWithoutConsentPayload(case_id=strawberry.ID(encode_global_id("Case", case_id)))

    @strawberry.mutation(description="緊急時の閲覧を始める（理由を記録し、最長24時間、スーパーバイザーが確認する）")
    async def open_emergency_access(
        self,
        info: Info[Scope, Any],
        input: OpenEmergencyAccessInput,  # noqa: A002
    ) -> EmergencyAccessPayload:
        scope = info.context
        try:
            access_id = await service.do_open_emergency_access(
                scope,
                _case(input.case_id),
                reason=input.reason,
                hours=input.hours,
                idempotency_key=input.idempotency_key,
            )
        except Refused as refusal:
            return EmergencyAccessPayload.refused(refusal, scope)
        row = await scope.tx.fetchrow(service.ACCESS_BY_ID, access_id)
        return EmergencyAccessPayload(emergency_access=None if row is None else to_access(row))
