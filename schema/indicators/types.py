"""The indicators of a prefecture's plan: baseline and target; what measures each."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import strawberry

from kizuna.schema.enums import IndicatorFigure
from kizuna.schema.payloads import UserError
from kizuna.schema.writes import Payload


@strawberry.type(
    description="県の計画の指標（基準値、目標値と目標の期日）。廃止しても削除せず残す。"
    "現在値と進捗は、数値の集計（stats）ができてから"
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
    user_errors: list[UserError] = strawberry.field(default_factory=list)
