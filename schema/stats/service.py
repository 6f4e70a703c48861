"""The prefecture's figures as a request reads them: from `stats` only, never a tenant table
(tests/test_lint_tenancy.py). A prefecture's analyst reads the published figures of every
municipality of its own prefecture (row security: `prefecture_code`); a municipality's
supervisor reads its own municipality's figures unsuppressed (row security:
`municipality_code`). At most five statements whatever the number of tables asked for, and
none for a part the query does not select."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal

import asyncpg

from kizuna.platform.database import TenantTransaction
from kizuna.platform.vocabulary import AppRole
from kizuna.schema.stats.figures import CATEGORIES, PROTECTED, CellStatus, Figure
from kizuna.tenants.registry import for_prefecture

TOTAL = "total"

# $1 is the caller's tenant: the prefecture's own (110001 …) for an analyst.
# An analyst's figures are those of the editions in force: as of `edition_at` (a closed fiscal
# year's, of its last edition); a supervisor's raw figures, of the last refresh.
PUBLICATION_SQL = """
SELECT computed_at, edition_at, next_edition_at, k FROM stats.publication WHERE prefecture_code = left($1, 2)
"""
PUBLISHED_SQL = """
SELECT figure, fiscal_year::int AS fiscal_year, area, category, value, status FROM stats.published_count
WHERE prefecture_code = left($1, 2) AND figure = ANY($2::text[]) AND fiscal_year = ANY($3::int[])
"""
PUBLISHED_MEDIANS_SQL = """
SELECT fiscal_year::int AS fiscal_year, area, days, status FROM stats.published_median
WHERE prefecture_code = left($1, 2) AND fiscal_year = ANY($2::int[])
"""
PUBLISHED_YEARS_SQL = (
    "SELECT DISTINCT fiscal_year::int AS fiscal_year FROM stats.published_median WHERE prefecture_code = left($1, 2)"
)
# A trend is the total row of each year's table: the total's cells only, every fiscal year.
PUBLISHED_TOTALS_SQL = """
SELECT figure, fiscal_year::int AS fiscal_year, area, category, value, status FROM stats.published_count
WHERE prefecture_code = left($1, 2) AND figure = ANY($2::text[]) AND area = 'total'
"""
RAW_SQL = """
SELECT figure, fiscal_year::int AS fiscal_year, municipality_code AS area, category, value, 'shown' AS status
FROM stats.raw_count
WHERE municipality_code = $1 AND figure = ANY($2::text[]) AND fiscal_year = ANY($3::int[])
"""
RAW_TOTALS_SQL = """
SELECT figure, fiscal_year::int AS fiscal_year, municipality_code AS area, category, value, 'shown' AS status
FROM stats.raw_count
WHERE municipality_code = $1 AND figure = ANY($2::text[])
"""
RAW_MEDIANS_SQL = """
SELECT fiscal_year::int AS fiscal_year, municipality_code AS area, days, 'shown' AS status FROM stats.raw_median
WHERE municipality_code = $1 AND fiscal_year = ANY($2::int[])
"""
RAW_YEARS_SQL = """
SELECT DISTINCT fiscal_year::int AS fiscal_year FROM stats.raw_count WHERE municipality_code = $1
"""


@dataclasses.dataclass(frozen=True, slots=True)
class Row:
    area: str
    """A municipality's code, or `total`."""
    values: list[int | None]
    total: int | None
    """The row's total; None where withheld, and in the tables without row totals."""
    withheld: list[tuple[int | None, CellStatus]]
    """Why each value not shown is missing: (its column, or None for the total, and why).
    Only those: a whole prefecture's table stays a few resolved fields per row."""


@dataclasses.dataclass(frozen=True, slots=True)
class Table:
    figure: Figure
    fiscal_year: int
    rows: list[Row]


@dataclasses.dataclass(frozen=True, slots=True)
class MedianCell:
    area: str
    days: Decimal | None
    status: CellStatus


@dataclasses.dataclass(frozen=True, slots=True)
class Trend:
    """A figure over every fiscal year: each year's total row (the prefecture's total for
    the analyst, the municipality's own row for its supervisor), as its table has it."""

    figure: Figure
    years: list[tuple[int, Row]]


@dataclasses.dataclass(frozen=True, slots=True)
class Asked:
    """What a query asks of the figures; a part not selected is not read."""

    figures: Sequence[Figure]
    fiscal_years: Sequence[int] | None
    """The years of the tables and medians; None for every year."""
    latest: bool = False
    """Only the latest of those years."""
    tables: bool = True
    medians: bool = True
    trends: bool = True


@dataclasses.dataclass(frozen=True, slots=True)
class Overview:
    computed_at: dt.datetime | None
    """When the figures read were counted."""
    next_edition_at: dt.datetime | None
    """When the published figures' next edition is due (None for a supervisor's raw figures)."""
    k: int | None
    unsuppressed: bool
    """A supervisor's own municipality: nothing suppressed, no total."""
    fiscal_years: list[int]
    """Every fiscal year with figures, whatever the tables' years."""
    tables: list[Table]
    medians: dict[int, list[MedianCell]]
    trends: list[Trend]


async def overview(tx: TenantTransaction, role: AppRole, asked: Asked) -> Overview:
    """The analyst's (published) or the supervisor's (own, raw) figures; the caller's role
    was checked against the matrix before."""
    unsuppressed = role is not AppRole.PREFECTURE_ANALYST
    publication = await tx.fetchrow(PUBLICATION_SQL)
    known = sorted(r["fiscal_year"] for r in await tx.fetch(RAW_YEARS_SQL if unsuppressed else PUBLISHED_YEARS_SQL))
    years = known if asked.fiscal_years is None else sorted(set(asked.fiscal_years) & set(known))
    if asked.latest:
        years = years[-1:]
    figures = asked.figures
    names = [f.value for f in figures]
    tables: list[Table] = []
    if asked.tables and years:
        cells = await tx.fetch(RAW_SQL if unsuppressed else PUBLISHED_SQL, names, years)
        found = _by_key(cells)
        # Every municipality of the prefecture, and any other area with figures (the prefecture's
        # own programmes); a supervisor's own municipality only.
        registry = {g.code for g in for_prefecture(tx.municipality_code[:2]) if not g.is_prefecture}
        areas = [tx.municipality_code] if unsuppressed else sorted(registry | {r["area"] for r in cells} - {TOTAL})
        totals = [] if unsuppressed else [TOTAL]
        tables = [
            Table(figure, year, [_row(found, figure, year, area, unsuppressed) for area in (*areas, *totals)])
            for year in years
            for figure in figures
        ]
    by_year: dict[int, list[MedianCell]] = {}
    if asked.medians and years:
        by_year = {year: [] for year in years}
        for r in await tx.fetch(RAW_MEDIANS_SQL if unsuppressed else PUBLISHED_MEDIANS_SQL, years):
            by_year[r["fiscal_year"]].append(MedianCell(r["area"], r["days"], CellStatus(r["status"])))
    trends: list[Trend] = []
    if asked.trends and known:
        totals_found = _by_key(await tx.fetch(RAW_TOTALS_SQL if unsuppressed else PUBLISHED_TOTALS_SQL, names))
        area = tx.municipality_code if unsuppressed else TOTAL
        trends = [
            Trend(figure, [(year, _row(totals_found, figure, year, area, unsuppressed)) for year in known])
            for figure in figures
        ]
    return Overview(
        None if publication is None else publication["computed_at" if unsuppressed else "edition_at"],
        None if publication is None or unsuppressed else publication["next_edition_at"],
        None if publication is None or unsuppressed else publication["k"],
        unsuppressed,
        known,
        tables,
        by_year,
        trends,
    )


def _by_key(cells: Sequence[asyncpg.Record]) -> dict[tuple[str, int, str, str], asyncpg.Record]:
    return {(r["figure"], r["fiscal_year"], r["area"], r["category"]): r for r in cells}


COUNTED_WHEN_ABSENT = frozenset({Figure.PROGRAMMES})
"""A programme a municipality did not hold is a count of 0, not a figure it did not report."""


def _row(
    found: Mapping[tuple[str, int, str, str], asyncpg.Record], figure: Figure, year: int, area: str, raw: bool
) -> Row:
    """A protected count a supervisor's raw table lacks is a zero (zeros are not stored), so
    is a programme not held; a municipality's status missing was not reported (or not
    accepted). Only the protected tables have row totals."""
    values: list[int | None] = []
    withheld: list[tuple[int | None, CellStatus]] = []
    for column, category in enumerate(CATEGORIES[figure]):
        cell = found.get((figure.value, year, area, category))
        if cell is not None:
            values.append(cell["value"])
            if cell["status"] != CellStatus.SHOWN:
                withheld.append((column, CellStatus(cell["status"])))
        elif figure in COUNTED_WHEN_ABSENT or (raw and figure in PROTECTED):
            values.append(0)
        else:
            values.append(None)
            withheld.append((column, CellStatus.NOT_REPORTED))
    if figure not in PROTECTED:
        return Row(area, values, None, withheld)
    if raw:
        return Row(area, values, sum(v or 0 for v in values), withheld)
    total = found.get((figure.value, year, area, TOTAL))
    if total is None:
        return Row(area, values, None, [*withheld, (None, CellStatus.NOT_REPORTED)])
    if total["status"] != CellStatus.SHOWN:
        withheld.append((None, CellStatus(total["status"])))
    return Row(area, values, total["value"], withheld)
