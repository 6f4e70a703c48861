"""Referrals (気づき・相談) as their referrer and the municipality see them."""

from __future__ import annotations

import datetime as dt

import strawberry

from kizuna.schema.enums import ReferralSource, ReferralStatus, Urgency
from kizuna.schema.relay import Keyset, Node, PageInfo, encode_cursor
from kizuna.schema.tenants.types import Organization


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
    edges: list[ReferralEdge]
    page_info: PageInfo
    total_count: int | None = strawberry.field(default=None, description="件数（選択されたときだけ数える）")

    @strawberry.field
    def nodes(self) -> list[Referral]:
        return [edge.node for edge in self.edges]
