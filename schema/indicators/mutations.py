"""`addIndicator` and `retireIndicator`: the prefecture's analyst keeps its own
prefecture's indicators; each audited in the request's transaction."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from kizuna.platform.scope import Scope
from kizuna.schema.errors import Refused
from kizuna.schema.indicators import service
from kizuna.schema.indicators.queries import to_indicator
from kizuna.schema.indicators.types import AddIndicatorInput, IndicatorPayload, RetireIndicatorInput


@strawberry.type
class IndicatorMutations:
    @strawberry.mutation(description="県の計画に指標を追加する（県の担当者）。監査記録を残す")
    async def add_indicator(
        self,
        info: Info[Scope, Any],
        input: AddIndicatorInput,  # noqa: A002  (Relay's name for a mutation's one argument)
    ) -> IndicatorPayload:
        scope = info.context
        new = service.NewIndicator(
            code=input.key,
            name=input.name,
            unit=input.unit,
            figure=input.figure,
            baseline=input.baseline,
            baseline_fiscal_year=input.baseline_fiscal_year,
            target=input.target,
            target_date=input.target_date,
            target_fiscal_year=input.target_fiscal_year,
            counted_from_fiscal_year=input.counted_from_fiscal_year,
        )
        try:
            row = await service.do_add_indicator(scope, new)
        except Refused as refusal:
            return IndicatorPayload.refused(refusal, scope)
        return IndicatorPayload(indicator=to_indicator(row))

    @strawberry.mutation(description="県の指標を廃止する（削除はせず、履歴を残す）。監査記録を残す")
    async def retire_indicator(
        self,
        info: Info[Scope, Any],
        input: RetireIndicatorInput,  # noqa: A002
    ) -> IndicatorPayload:
        scope = info.context
        try:
            row = await service.do_retire_indicator(scope, input.key)
        except Refused as refusal:
            return IndicatorPayload.refused(refusal, scope)
        return IndicatorPayload(indicator=to_indicator(row))
