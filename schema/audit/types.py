"""The audit log as a supervisor reads it."""

from __future__ import annotations

import datetime as dt

import strawberry

from kizuna.schema.cost import MAX_COST, ListSize
from kizuna.schema.enums import AppRole
from kizuna.schema.relay import PageInfo

# The columns of a table that an event names (a read event names the ones it showed).
FIELDS_ASSUMED = 50


@strawberry.type(description="操作した利用者")
class AuditActor:
    issuer: str = strawberry.field(description="利用者を認証したIdP（iss）")
    subject: str = strawberry.field(description="IdPでの利用者の識別子（sub）")


@strawberry.input(description="操作した利用者（AuditActor と同じく IdP と識別子で指定）")
class AuditActorInput:
    issuer: str = strawberry.field(description="利用者を認証したIdP（iss）")
    subject: str = strawberry.field(description="IdPでの利用者の識別子（sub）")


@strawberry.type(description="監査記録の1件（変更・閲覧の記録。改ざんできないよう団体ごとに連鎖している）")
class AuditEvent:
    seq: int | None = strawberry.field(description="この団体の記録の通し番号（連鎖に封印されるまでは null）")
    occurred_at: dt.datetime
    action: str = strawberry.field(description="操作（例: membership.grant）")
    entity: str = strawberry.field(description="対象の種類（例: membership）")
    entity_id: strawberry.ID | None = strawberry.field(description="変更の対象のグローバルID（対象が Node のとき）")
    entity_ids: list[strawberry.ID] = strawberry.field(
        description="閲覧の記録が挙げる対象のグローバルID（そのリクエストが読んだこの種類の対象すべて、各1回）",
        # A request reads at most what its cost admitted.
        directives=[ListSize(assumed_size=MAX_COST)],
    )
    fields: list[str] = strawberry.field(
        description="変更・閲覧した項目", directives=[ListSize(assumed_size=FIELDS_ASSUMED)]
    )
    role: AppRole = strawberry.field(description="操作したときの役割")
    actor: AuditActor | None = strawberry.field(description="操作した利用者")
    request_id: str = strawberry.field(description="リクエストID（エラー報告やログとの照合に使う）")


@strawberry.type
class AuditEventEdge:
    node: AuditEvent
    cursor: str


@strawberry.type(description="監査記録の一覧（Relay connection、新しい順）")
class AuditEventConnection:
    edges: list[AuditEventEdge]
    page_info: PageInfo

    @strawberry.field
    def nodes(self) -> list[AuditEvent]:
        return [edge.node for edge in self.edges]
