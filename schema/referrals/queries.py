"""`referrals(first:, after:, status:)`."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import asyncpg
import strawberry
from strawberry.types import Info

from kizuna.platform.scope import Scope
from kizuna.platform.vocabulary import CareTask, ReferralSource, ReferralStatus, Urgency
from kizuna.schema.cost import CONNECTION_SIZE
from kizuna.schema.permissions import Operation, require
from kizuna.schema.referrals import service
from kizuna.schema.referrals.types import Referral, ReferralConnection, ReferralEdge
from kizuna.schema.relay import Keyset, decode_cursor, encode_global_id, page_info, page_size, register_node
from kizuna.schema.selection import selected_names
from kizuna.schema.tenants.types import Organization


def to_referral(row: asyncpg.Record) -> Referral:
    org_id = row["org_id"]
    return Referral(
        id=strawberry.ID(encode_global_id("Referral", row["id"])),
        source=ReferralSource(row["source"]),
        status=ReferralStatus(row["status"]),
        urgency=Urgency(row["urgency"]),
        noticed=row["noticed"],
        child_display_name=row["child_display_name"],
        received_at=row["received_at"],
        decided_at=row["decided_at"],
        referrer_organization=None if org_id is None else Organization.of(org_id, row["org_name"], row["org_kind"]),
        care_tasks=[CareTask(t) for t in row["care_tasks"]],
        family_aware=row["family_aware"],
        decision_reason=row["decision_reason"],
    )


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
        rows = await service.referral_page(scope.tx, first=size, after=keyset, status=status)
        counted = "totalCount" in selected_names(info)
        total = await service.referral_count(scope.tx, status) if counted else None
        page = rows[:size]
        positions = [Keyset(r["received_at"], r["id"]) for r in page]
        return ReferralConnection(
            edges=[ReferralEdge(node=to_referral(r), position=p) for r, p in zip(page, positions, strict=True)],
            page_info=page_info(positions, has_next_page=len(rows) > size, after=keyset),
            total_count=total,
        )


async def _referral_node(scope: Scope, key: uuid.UUID) -> Referral | None:
    require(scope.caller, Operation.REFERRALS)
    row = await service.referral_by_id(scope.tx, key)
    return None if row is None else to_referral(row)


register_node("Referral", tag=3, graphql_type=Referral, table="referral", resolve=_referral_node)
