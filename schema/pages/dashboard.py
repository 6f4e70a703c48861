"""The dashboard at `/` for prefecture staff (issue 16, item 8): the indicators against
their targets, every municipality at a glance, the trends by fiscal year, the tables with
their exports, freshness and the submissions waiting for the prefecture.

Everything shown comes from one registered document (`documents/dashboard.graphql`) run
as the visitor: an analyst gets every municipality of the prefecture, suppressed; a
municipal supervisor gets its own municipality, unsuppressed, exactly as `prefectureStats`
answers each. This module only shapes that answer for `templates/dashboard.html`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from kizuna.platform import wareki
from kizuna.platform.vocabulary import AppRole, SubmissionStatus, SubmittedFigures
from kizuna.schema.pages import charts
from kizuna.schema.permissions import Operation, allowed
from kizuna.schema.stats import fiscal_years

ROLES = allowed(Operation.PREFECTURE_STATS) & allowed(Operation.INDICATORS) & allowed(Operation.SUBMISSIONS)
"""Who gets the dashboard at `/`: whoever may read everything it shows."""
DOCUMENT = "dashboard"
SUPPRESSED = "秘匿"
NOT_REPORTED = "報告なし"
TOO_FEW = "非表示"
_GAPS = {"SUPPRESSED": SUPPRESSED, "NOT_REPORTED": NOT_REPORTED, "TOO_FEW": TOO_FEW}
# The state of a submission, as the prefecture reads it: a submitted one waits for it.
SUBMISSION_STATES = {
    SubmissionStatus.DRAFT: "作成中",
    SubmissionStatus.SUBMITTED: "承認待ち",
    SubmissionStatus.ACCEPTED: "承認済み",
    SubmissionStatus.RETURNED: "差戻し",
}
NOT_SUBMITTED = "未提出"
# A municipality's tile: its 体制整備 (seed 001's progress table) in the chosen year.
TILE_STATUSES = {
    "both": "窓口とチームの両方",
    "window": "窓口のみ",
    "team": "チームのみ",
    "none": "どちらも未設置",
    "unreported": NOT_REPORTED,
}
# The trend of each table: the total of a row, or one column of it where the row has no
# total (the status table counts municipalities per kind of provision). Not the cases by
# stage (the same cases as by category), nor the programmes (their columns do not add up).
TRENDS: dict[str, str | None] = {
    "CASES_BY_CATEGORY": None,
    "REFERRALS_BY_SOURCE": None,
    "CLOSURES": None,
    "HELPER_VISITS": None,
    "MUNICIPALITY_STATUS": "window_or_team",
}
_UNITS = {"MUNICIPALITY_STATUS": "団体"}


@dataclass(frozen=True, slots=True)
class Cell:
    text: str
    withheld: bool = False


@dataclass(frozen=True, slots=True)
class Row:
    area: str
    cells: tuple[Cell, ...]
    total: Cell | None
    is_total: bool


@dataclass(frozen=True, slots=True)
class Table:
    figure: str
    label: str
    columns: tuple[str, ...]
    has_total: bool
    rows: tuple[Row, ...]
    csv: str
    xlsx: str


@dataclass(frozen=True, slots=True)
class IndicatorLine:
    key: str
    name: str
    unit: str
    baseline: str | None
    baseline_year: str | None
    target: str
    target_by: str | None
    current: CurrentValue | None
    deadline_passed: bool


@dataclass(frozen=True, slots=True)
class CurrentValue:
    """An indicator's latest value and its progress toward the target."""

    value: str
    year: str
    progress: float | None  # percent, as the API computes it (may pass 100 or fall below 0)
    reached: bool
    coverage: str | None  # "承認済み 40 / 63 市町村"; None for the prefecture's own surveys

    @property
    def bar(self) -> float:
        """The progress bar's filling: the progress held within 0–100."""
        return 0.0 if self.progress is None else min(max(self.progress, 0.0), 100.0)


@dataclass(frozen=True, slots=True)
class Tile:
    code: str
    name: str
    status: str
    status_label: str
    submissions: tuple[tuple[str, str, str], ...]
    """(what was submitted, its state's key, its state) for each kind of figures."""


@dataclass(frozen=True, slots=True)
class Pending:
    municipality: str
    fiscal_year: str
    figures: str
    submitted_at: str


@dataclass(frozen=True, slots=True)
class YearChoice:
    year: int
    label: str
    selected: bool


@dataclass(frozen=True, slots=True)
class Dashboard:
    area: str
    unsuppressed: bool
    threshold: int | None
    computed_at: str | None
    years: tuple[YearChoice, ...]
    year: int | None
    year_label: str
    indicators: tuple[IndicatorLine, ...]
    tiles: tuple[Tile, ...]
    accepted: int
    charts: tuple[charts.BarChart, ...]
    tables: tuple[Table, ...]
    pending: tuple[Pending, ...]


class UnknownFiscalYear(ValueError):
    """The page was asked for a fiscal year it has no figures for."""


def year_label(year: int) -> str:
    """2024年度（令和6年度）"""
    return f"{fiscal_years.western_label(year)}（{fiscal_years.japanese_label(year)}）"


def timestamp_label(value: str) -> str:
    """An answer's DateTime in Japan's time: 2026年4月2日 12:00."""
    moment = wareki.in_japan(value)
    return f"{moment.year}年{moment.month}月{moment.day}日 {moment:%H:%M}"


def decimal_label(value: str) -> str:
    number = Decimal(value)
    return f"{number:,.0f}" if number == number.to_integral_value() else f"{number.normalize():,}"


def variables(asked: int | None) -> dict[str, Any]:
    """The document's variables: the tables of the year asked for (else the latest)."""
    return {"fiscalYears": None if asked is None else [asked]}


def asked_year(asked: str | None) -> int | None:
    """The fiscal year `?fiscalYear=` asks for, checked before anything is read."""
    if asked is None:
        return None
    if not asked.isascii() or not asked.isdigit() or len(asked) != 4:
        raise UnknownFiscalYear(asked)
    return int(asked)


def chosen_year(years: list[int], asked: int | None) -> int | None:
    """The fiscal year the tables show: the one asked for, else the latest."""
    if asked is None:
        return max(years, default=None)
    if asked not in years:
        raise UnknownFiscalYear(str(asked))
    return asked


def _withheld(row: dict[str, Any]) -> dict[int | None, str]:
    return {w["column"]: w["status"] for w in row["withheld"]}


def _cell(value: int | float | None, status: str | None) -> Cell:
    if value is None:
        return Cell(_GAPS.get(status or "", NOT_REPORTED), withheld=True)
    return Cell(charts.number(value))


def _table(table: dict[str, Any], names: dict[str, str], area_name: str) -> Table:
    has_total = any(r["total"] is not None or None in _withheld(r) for r in table["rows"])
    rows = []
    for row in table["rows"]:
        why = _withheld(row)
        code = row["municipalityCode"]
        rows.append(
            Row(
                area=area_name if code is None else names.get(code, code),
                cells=tuple(_cell(v, why.get(i)) for i, v in enumerate(row["values"])),
                total=_cell(row["total"], why.get(None)) if has_total else None,
                is_total=code is None,
            )
        )
    figure = table["figure"].lower()
    year = table["fiscalYear"]["year"]
    return Table(
        figure=figure,
        label=table["label"],
        columns=tuple(c["label"] for c in table["columns"]),
        has_total=has_total,
        rows=tuple(rows),
        csv=f"/exports/stats/{figure}.csv?fiscalYear={year}",
        xlsx=f"/exports/stats/{figure}.xlsx?fiscalYear={year}",
    )


MEDIANS_LABEL = "相談受理から最初のケース検討会議までの日数（中央値）"


def _medians(medians: dict[str, Any], names: dict[str, str], area_name: str, year: int) -> Table:
    """The year's medians as a one-column table (a median is shown only over k cases or more)."""
    rows = tuple(
        Row(
            area=area_name
            if m["municipalityCode"] is None
            else names.get(m["municipalityCode"], m["municipalityCode"]),
            cells=(_cell(m["days"], m["status"]),),
            total=None,
            is_total=m["municipalityCode"] is None,
        )
        for m in medians["medians"]
    )
    return Table(
        figure="medians",
        label=MEDIANS_LABEL,
        columns=("日数",),
        has_total=False,
        rows=rows,
        csv=f"/exports/medians.csv?fiscalYear={year}",
        xlsx=f"/exports/medians.xlsx?fiscalYear={year}",
    )


def _trend_value(year: dict[str, Any], columns: list[str], column: str | None) -> tuple[float | None, str | None]:
    """The value a trend shows for one year (its total, or one column where the row has no
    total), or why there is none."""
    why = _withheld(year)
    if column is None:
        value, status = year["total"], why.get(None)
    else:
        index = columns.index(column)
        value, status = year["values"][index], why.get(index)
    return value, None if value is not None else _GAPS.get(status or "", NOT_REPORTED)


def _charts(trends: list[dict[str, Any]]) -> tuple[charts.BarChart, ...]:
    by_figure = {trend["figure"]: trend for trend in trends}
    drawn = []
    for figure, column in TRENDS.items():
        trend = by_figure.get(figure)
        if trend is None or not trend["years"]:
            continue
        columns = [c["category"] for c in trend["columns"]]
        points = []
        for year in trend["years"]:
            value, gap = _trend_value(year, columns, column)
            points.append(charts.YearValue(year["fiscalYear"]["western"], year["fiscalYear"]["japanese"], value, gap))
        title = trend["label"]
        if column is not None:
            title += "：" + next(c["label"] for c in trend["columns"] if c["category"] == column)
        drawn.append(charts.bar_chart(title, _UNITS.get(figure, "件"), points))
    return tuple(drawn)


def _status(table: dict[str, Any] | None, code: str) -> str:
    if table is None:
        return "unreported"
    row = next((r for r in table["rows"] if r["municipalityCode"] == code), None)
    if row is None:
        return "unreported"
    values = dict(zip((c["category"] for c in table["columns"]), row["values"], strict=True))
    if values["window_and_team"] is None:
        return "unreported"
    if values["window_and_team"]:
        return "both"
    if values["window_only"]:
        return "window"
    return "team" if values["team_only"] else "none"


def _tiles(
    codes: list[str], names: dict[str, str], status_table: dict[str, Any] | None, submissions: list[dict[str, Any]]
) -> tuple[Tile, ...]:
    states = {(s["municipality"]["code"], s["figures"]): SubmissionStatus[s["state"]] for s in submissions}
    tiles = []
    for code in codes:
        status = _status(status_table, code)
        submitted = []
        for figures in SubmittedFigures:
            state = states.get((code, figures.name))
            key = "missing" if state is None else state.value
            submitted.append((figures.label, key, NOT_SUBMITTED if state is None else SUBMISSION_STATES[state]))
        tiles.append(Tile(code, names[code], status, TILE_STATUSES[status], tuple(submitted)))
    return tuple(tiles)


def _indicator(row: dict[str, Any]) -> IndicatorLine:
    target_by = None
    if row["targetDate"] is not None:
        day = dt.date.fromisoformat(row["targetDate"])
        target_by = f"{day.year}年{day.month}月{day.day}日"
    elif row["targetFiscalYear"] is not None:
        target_by = f"{year_label(row['targetFiscalYear'])}末"
    return IndicatorLine(
        key=row["key"],
        name=row["name"],
        unit=row["unit"],
        baseline=None if row["baseline"] is None else decimal_label(row["baseline"]),
        baseline_year=None if row["baselineFiscalYear"] is None else year_label(row["baselineFiscalYear"]),
        target=decimal_label(row["target"]),
        target_by=target_by,
        current=_current(row["currentValue"]),
        deadline_passed=bool(row["deadlinePassed"]),
    )


def _current(value: dict[str, Any] | None) -> CurrentValue | None:
    if value is None:
        return None
    coverage = value["coverage"]
    return CurrentValue(
        value=decimal_label(value["value"]),
        year=year_label(value["fiscalYear"]["year"]),
        progress=None if value["progress"] is None else float(value["progress"]),
        reached=bool(value["targetReached"]),
        coverage=None if coverage is None else f"承認済み {coverage['reported']} / {coverage['municipalities']} 市町村",
    )


def dashboard(data: dict[str, Any], asked: int | None) -> Dashboard:
    """The page's content from the answer to the `Dashboard` document; UnknownFiscalYear
    when `asked` is not a year the figures cover."""
    stats = data["prefectureStats"]
    viewer = data["viewer"]
    names = {m["code"]: m["name"] for m in data["municipalities"]}
    unsuppressed = bool(stats["unsuppressed"])
    year = chosen_year([y["year"] for y in stats["fiscalYears"]], asked)
    analyst = viewer["role"] == AppRole.PREFECTURE_ANALYST.name
    # The analyst's prefecture (its total row), or the supervisor's own municipality.
    area_name = viewer["municipality"]["name"]
    # The answer holds the tables and medians of that year only (`latestFiscalYear`).
    status_table = next((t for t in stats["tables"] if t["figure"] == "MUNICIPALITY_STATUS"), None)
    codes = (
        [m["code"] for m in data["municipalities"] if m["kind"] != "PREFECTURE"]
        if analyst
        else [viewer["municipality"]["code"]]
    )
    of_year = [s for s in data["submissions"] if s["fiscalYear"] == year]
    tiles = _tiles(codes, names, status_table, of_year)
    accepted = sum(
        1
        for s in of_year
        if s["figures"] == SubmittedFigures.MUNICIPALITY_STATUS.name and s["state"] == SubmissionStatus.ACCEPTED.name
    )
    pending = tuple(
        Pending(
            municipality=s["municipality"]["name"],
            fiscal_year=year_label(s["fiscalYear"]),
            figures=SubmittedFigures[s["figures"]].label,
            submitted_at=timestamp_label(s["submittedAt"]) if s["submittedAt"] else "",
        )
        for s in data["submissions"]
        if s["state"] == SubmissionStatus.SUBMITTED.name
    )
    return Dashboard(
        area=area_name,
        unsuppressed=unsuppressed,
        threshold=stats["threshold"],
        computed_at=None if stats["computedAt"] is None else timestamp_label(stats["computedAt"]),
        years=tuple(YearChoice(y["year"], year_label(y["year"]), y["year"] == year) for y in stats["fiscalYears"]),
        year=year,
        year_label="" if year is None else year_label(year),
        indicators=tuple(_indicator(i) for i in data["indicators"]),
        tiles=tiles,
        accepted=accepted,
        charts=_charts(stats["trends"]),
        tables=(
            *(_table(t, names, area_name) for t in stats["tables"]),
            *(_medians(m, names, area_name, m["fiscalYear"]["year"]) for m in stats["medians"]),
        ),
        pending=pending,
    )
