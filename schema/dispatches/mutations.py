"""The steps of a helper dispatch, each a mutation: apply, survey, plan, decide, extend,
record a visit, monitoring, back to the service, end. Each is audited in the request's
transaction; a step out of order or a broken rule is a user error and writes nothing."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import strawberry
from strawberry.types import Info

from kizuna.platform.i18n import Message
from kizuna.platform.scope import Scope
from kizuna.platform.vocabulary import DispatchStatus
from kizuna.schema.dispatches import service
from kizuna.schema.dispatches.types import (
    ApplyForDispatchInput,
    DecideDispatchInput,
    EndDispatchInput,
    ExtendDispatchInput,
    HelperDispatchPayload,
    MoveDispatchToMonitoringInput,
    PlanDispatchInput,
    RecordDispatchSurveyInput,
    RecordHelperVisitInput,
    RecordHelperVisitPayload,
    ResumeDispatchInput,
    to_dispatch,
    to_visit,
)
from kizuna.schema.errors import Refused
from kizuna.schema.permissions import Operation
from kizuna.schema.writes import input_key


def _dispatch_key(global_id: str, field: str = "id") -> uuid.UUID:
    return input_key(global_id, "HelperDispatch", field=field, not_found=Message.NO_SUCH_DISPATCH)


def _provider_key(global_id: str | None) -> uuid.UUID | None:
    if global_id is None:
        return None
    return input_key(global_id, "Organization", field="providerOrganizationId", not_found=Message.NO_SUCH_ORGANISATION)


async def _answer(scope: Scope, dispatch_id: uuid.UUID) -> HelperDispatchPayload:
    row = await service.dispatch_by_id(scope.tx, dispatch_id)
    return HelperDispatchPayload(helper_dispatch=None if row is None else to_dispatch(scope, row))


async def _step(scope: Scope, global_id: str, step: Callable[[uuid.UUID], Awaitable[None]]) -> HelperDispatchPayload:
    """Decode the dispatch's id, take `step` on it, answer with the dispatch as it is now."""
    try:
        dispatch_id = _dispatch_key(global_id)
        await step(dispatch_id)
    except Refused as refusal:
        return HelperDispatchPayload.refused(refusal, scope)
    return await _answer(scope, dispatch_id)


@strawberry.type
class DispatchMutations:
    @strawberry.mutation(description="ヘルパー派遣の申請を記録する。監査記録を残す")
    async def apply_for_dispatch(self, info: Info[Scope, Any], input: ApplyForDispatchInput) -> HelperDispatchPayload:  # noqa: A002
        scope = info.context
        try:
            case_id = input_key(input.case_id, "Case", field="caseId", not_found=Message.NO_SUCH_CASE)
            dispatch_id = await service.do_apply(
                scope,
                case_id,
                applied_on=input.applied_on,
                provider_id=_provider_key(input.provider_organization_id),
                idempotency_key=input.idempotency_key,
            )
        except Refused as refusal:
            return HelperDispatchPayload.refused(refusal, scope)
        return await _answer(scope, dispatch_id)

    @strawberry.mutation(description="同行訪問・調査を記録する（申請 → 調査済み）。監査記録を残す")
    async def record_dispatch_survey(
        self,
        info: Info[Scope, Any],
        input: RecordDispatchSurveyInput,  # noqa: A002
    ) -> HelperDispatchPayload:
        scope = info.context
        return await _step(scope, input.id, lambda key: service.do_record_survey(scope, key, input.surveyed_on))

    @strawberry.mutation(description="ヘルパー派遣計画を書く（調査済み → 計画作成）。監査記録を残す")
    async def plan_dispatch(self, info: Info[Scope, Any], input: PlanDispatchInput) -> HelperDispatchPayload:  # noqa: A002
        scope = info.context

        async def plan(key: uuid.UUID) -> None:
            await service.do_plan(scope, key, input.plan, _provider_key(input.provider_organization_id))

        return await _step(scope, input.id, plan)

    @strawberry.mutation(description="派遣を決定する（計画作成 → 決定通知、期間は6か月以内）。監査記録を残す")
    async def decide_dispatch(self, info: Info[Scope, Any], input: DecideDispatchInput) -> HelperDispatchPayload:  # noqa: A002
        scope = info.context
        return await _step(
            scope,
            input.id,
            lambda key: service.do_decide(
                scope, key, decided_on=input.decided_on, period_start=input.period_start, period_end=input.period_end
            ),
        )

    @strawberry.mutation(description="派遣期間を延長する（1回の延長は6か月まで）。監査記録を残す")
    async def extend_dispatch(self, info: Info[Scope, Any], input: ExtendDispatchInput) -> HelperDispatchPayload:  # noqa: A002
        scope = info.context
        return await _step(scope, input.id, lambda key: service.do_extend(scope, key, input.extended_until))

    @strawberry.mutation(description="ヘルパーの訪問を記録する（120分まで、週1回まで、派遣期間内）。監査記録を残す")
    async def record_helper_visit(
        self,
        info: Info[Scope, Any],
        input: RecordHelperVisitInput,  # noqa: A002
    ) -> RecordHelperVisitPayload:
        scope = info.context
        try:
            new = service.NewVisit(
                dispatch_id=_dispatch_key(input.dispatch_id, "dispatchId"),
                visited_on=input.visited_on,
                minutes=input.minutes,
                tasks=input.tasks,
                activities=input.activities,
                observations=input.observations,
                idempotency_key=input.idempotency_key,
            )
            visit_id = await service.do_record_visit(scope, new)
        except Refused as refusal:
            return RecordHelperVisitPayload.refused(refusal, scope)
        visit = await service.visit_by_id(scope.tx, visit_id)
        dispatch = await service.dispatch_by_id(scope.tx, new.dispatch_id)
        return RecordHelperVisitPayload(
            helper_visit=None if visit is None else to_visit(scope, visit),
            helper_dispatch=None if dispatch is None else to_dispatch(scope, dispatch),
        )

    @strawberry.mutation(description="モニタリングに入る（派遣中 → モニタリング）。監査記録を残す")
    async def move_dispatch_to_monitoring(
        self,
        info: Info[Scope, Any],
        input: MoveDispatchToMonitoringInput,  # noqa: A002
    ) -> HelperDispatchPayload:
        scope = info.context
        op, target = Operation.MOVE_DISPATCH_TO_MONITORING, DispatchStatus.MONITORING
        return await _step(scope, input.id, lambda key: service.do_move(scope, op, key, target))

    @strawberry.mutation(description="モニタリングを終えて派遣を続ける（モニタリング → 派遣中）。監査記録を残す")
    async def resume_dispatch(self, info: Info[Scope, Any], input: ResumeDispatchInput) -> HelperDispatchPayload:  # noqa: A002
        scope = info.context
        op, target = Operation.RESUME_DISPATCH, DispatchStatus.IN_SERVICE
        return await _step(scope, input.id, lambda key: service.do_move(scope, op, key, target))

    @strawberry.mutation(description="ヘルパー派遣を終了する（申請の取り下げを含む）。監査記録を残す")
    async def end_dispatch(self, info: Info[Scope, Any], input: EndDispatchInput) -> HelperDispatchPayload:  # noqa: A002
        scope = info.context
        op, target = Operation.END_DISPATCH, DispatchStatus.ENDED
        return await _step(scope, input.id, lambda key: service.do_move(scope, op, key, target))
