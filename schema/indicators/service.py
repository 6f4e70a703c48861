"""The indicators of a prefecture's plan (issue 16, item 3): each with its baseline, target
and target date or fiscal year, and the figure that measures it (`IndicatorFigure`, a
closed list the stats path computes). A prefecture's analyst adds its own prefecture's
indicators and retires them; none is ever deleted, so a retired one keeps its history.

`indicator` is a global table (a reference table on Citus): every statement names the
prefecture, the caller's own (the first two digits of its tenant's code), and row security
refuses another prefecture's writes (migration 0024).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

import asyncpg

from kizuna.platform import audit
from kizuna.platform.i18n import Message
from kizuna.platform.scope import Scope
from kizuna.platform.vocabulary import AppRole, IndicatorFigure
from kizuna.schema.errors import Refused, UserErrorCode
from kizuna.schema.permissions import Operation, may
from kizuna.schema.submissions.service import check_fiscal_year
from kizuna.schema.writes import check_text

KEY = re.compile(r"[a-z][a-z0-9_]{1,39}", re.ASCII)
MAX_NAME_LENGTH = 200
MAX_UNIT_LENGTH = 20
LARGEST = Decimal("9999999999.99")  # numeric(12, 2)
FIELDS = (
    "code",
    "name",
    "unit",
    "figure",
    "baseline",
    "baseline_fiscal_year",
    "target",
    "target_date",
    "target_fiscal_year",
    "counted_from_fiscal_year",
)

_COLUMNS = """
SELECT prefecture_code, code, name, unit, figure, baseline, baseline_fiscal_year, target, target_date,
       target_fiscal_year, counted_from_fiscal_year, created_at, retired_at
FROM kizuna.indicator"""
INDICATORS = f"{_COLUMNS}\nWHERE prefecture_code = $1 AND ($2 OR retired_at IS NULL)\nORDER BY created_at, code"
INDICATOR = f"{_COLUMNS}\nWHERE prefecture_code = $1 AND code = $2"
INSERT = """
INSERT INTO kizuna.indicator (prefecture_code, code, name, unit, figure, baseline, baseline_fiscal_year, target,
                              target_date, target_fiscal_year, counted_from_fiscal_year, created_at)
VALUES ($1, $2, $3, $4, $5::kizuna.indicator_figure, $6, $7, $8, $9, $10, $11, now())
ON CONFLICT (prefecture_code, code) DO NOTHING
RETURNING code
"""
RETIRE = """
UPDATE kizuna.indicator SET retired_at = now()
WHERE prefecture_code = $1 AND code = $2 AND retired_at IS NULL
RETURNING code
"""


# The values the stats refresh computed (schema/stats/indicator_values.py), with when; $1 is
# the caller's tenant. A supervisor is not granted which other municipalities are missing.
_VALUES = """
SELECT v.indicator_code, v.fiscal_year::int AS fiscal_year, v.value, v.reported, v.municipalities, {not_reported},
       p.computed_at
FROM stats.indicator_value v JOIN stats.publication p ON p.prefecture_code = v.prefecture_code
WHERE v.prefecture_code = left($1, 2)
ORDER BY v.indicator_code, v.fiscal_year"""
VALUES_FOR_ANALYST = _VALUES.format(not_reported="v.not_reported")
VALUES_FOR_SUPERVISOR = _VALUES.format(not_reported="NULL::text[] AS not_reported")


@dataclass(frozen=True, slots=True)
class NewIndicator:
    code: str
    name: str
    unit: str
    figure: IndicatorFigure
    baseline: Decimal | None
    baseline_fiscal_year: int | None
    target: Decimal
    target_date: dt.date | None
    target_fiscal_year: int | None
    counted_from_fiscal_year: int | None

    def same_as(self, row: asyncpg.Record) -> bool:
        mine = (
            self.code,
            self.name,
            self.unit,
            self.figure.value,
            self.baseline,
            self.baseline_fiscal_year,
            self.target,
            self.target_date,
            self.target_fiscal_year,
            self.counted_from_fiscal_year,
        )
        return mine == tuple(row[f] for f in FIELDS)


def prefecture_of(scope: Scope) -> str:
    """The caller's prefecture: the first two digits of its tenant's local-government code."""
    return scope.caller.municipality_code[:2]


async def indicators(scope: Scope, *, include_retired: bool) -> list[asyncpg.Record]:
    return await scope.tx.fetch_global(INDICATORS, prefecture_of(scope), include_retired)


async def values(scope: Scope) -> dict[str, list[asyncpg.Record]]:
    """The computed values of the caller's prefecture's indicators by key, oldest year first
    (none for an indicator retired, or added since the last refresh)."""
    sql = VALUES_FOR_ANALYST if scope.role is AppRole.PREFECTURE_ANALYST else VALUES_FOR_SUPERVISOR
    by_key: dict[str, list[asyncpg.Record]] = {}
    for row in await scope.tx.fetch(sql):
        by_key.setdefault(row["indicator_code"], []).append(row)
    return by_key


async def access_indicator(scope: Scope, code: str) -> asyncpg.Record:
    """An indicator of the caller's prefecture; another prefecture's key and an unknown one
    are refused alike (NOT_FOUND on `key`)."""
    row = await scope.tx.fetch_global(INDICATOR, prefecture_of(scope), code)
    if not row:
        raise Refused(UserErrorCode.NOT_FOUND, "key", Message.NO_SUCH_INDICATOR)
    return row[0]


def _check(new: NewIndicator) -> None:
    if KEY.fullmatch(new.code) is None:
        raise Refused(UserErrorCode.BAD_USER_INPUT, "key", Message.INDICATOR_KEY_FORMAT)
    check_text(new.name, field="name", message=Message.RECORD_TEXT_LENGTH, most=MAX_NAME_LENGTH)
    check_text(new.unit, field="unit", message=Message.RECORD_TEXT_LENGTH, most=MAX_UNIT_LENGTH)
    if (new.baseline is None) != (new.baseline_fiscal_year is None):
        raise Refused(UserErrorCode.BAD_USER_INPUT, "baseline", Message.INDICATOR_BASELINE_YEAR)
    if new.target_date is None and new.target_fiscal_year is None:
        raise Refused(UserErrorCode.BAD_USER_INPUT, "targetDate", Message.INDICATOR_TARGET_DATED)
    for field, value in (("baseline", new.baseline), ("target", new.target)):
        if value is not None and not -LARGEST <= value <= LARGEST:
            raise Refused(UserErrorCode.BAD_USER_INPUT, field, Message.COUNT_NOT_NEGATIVE)
    for field, year in (
        ("baselineFiscalYear", new.baseline_fiscal_year),
        ("targetFiscalYear", new.target_fiscal_year),
        ("countedFromFiscalYear", new.counted_from_fiscal_year),
    ):
        if year is not None:
            check_fiscal_year(year, field=field)


async def do_add_indicator(scope: Scope, new: NewIndicator) -> asyncpg.Record:
    """Add an indicator to the caller's prefecture. The key is its idempotency key: the
    same indicator again returns the first; another one under a taken key (retired ones
    included) is a CONFLICT."""
    if not may(scope.role, Operation.ADD_INDICATOR):
        raise Refused(UserErrorCode.FORBIDDEN, None, Message.MAY_NOT_KEEP_INDICATORS)
    _check(new)
    added = await scope.tx.fetch_global(
        INSERT,
        prefecture_of(scope),
        new.code,
        new.name,
        new.unit,
        new.figure.value,
        new.baseline,
        new.baseline_fiscal_year,
        new.target,
        new.target_date,
        new.target_fiscal_year,
        new.counted_from_fiscal_year,
    )
    if not added:
        existing = await access_indicator(scope, new.code)
        if not new.same_as(existing):
            raise Refused(UserErrorCode.CONFLICT, "key", Message.INDICATOR_KEY_TAKEN)
        return existing
    await audit.record(scope, action="indicator.add", entity="indicator", entity_id=None, fields=FIELDS)
    return await access_indicator(scope, new.code)


async def do_retire_indicator(scope: Scope, code: str) -> asyncpg.Record:
    """Retire an indicator of the caller's prefecture; a retired one is a CONFLICT."""
    if not may(scope.role, Operation.RETIRE_INDICATOR):
        raise Refused(UserErrorCode.FORBIDDEN, None, Message.MAY_NOT_KEEP_INDICATORS)
    current = await access_indicator(scope, code)
    if current["retired_at"] is not None or not await scope.tx.fetch_global(RETIRE, prefecture_of(scope), code):
        raise Refused(UserErrorCode.CONFLICT, "key", Message.INDICATOR_RETIRED)
    await audit.record(scope, action="indicator.retire", entity="indicator", entity_id=None, fields=("retired_at",))
    return await access_indicator(scope, code)
