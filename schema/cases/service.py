"""Reading cases: one statement per page, the tenant as `$1` in every query."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import lru_cache

import asyncpg

from kizuna.platform.database import TenantTransaction
from kizuna.platform.vocabulary import CarerCategory, CaseStage
from kizuna.schema.relay import Keyset


@dataclass(frozen=True, slots=True)
class CaseFilter:
    stage: CaseStage | None = None
    category: CarerCategory | None = None


_COLUMNS = """
SELECT c.municipality_code, c.id, c.stage, c.category, c.opened_at,
       p.id AS person_id, p.family_name, p.given_name,
       o.id AS org_id, o.name AS org_name, o.kind AS org_kind
FROM kizuna.carer_case c
JOIN kizuna.person p ON p.municipality_code = c.municipality_code AND p.id = c.person_id
LEFT JOIN kizuna.organisation o ON o.id = c.lead_organisation_id
WHERE c.municipality_code = $1"""


def _conditions(by_stage: bool, by_category: bool, first_param: int) -> tuple[str, int]:
    sql, n = "", first_param
    if by_stage:
        sql += f" AND c.stage = ${n}::kizuna.case_stage"
        n += 1
    if by_category:
        sql += f" AND c.category = ${n}::kizuna.carer_category"
        n += 1
    return sql, n


@lru_cache(maxsize=64)
def page_sql(limit: int, by_stage: bool, by_category: bool, after: bool) -> str:
    """The page statement. `limit` is a validated int written as a literal: a bound LIMIT
    makes PostgreSQL plan the statement again on every call."""
    conditions, n = _conditions(by_stage, by_category, 2)
    if after:
        conditions += f" AND (c.opened_at, c.id) < (${n}, ${n + 1})"
    return f"{_COLUMNS}{conditions}\nORDER BY c.opened_at DESC, c.id DESC\nLIMIT {int(limit)}"


@lru_cache(maxsize=8)
def count_sql(by_stage: bool, by_category: bool) -> str:
    conditions, _ = _conditions(by_stage, by_category, 2)
    return f"SELECT count(*) FROM kizuna.carer_case c WHERE c.municipality_code = $1{conditions}"


def _filter_args(case_filter: CaseFilter) -> list[str]:
    return [value.value for value in (case_filter.stage, case_filter.category) if value is not None]


async def case_page(
    tx: TenantTransaction, case_filter: CaseFilter, *, first: int, after: Keyset | None
) -> list[asyncpg.Record]:
    """Up to `first + 1` rows (the extra one tells whether a next page exists)."""
    sql = page_sql(first + 1, case_filter.stage is not None, case_filter.category is not None, after is not None)
    args: list[object] = list(_filter_args(case_filter))
    if after is not None:
        args += [after.at, after.id]
    return await tx.fetch(sql, *args)


async def case_count(tx: TenantTransaction, case_filter: CaseFilter) -> int:
    sql = count_sql(case_filter.stage is not None, case_filter.category is not None)
    count: int = await tx.fetchval(sql, *_filter_args(case_filter))
    return count


CASE_BY_ID = f"{_COLUMNS} AND c.id = $2"
PERSON_BY_ID = """
SELECT id, family_name, given_name FROM kizuna.person
WHERE municipality_code = $1 AND id = $2
"""


async def case_by_id(tx: TenantTransaction, case_id: uuid.UUID) -> asyncpg.Record | None:
    return await tx.fetchrow(CASE_BY_ID, case_id)


async def person_by_id(tx: TenantTransaction, person_id: uuid.UUID) -> asyncpg.Record | None:
    return await tx.fetchrow(PERSON_BY_ID, person_id)
