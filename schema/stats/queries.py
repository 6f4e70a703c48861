"""`prefectureStats(figures:, fiscalYears:)`: the figures across every municipality for a
prefecture's analyst, suppressed; a municipality's own, unsuppressed, for its supervisor."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from kizuna.platform.scope import Scope
from kizuna.schema.permissions import Operation, require
from kizuna.schema.stats import service
from kizuna.schema.stats.figures import CATEGORIES, Figure
from kizuna.schema.stats.types import (
    FiscalYear,
    PrefectureStats,
    StatsColumn,
    StatsMedian,
    StatsMedians,
    StatsRow,
    StatsTable,
    StatsWithheld,
)


def _area(code: str) -> str | None:
    return None if code == service.TOTAL else code


def to_stats(found: service.Overview) -> PrefectureStats:
    return PrefectureStats(
        computed_at=found.computed_at,
        threshold=found.k,
        unsuppressed=found.unsuppressed,
        fiscal_years=[FiscalYear(year=y) for y in found.fiscal_years],
        tables=[
            StatsTable(
                figure=t.figure,
                label=t.figure.label,
                fiscal_year=FiscalYear(year=t.fiscal_year),
                columns=[StatsColumn(category=c, label=label) for c, label in CATEGORIES[t.figure].items()],
                rows=[
                    StatsRow(
                        municipality_code=_area(r.area),
                        values=r.values,
                        total=r.total,
                        withheld=[StatsWithheld(column=column, status=status) for column, status in r.withheld],
                    )
                    for r in t.rows
                ],
            )
            for t in found.tables
        ],
        medians=[
            StatsMedians(
                fiscal_year=FiscalYear(year=year),
                medians=[
                    StatsMedian(
                        municipality_code=_area(m.area), days=None if m.days is None else float(m.days), status=m.status
                    )
                    for m in cells
                ],
            )
            for year, cells in found.medians.items()
        ],
    )


@strawberry.type
class StatsQueries:
    @strawberry.field(
        description="県全体の集計：市町村別と合計、年度別（県の担当者。市町村のスーパーバイザーは自団体を秘匿なしで）"
    )
    async def prefecture_stats(
        self,
        info: Info[Scope, Any],
        figures: list[Figure] | None = None,
        fiscal_years: list[int] | None = None,
    ) -> PrefectureStats | None:
        scope = info.context
        require(scope.caller, Operation.PREFECTURE_STATS)
        found = await service.overview(scope.tx, scope.role, figures or list(Figure), fiscal_years)
        return to_stats(found)
