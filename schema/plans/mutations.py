"""`createSupportPlan(input:)`: a case's next plan version, audited; a broken rule is a
user error and writes nothing."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from kizuna.platform.i18n import Message
from kizuna.platform.scope import Scope
from kizuna.schema.errors import Refused
from kizuna.schema.plans import service
from kizuna.schema.plans.queries import to_plan
from kizuna.schema.plans.types import CreateSupportPlanInput, CreateSupportPlanPayload
from kizuna.schema.writes import input_key


@strawberry.type
class PlanMutations:
    @strawberry.mutation(description="支援計画の次の版を書く。監査記録を残す")
    async def create_support_plan(
        self,
        info: Info[Scope, Any],
        input: CreateSupportPlanInput,  # noqa: A002  (Relay's name for a mutation's one argument)
    ) -> CreateSupportPlanPayload:
        scope = info.context
        try:
            case_id = input_key(input.case_id, "Case", field="caseId", not_found=Message.NO_SUCH_CASE)
            plan_id = await service.do_create_plan(
                scope,
                case_id,
                goals=input.goals,
                period_start=input.period_start,
                period_end=input.period_end,
                idempotency_key=input.idempotency_key,
            )
        except Refused as refusal:
            return CreateSupportPlanPayload.refused(refusal, scope)
        row = await service.plan_by_id(scope.tx, plan_id)
        return CreateSupportPlanPayload(support_plan=None if row is None else to_plan(scope, row))
