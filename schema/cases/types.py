"""Cases and the people they are about (`Person`: schema/people/types.py)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

import strawberry
from strawberry.types import Info

from kizuna.platform.scope import Scope
from kizuna.schema.approvals import queries as approvals
from kizuna.schema.approvals.service import MAX_OF_CASE
from kizuna.schema.approvals.types import Approval
from kizuna.schema.cases import history
from kizuna.schema.cost import CONNECTION_SIZE, ListSize
from kizuna.schema.dispatches.loaders import DispatchLoaders
from kizuna.schema.dispatches.service import MAX_DISPATCHES_LISTED
from kizuna.schema.dispatches.types import HelperDispatch, to_dispatch
from kizuna.schema.enums import CarerCategory, CaseEventKind, CaseStage, RiskLevel
from kizuna.schema.payloads import ONE_USER_ERROR, UserError
from kizuna.schema.people.types import Person
from kizuna.schema.permissions import Operation, require
from kizuna.schema.records import queries as records
from kizuna.schema.records.service import MAX_RECORDS
from kizuna.schema.records.types import Assessment, ContactLogConnection, Meeting
from kizuna.schema.relay import DEFAULT_PAGE_SIZE, Keyset, Node, PageInfo, encode_cursor, page_size
from kizuna.schema.tenants.types import Municipality, Organization
from kizuna.schema.writes import Payload


@strawberry.type(description="ケースの担当者（担当になったときの表示名）")
class CaseStaff:
    display_name: str = strawberry.field(description="表示名")


@strawberry.type(description="ケースの経過の1件（追記のみ。誰が・いつ・なぜ）")
class CaseEvent:
    kind: CaseEventKind
    from_stage: CaseStage | None = strawberry.field(description="移動前の段階（段階の移動のとき）")
    to_stage: CaseStage | None = strawberry.field(description="移動後の段階（開始・段階の移動・再開のとき）")
    actor_name: str | None = strawberry.field(description="記録した人（そのときの表示名。自動の記録は null）")
    reason: str | None = strawberry.field(description="理由・経緯")
    occurred_at: dt.datetime


@strawberry.type(description="ケース")
class Case(Node):
    key: strawberry.Private[uuid.UUID]
    municipality: Municipality
    stage: CaseStage
    category: CarerCategory = strawberry.field(
        description="ケアラー区分（ヤングケアラーは18歳の誕生日から若者ケアラー。同じケースのまま）"
    )
    opened_at: dt.datetime
    closed_at: dt.datetime | None
    risk_level: RiskLevel
    person: Person
    lead_organization: Organization | None
    assigned_worker: CaseStaff | None = strawberry.field(description="担当者")
    coordinator: CaseStaff | None = strawberry.field(description="コーディネーター")

    @strawberry.field(
        description="ケースの経過（開始・段階の移動・承認・担当・区分の変更、古い順）。"
        "last: 新しいほうから何件か（0〜100、既定50）",
        directives=[ListSize(assumed_size=DEFAULT_PAGE_SIZE, slicing_arguments=["last"])],
    )
    async def history(self, info: Info[Scope, Any], last: int | None = None) -> list[CaseEvent]:
        size = page_size(last, argument="last")
        rows = await info.context.per_request(history.loader).load((self.key, size))
        return [
            CaseEvent(
                kind=CaseEventKind(row["kind"]),
                from_stage=None if row["from_stage"] is None else CaseStage(row["from_stage"]),
                to_stage=None if row["to_stage"] is None else CaseStage(row["to_stage"]),
                actor_name=row["actor_name"],
                reason=row["reason"],
                occurred_at=row["occurred_at"],
            )
            for row in rows
        ]

    # Loaded for every case of the page at once (one statement each), only when asked for.
    @strawberry.field(
        description=f"ヘルパー派遣（新しい申請から、最大{MAX_DISPATCHES_LISTED}件）",
        directives=[ListSize(assumed_size=MAX_DISPATCHES_LISTED)],
    )
    async def dispatches(self, info: Info[Scope, Any]) -> list[HelperDispatch]:
        scope = info.context
        require(scope.caller, Operation.NODE_HELPER_DISPATCH)
        rows = await scope.per_request(DispatchLoaders).dispatches_of_case.load(self.key)
        return [to_dispatch(scope, row) for row in rows]

    @strawberry.field(description="終了していないヘルパー派遣（なければ null）")
    async def open_dispatch(self, info: Info[Scope, Any]) -> HelperDispatch | None:
        scope = info.context
        require(scope.caller, Operation.NODE_HELPER_DISPATCH)
        row = await scope.per_request(DispatchLoaders).open_dispatch_of_case.load(self.key)
        return None if row is None else to_dispatch(scope, row)

    @strawberry.field(
        description="このケースの承認依頼（依頼の新しい順、最大100件。承認依頼を一覧できるロールだけ、ほかは null）",
        directives=[ListSize(assumed_size=MAX_OF_CASE)],
    )
    async def approvals(self, info: Info[Scope, Any]) -> list[Approval] | None:
        return await approvals.case_approvals(info.context, self.key)

    # Each read for every case of the answer at once (schema/records/loaders.py).
    @strawberry.field(
        description="アセスメント（新しい順、最大100件）", directives=[ListSize(assumed_size=MAX_RECORDS)]
    )
    async def assessments(self, info: Info[Scope, Any]) -> list[Assessment]:
        return await records.case_assessments(info.context, self.key)

    @strawberry.field(description="会議（新しい順、最大100件）", directives=[ListSize(assumed_size=MAX_RECORDS)])
    async def meetings(self, info: Info[Scope, Any]) -> list[Meeting]:
        return await records.case_meetings(info.context, self.key)

    @strawberry.field(description="直近の会議（開催日の新しいもの）")
    async def latest_meeting(self, info: Info[Scope, Any]) -> Meeting | None:
        return await records.case_latest_meeting(info.context, self.key)

    @strawberry.field(description="支援記録（新しい順）", directives=[CONNECTION_SIZE])
    async def contact_logs(
        self, info: Info[Scope, Any], first: int | None = None, after: str | None = None
    ) -> ContactLogConnection:
        return await records.case_contact_logs(info.context, self.key, first=first, after=after)


@strawberry.type
class CaseEdge:
    node: Case
    position: strawberry.Private[Keyset]

    @strawberry.field
    def cursor(self) -> str:
        """Made only when asked for: most pages never read their cursors."""
        return encode_cursor(self.position.at, self.position.id)


@strawberry.type(description="ある段階のケースの件数")
class CaseStageCount:
    stage: CaseStage
    count: int


@strawberry.type(description="ケースの一覧（Relay connection）")
class CaseConnection:
    edges: Sequence[CaseEdge]
    page_info: PageInfo
    total_count: int | None = strawberry.field(
        description="条件に合うケースの件数（選択されたときだけ数える）", default=None
    )
    stage_counts: list[CaseStageCount] | None = strawberry.field(
        description="条件に合うケースの段階別の件数（すべての段階を流れの順に、0件も。選択されたときだけ数える）",
        default=None,
        directives=[ListSize(assumed_size=len(CaseStage))],  # every stage, once
    )

    @strawberry.field
    def nodes(self) -> list[Case]:
        return [edge.node for edge in self.edges]


@strawberry.input(description="ケースの担当を決める（スーパーバイザー）。指定しなかったものは変わらない")
class AssignCaseInput:
    id: strawberry.ID = strawberry.field(description="ケースのグローバルID")
    worker_membership_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="担当者の所属（Membership）のグローバルID（ケースワーカー・コーディネーター・スーパーバイザー）",
    )
    coordinator_membership_id: strawberry.ID | None = strawberry.field(
        default=None, description="コーディネーターの所属（Membership）のグローバルID"
    )
    lead_organization_id: strawberry.ID | None = strawberry.field(
        default=None, description="主担当機関のグローバルID（この団体の機関）"
    )
    reason: str | None = strawberry.field(default=None, description="理由・経緯（1〜1000文字）")


@strawberry.type
class AssignCasePayload(Payload):
    case: Case | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list, directives=[ONE_USER_ERROR])
