"""`grantMembership(input:)` and `revokeMembership(input:)`: audited, in the request's
transaction; a broken rule is a user error and writes nothing."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import strawberry
from strawberry.types import Info

from kizuna.platform.i18n import Message
from kizuna.schema.context import Context
from kizuna.schema.errors import CodedError, Refused, UserErrorCode
from kizuna.schema.memberships import service
from kizuna.schema.memberships.queries import to_membership
from kizuna.schema.memberships.types import (
    GrantMembershipInput,
    GrantMembershipPayload,
    RevokeMembershipInput,
    RevokeMembershipPayload,
)
from kizuna.schema.payloads import user_error
from kizuna.schema.permissions import MEMBERSHIP_MANAGERS, require
from kizuna.schema.relay import decode_global_id


def _key(global_id: str, type_name: str, field: str, not_found: Message) -> uuid.UUID:
    """The row id in a global id. An id of another type is refused like an unknown id."""
    try:
        found_type, key = decode_global_id(global_id)
    except CodedError:
        raise Refused(UserErrorCode.BAD_USER_INPUT, field, Message.MALFORMED_ID) from None
    if found_type != type_name:
        raise Refused(UserErrorCode.NOT_FOUND, field, not_found)
    return key


def _changed(ctx: Context, row: asyncpg.Record) -> None:
    """Tell the sign-in cache that this user's memberships changed."""
    if ctx.membership_changed is not None:
        ctx.membership_changed(row["issuer"], row["subject"])


@strawberry.type
class MembershipMutations:
    @strawberry.mutation(description="所属を付与する（未登録の利用者は登録する）。監査記録を残す")
    async def grant_membership(
        self,
        info: Info[Context, Any],
        input: GrantMembershipInput,  # noqa: A002  (Relay's name for a mutation's one argument)
    ) -> GrantMembershipPayload:
        ctx = info.context
        require(ctx.principal, MEMBERSHIP_MANAGERS)
        try:
            organisation_id = _key(
                input.organization_id, "Organization", "organizationId", Message.NO_SUCH_ORGANISATION
            )
            grant = service.Grant(
                issuer=input.issuer,
                subject=input.subject,
                display_name=input.display_name,
                role=input.role,
                organisation_id=organisation_id,
                idempotency_key=input.idempotency_key,
            )
            outcome = await service.do_grant_membership(ctx.tx, grant, trusted_issuers=ctx.trusted_issuers)
        except Refused as refusal:
            return GrantMembershipPayload(membership=None, user_errors=[user_error(refusal, ctx.language)])
        if outcome.changed:
            _changed(ctx, outcome.membership)
        return GrantMembershipPayload(membership=to_membership(outcome.membership), user_errors=[])

    @strawberry.mutation(description="所属を取り消す（次のリクエストから使えない）。監査記録を残す")
    async def revoke_membership(
        self,
        info: Info[Context, Any],
        input: RevokeMembershipInput,  # noqa: A002
    ) -> RevokeMembershipPayload:
        ctx = info.context
        require(ctx.principal, MEMBERSHIP_MANAGERS)
        try:
            key = _key(input.id, "Membership", "id", Message.NO_SUCH_MEMBERSHIP)
            outcome = await service.do_revoke_membership(ctx.tx, key)
        except Refused as refusal:
            return RevokeMembershipPayload(membership=None, user_errors=[user_error(refusal, ctx.language)])
        _changed(ctx, outcome.membership)
        return RevokeMembershipPayload(membership=to_membership(outcome.membership), user_errors=[])
