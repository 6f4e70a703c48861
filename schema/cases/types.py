"""Cases and the people they are about (`Person`: schema/people/types.py)."""

from __future__ import annotations

import datetime as dt

import strawberry

from kizuna.schema.enums import CarerCategory, CaseStage
from kizuna.schema.people.types import Person
from kizuna.schema.relay import Keyset, Node, PageInfo, encode_cursor
from kizuna.schema.tenants.types import Municipality, Organization


@strawberry.type(description="ケース")
class Case(Node):
    municipality: Municipality
    stage: CaseStage
    category: CarerCategory
    opened_at: dt.datetime
    person: Person
    lead_organization: Organization | None


@strawberry.type
class CaseEdge:
    node: Case
    position: strawberry.Private[Keyset]

    @strawberry.field
    def cursor(self) -> str:
        """Made only when asked for: most pages never read their cursors."""
        return encode_cursor(self.position.at, self.position.id)


@strawberry.type(description="ケースの一覧（Relay connection）")
class CaseConnection:
    edges: list[CaseEdge]
    page_info: PageInfo
    total_count: int | None = strawberry.field(
        description="条件に合うケースの件数（選択されたときだけ数える）", default=None
    )

    @strawberry.field
    def nodes(self) -> list[Case]:
        return [edge.node for edge in self.edges]
