"""`assignCase`: a supervisor names who works a case (worker, coordinator, lead
organisation), written into its history and audited; a broken rule writes nothing."""

from __future__ import annotations

import uuid
from typing import Any

import strawberry
from strawberry.types import Info

from kizuna.platform.i18n import Message
from kizuna.platform.scope import Scope
from kizuna.schema.cases import service
from kizuna.schema.cases.queries import to_case
from kizuna.schema.cases.types import AssignCaseInput, AssignCasePayload
from kizuna.schema.errors import Refused
from kizuna.schema.writes import input_key


@strawberry.type
class CaseMutations:
    @strawberry.mutation(
        description="ケースの担当者・コーディネーター・主担当機関を決める（スーパーバイザー）。監査記録を残す"
    )
    async def assign_case(self, info: Info[Scope, Any], input: AssignCaseInput) -> AssignCasePayload:  # noqa: A002
        scope = info.context
        try:
            case_id = input_key(input.id, "Case", field="id", not_found=Message.NO_SUCH_CASE)
            assignment = service.Assignment(
                worker_membership_id=_membership(input.worker_membership_id, "workerMembershipId"),
                coordinator_membership_id=_membership(input.coordinator_membership_id, "coordinatorMembershipId"),
                lead_organisation_id=None
                if input.lead_organization_id is None
                else input_key(
                    input.lead_organization_id,
                    "Organization",
                    field="leadOrganizationId",
                    not_found=Message.NO_SUCH_ORGANISATION,
                ),
            )
            await service.do_assign_case(scope, case_id, assignment, input.reason)
        except Refused as refusal:
            return AssignCasePayload.refused(refusal, scope)
        row = await service.case_by_id(scope.tx, case_id)
        return AssignCasePayload(case=None if row is None else to_case(scope, row))


def _membership(global_id: strawberry.ID | None, field: str) -> uuid.UUID | None:
    if global_id is None:
        return None
    return input_key(global_id, "Membership", field=field, not_found=Message.NO_SUCH_MEMBERSHIP)
