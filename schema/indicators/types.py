"""The indicators of a prefecture's plan: baseline and target; what measures each."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import strawberry

from kizuna.schema.cost import ListSize
from kizuna.schema.enums import IndicatorFigure
from kizuna.schema.payloads import ONE_USER_ERROR, UserError
from kizuna.schema.stats.types import FISCAL_YEARS_ASSUMED, FiscalYear
from kizuna.schema.tenants.types import MOST_MUNICIPALITIES
from kizuna.schema.writes import Payload


@strawberry.type(description="値に含まれる市町村（承認済みの数値だけを数える）")
class IndicatorCoverage:
    reported: int = strawberry.field(description="その年度の数値が承認済みの市町村の数")
    municipalities: int = strawberry.field(description="県内の市町村の数（埼玉県は63、高知県は34）")
    not_reported: list[str] | None = strawberry.field(
        description="未提出・未承認・差戻しの市町村の地方公共団体コード（県の担当者のみ。スーパーバイザーには null）",
        directives=[ListSize(assumed_size=MOST_MUNICIPALITIES)],
    )


@strawberry.type(description="指標の一年度の値と、目標への進捗（集計時に計算）")
class IndicatorValue:
    fiscal_year: FiscalYear = strawberry.field(description="値の年度（累計ならその年度まで）")
    value: Decimal = strawberry.field(description="値")
    computed_at: dt.datetime = strawberry.field(description="集計した日時")
    coverage: IndicatorCoverage | None = strawberry.field(
        description="値に含まれる市町村（県が自ら行う認知度調査の値では null）"
    )
    progress: Decimal | None = strawberry.field(
        description="進捗率（%）：(値 − 基準値) ÷ (目標値 − 基準値) × 100。基準値がなければ 値 ÷ 目標値 × 100。"
        "100 を超えることも、0 を下回ることもある。目標値が基準値と同じなら null"
    )
    target_reached: bool = strawberry.field(description="目標値に達した（基準値より低い目標は下回ったとき）")


@strawberry.type(
    description="県の計画の指標（基準値、目標値と目標の期日）と、集計した現在値・進捗。廃止しても削除せず残す"
)
class Indicator:
    key: str = strawberry.field(description="指標のキー（県内で一意、変わらない）")
    name: str
    unit: str
    figure: IndicatorFigure = strawberry.field(description="指標を測る数値")
    baseline: Decimal | None = strawberry.field(description="基準値")
    baseline_fiscal_year: int | None = strawberry.field(description="基準値の年度（西暦）")
    target: Decimal = strawberry.field(description="目標値")
    target_date: dt.date | None = strawberry.field(description="目標の期日")
    target_fiscal_year: int | None = strawberry.field(description="目標の年度（西暦、その年度末まで）")
    counted_from_fiscal_year: int | None = strawberry.field(description="累計の目標が数え始める年度（西暦）")
    created_at: dt.datetime
    retired_at: dt.datetime | None = strawberry.field(description="廃止した日時（廃止していなければ null）")
    deadline: dt.date = strawberry.field(description="目標の期日（targetDate、なければ目標年度の末日）")
    deadline_passed: bool = strawberry.field(description="目標の期日を過ぎた（日本時間の今日が期日の翌日以降）")
    current_value: IndicatorValue | None = strawberry.field(
        description="現在値：値のある最新の年度の値。まだ集計していない指標、廃止した指標は null"
    )
    values: list[IndicatorValue] = strawberry.field(
        description="年度別の値（古い順、推移）。廃止した指標は空",
        directives=[ListSize(assumed_size=FISCAL_YEARS_ASSUMED)],
    )


@strawberry.input(
    description="県の指標を追加する（県の担当者、自分の県に）。キーが同じ同一内容の再送は最初の指標を返す"
)
class AddIndicatorInput:
    key: str = strawberry.field(description="英小文字で始まる2〜40文字（英小文字・数字・_）")
    name: str
    unit: str
    figure: IndicatorFigure
    target: Decimal
    target_date: dt.date | None = None
    target_fiscal_year: int | None = None
    baseline: Decimal | None = None
    baseline_fiscal_year: int | None = None
    counted_from_fiscal_year: int | None = None


@strawberry.input(description="県の指標を廃止する（削除はしない）")
class RetireIndicatorInput:
    key: str


@strawberry.type
class IndicatorPayload(Payload):
    indicator: Indicator | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list, directives=[ONE_USER_ERROR])
