"""`memberships(first:, after:, includeRevoked:)`."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import strawberry
from strawberry.types import Info

from kizuna.platform.scope import Scope
from kizuna.platform.vocabulary import AppRole
from kizuna.schema.cost import CONNECTION_SIZE, ListSize
from kizuna.schema.memberships import service
from kizuna.schema.memberships.types import Grantor, Membership, MembershipConnection, MembershipEdge
from kizuna.schema.permissions import Operation, require
from kizuna.schema.relay import Keyset, decode_cursor, encode_global_id, page_info, page_size, register_node
from kizuna.schema.selection import selected_names
from kizuna.schema.tenants.types import Organization


def to_membership(row: asyncpg.Record) -> Membership:
    """A membership from one row of `service.MEMBERSHIP_BY_ID` or the page statement."""
    return Membership(
        id=strawberry.ID(encode_global_id("Membership", row["id"])),
        issuer=row["issuer"],
        subject=row["subject"],
        display_name=row["display_name"],
        role=AppRole(row["role"]),
        organization=Organization.of(row["org_id"], row["org_name"], row["org_kind"]),
        municipality_code=row["municipality_code"],
        granted_at=row["granted_at"],
        revoked_at=row["revoked_at"],
        active=row["revoked_at"] is None,
        granted_by=None
        if row["granted_by_role"] is None
        else Grantor(
            issuer=row["granted_by_issuer"], subject=row["granted_by_subject"], role=AppRole(row["granted_by_role"])
        ),
    )


@strawberry.type
class MembershipQueries:
    @strawberry.field(
        description="この団体の所属（スーパーバイザーとプラットフォーム管理者のみ）", directives=[CONNECTION_SIZE]
    )
    async def memberships(
        self,
        info: Info[Scope, Any],
        first: int | None = None,
        after: str | None = None,
        include_revoked: bool = False,
    ) -> MembershipConnection | None:
        scope = info.context
        require(scope.caller, Operation.MEMBERSHIPS)
        size = page_size(first)
        keyset = decode_cursor(after)
        rows = await service.membership_page(scope.tx, first=size, after=keyset, include_revoked=include_revoked)
        total = (
            await service.membership_count(scope.tx, include_revoked=include_revoked)
            if "totalCount" in selected_names(info)
            else None
        )
        page = rows[:size]
        positions = [Keyset(r["granted_at"], r["id"]) for r in page]
        return MembershipConnection(
            edges=[MembershipEdge(node=to_membership(r), position=p) for r, p in zip(page, positions, strict=True)],
            page_info=page_info(positions, has_next_page=len(rows) > size, after=keyset),
            total_count=total,
        )

    @strawberry.field(
        description="この団体で付与できる役割（grantMembership の role に使えるもの）",
        directives=[ListSize(assumed_size=len(AppRole))],
    )
    def grantable_roles(self, info: Info[Scope, Any]) -> list[AppRole] | None:
        caller = info.context.caller
        require(caller, Operation.GRANTABLE_ROLES)
        return service.grantable_roles(caller.role, caller.municipality_code)


async def _membership_node(scope: Scope, key: uuid.UUID) -> Membership | None:
    require(scope.caller, Operation.MEMBERSHIPS)
    row = await service.membership_by_id(scope.tx, key)
    return None if row is None else to_membership(row)


register_node("Membership", tag=5, graphql_type=Membership, table="membership", resolve=_membership_node)
