"""The one place that reads every tenant: the raw figures, as `kizuna_stats`.

Every other statement of Kizuna names its tenant (`municipality_code = $1`); these do not,
by design: the prefecture's figures are sums over all its municipalities. They run only in
the refresh job (schema/stats/refresh.py), over the administrative connection switched to
`kizuna_stats`, never on a request's path; `tests/test_lint_tenancy.py` allows this module
by name and no other, and keeps every tenant table out of the modules that answer requests.

The role may read only the columns below (column grants, migrations 0025 and 0026): no
name, no birth date, no free text. Rows come back grouped, except the days from intake to
the first case conference, one number per case with no id, from which the job computes
medians, and the prefecture's own survey answers (a percent per age group).
Fiscal years run April to March, in Japan's time.
"""

from __future__ import annotations

import dataclasses

import asyncpg

from kizuna.schema.stats.figures import ONE_COLUMN, Figure

_FY = "extract(year FROM ({} AT TIME ZONE 'Asia/Tokyo') - interval '3 months')::int"
_FY_OF_DATE = "extract(year FROM {} - interval '3 months')::int"

COUNTS = {
    Figure.CASES_BY_CATEGORY: f"""
SELECT municipality_code, {_FY.format("opened_at")} AS fiscal_year, category::text AS category, count(*)::int AS value
FROM kizuna.carer_case GROUP BY 1, 2, 3""",
    Figure.CASES_BY_STAGE: f"""
SELECT municipality_code, {_FY.format("opened_at")} AS fiscal_year, stage::text AS category, count(*)::int AS value
FROM kizuna.carer_case GROUP BY 1, 2, 3""",
    Figure.REFERRALS_BY_SOURCE: f"""
SELECT municipality_code, {_FY.format("received_at")} AS fiscal_year, source::text AS category, count(*)::int AS value
FROM kizuna.referral GROUP BY 1, 2, 3""",
    Figure.CLOSURES: f"""
SELECT municipality_code, {_FY.format("closed_at")} AS fiscal_year, '{ONE_COLUMN}' AS category, count(*)::int AS value
FROM kizuna.carer_case WHERE closed_at IS NOT NULL GROUP BY 1, 2""",
    Figure.HELPER_VISITS: f"""
SELECT municipality_code, {_FY_OF_DATE.format("visited_on")} AS fiscal_year, '{ONE_COLUMN}' AS category,
       count(*)::int AS value
FROM kizuna.helper_visit GROUP BY 1, 2""",
}
# A case's first case conference, against the day its intake was recorded (相談受理).
DAYS_TO_FIRST_CONFERENCE = f"""
SELECT c.municipality_code, {_FY.format("c.opened_at")} AS fiscal_year,
       min(m.held_on) - (c.opened_at AT TIME ZONE 'Asia/Tokyo')::date AS days
FROM kizuna.carer_case c
JOIN kizuna.meeting m ON m.municipality_code = c.municipality_code AND m.case_id = c.id
WHERE m.kind = 'case_conference'
GROUP BY c.municipality_code, c.id, c.opened_at"""
# Only figures the prefecture accepted count (issue 16, item 2).
STATUSES = """
SELECT municipality_code, fiscal_year::int AS fiscal_year, one_stop_window, complex_case_team,
       jusoteki::text AS jusoteki, carer_salons, childrens_places, kodomo_katei_center
FROM kizuna.municipality_status WHERE submission = 'accepted'"""
# A municipality's programme figures count once the prefecture accepted that fiscal year's
# submission (0024); the prefecture's own programmes (a code NN000C) are its own to count.
PROGRAMMES = """
SELECT a.municipality_code, a.fiscal_year::int AS fiscal_year, a.kind::text AS kind, count(*)::int AS held,
       coalesce(sum(a.participants), 0)::int AS participants, coalesce(sum(a.companies), 0)::int AS companies
FROM kizuna.programme_activity a
LEFT JOIN kizuna.programme_submission s ON s.municipality_code = a.municipality_code AND s.fiscal_year = a.fiscal_year
WHERE a.kind <> 'awareness_survey'
  AND (s.submission = 'accepted' OR a.municipality_code ~ '^[0-9]{2}000[0-9]$')
GROUP BY 1, 2, 3"""


# What the indicators need besides (schema/stats/indicator_values.py): the indicators in
# force, the fiscal years whose programme figures the prefecture accepted (who reported),
# and the prefecture's own awareness surveys (a percent by age group; NN000C).
INDICATORS = """
SELECT prefecture_code, code, figure::text AS figure, counted_from_fiscal_year::int AS counted_from_fiscal_year
FROM kizuna.indicator WHERE retired_at IS NULL"""
ACCEPTED_PROGRAMME_YEARS = """
SELECT municipality_code, fiscal_year::int AS fiscal_year FROM kizuna.programme_submission
WHERE submission = 'accepted'"""
PREFECTURE_SURVEYS = """
SELECT left(municipality_code, 2) AS prefecture_code, fiscal_year::int AS fiscal_year, age_group, percent
FROM kizuna.programme_activity
WHERE kind = 'awareness_survey' AND municipality_code ~ '^[0-9]{2}000[0-9]$'"""


@dataclasses.dataclass(frozen=True, slots=True)
class Count:
    municipality_code: str
    figure: Figure
    fiscal_year: int
    category: str
    value: int


@dataclasses.dataclass(frozen=True, slots=True)
class RawFigures:
    """Everything the job publishes, read in one snapshot of every tenant."""

    counts: list[Count]
    """The protected counts (figures.PROTECTED), per municipality; zeros are absent."""
    conference_days: list[tuple[str, int, int]]
    """(municipality, fiscal year, days from intake to the first case conference), per case."""
    statuses: list[asyncpg.Record]
    programmes: list[asyncpg.Record]


async def read_every_tenant(conn: asyncpg.Connection) -> RawFigures:
    """The raw figures; `conn` is in a transaction as `kizuna_stats` (a snapshot of all tenants)."""
    counts = [
        Count(r["municipality_code"], figure, r["fiscal_year"], r["category"], r["value"])
        for figure, sql in COUNTS.items()
        for r in await conn.fetch(sql)
    ]
    days = [(r["municipality_code"], r["fiscal_year"], r["days"]) for r in await conn.fetch(DAYS_TO_FIRST_CONFERENCE)]
    return RawFigures(counts, days, await conn.fetch(STATUSES), await conn.fetch(PROGRAMMES))


@dataclasses.dataclass(frozen=True, slots=True)
class IndicatorSources:
    """What the indicators read besides the statuses and programmes of `RawFigures`."""

    indicators: list[asyncpg.Record]
    accepted_programme_years: list[asyncpg.Record]
    surveys: list[asyncpg.Record]


async def read_for_indicators(conn: asyncpg.Connection) -> IndicatorSources:
    """In the same transaction as `read_every_tenant` (the same snapshot)."""
    return IndicatorSources(
        await conn.fetch(INDICATORS), await conn.fetch(ACCEPTED_PROGRAMME_YEARS), await conn.fetch(PREFECTURE_SURVEYS)
    )
