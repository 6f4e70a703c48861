"""The indicators each prefecture's plan starts with (`data/indicators.csv`): Saitama's
seven of seed 000 and Kochi's young-carer indicators of seed 004, each row with the
seed's own words in its `source` column, so that a reader can check every value.

Onboarding writes them once (`platform/provisioning.add_indicators`); afterwards the
prefecture's analysts add and retire indicators themselves.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
from dataclasses import dataclass
from decimal import Decimal
from importlib.resources import files

from kizuna.platform.provisioning import IndicatorRow
from kizuna.platform.vocabulary import IndicatorFigure
from kizuna.tenants.registry import SUPPORTED_PREFECTURES


@dataclass(frozen=True, slots=True)
class SeededIndicator:
    row: IndicatorRow
    source: str
    """The seed document's words, for the reader; not stored."""


@functools.cache
def seeded_indicators() -> tuple[SeededIndicator, ...]:
    """Every seeded indicator, checked: a supported prefecture, a known figure, a target date or year."""
    text = (files("kizuna.tenants") / "data" / "indicators.csv").read_text(encoding="utf-8")
    rows: list[SeededIndicator] = []
    for line_no, row in enumerate(csv.DictReader(io.StringIO(text, newline="")), start=2):
        if row["prefecture_code"] not in SUPPORTED_PREFECTURES:
            raise ValueError(f"indicators.csv line {line_no}: unknown prefecture {row['prefecture_code']!r}")
        if not (row["target_date"] or row["target_fiscal_year"]):
            raise ValueError(f"indicators.csv line {line_no}: a target needs its date or fiscal year")
        indicator = IndicatorRow(
            prefecture_code=row["prefecture_code"],
            code=row["code"],
            name=row["name"],
            unit=row["unit"],
            figure=IndicatorFigure(row["figure"]),
            baseline=Decimal(row["baseline"]) if row["baseline"] else None,
            baseline_fiscal_year=int(row["baseline_fiscal_year"]) if row["baseline_fiscal_year"] else None,
            target=Decimal(row["target"]),
            target_date=dt.date.fromisoformat(row["target_date"]) if row["target_date"] else None,
            target_fiscal_year=int(row["target_fiscal_year"]) if row["target_fiscal_year"] else None,
            counted_from_fiscal_year=(
                int(row["counted_from_fiscal_year"]) if row["counted_from_fiscal_year"] else None
            ),
        )
        rows.append(SeededIndicator(indicator, row["source"]))
    return tuple(rows)


def for_prefecture(prefecture_code: str) -> tuple[IndicatorRow, ...]:
    return tuple(s.row for s in seeded_indicators() if s.row.prefecture_code == prefecture_code)
