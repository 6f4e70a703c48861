"""`cases(first:, after:, stage:, category:, assignedToMe:)`."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
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
from kizuna.schema.relay import (
    SHOWS_ROWS,
    Keyset,
    decode_cursor,
    global_id_in_row,
    page_info,
    page_size,
    register_node,
)
from kizuna.schema.rows import Nested, Present, Rows, RowShape, column, member
from kizuna.schema.selection import selected_names
from kizuna.schema.tenants.types import Municipality, organization_in_row
from kizuna.tenants.registry import by_code


def to_case(scope: Scope, row: asyncpg.Record, *, today: dt.date | None = None) -> Case:
    """A case from one row of the case statements (service `_CASE_COLUMNS`). The case and
    its person become part of the answer here, so their reads are audited here."""
    _record_reads(scope, (row,))
    return CASE_IN_ROW.build(row, today or workflow.today())


def _record_reads(scope: Scope, rows: Sequence[asyncpg.Record]) -> None:
    audit.record_reads(scope, "case", [row["id"] for row in rows])
    audit.record_reads(scope, "person", [row["person_id"] for row in rows])


def _staff_in_row(name_column: str) -> Nested:
    shape = RowShape(CaseStaff, {"display_name": column(name_column)})
    return Nested(shape, present=Present(name_column))


_stored_category = member(CarerCategory, "category")
_YOUNG_CARER = CarerCategory.YOUNG_CARER.value
_CLOSED = CaseStage.CLOSED.value
# One bound date a day for every row of a page: the day's 18th-birthday cut, as the
# category filter binds it (`service.adult_born_by`, which agrees with `workflow.age`).
_adult_born_by = lru_cache(maxsize=4)(service.adult_born_by)


def category_of(row: asyncpg.Record, today: dt.date) -> CarerCategory:
    """The category the case holds today (`workflow.category_at`); a closed case keeps the
    one it closed with."""
    if row["category"] == _YOUNG_CARER and row["stage"] != _CLOSED and row["birth_date"] <= _adult_born_by(today):
        return CarerCategory.YOUNG_ADULT_CARER
    stored: CarerCategory = _stored_category(row, today)
    return stored


@lru_cache(maxsize=128)
def tenant_municipality(code: str) -> Municipality:
    """The registry entry of a tenant (shared, immutable data)."""
    government = by_code(code)
    if government is None:  # a membership always names a registered tenant
        raise LookupError(code)
    return Municipality.from_registry(government)


CASE_IN_ROW: RowShape[Case] = RowShape(
    Case,
    {
        "id": global_id_in_row("Case", "id"),
        "key": column("id"),
        "municipality": lambda row, _today: tenant_municipality(row["municipality_code"]),
        "stage": member(CaseStage, "stage"),
        # The category the case holds today: a young carer who turned 18 is a young adult
        # carer from that day on, before `kizuna cases come-of-age` writes it down.
        "category": category_of,
        "opened_at": column("opened_at"),
        "closed_at": column("closed_at"),
        "risk_level": member(RiskLevel, "risk_level"),
        "assigned_worker": _staff_in_row("assigned_worker_name"),
        "coordinator": _staff_in_row("coordinator_name"),
        "person": Nested(
            RowShape(
                Person,
                {
                    "id": global_id_in_row("Person", "person_id"),
                    "family_name": column("family_name"),
                    "given_name": column("given_name"),
                },
            )
        ),
        "lead_organization": organization_in_row("org_id", "org_name", "org_kind"),
    },
)
"""A case (with its person, staff and lead organisation) from a row of the case
statements; the reader's context is the day the answer is for (`workflow.today()`)."""

EDGE_IN_ROW: RowShape[CaseEdge] = RowShape(
    CaseEdge,
    {"node": Nested(CASE_IN_ROW), "position": lambda row, _today: Keyset(row["opened_at"], row["id"])},
)


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
        selected = selected_names(info)
        shows_rows = not selected.isdisjoint(SHOWS_ROWS)
        # The count in the page's own statement, unless the stages' counts give it.
        with_count = shows_rows and "totalCount" in selected and "stageCounts" not in selected
        rows = []
        if shows_rows:  # a count alone reads no case
            rows = await service.case_page(scope.tx, case_filter, first=size, after=keyset, with_count=with_count)
        if with_count and rows:
            total, by_stage = rows[0]["total_count"], None
        else:
            total, by_stage = await _counts(scope, case_filter, selected)
        page = rows[:size]
        _record_reads(scope, page)
        positions = [Keyset(r["opened_at"], r["id"]) for r in page[:1] + page[-1:]]  # the page's ends
        return CaseConnection(
            edges=Rows(EDGE_IN_ROW, page, workflow.today()),
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
