"""`prefectureStats(figures:, fiscalYears:, latestFiscalYear:)`: the figures across every
municipality for a prefecture's analyst, suppressed; a municipality's own, unsuppressed,
for its supervisor. Only the parts selected (tables, medians, trends) are read."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from kizuna.platform.scope import Scope
from kizuna.schema.permissions import Operation, require
from kizuna.schema.selection import selected_names
from kizuna.schema.stats import service
from kizuna.schema.stats.figures import CATEGORIES, Figure
from kizuna.schema.stats.fiscal_years import fiscal_year_argument
from kizuna.schema.stats.types import (
    FiscalYear,
    PrefectureStats,
    StatsColumn,
    StatsMedian,
    StatsMedians,
    StatsRow,
    StatsTable,
    StatsTrend,
    StatsTrendYear,
    StatsWithheld,
)


def _area(code: str) -> str | None:
    return None if code == service.TOTAL else code


def _withheld(row: service.Row) -> list[StatsWithheld]:
    return [StatsWithheld(column=column, status=status) for column, status in row.withheld]


def _columns(figure: Figure) -> list[StatsColumn]:
    return [StatsColumn(category=c, label=label) for c, label in CATEGORIES[figure].items()]


def to_stats(found: service.Overview) -> PrefectureStats:
    return PrefectureStats(
        computed_at=found.computed_at,
        next_edition_at=found.next_edition_at,
        threshold=found.k,
        unsuppressed=found.unsuppressed,
        fiscal_years=[FiscalYear(year=y) for y in found.fiscal_years],
        tables=[
            StatsTable(
                figure=t.figure,
                label=t.figure.label,
                fiscal_year=FiscalYear(year=t.fiscal_year),
                columns=_columns(t.figure),
                rows=[
                    StatsRow(municipality_code=_area(r.area), values=r.values, total=r.total, withheld=_withheld(r))
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
        trends=[
            StatsTrend(
                figure=t.figure,
                label=t.figure.label,
                columns=_columns(t.figure),
                years=[
                    StatsTrendYear(
                        fiscal_year=FiscalYear(year=year), values=r.values, total=r.total, withheld=_withheld(r)
                    )
                    for year, r in t.years
                ],
            )
            for t in found.trends
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
        fiscal_years: Annotated[
            list[int] | None, strawberry.argument(description="集計表と中央値の年度（省略ならすべて）")
        ] = None,
        latest_fiscal_year: Annotated[
            bool, strawberry.argument(description="true なら集計表と中央値はその中の最新の年度だけ")
        ] = False,
    ) -> PrefectureStats | None:
        scope = info.context
        require(scope.caller, Operation.PREFECTURE_STATS)
        selected = selected_names(info)
        asked = service.Asked(
            figures=figures or list(Figure),
            fiscal_years=None
            if fiscal_years is None
            else [fiscal_year_argument(y, argument="fiscalYears") for y in fiscal_years],
            latest=latest_fiscal_year,
            tables="tables" in selected,
            medians="medians" in selected,
            trends="trends" in selected,
        )
        return to_stats(await service.overview(scope.tx, scope.role, asked))
