"""Support plans: versioned, each taking effect once a supervisor approved it."""

from __future__ import annotations

import datetime as dt

import strawberry

from kizuna.schema.relay import Node


@strawberry.type(description="支援計画（版ごと、スーパーバイザーの承認で有効）")
class SupportPlan(Node):
    case_id: strawberry.ID = strawberry.field(description="ケースのグローバルID")
    version: int = strawberry.field(description="版（1から）")
    goals: str = strawberry.field(description="目標")
    period_start: dt.date
    period_end: dt.date
    created_at: dt.datetime
