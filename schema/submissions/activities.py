"""A municipality's programme figures (`programme_activity`): recorded and removed by its
coordinators and supervisors while the year's programme submission is a draft or
returned (a correction is a removal and a new record), then submitted with the year
(`service.do_submit_programmes`). No strawberry here, as in a service module.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal

import asyncpg

from kizuna.platform import audit
from kizuna.platform.i18n import Message
from kizuna.platform.ids import uuid7
from kizuna.platform.scope import Scope
from kizuna.platform.vocabulary import ProgrammeKind
from kizuna.schema.errors import Refused, UserErrorCode
from kizuna.schema.permissions import Operation, may
from kizuna.schema.submissions.service import check_fiscal_year, check_programmes_open
from kizuna.schema.writes import check_idempotency_key, check_text

MAX_TITLE_LENGTH = 200
MAX_AGE_GROUP_LENGTH = 40
MAX_ROWS_A_YEAR = 500
FIELDS = ("fiscal_year", "kind", "title", "held_on", "participants", "companies", "age_group", "percent")

_COLUMNS = """
SELECT id, fiscal_year, kind, title, held_on, participants, companies, age_group, percent, idempotency_key
FROM kizuna.programme_activity
WHERE municipality_code = $1"""
ACTIVITY_BY_ID = f"{_COLUMNS} AND id = $2"
ACTIVITY_BY_KEY = f"{_COLUMNS} AND idempotency_key = $2"
ACTIVITIES_OF_YEAR = f"{_COLUMNS} AND fiscal_year = $2\nORDER BY held_on NULLS LAST, id\nLIMIT {MAX_ROWS_A_YEAR}"
INSERT_ACTIVITY = """
INSERT INTO kizuna.programme_activity
    (municipality_code, id, fiscal_year, kind, title, held_on, participants, companies, age_group, percent,
     idempotency_key)
VALUES ($1, $2, $3, $4::kizuna.programme_kind, $5, $6, $7, $8, $9, $10, $11)
"""
DELETE_ACTIVITY = "DELETE FROM kizuna.programme_activity WHERE municipality_code = $1 AND id = $2"


@dataclass(frozen=True, slots=True)
class ActivityFigures:
    fiscal_year: int
    kind: ProgrammeKind
    title: str
    held_on: dt.date | None
    participants: int | None
    companies: int | None
    age_group: str | None
    percent: Decimal | None

    def same_as(self, row: asyncpg.Record) -> bool:
        return (
            self.fiscal_year,
            self.kind.value,
            self.title,
            self.held_on,
            self.participants,
            self.companies,
            self.age_group,
            self.percent,
        ) == tuple(row[f] for f in FIELDS)


def _check(figures: ActivityFigures) -> None:
    check_fiscal_year(figures.fiscal_year)
    check_text(figures.title, field="title", message=Message.RECORD_TEXT_LENGTH, most=MAX_TITLE_LENGTH)
    for field, count in (("participants", figures.participants), ("companies", figures.companies)):
        if count is not None and count < 0:
            raise Refused(UserErrorCode.BAD_USER_INPUT, field, Message.COUNT_NOT_NEGATIVE)
    if figures.percent is not None and not Decimal(0) <= figures.percent <= Decimal(100):
        raise Refused(UserErrorCode.BAD_USER_INPUT, "percent", Message.PERCENT_RANGE)
    counted = figures.participants is not None or figures.companies is not None
    if figures.kind is ProgrammeKind.AWARENESS_SURVEY:
        fits = figures.age_group is not None and figures.percent is not None and not counted
    else:
        fits = counted and figures.age_group is None and figures.percent is None
    if not fits:
        raise Refused(UserErrorCode.BAD_USER_INPUT, "kind", Message.SURVEY_NEEDS_PERCENT)
    if figures.age_group is not None:
        check_text(figures.age_group, field="ageGroup", message=Message.RECORD_TEXT_LENGTH, most=MAX_AGE_GROUP_LENGTH)
    if figures.held_on is not None:
        start = dt.date(figures.fiscal_year, 4, 1)
        if not start <= figures.held_on < start.replace(year=start.year + 1):
            raise Refused(
                UserErrorCode.BAD_USER_INPUT,
                "heldOn",
                Message.FISCAL_YEAR_RANGE,
                first=figures.fiscal_year,
                last=figures.fiscal_year,
            )


async def activities_of_year(scope: Scope, fiscal_year: int) -> list[asyncpg.Record]:
    return await scope.tx.fetch(ACTIVITIES_OF_YEAR, fiscal_year)


async def access_activity(scope: Scope, activity_id: uuid.UUID) -> asyncpg.Record:
    """The programme activity `activity_id` of the caller's tenant; another tenant's id and
    an unknown one are refused alike (NOT_FOUND on `id`)."""
    row = await scope.tx.fetchrow(ACTIVITY_BY_ID, activity_id)
    if row is None:
        raise Refused(UserErrorCode.NOT_FOUND, "id", Message.NO_SUCH_PROGRAMME_ACTIVITY)
    return row


async def do_record_activity(scope: Scope, figures: ActivityFigures, idempotency_key: str | None) -> uuid.UUID:
    """Record a programme's figures of an open year; a retry with the same key returns the
    first record, the key reused for other figures is a CONFLICT."""
    if not may(scope.role, Operation.RECORD_PROGRAMME_ACTIVITY):
        raise Refused(UserErrorCode.FORBIDDEN, None, Message.MAY_NOT_DRAFT_FIGURES)
    _check(figures)
    check_idempotency_key(idempotency_key)
    if idempotency_key is not None:
        earlier = await scope.tx.fetchrow(ACTIVITY_BY_KEY, idempotency_key)
        if earlier is not None:
            if not figures.same_as(earlier):
                raise Refused(UserErrorCode.CONFLICT, "idempotencyKey", Message.PROGRAMME_KEY_REUSED)
            return uuid.UUID(str(earlier["id"]))
    await check_programmes_open(scope, figures.fiscal_year, field="fiscalYear")
    activity_id = uuid7()
    await scope.tx.execute(
        INSERT_ACTIVITY,
        activity_id,
        figures.fiscal_year,
        figures.kind.value,
        figures.title,
        figures.held_on,
        figures.participants,
        figures.companies,
        figures.age_group,
        figures.percent,
        idempotency_key,
    )
    await audit.record(
        scope, action="programme_activity.create", entity="programme_activity", entity_id=activity_id, fields=FIELDS
    )
    return activity_id


async def do_remove_activity(scope: Scope, activity_id: uuid.UUID) -> None:
    """Remove a programme's figures of an open year (to correct them: remove, record again)."""
    if not may(scope.role, Operation.REMOVE_PROGRAMME_ACTIVITY):
        raise Refused(UserErrorCode.FORBIDDEN, None, Message.MAY_NOT_DRAFT_FIGURES)
    row = await access_activity(scope, activity_id)
    await check_programmes_open(scope, row["fiscal_year"], field="id")
    await scope.tx.execute(DELETE_ACTIVITY, activity_id)
    await audit.record(
        scope, action="programme_activity.remove", entity="programme_activity", entity_id=activity_id, fields=FIELDS
    )
