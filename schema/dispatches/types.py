"""Helper dispatches and their visits as the answer shows them, and the inputs and
payloads of the dispatch's steps."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import asyncpg
import strawberry
from strawberry.types import Info

from kizuna.platform import audit
from kizuna.platform.scope import Scope
from kizuna.schema.cost import ListSize
from kizuna.schema.dispatches.loaders import DispatchLoaders
from kizuna.schema.dispatches.service import MAX_VISITS_OF_DISPATCH
from kizuna.schema.enums import CareTask, DispatchStatus
from kizuna.schema.payloads import ONE_USER_ERROR, UserError
from kizuna.schema.relay import Node, encode_global_id
from kizuna.schema.tenants.types import Organization
from kizuna.schema.writes import Payload


@strawberry.type(description="ヘルパーの訪問（1回120分まで、ISO週（月曜〜日曜）に1回まで、派遣期間内）")
class HelperVisit(Node):
    dispatch_id: strawberry.ID = strawberry.field(description="ヘルパー派遣のグローバルID")
    case_id: strawberry.ID = strawberry.field(description="ケースのグローバルID")
    visited_on: dt.date = strawberry.field(description="訪問日")
    minutes: int = strawberry.field(description="訪問の時間（分、1〜120）")
    tasks: list[CareTask] = strawberry.field(
        description="行った支援（家事・育児支援の範囲）", directives=[ListSize(assumed_size=len(CareTask))]
    )
    activities: str | None = strawberry.field(description="行った支援の内容（文章）")
    observations: str | None = strawberry.field(
        description="ヘルパーが気づいたこと（世帯の様子の変化、家族からの相談）"
    )


@strawberry.type(
    description="子育て世帯ヘルパー派遣：申請 → 同行訪問・調査 → 派遣計画 → 決定通知 → 派遣 ⇄ モニタリング → 終了"
)
class HelperDispatch(Node):
    case_id: strawberry.ID = strawberry.field(description="ケースのグローバルID")
    status: DispatchStatus
    provider: Organization | None = strawberry.field(description="派遣事業者（受託事業者）")
    applied_on: dt.date = strawberry.field(description="申請日")
    surveyed_on: dt.date | None = strawberry.field(description="同行訪問・調査の日")
    plan: str | None = strawberry.field(description="ヘルパー派遣計画")
    decided_on: dt.date | None = strawberry.field(description="派遣決定（決定通知）の日")
    period_start: dt.date | None = strawberry.field(description="派遣期間の初日")
    period_end: dt.date | None = strawberry.field(description="決定された派遣期間の最終日（6か月以内）")
    extended_until: dt.date | None = strawberry.field(description="延長後の最終日（延長したとき）")
    key: strawberry.Private[uuid.UUID]

    @strawberry.field(
        description=f"訪問（新しい順、最大{MAX_VISITS_OF_DISPATCH}件）",
        directives=[ListSize(assumed_size=MAX_VISITS_OF_DISPATCH)],
    )
    async def visits(self, info: Info[Scope, Any]) -> list[HelperVisit]:
        scope = info.context
        rows = await scope.per_request(DispatchLoaders).visits_of_dispatch.load(self.key)
        return [to_visit(scope, row) for row in rows]


def to_dispatch(scope: Scope, row: asyncpg.Record) -> HelperDispatch:
    """A dispatch from a row of `service._COLUMNS`; its read is audited here."""
    audit.record_reads(scope, "helper_dispatch", (row["id"],))
    provider = row["provider_id"]
    return HelperDispatch(
        id=strawberry.ID(encode_global_id("HelperDispatch", row["id"])),
        key=row["id"],
        case_id=strawberry.ID(encode_global_id("Case", row["case_id"])),
        status=DispatchStatus(row["status"]),
        provider=None if provider is None else Organization.of(provider, row["provider_name"], row["provider_kind"]),
        applied_on=row["applied_on"],
        surveyed_on=row["survey_visit_on"],
        plan=row["plan"],
        decided_on=row["decided_on"],
        period_start=row["period_start"],
        period_end=row["period_end"],
        extended_until=row["extended_until"],
    )


def to_visit(scope: Scope, row: asyncpg.Record) -> HelperVisit:
    """A visit from a row of `service._VISIT_COLUMNS`; its read is audited here."""
    audit.record_reads(scope, "helper_visit", (row["id"],))
    return HelperVisit(
        id=strawberry.ID(encode_global_id("HelperVisit", row["id"])),
        dispatch_id=strawberry.ID(encode_global_id("HelperDispatch", row["dispatch_id"])),
        case_id=strawberry.ID(encode_global_id("Case", row["case_id"])),
        visited_on=row["visited_on"],
        minutes=row["minutes"],
        tasks=[CareTask(t) for t in row["tasks"]],
        activities=row["activities"],
        observations=row["observations"],
    )


@strawberry.input(description="ヘルパー派遣の申請を記録する（地区センターが受理した申請書）")
class ApplyForDispatchInput:
    case_id: strawberry.ID
    applied_on: dt.date = strawberry.field(description="申請日")
    provider_organization_id: strawberry.ID | None = strawberry.field(
        description="派遣事業者（ホームヘルプ事業者。派遣計画のときにも指定できる）", default=None
    )
    idempotency_key: str | None = strawberry.field(
        description="再送しても二重に申請しないためのキー（1〜200文字）", default=None
    )


@strawberry.input(description="同行訪問・調査（事業者とヤングケアラーコーディネーター）を記録する")
class RecordDispatchSurveyInput:
    id: strawberry.ID
    surveyed_on: dt.date = strawberry.field(description="調査の日（申請日以降）")


@strawberry.input(description="調査結果をもとにヘルパー派遣計画を書く")
class PlanDispatchInput:
    id: strawberry.ID
    plan: str = strawberry.field(description="派遣計画（1〜2000文字）")
    provider_organization_id: strawberry.ID | None = strawberry.field(
        description="派遣事業者（申請のときに指定しなかった、または変えるとき）", default=None
    )


@strawberry.input(description="派遣を決定する（決定通知）")
class DecideDispatchInput:
    id: strawberry.ID
    decided_on: dt.date = strawberry.field(description="決定の日（調査の日以降）")
    period_start: dt.date = strawberry.field(description="派遣期間の初日（決定の日以降）")
    period_end: dt.date = strawberry.field(description="派遣期間の最終日（初日から6か月以内）")


@strawberry.input(description="派遣期間を延長する")
class ExtendDispatchInput:
    id: strawberry.ID
    extended_until: dt.date = strawberry.field(description="延長後の最終日（今の最終日から6か月以内）")


@strawberry.input(description="モニタリングに入る")
class MoveDispatchToMonitoringInput:
    id: strawberry.ID


@strawberry.input(description="モニタリングを終えて派遣を続ける")
class ResumeDispatchInput:
    id: strawberry.ID


@strawberry.input(description="ヘルパー派遣を終了する（申請の取り下げを含む）")
class EndDispatchInput:
    id: strawberry.ID


@strawberry.input(description="ヘルパーの訪問を記録する（事業者からの報告）")
class RecordHelperVisitInput:
    dispatch_id: strawberry.ID
    visited_on: dt.date = strawberry.field(description="訪問日（派遣期間内、同じ週に1回まで）")
    minutes: int = strawberry.field(description="訪問の時間（分、1〜120）")
    tasks: list[CareTask] = strawberry.field(description="行った支援（家事、きょうだいの世話、見守り）")
    observations: str | None = strawberry.field(description="ヘルパーが気づいたこと（1〜2000文字）", default=None)
    activities: str | None = strawberry.field(description="行った支援の内容（1〜2000文字）", default=None)
    idempotency_key: str | None = strawberry.field(
        description="再送しても二重に記録しないためのキー（1〜200文字）", default=None
    )


@strawberry.type
class HelperDispatchPayload(Payload):
    helper_dispatch: HelperDispatch | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list, directives=[ONE_USER_ERROR])


@strawberry.type
class RecordHelperVisitPayload(Payload):
    helper_visit: HelperVisit | None = None
    helper_dispatch: HelperDispatch | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list, directives=[ONE_USER_ERROR])
