"""`referrals(first:, after:, status:)`."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Annotated, Any

import asyncpg
import strawberry
from strawberry.types import Info

from kizuna.platform import audit
from kizuna.platform.scope import Scope
from kizuna.platform.vocabulary import CareTask, ReferralSource, ReferralStatus, Urgency
from kizuna.schema.cost import CONNECTION_SIZE
from kizuna.schema.permissions import Operation, require
from kizuna.schema.referrals import service
from kizuna.schema.referrals.types import Referral, ReferralConnection, ReferralEdge
from kizuna.schema.relay import (
    SHOWS_ROWS,
    Keyset,
    decode_cursor,
    global_id_in_row,
    page_info,
    page_size,
    register_node,
)
from kizuna.schema.rows import Nested, Rows, RowShape, column, member
from kizuna.schema.selection import selected_names
from kizuna.schema.tenants.types import organization_in_row


def _care_tasks(row: asyncpg.Record, _context: None) -> list[CareTask]:
    return [CareTask(task) for task in row["care_tasks"]]


REFERRAL_IN_ROW: RowShape[Referral] = RowShape(
    Referral,
    {
        "id": global_id_in_row("Referral", "id"),
        "source": member(ReferralSource, "source"),
        "status": member(ReferralStatus, "status"),
        "urgency": member(Urgency, "urgency"),
        "noticed": column("noticed"),
        "child_display_name": column("child_display_name"),
        "received_at": column("received_at"),
        "decided_at": column("decided_at"),
        "referrer_organization": organization_in_row("org_id", "org_name", "org_kind"),
        "care_tasks": _care_tasks,
        "family_aware": column("family_aware"),
        "decision_reason": column("decision_reason"),
    },
)
"""A referral from a row of the referral statements (service)."""

EDGE_IN_ROW: RowShape[ReferralEdge] = RowShape(
    ReferralEdge,
    {"node": Nested(REFERRAL_IN_ROW), "position": lambda row, _context: Keyset(row["received_at"], row["id"])},
)


def to_referral(scope: Scope, row: asyncpg.Record) -> Referral:
    """A referral from one row of the referral statements. It becomes part of the answer
    here, so its read is audited here (a referral names a child and what was noticed)."""
    _record_reads(scope, (row,))
    return REFERRAL_IN_ROW.build(row)


def _record_reads(scope: Scope, rows: Sequence[asyncpg.Record]) -> None:
    audit.record_reads(scope, "referral", [row["id"] for row in rows])


@strawberry.type
class ReferralQueries:
    @strawberry.field(description="気づき・相談（新しい順。学校・機関は自機関の分だけ）", directives=[CONNECTION_SIZE])
    async def referrals(
        self,
        info: Info[Scope, Any],
        first: int | None = None,
        after: str | None = None,
        status: Annotated[
            ReferralStatus | None, strawberry.argument(description="この状況のものだけ（SUBMITTED で受付待ち）")
        ] = None,
    ) -> ReferralConnection | None:
        scope = info.context
        require(scope.caller, Operation.REFERRALS)
        size = page_size(first)
        keyset = decode_cursor(after)
        selected = selected_names(info)
        counted = "totalCount" in selected
        rows = []
        if not selected.isdisjoint(SHOWS_ROWS):  # a count alone reads no referral
            rows = await service.referral_page(scope.tx, first=size, after=keyset, status=status, with_count=counted)
        total = None
        if counted:  # in the page's own statement; no page, or an empty one, counts on its own
            total = rows[0]["total_count"] if rows else await service.referral_count(scope.tx, status)
        page = rows[:size]
        _record_reads(scope, page)
        positions = [Keyset(r["received_at"], r["id"]) for r in page[:1] + page[-1:]]  # the page's ends
        return ReferralConnection(
            edges=Rows(EDGE_IN_ROW, page),
            page_info=page_info(positions, has_next_page=len(rows) > size, after=keyset),
            total_count=total,
        )


async def _referral_node(scope: Scope, key: uuid.UUID) -> Referral | None:
    require(scope.caller, Operation.REFERRALS)
    row = await service.referral_by_id(scope.tx, key)
    return None if row is None else to_referral(scope, row)


register_node("Referral", tag=3, graphql_type=Referral, table="referral", resolve=_referral_node)
