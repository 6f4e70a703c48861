"""`helperVisits(from:, to:)`, and `node(id:)` for dispatches and visits."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from kizuna.platform.scope import Scope
from kizuna.schema.cost import ListSize
from kizuna.schema.dispatches import service
from kizuna.schema.dispatches.types import HelperDispatch, HelperVisit, to_dispatch, to_visit
from kizuna.schema.errors import bad_input
from kizuna.schema.permissions import Operation, require
from kizuna.schema.relay import register_node


@strawberry.type
class DispatchQueries:
    @strawberry.field(
        description=f"この期間（1か月まで）のヘルパーの訪問（訪問日の順、最大{service.MAX_VISITS_LISTED}件）。今週の訪問の確認などに",
        directives=[ListSize(assumed_size=service.MAX_VISITS_LISTED)],
    )
    async def helper_visits(
        self,
        info: Info[Scope, Any],
        from_: Annotated[dt.date, strawberry.argument(name="from", description="この日から（含む）")],
        to: Annotated[dt.date, strawberry.argument(description="この日まで（含む、fromから31日以内）")],
    ) -> list[HelperVisit] | None:
        scope = info.context
        require(scope.caller, Operation.HELPER_VISITS)
        if not service.visit_range_ok(from_, to):
            raise bad_input(f"`to` must be on or after `from`, at most {service.MAX_VISIT_RANGE.days} days later.")
        return [to_visit(scope, row) for row in await service.visits_between(scope.tx, from_, to)]


async def _dispatch_node(scope: Scope, key: uuid.UUID) -> HelperDispatch | None:
    require(scope.caller, Operation.NODE_HELPER_DISPATCH)
    row = await service.dispatch_by_id(scope.tx, key)
    return None if row is None else to_dispatch(scope, row)


async def _visit_node(scope: Scope, key: uuid.UUID) -> HelperVisit | None:
    require(scope.caller, Operation.NODE_HELPER_VISIT)
    row = await service.visit_by_id(scope.tx, key)
    return None if row is None else to_visit(scope, row)


register_node("HelperDispatch", tag=40, graphql_type=HelperDispatch, table="helper_dispatch", resolve=_dispatch_node)
register_node("HelperVisit", tag=41, graphql_type=HelperVisit, table="helper_visit", resolve=_visit_node)
