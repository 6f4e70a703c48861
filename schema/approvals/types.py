"""Approvals of a case's support plan or closure, and what moving a case answers."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import strawberry

from kizuna.schema.enums import ApprovalStatus, ApprovalSubject, CaseStage
from kizuna.schema.payloads import ONE_USER_ERROR, UserError
from kizuna.schema.relay import Keyset, Node, PageInfo, encode_cursor
from kizuna.schema.writes import Payload

if TYPE_CHECKING:  # Case lists its approvals: the type is resolved when the schema is built
    from kizuna.schema.cases.types import Case


@strawberry.type(description="承認依頼（支援計画・終結）：依頼 → 承認、または理由を付けて差戻し")
class Approval(Node):
    case_id: strawberry.ID = strawberry.field(description="ケースのグローバルID")
    subject: ApprovalSubject
    status: ApprovalStatus
    requested_at: dt.datetime
    decided_at: dt.datetime | None
    comment: str | None = strawberry.field(description="差戻しの理由、承認の所見")


@strawberry.type
class ApprovalEdge:
    node: Approval
    position: strawberry.Private[Keyset]

    @strawberry.field
    def cursor(self) -> str:
        """Made only when asked for: most pages never read their cursors."""
        return encode_cursor(self.position.at, self.position.id)


@strawberry.type(description="承認依頼の一覧（Relay connection）")
class ApprovalConnection:
    edges: list[ApprovalEdge]
    page_info: PageInfo

    @strawberry.field
    def nodes(self) -> list[Approval]:
        return [edge.node for edge in self.edges]


@strawberry.input(description="ケースを次の段階へ進める（流れにない移動と、承認のない移動は受け付けない）")
class MoveCaseStageInput:
    id: strawberry.ID = strawberry.field(description="ケースのグローバルID")
    to_stage: CaseStage
    reason: str | None = strawberry.field(default=None, description="理由・経緯（1〜1000文字）")


@strawberry.type
class MoveCaseStagePayload(Payload):
    case: Annotated[Case, strawberry.lazy("kizuna.schema.cases.types")] | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list, directives=[ONE_USER_ERROR])


@strawberry.input(description="支援計画か終結の承認をスーパーバイザーに依頼する")
class RequestApprovalInput:
    case_id: strawberry.ID
    subject: ApprovalSubject
    support_plan_id: strawberry.ID | None = strawberry.field(default=None, description="承認を求める支援計画")


@strawberry.input(description="承認依頼を承認する、または理由を付けて差し戻す（依頼した本人以外のスーパーバイザー）")
class DecideApprovalInput:
    id: strawberry.ID
    approve: bool
    comment: str | None = strawberry.field(default=None, description="差戻しの理由（差戻しでは必須）、所見")


@strawberry.type
class ApprovalPayload(Payload):
    approval: Approval | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list, directives=[ONE_USER_ERROR])
