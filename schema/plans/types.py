"""Support plans: versioned, each taking effect once a supervisor approved it."""

from __future__ import annotations

import datetime as dt

import strawberry

from kizuna.schema.payloads import ONE_USER_ERROR, UserError
from kizuna.schema.relay import Node
from kizuna.schema.writes import Payload


@strawberry.type(description="支援計画（版ごと、スーパーバイザーの承認で有効）")
class SupportPlan(Node):
    case_id: strawberry.ID = strawberry.field(description="ケースのグローバルID")
    version: int = strawberry.field(description="版（1から）")
    goals: str = strawberry.field(description="目標")
    period_start: dt.date
    period_end: dt.date
    created_at: dt.datetime


@strawberry.input(description="ケースの支援計画の次の版を書く（スーパーバイザーの承認で有効）")
class CreateSupportPlanInput:
    case_id: strawberry.ID
    goals: str = strawberry.field(description="目標（1〜4000文字）")
    period_start: dt.date
    period_end: dt.date = strawberry.field(description="終了日（開始日から1年以内）")
    idempotency_key: str | None = strawberry.field(
        default=None, description="再送しても二重に書かないためのキー（同じキーの再送は最初の版を返す。1〜200文字）"
    )


@strawberry.type
class CreateSupportPlanPayload(Payload):
    support_plan: SupportPlan | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list, directives=[ONE_USER_ERROR])
