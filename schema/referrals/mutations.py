"""Sending referrals and the municipality's decisions: `createReferral`, `acceptReferral`,
`declineReferral`, `mergeReferral`, `revokeReferral`, `withdrawReferral`. Each is audited
in the request's transaction; a broken rule is a user error and writes nothing."""

from __future__ import annotations

import uuid
from typing import Any

import strawberry
from strawberry.types import Info

from kizuna.platform.i18n import Message
from kizuna.platform.scope import Scope
from kizuna.schema.cases import service as cases
from kizuna.schema.cases.queries import to_case
from kizuna.schema.errors import Refused
from kizuna.schema.referrals import service
from kizuna.schema.referrals.queries import to_referral
from kizuna.schema.referrals.types import (
    AcceptReferralInput,
    AcceptReferralPayload,
    CreateReferralInput,
    CreateReferralPayload,
    DeclineReferralInput,
    MergeReferralInput,
    Referral,
    ReferralPayload,
    RevokeReferralInput,
    WithdrawReferralInput,
)
from kizuna.schema.writes import input_key


def _referral_key(global_id: str, field: str = "id") -> uuid.UUID:
    return input_key(global_id, "Referral", field=field, not_found=Message.NO_SUCH_REFERRAL)


async def _read_back(scope: Scope, referral_id: uuid.UUID) -> Referral:
    """The referral as the caller now sees it (written in this transaction, so found)."""
    return to_referral(scope, await service.access_referral(scope, referral_id))


@strawberry.type
class ReferralMutations:
    @strawberry.mutation(description="気づき・相談を送る（学校・機関・市町村の職員）。監査記録を残す")
    async def create_referral(
        self,
        info: Info[Scope, Any],
        input: CreateReferralInput,  # noqa: A002  (Relay's name for a mutation's one argument)
    ) -> CreateReferralPayload:
        scope = info.context
        new = service.NewReferral(
            source=input.source,
            child_display_name=input.child_display_name,
            noticed=input.noticed,
            urgency=input.urgency,
            care_tasks=input.care_tasks,
            family_aware=input.family_aware,
            idempotency_key=input.idempotency_key,
        )
        try:
            referral_id = await service.do_send_referral(scope, new)
        except Refused as refusal:
            return CreateReferralPayload.refused(refusal, scope)
        return CreateReferralPayload(referral=await _read_back(scope, referral_id))

    @strawberry.mutation(description="気づき・相談を既存のケースか新しいケースに受理する。監査記録を残す")
    async def accept_referral(
        self,
        info: Info[Scope, Any],
        input: AcceptReferralInput,  # noqa: A002
    ) -> AcceptReferralPayload:
        scope = info.context
        try:
            referral_id = _referral_key(input.id)
            case_id = await service.do_accept_referral(
                scope,
                referral_id,
                case_id=None
                if input.case_id is None
                else input_key(input.case_id, "Case", field="caseId", not_found=Message.NO_SUCH_CASE),
                person_id=None
                if input.person_id is None
                else input_key(input.person_id, "Person", field="personId", not_found=Message.NO_SUCH_PERSON),
                category=input.category,
            )
        except Refused as refusal:
            return AcceptReferralPayload.refused(refusal, scope)
        case = await cases.case_by_id(scope.tx, case_id)
        return AcceptReferralPayload(
            referral=await _read_back(scope, referral_id), case=None if case is None else to_case(scope, case)
        )

    @strawberry.mutation(description="気づき・相談を受理しない（理由は紹介元に見える）。監査記録を残す")
    async def decline_referral(self, info: Info[Scope, Any], input: DeclineReferralInput) -> ReferralPayload:  # noqa: A002
        scope = info.context
        try:
            referral_id = _referral_key(input.id)
            await service.do_decline_referral(scope, referral_id, input.reason)
        except Refused as refusal:
            return ReferralPayload.refused(refusal, scope)
        return ReferralPayload(referral=await _read_back(scope, referral_id))

    @strawberry.mutation(description="受理済みの気づき・相談に統合する（同じ本人について）。監査記録を残す")
    async def merge_referral(self, info: Info[Scope, Any], input: MergeReferralInput) -> ReferralPayload:  # noqa: A002
        scope = info.context
        try:
            referral_id = _referral_key(input.id)
            await service.do_merge_referral(scope, referral_id, _referral_key(input.into_id, "intoId"))
        except Refused as refusal:
            return ReferralPayload.refused(refusal, scope)
        return ReferralPayload(referral=await _read_back(scope, referral_id))

    @strawberry.mutation(description="送った気づき・相談を取り下げる（受理前、送った本人）。監査記録を残す")
    async def revoke_referral(self, info: Info[Scope, Any], input: RevokeReferralInput) -> ReferralPayload:  # noqa: A002
        scope = info.context
        try:
            referral_id = _referral_key(input.id)
            await service.do_revoke_referral(scope, referral_id)
        except Refused as refusal:
            return ReferralPayload.refused(refusal, scope)
        return ReferralPayload(referral=await _read_back(scope, referral_id))

    @strawberry.mutation(description="気づき・相談を取り消す（スーパーバイザー、理由つき）。監査記録を残す")
    async def withdraw_referral(self, info: Info[Scope, Any], input: WithdrawReferralInput) -> ReferralPayload:  # noqa: A002
        scope = info.context
        try:
            referral_id = _referral_key(input.id)
            await service.do_withdraw_referral(scope, referral_id, input.reason)
        except Refused as refusal:
            return ReferralPayload.refused(refusal, scope)
        return ReferralPayload(referral=await _read_back(scope, referral_id))
