"""`indicators(includeRetired:)`: the caller's prefecture's indicators, with the values the
stats refresh computed and their progress, for its analysts and for municipal supervisors
(their own prefecture's; not which other municipalities are missing)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg
import strawberry
from strawberry.types import Info

from kizuna.platform.scope import Scope
from kizuna.platform.vocabulary import IndicatorFigure
from kizuna.schema.cases.workflow import today
from kizuna.schema.cost import ListSize
from kizuna.schema.indicators import service
from kizuna.schema.indicators.types import Indicator, IndicatorCoverage, IndicatorValue
from kizuna.schema.permissions import Operation, require
from kizuna.schema.stats import indicator_values
from kizuna.schema.stats.types import FiscalYear

INDICATORS_ASSUMED = 50


def to_value(indicator: asyncpg.Record, row: asyncpg.Record) -> IndicatorValue:
    value, baseline, target = row["value"], indicator["baseline"], indicator["target"]
    return IndicatorValue(
        fiscal_year=FiscalYear(year=row["fiscal_year"]),
        value=value,
        computed_at=row["computed_at"],
        coverage=None
        if row["reported"] is None
        else IndicatorCoverage(
            reported=row["reported"], municipalities=row["municipalities"], not_reported=row["not_reported"]
        ),
        progress=indicator_values.progress(value, baseline=baseline, target=target),
        target_reached=indicator_values.target_reached(value, baseline=baseline, target=target),
    )


def to_indicator(row: asyncpg.Record, values: Sequence[asyncpg.Record] = ()) -> Indicator:
    """`values` oldest first; a retired indicator shows none (the next refresh drops them)."""
    found = [] if row["retired_at"] is not None else [to_value(row, v) for v in values]
    deadline = indicator_values.deadline(row["target_date"], row["target_fiscal_year"])
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
        deadline=deadline,
        deadline_passed=today() > deadline,
        current_value=found[-1] if found else None,
        values=found,
    )


@strawberry.type
class IndicatorQueries:
    @strawberry.field(
        description="県の計画の指標（追加順）。includeRetired: true で廃止したものも",
        directives=[ListSize(assumed_size=INDICATORS_ASSUMED)],  # not capped: an estimate (a plan's)
    )
    async def indicators(self, info: Info[Scope, Any], include_retired: bool = False) -> list[Indicator] | None:
        scope = info.context
        require(scope.caller, Operation.INDICATORS)
        rows = await service.indicators(scope, include_retired=include_retired)
        values = await service.values(scope)
        return [to_indicator(r, values.get(r["code"], ())) for r in rows]
