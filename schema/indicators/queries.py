"""`indicators(includeRetired:)`: the caller's prefecture's indicators, for its analysts
and for municipal supervisors (their own prefecture's)."""

from __future__ import annotations

from typing import Any

import asyncpg
import strawberry
from strawberry.types import Info

from kizuna.platform.scope import Scope
from kizuna.platform.vocabulary import IndicatorFigure
from kizuna.schema.indicators import service
from kizuna.schema.indicators.types import Indicator
from kizuna.schema.permissions import Operation, require


def to_indicator(row: asyncpg.Record) -> Indicator:
    return Indicator(
        key=row["code"],
        name=row["name"],
        unit=row["unit"],
        figure=IndicatorFigure(row["figure"]),
        baseline=row["baseline"],
        baseline_fiscal_year=row["baseline_fiscal_year"],
        target=row["target"],
        target_date=row["target_date"],
        target_fiscal_year=row["target_fiscal_year"],
        counted_from_fiscal_year=row["counted_from_fiscal_year"],
        created_at=row["created_at"],
        retired_at=row["retired_at"],
    )


@strawberry.type
class IndicatorQueries:
    @strawberry.field(description="県の計画の指標（追加順）。includeRetired: true で廃止したものも")
    async def indicators(self, info: Info[Scope, Any], include_retired: bool = False) -> list[Indicator] | None:
        scope = info.context
        require(scope.caller, Operation.INDICATORS)
        return [to_indicator(r) for r in await service.indicators(scope, include_retired=include_retired)]
