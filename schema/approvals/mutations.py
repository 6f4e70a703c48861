"""`moveCaseStage`, `requestApproval` and `decideApproval`: the case workflow's moves and
the approvals they need, each audited in the request's transaction; a broken rule is a
user error and writes nothing."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from kizuna.platform.i18n import Message
from kizuna.platform.scope import Scope
from kizuna.schema.approvals import service
from kizuna.schema.approvals.queries import to_approval
from kizuna.schema.approvals.types import (
    ApprovalPayload,
    DecideApprovalInput,
    MoveCaseStageInput,
    MoveCaseStagePayload,
    RequestApprovalInput,
)
from kizuna.schema.cases import service as cases
from kizuna.schema.cases.queries import to_case
from kizuna.schema.errors import Refused
from kizuna.schema.writes import input_key


@strawberry.type
class CaseWorkflowMutations:
    @strawberry.mutation(description="ケースを次の段階へ進める（相談受理 → … → 終結、再開）。監査記録を残す")
    async def move_case_stage(
        self,
        info: Info[Scope, Any],
        input: MoveCaseStageInput,  # noqa: A002  (Relay's name for a mutation's one argument)
    ) -> MoveCaseStagePayload:
        scope = info.context
        try:
            case_id = input_key(input.id, "Case", field="id", not_found=Message.NO_SUCH_CASE)
            await cases.do_move_case_stage(scope, case_id, input.to_stage, input.reason)
        except Refused as refusal:
            return MoveCaseStagePayload.refused(refusal, scope)
        row = await cases.case_by_id(scope.tx, case_id)
        return MoveCaseStagePayload(case=None if row is None else to_case(scope, row))

    @strawberry.mutation(description="支援計画か終結の承認を依頼する。監査記録を残す")
    async def request_approval(self, info: Info[Scope, Any], input: RequestApprovalInput) -> ApprovalPayload:  # noqa: A002
        scope = info.context
        try:
            case_id = input_key(input.case_id, "Case", field="caseId", not_found=Message.NO_SUCH_CASE)
            plan_id = (
                None
                if input.support_plan_id is None
                else input_key(
                    input.support_plan_id, "SupportPlan", field="supportPlanId", not_found=Message.NO_SUCH_SUPPORT_PLAN
                )
            )
            approval_id = await service.do_request_approval(scope, case_id, input.subject, plan_id)
        except Refused as refusal:
            return ApprovalPayload.refused(refusal, scope)
        return ApprovalPayload(approval=to_approval(await service.access_approval(scope, approval_id)))

    @strawberry.mutation(description="承認依頼を承認する、または差し戻す（スーパーバイザー）。監査記録を残す")
    async def decide_approval(self, info: Info[Scope, Any], input: DecideApprovalInput) -> ApprovalPayload:  # noqa: A002
        scope = info.context
        try:
            approval_id = input_key(input.id, "Approval", field="id", not_found=Message.NO_SUCH_APPROVAL)
            await service.do_decide_approval(scope, approval_id, approve=input.approve, comment=input.comment)
        except Refused as refusal:
            return ApprovalPayload.refused(refusal, scope)
        return ApprovalPayload(approval=to_approval(await service.access_approval(scope, approval_id)))
