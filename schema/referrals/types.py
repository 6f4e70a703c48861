"""Referrals (気づき・相談) as their referrer and the municipality see them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import strawberry

from kizuna.schema.cases.types import Case
from kizuna.schema.cost import ListSize
from kizuna.schema.enums import CarerCategory, CareTask, ReferralSource, ReferralStatus, Urgency
from kizuna.schema.payloads import ONE_USER_ERROR, UserError
from kizuna.schema.relay import Keyset, Node, PageInfo, encode_cursor
from kizuna.schema.tenants.types import Organization
from kizuna.schema.writes import Payload


@strawberry.type(description="気づき・相談（紹介元は状況のみ見え、ケースは見えない）")
class Referral(Node):
    source: ReferralSource
    status: ReferralStatus
    urgency: Urgency
    noticed: str = strawberry.field(description="気づいたこと")
    child_display_name: str | None = strawberry.field(description="紹介元が記した呼び名")
    received_at: dt.datetime
    decided_at: dt.datetime | None
    referrer_organization: Organization | None
    care_tasks: list[CareTask] = strawberry.field(
        description="見られたケアの内容", directives=[ListSize(assumed_size=len(CareTask))]
    )
    family_aware: bool | None = strawberry.field(description="家族は知っているか（null: わからない）")
    decision_reason: str | None = strawberry.field(description="不受理・取消しの理由（紹介元にも見える）")


@strawberry.type
class ReferralEdge:
    node: Referral
    position: strawberry.Private[Keyset]

    @strawberry.field
    def cursor(self) -> str:
        """Made only when asked for: most pages never read their cursors."""
        return encode_cursor(self.position.at, self.position.id)


@strawberry.type(description="気づき・相談の一覧（Relay connection）")
class ReferralConnection:
    edges: Sequence[ReferralEdge]
    page_info: PageInfo
    total_count: int | None = strawberry.field(default=None, description="件数（選択されたときだけ数える）")

    @strawberry.field
    def nodes(self) -> list[Referral]:
        return [edge.node for edge in self.edges]


@strawberry.input(description="気づき・相談を送る（気づきシート）")
class CreateReferralInput:
    source: ReferralSource = strawberry.field(description="経路（学校は学校、福祉・医療機関はその経路）")
    child_display_name: str = strawberry.field(description="本人の呼び名（学年と姓など、1〜100文字）")
    noticed: str = strawberry.field(description="気づいたこと（1〜2000文字）")
    urgency: Urgency
    care_tasks: list[CareTask] = strawberry.field(default_factory=list, description="見られたケアの内容")
    family_aware: bool | None = strawberry.field(default=None, description="家族は知っているか（null: わからない）")
    idempotency_key: str | None = strawberry.field(
        default=None, description="再送しても二重に送らないためのキー（同じキーの再送は最初の結果を返す）"
    )


@strawberry.type
class CreateReferralPayload(Payload):
    referral: Referral | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list, directives=[ONE_USER_ERROR])


@strawberry.input(
    description="気づき・相談を受理する：既存のケースへ（caseId）か、新しいケースで（personId と category）"
)
class AcceptReferralInput:
    id: strawberry.ID = strawberry.field(description="気づき・相談のグローバルID")
    case_id: strawberry.ID | None = strawberry.field(default=None, description="受理先の既存ケース")
    person_id: strawberry.ID | None = strawberry.field(default=None, description="新しいケースの本人")
    category: CarerCategory | None = strawberry.field(default=None, description="新しいケースのケアラー区分")


@strawberry.type
class AcceptReferralPayload(Payload):
    referral: Referral | None = None
    case: Case | None = strawberry.field(default=None, description="受理先のケース")
    user_errors: list[UserError] = strawberry.field(default_factory=list, directives=[ONE_USER_ERROR])


@strawberry.input(description="気づき・相談を受理しない（理由は紹介元に見える）")
class DeclineReferralInput:
    id: strawberry.ID
    reason: str = strawberry.field(description="理由（1〜1000文字）")


@strawberry.input(description="同じ本人についての、受理済みの気づき・相談に統合する")
class MergeReferralInput:
    id: strawberry.ID
    into_id: strawberry.ID = strawberry.field(description="統合先（ケースに受理された気づき・相談）")


@strawberry.input(description="送った気づき・相談を取り下げる（受理される前まで、送った本人が）")
class RevokeReferralInput:
    id: strawberry.ID


@strawberry.input(description="気づき・相談を取り消す（スーパーバイザー、理由は紹介元に見える）")
class WithdrawReferralInput:
    id: strawberry.ID
    reason: str = strawberry.field(description="理由（1〜1000文字）")


@strawberry.type
class ReferralPayload(Payload):
    """What declining, merging, revoking and withdrawing answer."""

    referral: Referral | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list, directives=[ONE_USER_ERROR])
