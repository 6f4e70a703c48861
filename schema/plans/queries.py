"""`supportPlans(caseId:)`: a case's plans, newest version first."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import strawberry
from strawberry.types import Info

from kizuna.platform import audit
from kizuna.platform.scope import Scope
from kizuna.schema.cost import ListSize
from kizuna.schema.errors import not_found
from kizuna.schema.permissions import Operation, require
from kizuna.schema.plans import service
from kizuna.schema.plans.types import SupportPlan
from kizuna.schema.relay import decode_global_id, encode_global_id, register_node


def to_plan(scope: Scope, row: asyncpg.Record) -> SupportPlan:
    """A plan as the answer shows it; its read is audited here."""
    audit.record_reads(scope, "support_plan", (row["id"],))
    return SupportPlan(
        id=strawberry.ID(encode_global_id("SupportPlan", row["id"])),
        case_id=strawberry.ID(encode_global_id("Case", row["case_id"])),
        version=row["version"],
        goals=row["goals"],
        period_start=row["period_start"],
        period_end=row["period_end"],
        created_at=row["created_at"],
    )


@strawberry.type
class PlanQueries:
    @strawberry.field(
        description="ケースの支援計画（新しい版から）", directives=[ListSize(assumed_size=service.MAX_PLANS_LISTED)]
    )
    async def support_plans(self, info: Info[Scope, Any], case_id: strawberry.ID) -> list[SupportPlan] | None:
        scope = info.context
        require(scope.caller, Operation.SUPPORT_PLANS)
        type_name, key = decode_global_id(case_id)
        if type_name != "Case":
            raise not_found()
        return [to_plan(scope, r) for r in await service.plans_of_case(scope.tx, key)]


async def _plan_node(scope: Scope, key: uuid.UUID) -> SupportPlan | None:
    require(scope.caller, Operation.SUPPORT_PLANS)
    row = await service.plan_by_id(scope.tx, key)
    return None if row is None else to_plan(scope, row)


register_node("SupportPlan", tag=7, graphql_type=SupportPlan, table="support_plan", resolve=_plan_node)
