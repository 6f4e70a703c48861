"""Cases: reading them (one statement per page, the tenant as `$1` in every query) and
opening one."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import lru_cache

import asyncpg

from kizuna.platform import audit
from kizuna.platform.database import TenantTransaction
from kizuna.platform.i18n import Message
from kizuna.platform.ids import uuid7
from kizuna.platform.scope import Scope
from kizuna.platform.vocabulary import CarerCategory, CaseEventKind, CaseStage, RiskLevel
from kizuna.schema.errors import Refused, UserErrorCode
from kizuna.schema.relay import Keyset

OPEN_ACTION = "case.open"


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


# What opening a case needs of its person, and of an existing case.
PERSON_FOR_CASE = "SELECT id, household_id FROM kizuna.person WHERE municipality_code = $1 AND id = $2"
CASE_STATE = "SELECT id, stage, person_id FROM kizuna.carer_case WHERE municipality_code = $1 AND id = $2"
INSERT_CASE = """
INSERT INTO kizuna.carer_case
    (municipality_code, id, person_id, household_id, category, stage, lead_organisation_id,
     assigned_worker, risk_level, opened_at)
VALUES ($1, $2, $3, $4, $5::kizuna.carer_category, 'intake', $6, $7, $8::kizuna.risk_level, now())
"""
INSERT_EVENT = """
INSERT INTO kizuna.case_event
    (municipality_code, id, case_id, kind, from_stage, to_stage, actor, reason, occurred_at)
VALUES ($1, $2, $3, $4::kizuna.case_event_kind, $5::kizuna.case_stage, $6::kizuna.case_stage, $7, $8, now())
"""


async def access_person(scope: Scope, person_id: uuid.UUID, *, field: str) -> asyncpg.Record:
    """The person `person_id` of the scope's tenant (`id`, `household_id`); another tenant's
    id and an unknown one are refused alike (NOT_FOUND on `field`)."""
    row = await scope.tx.fetchrow(PERSON_FOR_CASE, person_id)
    if row is None:
        raise Refused(UserErrorCode.NOT_FOUND, field, Message.NO_SUCH_PERSON)
    return row


async def access_case(scope: Scope, case_id: uuid.UUID, *, field: str) -> asyncpg.Record:
    """The case `case_id` of the scope's tenant (`id`, `stage`, `person_id`); another
    tenant's id and an unknown one are refused alike (NOT_FOUND on `field`)."""
    row = await scope.tx.fetchrow(CASE_STATE, case_id)
    if row is None:
        raise Refused(UserErrorCode.NOT_FOUND, field, Message.NO_SUCH_CASE)
    return row


async def do_open_case(
    scope: Scope, person: asyncpg.Record, category: CarerCategory, *, risk: RiskLevel, reason: str
) -> uuid.UUID:
    """Open a case at intake (相談受理) about `person` (as `access_person` read it), led by
    the caller's organisation and assigned to the caller, with its first event and its
    audit event, in the scope's transaction. Returns the case's id."""
    caller = scope.caller
    case_id = uuid7()
    await scope.tx.execute(
        INSERT_CASE,
        case_id,
        person["id"],
        person["household_id"],
        category.value,
        caller.organisation_id,
        str(caller.user_id),
        risk.value,
    )
    await scope.tx.execute(
        INSERT_EVENT,
        uuid7(),
        case_id,
        CaseEventKind.OPENED.value,
        None,
        CaseStage.INTAKE.value,
        str(caller.user_id),
        reason,
    )
    fields = ("person_id", "household_id", "category", "stage", "lead_organisation_id", "assigned_worker", "risk_level")
    await audit.record(scope, action=OPEN_ACTION, entity="case", entity_id=case_id, fields=fields)
    return case_id
