"""Memberships: who may act in this tenant, in which role, for which organisation."""

from __future__ import annotations

import datetime as dt

import strawberry

from kizuna.schema.enums import AppRole
from kizuna.schema.payloads import ONE_USER_ERROR, UserError
from kizuna.schema.relay import Keyset, Node, PageInfo, encode_cursor
from kizuna.schema.tenants.types import Organization
from kizuna.schema.writes import Payload


@strawberry.type(description="所属を付与した利用者と、そのときの役割")
class Grantor:
    issuer: str = strawberry.field(description="付与した利用者のIdP（iss）")
    subject: str = strawberry.field(description="付与した利用者の識別子（sub）")
    role: AppRole = strawberry.field(description="付与したときの役割（プラットフォーム管理者による付与もここでわかる）")


@strawberry.type(description="所属（利用者がこの団体で、どの役割・機関として働けるか）")
class Membership(Node):
    issuer: str = strawberry.field(description="利用者を認証するIdP（iss）")
    subject: str = strawberry.field(description="IdPでの利用者の識別子（sub）")
    display_name: str = strawberry.field(description="表示名")
    role: AppRole
    organization: Organization
    municipality_code: str = strawberry.field(description="所属する団体の全国地方公共団体コード")
    granted_at: dt.datetime
    revoked_at: dt.datetime | None
    active: bool = strawberry.field(description="取り消されていない")
    granted_by: Grantor | None = strawberry.field(
        description="付与（再付与）した利用者。団体の開設時に登録されたものは null"
    )


@strawberry.type
class MembershipEdge:
    node: Membership
    position: strawberry.Private[Keyset]

    @strawberry.field
    def cursor(self) -> str:
        """Made only when asked for: most pages never read their cursors."""
        return encode_cursor(self.position.at, self.position.id)


@strawberry.type(description="所属の一覧（Relay connection、付与の新しい順）")
class MembershipConnection:
    edges: list[MembershipEdge]
    page_info: PageInfo
    total_count: int | None = strawberry.field(default=None, description="件数（選択されたときだけ数える）")

    @strawberry.field
    def nodes(self) -> list[Membership]:
        return [edge.node for edge in self.edges]


@strawberry.input(description="所属の付与")
class GrantMembershipInput:
    issuer: str = strawberry.field(description="利用者を認証するIdP（iss）。この環境が信頼するものに限る")
    subject: str = strawberry.field(description="IdPでの利用者の識別子（sub）")
    display_name: str = strawberry.field(description="表示名")
    role: AppRole
    organization_id: strawberry.ID = strawberry.field(description="所属機関のグローバルID（この団体の機関）")
    idempotency_key: str | None = strawberry.field(
        default=None, description="再送しても二重に付与しないためのキー（同じキーの再送は最初の結果を返す）"
    )


@strawberry.type
class GrantMembershipPayload(Payload):
    membership: Membership | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list, directives=[ONE_USER_ERROR])


@strawberry.input(description="所属の取消し")
class RevokeMembershipInput:
    id: strawberry.ID = strawberry.field(description="所属のグローバルID")


@strawberry.type
class RevokeMembershipPayload(Payload):
    membership: Membership | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list, directives=[ONE_USER_ERROR])
