"""The prefecture's figures in GraphQL: counts per municipality and in total, by fiscal year.

Nothing here is about a person: no ID of any tenant object, no name, no row-level field
(tests/test_stats_graphql.py walks these types in the SDL). A table is its columns and one
row per municipality (and the total), each row's values in the columns' order, and why
each missing value is missing: lists of scalars, so that a whole prefecture's table costs
few resolved fields. A trend is each year's total row only: a chart over every year need
not resolve every row of every year.
"""

from __future__ import annotations

import datetime as dt

import strawberry

from kizuna.schema.cost import ListSize, ObjectCost
from kizuna.schema.enums import graphql_enum
from kizuna.schema.stats import fiscal_years
from kizuna.schema.stats.figures import CellStatus, Figure
from kizuna.schema.tenants.types import MOST_MUNICIPALITIES

graphql_enum(Figure, "集計表の種類")
graphql_enum(CellStatus, "値を表示するか、しない理由（0 は 0 として表示する）")


# Not capped: the years the figures were computed for, an estimate (a prefecture's plan
# runs five years; two plans).
FISCAL_YEARS_ASSUMED = 10
# The categories of a figure (its enum's members) and the total.
COLUMNS_ASSUMED = 20
# A value, and the cells of a published table (read with it): nothing of their own to read.
VALUE = ObjectCost(weight=0)


@strawberry.type(description="年度（4月〜3月）。西暦と和暦の表記つき", directives=[VALUE])
class FiscalYear:
    year: int = strawberry.field(description="西暦の年度（2024 は 2024年4月〜2025年3月）")

    @strawberry.field(description="西暦の表記（例: 2024年度）")
    def western(self) -> str:
        return fiscal_years.western_label(self.year)

    @strawberry.field(description="和暦の表記（例: 令和6年度）")
    def japanese(self) -> str:
        return fiscal_years.japanese_label(self.year)


@strawberry.type(description="集計表の列", directives=[VALUE])
class StatsColumn:
    category: str = strawberry.field(description="区分の識別子（例: young_carer）")
    label: str = strawberry.field(description="区分の名称")


@strawberry.type(description="表示しない値とその理由", directives=[VALUE])
class StatsWithheld:
    column: int | None = strawberry.field(description="列の位置（0 から。行の合計は null）")
    status: CellStatus


@strawberry.type(description="集計表の行：一つの市町村、または県全体の合計", directives=[VALUE])
class StatsRow:
    municipality_code: str | None = strawberry.field(description="地方公共団体コード（合計の行は null）")
    values: list[int | None] = strawberry.field(
        description="列の順の値（秘匿・未報告は null。0 は 0）", directives=[ListSize(assumed_size=COLUMNS_ASSUMED)]
    )
    total: int | None = strawberry.field(description="行の合計（秘匿のとき、また合計のない表では null）")
    withheld: list[StatsWithheld] = strawberry.field(
        description="表示しない値（null の値と合計）とその理由", directives=[ListSize(assumed_size=COLUMNS_ASSUMED + 1)]
    )


@strawberry.type(description="一年度の集計表")
class StatsTable:
    figure: Figure
    label: str = strawberry.field(description="集計表の名称")
    fiscal_year: FiscalYear
    columns: list[StatsColumn] = strawberry.field(directives=[ListSize(assumed_size=COLUMNS_ASSUMED)])
    rows: list[StatsRow] = strawberry.field(directives=[ListSize(assumed_size=MOST_MUNICIPALITIES)])


@strawberry.type(description="相談受理から最初のケース検討会議までの日数の中央値", directives=[VALUE])
class StatsMedian:
    municipality_code: str | None = strawberry.field(description="地方公共団体コード（合計は null）")
    days: float | None = strawberry.field(description="中央値（日）。元のケースがk件未満なら null")
    status: CellStatus


@strawberry.type(description="一年度の中央値")
class StatsMedians:
    fiscal_year: FiscalYear
    medians: list[StatsMedian] = strawberry.field(directives=[ListSize(assumed_size=MOST_MUNICIPALITIES)])


@strawberry.type(
    description="推移の一年度：その年度の集計表の合計の行（県の担当者は県全体の合計、市町村のスーパーバイザーは自団体の行）",
    directives=[VALUE],
)
class StatsTrendYear:
    fiscal_year: FiscalYear
    values: list[int | None] = strawberry.field(
        description="列の順の合計（秘匿・未報告は null。0 は 0）", directives=[ListSize(assumed_size=COLUMNS_ASSUMED)]
    )
    total: int | None = strawberry.field(description="合計の行の合計（秘匿のとき、また合計のない表では null）")
    withheld: list[StatsWithheld] = strawberry.field(
        description="表示しない値（null の値と合計）とその理由", directives=[ListSize(assumed_size=COLUMNS_ASSUMED + 1)]
    )


@strawberry.type(description="集計表の年度別の推移：各年度の表の合計の行だけ（表と同じ値、同じ秘匿）")
class StatsTrend:
    figure: Figure
    label: str = strawberry.field(description="集計表の名称")
    columns: list[StatsColumn] = strawberry.field(directives=[ListSize(assumed_size=COLUMNS_ASSUMED)])
    years: list[StatsTrendYear] = strawberry.field(
        description="集計のある年度ごと（古い順）", directives=[ListSize(assumed_size=FISCAL_YEARS_ASSUMED)]
    )


@strawberry.type(description="県全体の集計（個人を特定する情報は含まない）")
class PrefectureStats:
    computed_at: dt.datetime | None = strawberry.field(
        description="集計した日時（県の閲覧では公表中の版の集計日時。締めた年度は最後の版の日時。未集計なら null）"
    )
    next_edition_at: dt.datetime | None = strawberry.field(
        description="次の版（公表値の更新）の予定日時（締めた年度は更新なし。秘匿のない閲覧・未集計では null）"
    )
    threshold: int | None = strawberry.field(description="秘匿の基準 k（1〜k-1 件は秘匿。秘匿のない閲覧では null）")
    unsuppressed: bool = strawberry.field(description="秘匿なし（市町村のスーパーバイザーが自団体を見るとき）")
    fiscal_years: list[FiscalYear] = strawberry.field(
        description="集計のある年度（推移の軸。引数 fiscalYears・latestFiscalYear によらずすべて）",
        directives=[ListSize(assumed_size=FISCAL_YEARS_ASSUMED)],
    )
    tables: list[StatsTable] = strawberry.field(
        description="引数の年度の集計表", directives=[ListSize(assumed_size=len(Figure) * FISCAL_YEARS_ASSUMED)]
    )
    medians: list[StatsMedians] = strawberry.field(
        description="引数の年度の中央値", directives=[ListSize(assumed_size=FISCAL_YEARS_ASSUMED)]
    )
    trends: list[StatsTrend] = strawberry.field(
        description="集計表ごとの推移（集計のあるすべての年度の合計の行）",
        directives=[ListSize(assumed_size=len(Figure))],
    )
