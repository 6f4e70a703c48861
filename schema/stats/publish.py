"""From the raw figures to what the prefecture reads: each prefecture's tables through
disclosure control (schema/stats/disclosure.py), written to `stats` as `kizuna_stats`.

The tables of one fiscal year that share the municipality margin (cases by category and by
stage count the same cases) are protected together (`figures.PROTECTED_TOGETHER`), so
that nothing published with a cell recomputes it; every edition published before is passed
along (all are kept, in `stats.published_edition`), so that no two editions reveal a
change by difference.

Editions come at a cadence, not at every refresh (docs/disclosure-control.md, "Editions: the
publication interval"): the open fiscal years are published at most once per publication
interval (or when the prefecture forces it), a closed one once more after it closed, and
never again. A fiscal year not due is published again as it was, its tables and medians as
of the last time it was due. A group due whose counts are those of its edition in force
(kept with the edition, not the last refresh's) is published again as it was too: the same
figures tell nothing new, and the exact audit, the refresh's costly part, is not run again.
Medians are published only where k cases or more lie behind them. The municipality status
and the programme counts are shown as they are, at every refresh (schema/stats/figures.py
says why).

Every statement here reads or writes `stats` only.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import json
import statistics
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import cast

import asyncpg

from kizuna.platform.wareki import JAPAN
from kizuna.schema.stats import disclosure
from kizuna.schema.stats.disclosure_audit import Axis
from kizuna.schema.stats.figures import CATEGORIES, PROTECTED, PROTECTED_TOGETHER, Figure
from kizuna.schema.stats.sources import Count, RawFigures
from kizuna.tenants.registry import for_prefecture

TOTAL = "total"
"""The area of a prefecture's totals, and the category of a municipality's row total."""
STATS_TABLES = (
    "publication",
    "published_count",
    "published_table",
    "published_edition",
    "published_median",
    "raw_count",
    "raw_median",
    "indicator_value",
)
"""Every table of the `stats` schema (migrations 0025 to 0027), which the refresh alone writes."""


@dataclasses.dataclass(frozen=True, slots=True)
class Cell:
    figure: Figure
    fiscal_year: int
    area: str
    category: str
    value: int | None
    status: str


@dataclasses.dataclass(frozen=True, slots=True)
class Median:
    fiscal_year: int
    area: str
    days: Decimal | None
    status: str


@dataclasses.dataclass(frozen=True, slots=True)
class Publication:
    """One prefecture's figures, ready to write."""

    prefecture_code: str
    tables: dict[int, list[disclosure.PublishedTable]]
    """The protected tables by fiscal year: the next refresh's `previous`."""
    cells: list[Cell]
    medians: list[Median]
    raw: list[Count]
    raw_medians: list[tuple[str, int, Decimal, int]]
    counts: dict[tuple[int, str], dict[tuple[str, str], int]]
    """The true counts by (fiscal year, table), kept with each new edition."""
    schedule: Plan


def by_prefecture(raw: RawFigures) -> dict[str, RawFigures]:
    """A local-government code begins with its prefecture's two digits."""
    prefectures = sorted(
        {c.municipality_code[:2] for c in raw.counts}
        | {m[:2] for m, _, _ in raw.conference_days}
        | {r["municipality_code"][:2] for r in (*raw.statuses, *raw.programmes)}
    )
    return {
        p: RawFigures(
            [c for c in raw.counts if c.municipality_code.startswith(p)],
            [d for d in raw.conference_days if d[0].startswith(p)],
            [r for r in raw.statuses if r["municipality_code"].startswith(p)],
            [r for r in raw.programmes if r["municipality_code"].startswith(p)],
        )
        for p in prefectures
    }


SETTLING_MONTHS = 3
"""A fiscal year closes this long after its end (1 July): records entered late (a case opened
in March, written down in April) are in by then. Its counts can still move (a case's stage
does), but they are no longer published: each further edition would constrain every later
one of the year for ever."""


def closes(fiscal_year: int) -> dt.datetime:
    """When the fiscal year (April to March) closes, in Japan."""
    return dt.datetime(fiscal_year + 1, 4 + SETTLING_MONTHS, 1, tzinfo=JAPAN)


@dataclasses.dataclass(frozen=True, slots=True)
class InForce:
    """What the prefecture's publication holds now, besides its editions."""

    counts: dict[tuple[int, str], dict[tuple[str, str], int] | None]
    """The true counts each table's edition in force was protected from, by (fiscal year,
    table); zeros absent. None: not known (an edition from before migration 0028)."""
    as_of: dict[int, dt.datetime]
    """When each fiscal year's tables and medians, as published now, were counted."""
    edition_at: dt.datetime | None
    """When the open fiscal years were last due; None: nothing published yet."""
    next_edition_at: dt.datetime | None
    """When they are due next."""


@dataclasses.dataclass(frozen=True, slots=True)
class Task:
    """One fiscal year's group of tables to protect, with every edition of them published before."""

    fiscal_year: int
    tables: list[disclosure.CountTable]
    previous: list[disclosure.PublishedTable]


@dataclasses.dataclass(frozen=True, slots=True)
class Plan:
    tasks: list[Task]
    """What must be protected anew, against every edition before."""
    tables: dict[int, list[disclosure.PublishedTable]]
    """The editions in force published again as they are, by fiscal year."""
    due: frozenset[int]
    """The fiscal years published at this refresh: their figures are counted now."""
    as_of: dict[int, dt.datetime]
    """When each fiscal year's figures, as published after this refresh, were counted."""
    edition_at: dt.datetime
    """When the open fiscal years were last due (now, if they are)."""
    next_edition_at: dt.datetime


def plan(
    prefecture_code: str,
    raw: RawFigures,
    *,
    previous: Mapping[int, Sequence[disclosure.PublishedTable]],
    in_force: InForce,
    computed_at: dt.datetime,
    interval: dt.timedelta,
    force: bool = False,
) -> Plan:
    """Which fiscal years are due, and of those, which groups must be protected anew (their
    counts are not their edition in force's) and which are published again as they were.
    An open year is due once its interval has passed (or `force`); a closed one, once more
    at the first refresh after it closed. A year not due keeps its editions in force."""
    rows = _rows(prefecture_code)
    now = _by_table(raw.counts)
    # The open fiscal years are due together: one time for the figures of all of them.
    new_round = force or in_force.next_edition_at is None or computed_at >= in_force.next_edition_at
    tasks: list[Task] = []
    again: dict[int, list[disclosure.PublishedTable]] = collections.defaultdict(list)
    due: set[int] = set()
    for year in sorted(set(_years(raw)) | set(in_force.as_of)):
        editions = sorted((t for t in previous.get(year, ()) if t.rows == rows), key=lambda t: t.edition)
        latest = {t.name: t for t in editions}  # the edition in force of each
        if not _due(year, computed_at, in_force.as_of.get(year), new_round=new_round):
            again[year] += [latest[f.value] for f in PROTECTED if f.value in latest]
            continue
        due.add(year)
        tables = {t.name: t for t in count_tables(year, rows, raw.counts)}
        for group in PROTECTED_TOGETHER:
            names = [f.value for f in group]
            if all(n in latest and now.get((year, n), {}) == in_force.counts.get((year, n)) for n in names):
                again[year] += [latest[n] for n in names]
            else:
                tasks.append(Task(year, [tables[n] for n in names], [t for t in editions if t.name in names]))
    as_of = {**in_force.as_of, **dict.fromkeys(due, computed_at)}
    if new_round or in_force.edition_at is None or in_force.next_edition_at is None:
        return Plan(tasks, dict(again), frozenset(due), as_of, computed_at, computed_at + interval)
    return Plan(tasks, dict(again), frozenset(due), as_of, in_force.edition_at, in_force.next_edition_at)


def _due(year: int, computed_at: dt.datetime, as_of: dt.datetime | None, *, new_round: bool) -> bool:
    if computed_at < closes(year):
        return new_round
    return as_of is None or as_of < closes(year)  # its last edition, the first after it closed


def protect(task: Task, k: int) -> list[disclosure.PublishedTable]:
    """One group through the disclosure control."""
    return disclosure.protect(task.tables, k=k, previous=task.previous)


def assemble(
    prefecture_code: str,
    raw: RawFigures,
    *,
    k: int,
    schedule: Plan,
    tables: Mapping[int, Sequence[disclosure.PublishedTable]],
) -> Publication:
    """The prefecture's publication from its protected tables: every municipality of the
    registry is a row of every protected table (one with no records is a row of zeros, and
    zero is shown as zero). The medians of the fiscal years due only: the others keep theirs."""
    rows = _rows(prefecture_code)
    cells = [cell for year, published in tables.items() for table in published for cell in _cells(table, year)]
    shown = _statuses(raw.statuses) + _programmes(raw.programmes)
    # A municipality's supervisor reads its own figures unsuppressed: the counts and its
    # own rows of the status and programmes.
    own = [Count(c.area, c.figure, c.fiscal_year, c.category, c.value or 0) for c in shown if c.area != TOTAL]
    medians, raw_medians = _medians(raw.conference_days, rows, _years(raw), k=k)
    by_year = {year: list(published) for year, published in tables.items()}
    due = [m for m in medians if m.fiscal_year in schedule.due]
    counts = _by_table(raw.counts)
    return Publication(prefecture_code, by_year, cells + shown, due, raw.counts + own, raw_medians, counts, schedule)


def count_tables(year: int, rows: tuple[str, ...], counts: Iterable[Count]) -> list[disclosure.CountTable]:
    """One fiscal year's protected tables of true counts, a row per municipality."""
    values: dict[Figure, dict[tuple[str, str], int]] = {f: {} for f in PROTECTED}
    for c in counts:
        if c.fiscal_year == year and c.figure in values:
            values[c.figure][c.municipality_code, c.category] = c.value
    return [disclosure.CountTable(f.value, rows, tuple(CATEGORIES[f]), values[f]) for f in PROTECTED]


def _rows(prefecture_code: str) -> tuple[str, ...]:
    return tuple(g.code for g in for_prefecture(prefecture_code) if not g.is_prefecture)


def _years(raw: RawFigures) -> list[int]:
    return sorted({c.fiscal_year for c in raw.counts} | {year for _, year, _ in raw.conference_days})


def _by_table(counts: Iterable[Count]) -> dict[tuple[int, str], dict[tuple[str, str], int]]:
    """The protected counts by (fiscal year, table); zeros absent, as stored."""
    found: dict[tuple[int, str], dict[tuple[str, str], int]] = collections.defaultdict(dict)
    for c in counts:
        if c.figure in PROTECTED and c.value:
            found[c.fiscal_year, c.figure.value][c.municipality_code, c.category] = c.value
    return dict(found)


def _cells(table: disclosure.PublishedTable, year: int) -> list[Cell]:
    """Every figure of the table, its margins as the `total` area and category. A suppressed
    figure says only that it is suppressed, never why: "a small count" would tell a reader
    that it lies between 1 and k-1, which is what suppressing it hides."""
    return [
        Cell(Figure(table.name), year, area, category, value, "shown" if value is not None else "suppressed")
        for (area, category), value in _figures(table).items()
    ]


def _figures(table: disclosure.PublishedTable) -> dict[tuple[str, str], int | None]:
    """Every figure of the table by (area, category), its margins as the `total` area and category."""
    return {
        **table.cells,
        **{(area, TOTAL): value for area, value in table.row_totals.items()},
        **{(TOTAL, category): value for category, value in table.column_totals.items()},
        (TOTAL, TOTAL): table.total,
    }


def _statuses(rows: Iterable[asyncpg.Record]) -> list[Cell]:
    """Seed 001's progress table: per municipality 1 or 0 (or its number of salons and
    places), and in total the number of municipalities (the salons and places summed)."""
    per_area: list[Cell] = []
    for r in rows:
        window, team, jusoteki = r["one_stop_window"], r["complex_case_team"], r["jusoteki"]
        flags = {
            "window_and_team": window and team,
            "window_only": window and not team,
            "team_only": team and not window,
            "window_or_team": window or team,
            "jusoteki_implemented": jusoteki == "implemented",
            "jusoteki_preparation": jusoteki == "transition_preparation",
            "with_carer_salons": r["carer_salons"] > 0,
            "carer_salons": r["carer_salons"],
            "with_childrens_places": r["childrens_places"] > 0,
            "childrens_places": r["childrens_places"],
        }
        per_area += [
            Cell(Figure.MUNICIPALITY_STATUS, r["fiscal_year"], r["municipality_code"], c, int(v), "shown")
            for c, v in flags.items()
        ]
    return per_area + _totals(per_area)


def _programmes(rows: Iterable[asyncpg.Record]) -> list[Cell]:
    per_area: list[Cell] = []
    for r in rows:
        values = {f"{r['kind']}:held": r["held"], f"{r['kind']}:participants": r["participants"]}
        if f"{r['kind']}:companies" in CATEGORIES[Figure.PROGRAMMES]:
            values[f"{r['kind']}:companies"] = r["companies"]
        per_area += [
            Cell(Figure.PROGRAMMES, r["fiscal_year"], r["municipality_code"], c, v, "shown") for c, v in values.items()
        ]
    return per_area + _totals(per_area)


def _totals(cells: Iterable[Cell]) -> list[Cell]:
    sums: collections.Counter[tuple[Figure, int, str]] = collections.Counter()
    for c in cells:
        sums[c.figure, c.fiscal_year, c.category] += c.value or 0
    return [Cell(f, year, TOTAL, category, value, "shown") for (f, year, category), value in sums.items()]


def _medians(
    days: Iterable[tuple[str, int, int]], municipalities: Sequence[str], years: Sequence[int], *, k: int
) -> tuple[list[Median], list[tuple[str, int, Decimal, int]]]:
    """A median is shown only where k cases or more lie behind it (`too_few` otherwise, no
    case at all included): the median of fewer would tell of too few people."""
    found: dict[tuple[int, str], list[int]] = collections.defaultdict(list)
    for municipality, year, n in days:
        found[year, municipality].append(n)
        found[year, TOTAL].append(n)
    published, raw = [], []
    for year in years:
        for area in (*municipalities, TOTAL):
            behind = found.get((year, area), [])
            median = Decimal(str(statistics.median(behind))) if behind else None
            shown = median is not None and len(behind) >= k
            published.append(Median(year, area, median if shown else None, "shown" if shown else "too_few"))
            if median is not None and area != TOTAL:
                raw.append((area, year, median, len(behind)))
    return published, raw


DELETE_SQL = (
    "DELETE FROM stats.published_count WHERE prefecture_code = $1",
    "DELETE FROM stats.published_table WHERE prefecture_code = $1",
    "DELETE FROM stats.raw_count WHERE left(municipality_code, 2) = $1",
    "DELETE FROM stats.raw_median WHERE left(municipality_code, 2) = $1",
)
DELETE_MEDIANS_SQL = "DELETE FROM stats.published_median WHERE prefecture_code = $1 AND fiscal_year = ANY($2::int[])"
# The rows as arrays, one statement per table whatever their number.
INSERT_CELLS_SQL = """
INSERT INTO stats.published_count (prefecture_code, figure, fiscal_year, area, category, value, status)
SELECT $1, * FROM unnest($2::text[], $3::smallint[], $4::text[], $5::text[], $6::integer[], $7::text[])
"""
INSERT_TABLES_SQL = """
INSERT INTO stats.published_table
    (prefecture_code, fiscal_year, figure, edition, shared_margins, shares_total_with, as_of)
SELECT $1, t.* FROM unnest($2::smallint[], $3::text[], $4::integer[], $5::text[], $6::text[], $7::timestamptz[]) AS t
"""
INSERT_MEDIANS_SQL = """
INSERT INTO stats.published_median (prefecture_code, fiscal_year, area, days, status)
SELECT $1, * FROM unnest($2::smallint[], $3::text[], $4::numeric[], $5::text[])
"""
INSERT_RAW_SQL = """
INSERT INTO stats.raw_count (municipality_code, figure, fiscal_year, category, value)
SELECT * FROM unnest($1::text[], $2::text[], $3::smallint[], $4::text[], $5::integer[])
"""
INSERT_RAW_MEDIANS_SQL = """
INSERT INTO stats.raw_median (municipality_code, fiscal_year, days, cases)
SELECT * FROM unnest($1::text[], $2::smallint[], $3::numeric[], $4::integer[])
"""
UPSERT_PUBLICATION_SQL = """
INSERT INTO stats.publication (prefecture_code, computed_at, k, edition_at, next_edition_at) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (prefecture_code) DO UPDATE SET computed_at = excluded.computed_at, k = excluded.k,
    edition_at = excluded.edition_at, next_edition_at = excluded.next_edition_at
"""
IN_FORCE_SQL = """
SELECT edition_at, next_edition_at FROM stats.publication WHERE prefecture_code = $1
"""
AS_OF_SQL = """
SELECT fiscal_year::int AS fiscal_year, min(as_of) AS as_of FROM stats.published_table WHERE prefecture_code = $1
GROUP BY fiscal_year
"""
IN_FORCE_COUNTS_SQL = """
SELECT e.fiscal_year::int AS fiscal_year, e.figure, e.counts::text AS counts
FROM stats.published_edition e
JOIN stats.published_table t USING (prefecture_code, fiscal_year, figure, edition)
WHERE e.prefecture_code = $1
"""
# Every edition is kept: an edition already stored (a group published again as it was) stays
# as it is, with the counts it was protected from.
INSERT_EDITIONS_SQL = """
INSERT INTO stats.published_edition
    (prefecture_code, fiscal_year, figure, edition, figures, shared_margins, shares_total_with, counts)
SELECT $1, t.fiscal_year, t.figure, t.edition, t.figures::jsonb, t.shared_margins, t.shares_total_with, t.counts::jsonb
FROM unnest($2::smallint[], $3::text[], $4::integer[], $5::text[], $6::text[], $7::text[], $8::text[])
    AS t (fiscal_year, figure, edition, shared_margins, shares_total_with, figures, counts)
ON CONFLICT (prefecture_code, fiscal_year, figure, edition) DO NOTHING
"""
PUBLISHED_EDITIONS_SQL = """
SELECT fiscal_year::int AS fiscal_year, figure, edition, figures::text AS figures, shared_margins, shares_total_with
FROM stats.published_edition WHERE prefecture_code = $1 ORDER BY fiscal_year, figure, edition
"""


def _columns(rows: Sequence[tuple[object, ...]], width: int) -> list[list[object]]:
    return [list(column) for column in zip(*rows, strict=True)] if rows else [[] for _ in range(width)]


async def write(conn: asyncpg.Connection, publication: Publication, *, computed_at: dt.datetime, k: int) -> None:
    """Replace the prefecture's figures; `conn` is in a transaction as `kizuna_stats`."""
    p, schedule = publication.prefecture_code, publication.schedule
    for sql in DELETE_SQL:
        await conn.execute(sql, p)
    await conn.execute(DELETE_MEDIANS_SQL, p, sorted(schedule.due))
    cells = [(c.figure.value, c.fiscal_year, c.area, c.category, c.value, c.status) for c in publication.cells]
    await conn.execute(INSERT_CELLS_SQL, p, *_columns(cells, 6))
    # The links as one text each (a comma-separated list of `axis:table:other_axis` for the
    # shared margins, of names for the grand totals): unnest cannot take an array of arrays.
    # Each table's figures, and its true counts, as a JSON array of [area, category, value]
    # for its edition kept.
    tables = [
        (
            year,
            t.name,
            t.edition,
            ",".join(map(_margin_text, t.shared_margins)),
            ",".join(t.shares_total_with),
            json.dumps([[area, category, value] for (area, category), value in _figures(t).items()]),
            json.dumps([[*key, value] for key, value in publication.counts.get((year, t.name), {}).items()]),
        )
        for year, published in publication.tables.items()
        for t in published
    ]
    as_of = [schedule.as_of[table[0]] for table in tables]
    await conn.execute(INSERT_TABLES_SQL, p, *_columns([table[:5] for table in tables], 5), as_of)
    await conn.execute(INSERT_EDITIONS_SQL, p, *_columns(tables, 7))
    medians = [(m.fiscal_year, m.area, m.days, m.status) for m in publication.medians]
    await conn.execute(INSERT_MEDIANS_SQL, p, *_columns(medians, 4))
    raw = [(c.municipality_code, c.figure.value, c.fiscal_year, c.category, c.value) for c in publication.raw]
    await conn.execute(INSERT_RAW_SQL, *_columns(raw, 5))
    await conn.execute(INSERT_RAW_MEDIANS_SQL, *_columns(publication.raw_medians, 4))
    await conn.execute(UPSERT_PUBLICATION_SQL, p, computed_at, k, schedule.edition_at, schedule.next_edition_at)


async def read_in_force(conn: asyncpg.Connection, prefecture_code: str) -> InForce:
    """The true counts of each edition in force, when each fiscal year was last counted, and
    when the next edition is due."""
    counts: dict[tuple[int, str], dict[tuple[str, str], int] | None] = {
        (r["fiscal_year"], r["figure"]): None
        if r["counts"] is None
        else {(area, category): value for area, category, value in json.loads(r["counts"])}
        for r in await conn.fetch(IN_FORCE_COUNTS_SQL, prefecture_code)
    }
    as_of = {r["fiscal_year"]: r["as_of"] for r in await conn.fetch(AS_OF_SQL, prefecture_code)}
    publication = await conn.fetchrow(IN_FORCE_SQL, prefecture_code)
    if publication is None:
        return InForce(counts, as_of, None, None)
    return InForce(counts, as_of, publication["edition_at"], publication["next_edition_at"])


async def read_published(conn: asyncpg.Connection, prefecture_code: str) -> dict[int, list[disclosure.PublishedTable]]:
    """Every edition of the protected tables ever published, by fiscal year (the `previous`
    of the next refresh), with the registry's municipalities as their rows."""
    rows = _rows(prefecture_code)
    editions: dict[int, list[disclosure.PublishedTable]] = collections.defaultdict(list)
    for t in await conn.fetch(PUBLISHED_EDITIONS_SQL, prefecture_code):
        year, name, columns = t["fiscal_year"], t["figure"], tuple(CATEGORIES[Figure(t["figure"])])
        found = {(area, category): value for area, category, value in json.loads(t["figures"])}
        editions[year].append(
            disclosure.PublishedTable(
                name=name,
                rows=rows,
                columns=columns,
                cells={(r, c): found.get((r, c)) for r in rows for c in columns},
                row_totals={r: found.get((r, TOTAL)) for r in rows},
                column_totals={c: found.get((TOTAL, c)) for c in columns},
                total=found.get((TOTAL, TOTAL)),
                edition=t["edition"],
                shared_margins=tuple(_margin(text) for text in _names(t["shared_margins"])),
                shares_total_with=_names(t["shares_total_with"]),
            )
        )
    return dict(editions)


def _names(joined: str) -> tuple[str, ...]:
    return tuple(name for name in joined.split(",") if name)


def _margin_text(margin: disclosure.SharedMargin) -> str:
    return f"{margin.axis}:{margin.table}:{margin.other_axis}"


def _margin(text: str) -> disclosure.SharedMargin:
    axis, table, other_axis = text.split(":")
    # Written by `_margin_text` from the library's own values.
    return disclosure.SharedMargin(cast("Axis", axis), table, cast("Axis", other_axis))
