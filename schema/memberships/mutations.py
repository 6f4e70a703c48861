"""`grantMembership(input:)` and `revokeMembership(input:)`: audited, in the request's
transaction; a broken rule is a user error and writes nothing."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from kizuna.platform.i18n import Message
from kizuna.platform.scope import Scope
from kizuna.schema.errors import Refused
from kizuna.schema.memberships import service
from kizuna.schema.memberships.queries import to_membership
from kizuna.schema.memberships.types import (
    GrantMembershipInput,
    GrantMembershipPayload,
    RevokeMembershipInput,
    RevokeMembershipPayload,
)
from kizuna.schema.permissions import Operation, require
from kizuna.schema.writes import input_key


@strawberry.type
class MembershipMutations:
    @strawberry.mutation(description="所属を付与する（未登録の利用者は登録する）。監査記録を残す")
    async def grant_membership(
        self,
        info: Info[Scope, Any],
        input: GrantMembershipInput,  # noqa: A002  (Relay's name for a mutation's one argument)
    ) -> GrantMembershipPayload:
        scope = info.context
        require(scope.caller, Operation.GRANT_MEMBERSHIP)
        try:
            grant = service.Grant(
                issuer=input.issuer,
                subject=input.subject,
                display_name=input.display_name,
                role=input.role,
                organisation_id=input_key(
                    input.organization_id,
                    "Organization",
                    field="organizationId",
                    not_found=Message.NO_SUCH_ORGANISATION,
                ),
                idempotency_key=input.idempotency_key,
            )
            membership = await service.do_grant_membership(scope, grant)
        except Refused as refusal:
            return GrantMembershipPayload.refused(refusal, scope)
        return GrantMembershipPayload(membership=to_membership(membership))

    @strawberry.mutation(description="所属を取り消す（次のリクエストから使えない）。監査記録を残す")
    async def revoke_membership(
        self,
        info: Info[Scope, Any],
        input: RevokeMembershipInput,  # noqa: A002
    ) -> RevokeMembershipPayload:
        scope = info.context
        require(scope.caller, Operation.REVOKE_MEMBERSHIP)
        try:
            key = input_key(input.id, "Membership", field="id", not_found=Message.NO_SUCH_MEMBERSHIP)
            membership = await service.do_revoke_membership(scope, key)
        except Refused as refusal:
            return RevokeMembershipPayload.refused(refusal, scope)
        return RevokeMembershipPayload(membership=to_membership(membership))
