"""`approvals(status:, first:, after:)` (what waits for a supervisor) and
`notifications(first:, after:)` (the decisions on the caller's own requests)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg
import strawberry
from strawberry.dataloader import DataLoader
from strawberry.types import Info

from kizuna.platform.scope import Scope
from kizuna.platform.vocabulary import ApprovalStatus, ApprovalSubject
from kizuna.schema.approvals import service
from kizuna.schema.approvals.types import Approval, ApprovalConnection, ApprovalEdge
from kizuna.schema.cost import CONNECTION_SIZE
from kizuna.schema.permissions import Operation, require
from kizuna.schema.relay import Keyset, decode_cursor, encode_global_id, page_info, page_size, register_node


def to_approval(row: asyncpg.Record) -> Approval:
    return Approval(
        id=strawberry.ID(encode_global_id("Approval", row["id"])),
        case_id=strawberry.ID(encode_global_id("Case", row["case_id"])),
        subject=ApprovalSubject(row["subject"]),
        status=ApprovalStatus(row["status"]),
        requested_at=row["requested_at"],
        decided_at=row["decided_at"],
        comment=row["comment"],
    )


def _connection(rows: list[asyncpg.Record], size: int, keyset: Keyset | None, at: str) -> ApprovalConnection:
    page = rows[:size]
    positions = [Keyset(r[at], r["id"]) for r in page]
    return ApprovalConnection(
        edges=[ApprovalEdge(node=to_approval(r), position=p) for r, p in zip(page, positions, strict=True)],
        page_info=page_info(positions, has_next_page=len(rows) > size, after=keyset),
    )


@strawberry.type
class ApprovalQueries:
    @strawberry.field(
        description="このテナントの承認依頼（新しい順）。status: REQUESTED で判断待ち", directives=[CONNECTION_SIZE]
    )
    async def approvals(
        self,
        info: Info[Scope, Any],
        status: ApprovalStatus | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> ApprovalConnection | None:
        scope = info.context
        require(scope.caller, Operation.APPROVALS)
        size, keyset = page_size(first), decode_cursor(after)
        rows = await service.approval_page(scope.tx, first=size, after=keyset, status=status)
        return _connection(rows, size, keyset, "requested_at")

    @strawberry.field(description="自分が依頼した承認の判断（承認・差戻し、新しい順）", directives=[CONNECTION_SIZE])
    async def notifications(
        self, info: Info[Scope, Any], first: int | None = None, after: str | None = None
    ) -> ApprovalConnection | None:
        scope = info.context
        require(scope.caller, Operation.NOTIFICATIONS)
        size, keyset = page_size(first), decode_cursor(after)
        mine = str(scope.caller.user_id)
        rows = await service.approval_page(scope.tx, first=size, after=keyset, requested_by=mine)
        return _connection(rows, size, keyset, "decided_at")


def _approvals_of_cases(scope: Scope) -> DataLoader[uuid.UUID, list[asyncpg.Record]]:
    """The request's loader: the cases of an answer asking for their approvals are read together."""

    async def load(case_ids: Sequence[uuid.UUID]) -> list[list[asyncpg.Record]]:
        found: dict[uuid.UUID, list[asyncpg.Record]] = {key: [] for key in case_ids}
        for row in await service.approvals_of(scope.tx, case_ids):
            found[row["case_id"]].append(row)
        return [found[key] for key in case_ids]

    return DataLoader(load_fn=load)


async def case_approvals(scope: Scope, case_id: uuid.UUID) -> list[Approval]:
    """`Case.approvals`: for the roles that may list approvals (`approvals`), as that does."""
    require(scope.caller, Operation.APPROVALS)
    return [to_approval(row) for row in await scope.per_request(_approvals_of_cases).load(case_id)]


async def _approval_node(scope: Scope, key: uuid.UUID) -> Approval | None:
    require(scope.caller, Operation.APPROVALS)
    row = await scope.tx.fetchrow(service.APPROVAL_BY_ID, key)
    return None if row is None else to_approval(row)


register_node("Approval", tag=6, graphql_type=Approval, table="approval", resolve=_approval_node)
