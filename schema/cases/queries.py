"""`cases(first:, after:, stage:, category:, assignedToMe:)`."""

from __future__ import annotations

import datetime as dt
import uuid
from functools import lru_cache
from typing import Annotated, Any

import asyncpg
import strawberry
from strawberry.types import Info

from kizuna.platform import audit
from kizuna.platform.scope import Scope
from kizuna.platform.vocabulary import CarerCategory, CaseStage, RiskLevel
from kizuna.schema.cases import service, workflow
from kizuna.schema.cases.types import Case, CaseConnection, CaseEdge, CaseStaff, CaseStageCount
from kizuna.schema.cost import CONNECTION_SIZE
from kizuna.schema.people.types import Person
from kizuna.schema.permissions import Operation, require
from kizuna.schema.relay import Keyset, decode_cursor, encode_global_id, page_info, page_size, register_node
from kizuna.schema.selection import selected_names
from kizuna.schema.tenants.types import Municipality, Organization
from kizuna.tenants.registry import by_code


def to_case(scope: Scope, row: asyncpg.Record, *, today: dt.date | None = None) -> Case:
    """A case from one row of the page statement: plain data, no per-field resolver. The
    case and its person become part of the answer here, so their reads are audited here.

    The category is the one the case holds today: a young carer who turned 18 is a young
    adult carer from that day on, before `kizuna cases come-of-age` writes it down."""
    audit.record_reads(scope, "case", (row["id"],))
    audit.record_reads(scope, "person", (row["person_id"],))
    org_id = row["org_id"]
    worker, coordinator = row["assigned_worker_name"], row["coordinator_name"]
    return Case(
        id=strawberry.ID(encode_global_id("Case", row["id"])),
        key=row["id"],
        municipality=tenant_municipality(row["municipality_code"]),
        stage=CaseStage(row["stage"]),
        category=category_of(row, today or workflow.today()),
        opened_at=row["opened_at"],
        closed_at=row["closed_at"],
        risk_level=RiskLevel(row["risk_level"]),
        assigned_worker=None if worker is None else CaseStaff(display_name=worker),
        coordinator=None if coordinator is None else CaseStaff(display_name=coordinator),
        person=Person(
            id=strawberry.ID(encode_global_id("Person", row["person_id"])),
            family_name=row["family_name"],
            given_name=row["given_name"],
        ),
        lead_organization=None if org_id is None else Organization.of(org_id, row["org_name"], row["org_kind"]),
    )


def category_of(row: asyncpg.Record, today: dt.date) -> CarerCategory:
    """The category the case holds today; a closed case keeps the one it closed with."""
    stored = CarerCategory(row["category"])
    if row["stage"] == CaseStage.CLOSED.value:
        return stored
    return workflow.category_at(stored, row["birth_date"], today)


@lru_cache(maxsize=128)
def tenant_municipality(code: str) -> Municipality:
    """The registry entry of a tenant (shared, immutable data)."""
    government = by_code(code)
    if government is None:  # a membership always names a registered tenant
        raise LookupError(code)
    return Municipality.from_registry(government)


@strawberry.type
class CaseQueries:
    @strawberry.field(description="このテナントのケース（新しい順）", directives=[CONNECTION_SIZE])
    async def cases(
        self,
        info: Info[Scope, Any],
        *,
        first: int | None = None,
        after: str | None = None,
        stage: CaseStage | None = None,
        category: CarerCategory | None = None,
        assigned_to_me: Annotated[
            bool,
            strawberry.argument(
                description="true: 自分の担当のケースだけ（担当者かコーディネーターとして。assignCase が決める）"
            ),
        ] = False,
    ) -> CaseConnection | None:
        scope = info.context
        require(scope.caller, Operation.CASES)
        size = page_size(first)
        keyset = decode_cursor(after)
        mine = str(scope.caller.user_id) if assigned_to_me else None
        case_filter = service.CaseFilter(stage=stage, category=category, assigned_to=mine)
        rows = await service.case_page(scope.tx, case_filter, first=size, after=keyset)
        today = workflow.today()
        total, by_stage = await _counts(scope, case_filter, selected_names(info))
        page = rows[:size]
        positions = [Keyset(r["opened_at"], r["id"]) for r in page]
        return CaseConnection(
            edges=[
                CaseEdge(node=to_case(scope, r, today=today), position=p) for r, p in zip(page, positions, strict=True)
            ],
            page_info=page_info(positions, has_next_page=len(rows) > size, after=keyset),
            total_count=total,
            stage_counts=by_stage,
        )


async def _counts(
    scope: Scope, case_filter: service.CaseFilter, selected: frozenset[str]
) -> tuple[int | None, list[CaseStageCount] | None]:
    """`totalCount` and `stageCounts`, each only when selected; both from one statement
    (the stages' counts add up to the total)."""
    if "stageCounts" in selected:
        counts = await service.stage_counts(scope.tx, case_filter)
        total = sum(counts.values()) if "totalCount" in selected else None
        return total, [CaseStageCount(stage=stage, count=count) for stage, count in counts.items()]
    if "totalCount" in selected:
        return await service.case_count(scope.tx, case_filter), None
    return None, None


async def _case_node(scope: Scope, key: uuid.UUID) -> Case | None:
    require(scope.caller, Operation.NODE_CASE)
    row = await service.case_by_id(scope.tx, key)
    return None if row is None else to_case(scope, row)


register_node("Case", tag=1, graphql_type=Case, table="carer_case", resolve=_case_node, audit_entity="case")
