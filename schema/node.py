"""`node(id:)`: one resolver per type, each going through the tenant's transaction."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import strawberry
from strawberry.types import Info

from kizuna.schema.cases import service as cases
from kizuna.schema.cases.queries import to_case
from kizuna.schema.cases.types import Person
from kizuna.schema.context import Context
from kizuna.schema.errors import not_found
from kizuna.schema.memberships import service as memberships
from kizuna.schema.memberships.queries import to_membership
from kizuna.schema.permissions import CASE_READERS, MEMBERSHIP_MANAGERS, REFERRAL_READERS, require
from kizuna.schema.referrals import service as referrals
from kizuna.schema.referrals.queries import to_referral
from kizuna.schema.relay import Node, decode_global_id, encode_global_id
from kizuna.schema.tenants import service as tenants
from kizuna.schema.tenants.types import Organization


async def _case(ctx: Context, key: uuid.UUID) -> Node | None:
    require(ctx.principal, CASE_READERS)
    row = await cases.case_by_id(ctx.tx, key)
    return None if row is None else to_case(row)


async def _person(ctx: Context, key: uuid.UUID) -> Node | None:
    require(ctx.principal, CASE_READERS)
    row = await cases.person_by_id(ctx.tx, key)
    if row is None:
        return None
    return Person(
        id=strawberry.ID(encode_global_id("Person", row["id"])),
        family_name=row["family_name"],
        given_name=row["given_name"],
    )


async def _referral(ctx: Context, key: uuid.UUID) -> Node | None:
    require(ctx.principal, REFERRAL_READERS)
    row = await referrals.referral_by_id(ctx.tx, key)
    return None if row is None else to_referral(row)


async def _organization(ctx: Context, key: uuid.UUID) -> Node | None:
    row = (await tenants.organisations_by_id(ctx.tx, [key])).get(key)
    if row is None:
        return None
    return Organization.of(row["id"], row["name"], row["kind"])


async def _membership(ctx: Context, key: uuid.UUID) -> Node | None:
    require(ctx.principal, MEMBERSHIP_MANAGERS)
    row = await memberships.membership_by_id(ctx.tx, key)
    return None if row is None else to_membership(row)


RESOLVERS: dict[str, Callable[[Context, uuid.UUID], Awaitable[Node | None]]] = {
    "Case": _case,
    "Person": _person,
    "Referral": _referral,
    "Organization": _organization,
    "Membership": _membership,
}


@strawberry.type
class NodeQueries:
    @strawberry.field(description="グローバルIDで任意のオブジェクトを取得する（Relay）")
    async def node(self, info: Info[Context, Any], id: strawberry.ID) -> Node | None:  # noqa: A002
        type_name, key = decode_global_id(id)
        resolver = RESOLVERS.get(type_name)
        node = None if resolver is None else await resolver(info.context, key)
        if node is None:
            raise not_found()
        return node
