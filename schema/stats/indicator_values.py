"""Each indicator's value by fiscal year (issue 16, item 3), computed by the stats refresh
from the figures it reads anyway (schema/stats/sources.py), and its progress to its target.

What each figure is (`IndicatorFigure`; seeds 000, 001 and 004):
- From the municipalities' status, accepted only (`municipality_status`): the municipalities
  with a one-stop window or a complex-case team (seed 001's 市町村総合相談支援体制構築), with
  a carer salon, with a 子ども家庭相談支援拠点; the children's places summed. A value per
  fiscal year with accepted figures, of that year alone.
- From programmes (a municipality's of a year whose submission the prefecture accepted, the
  prefecture's own always): companies at business-carer seminars, people at support-staff
  trainings and at education-welfare joint trainings. A cumulative indicator sums the years
  from its `counted_from_fiscal_year` to the value's year; another one, the value's year.
- From the prefecture's own awareness surveys: the percent of the age groups the indicator
  names (the mean of 30代, 40代 and 50代 for 地域包括支援センター); a value for a year only
  when every group of it was asked that year.

A value from municipalities' figures carries its coverage: how many municipalities' accepted
figures of its fiscal year it holds, of how many, and which are missing (only accepted
figures count). For a cumulative value, earlier years add what was accepted of them.

These are counts of municipalities, programme totals (events held and who came, entered as
totals) and survey percents: no count of people's records, so no disclosure control
(docs/disclosure-control.md). `compute` reads the statuses and programmes of `RawFigures`
and never its counts or conference days, the figures that control protects.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Final

import asyncpg

from kizuna.platform.vocabulary import IndicatorFigure, ProgrammeKind
from kizuna.schema.stats.sources import IndicatorSources, RawFigures
from kizuna.tenants.registry import for_prefecture

F = IndicatorFigure
# Per accepted status row, what it adds to the figure.
FROM_STATUS: Final[Mapping[IndicatorFigure, Callable[[asyncpg.Record], int]]] = {
    F.MUNICIPALITIES_WITH_WINDOW_OR_TEAM: lambda r: int(r["one_stop_window"] or r["complex_case_team"]),
    F.MUNICIPALITIES_WITH_CARER_SALON: lambda r: int(r["carer_salons"] > 0),
    F.MUNICIPALITIES_WITH_KODOMO_KATEI_CENTER: lambda r: int(r["kodomo_katei_center"]),
    F.CHILDRENS_PLACES: lambda r: int(r["childrens_places"]),
}
# The programme kind and the column summed.
FROM_PROGRAMMES: Final[Mapping[IndicatorFigure, tuple[ProgrammeKind, str]]] = {
    F.BUSINESS_CARER_SEMINAR_COMPANIES: (ProgrammeKind.BUSINESS_CARER_SEMINAR, "companies"),
    F.SUPPORT_STAFF_TRAINED: (ProgrammeKind.SUPPORT_STAFF_TRAINING, "participants"),
    F.EDUCATION_WELFARE_TRAINING_ATTENDEES: (ProgrammeKind.EDUCATION_WELFARE_TRAINING, "participants"),
}
# The age groups of the prefecture's survey, as its rows name them (tenants/demo_programmes.py).
FROM_SURVEYS: Final[Mapping[IndicatorFigure, tuple[str, ...]]] = {
    F.COMMUNITY_CENTER_AWARENESS_PERCENT: ("30代", "40代", "50代"),
    F.YOUNG_CARER_AWARENESS_JUNIOR_HIGH_PERCENT: ("中学2年生",),
    F.YOUNG_CARER_AWARENESS_HIGH_SCHOOL_PERCENT: ("高校2年生",),
    F.YOUNG_CARER_AWARENESS_RESIDENTS_PERCENT: ("18歳以上",),
}
CENT = Decimal("0.01")
TENTH = Decimal("0.1")


@dataclasses.dataclass(frozen=True, slots=True)
class Coverage:
    reported: int
    """Municipalities whose accepted figures of the value's fiscal year it holds."""
    municipalities: int
    not_reported: tuple[str, ...]
    """Their codes, the others' (not submitted, not yet accepted, or returned)."""


@dataclasses.dataclass(frozen=True, slots=True)
class IndicatorValue:
    indicator_code: str
    fiscal_year: int
    value: Decimal
    coverage: Coverage | None
    """None for the prefecture's own survey."""


def compute(prefecture_code: str, raw: RawFigures, sources: IndicatorSources) -> list[IndicatorValue]:
    """Every indicator in force of the prefecture, each fiscal year it has figures for;
    `raw` is the prefecture's (publish.by_prefecture), `sources` every prefecture's."""
    municipalities = tuple(g.code for g in for_prefecture(prefecture_code) if not g.is_prefecture)
    statuses = collections.defaultdict(list)
    for r in raw.statuses:
        statuses[r["fiscal_year"]].append(r)
    accepted = collections.defaultdict(set)
    for r in sources.accepted_programme_years:
        if r["municipality_code"].startswith(prefecture_code):
            accepted[r["fiscal_year"]].add(r["municipality_code"])
    found: list[IndicatorValue] = []
    for indicator in sources.indicators:
        if indicator["prefecture_code"] != prefecture_code:
            continue
        code, figure = indicator["code"], IndicatorFigure(indicator["figure"])
        if figure in FROM_STATUS:
            measure = FROM_STATUS[figure]
            found += [
                IndicatorValue(
                    code,
                    year,
                    Decimal(sum(measure(r) for r in rows)),
                    _coverage(municipalities, {r["municipality_code"] for r in rows}),
                )
                for year, rows in sorted(statuses.items())
            ]
        elif figure in FROM_PROGRAMMES:
            found += _programme_values(
                code,
                figure,
                indicator["counted_from_fiscal_year"],
                programmes=raw.programmes,
                accepted=accepted,
                municipalities=municipalities,
            )
        else:
            found += _survey_values(code, FROM_SURVEYS[figure], prefecture_code, sources.surveys)
    return found


def _coverage(municipalities: Sequence[str], reported: Iterable[str]) -> Coverage:
    have = set(reported)
    missing = tuple(m for m in municipalities if m not in have)
    return Coverage(len(municipalities) - len(missing), len(municipalities), missing)


def _programme_values(
    code: str,
    figure: IndicatorFigure,
    counted_from: int | None,
    *,
    programmes: Iterable[asyncpg.Record],
    accepted: Mapping[int, set[str]],
    municipalities: Sequence[str],
) -> list[IndicatorValue]:
    """Each year with programme figures (accepted, or the prefecture's own), from
    `counted_from` on for a cumulative indicator."""
    kind, column = FROM_PROGRAMMES[figure]
    by_year: collections.Counter[int] = collections.Counter()
    years = set(accepted)
    for r in programmes:
        years.add(r["fiscal_year"])
        if r["kind"] == kind.value:
            by_year[r["fiscal_year"]] += r[column]
    values = []
    for year in sorted(y for y in years if counted_from is None or y >= counted_from):
        total = sum(n for y, n in by_year.items() if counted_from <= y <= year) if counted_from else by_year[year]
        values.append(IndicatorValue(code, year, Decimal(total), _coverage(municipalities, accepted.get(year, ()))))
    return values


def _survey_values(
    code: str, groups: Sequence[str], prefecture_code: str, surveys: Iterable[asyncpg.Record]
) -> list[IndicatorValue]:
    """The mean of the groups' percents (each group's own rows averaged first), a year only
    when every group was asked."""
    asked: dict[int, dict[str, list[Decimal]]] = collections.defaultdict(lambda: collections.defaultdict(list))
    for r in surveys:
        if r["prefecture_code"] == prefecture_code and r["age_group"] in groups:
            asked[r["fiscal_year"]][r["age_group"]].append(r["percent"])
    return [
        IndicatorValue(code, year, statistics.mean(statistics.mean(by[g]) for g in groups).quantize(CENT), None)
        for year, by in sorted(asked.items())
        if all(by.get(g) for g in groups)
    ]


# --- progress, as a request reads it ----------------------------------------------------


def progress(value: Decimal, *, baseline: Decimal | None, target: Decimal) -> Decimal | None:
    """Percent of the way from the baseline to the target, (value − baseline) / (target −
    baseline) × 100, to one decimal; with no baseline, value / target × 100. Below 0 when
    the value fell back past the baseline, above 100 beyond the target; None when the target
    is the baseline (no way to go)."""
    start = Decimal(0) if baseline is None else baseline
    if target == start:
        return None
    return ((value - start) / (target - start) * 100).quantize(TENTH)


def target_reached(value: Decimal, *, baseline: Decimal | None, target: Decimal) -> bool:
    """At or past the target, in the direction from the baseline (a target below its
    baseline is reached going down)."""
    return value <= target if baseline is not None and target < baseline else value >= target


def deadline(target_date: dt.date | None, target_fiscal_year: int | None) -> dt.date:
    """The target's date, or the last day of its fiscal year (seed 004's 年度末)."""
    if target_date is not None:
        return target_date
    if target_fiscal_year is None:
        raise ValueError("an indicator has a target date or a target fiscal year (ck_indicator_target_dated)")
    return dt.date(target_fiscal_year + 1, 3, 31)


# --- writing, as the stats role in the refresh's transaction -----------------------------

DELETE_SQL = "DELETE FROM stats.indicator_value WHERE prefecture_code = $1"
INSERT_SQL = """
INSERT INTO stats.indicator_value
    (prefecture_code, indicator_code, fiscal_year, value, reported, municipalities, not_reported)
VALUES ($1, $2, $3, $4, $5, $6, $7)
"""


def _coverage_columns(coverage: Coverage | None) -> tuple[int | None, int | None, list[str] | None]:
    if coverage is None:
        return None, None, None
    return coverage.reported, coverage.municipalities, list(coverage.not_reported)


async def write(conn: asyncpg.Connection, prefecture_code: str, values: Sequence[IndicatorValue]) -> None:
    """Replace the prefecture's values (a retired indicator's go with it); `conn` is in the
    refresh's transaction of that prefecture, as `kizuna_stats`. A few dozen rows."""
    await conn.execute(DELETE_SQL, prefecture_code)
    await conn.executemany(
        INSERT_SQL,
        [
            (
                prefecture_code,
                v.indicator_code,
                v.fiscal_year,
                v.value,
                *_coverage_columns(v.coverage),
            )
            for v in values
        ],
    )
