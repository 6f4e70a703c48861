"""Fiscal years (April to March) in 西暦 and 和暦: FY2024 is 令和6年度.

The era comes from japanera (`platform/wareki.py`). A fiscal year takes the era in force on its last day and is
numbered by the year it began in: FY2019, which began under 平成 on 1 April 2019, is
令和元年度, as the government names it.
"""

from __future__ import annotations

import datetime as dt
import functools

from kizuna.platform.wareki import era_year
from kizuna.schema.errors import bad_input

FIRST_FISCAL_YEAR, LAST_FISCAL_YEAR = 2000, 2100
"""The years the figures may be of (the tables keep a year in a smallint)."""


def fiscal_year_argument(fiscal_year: int, *, argument: str = "fiscalYear") -> int:
    """A query's fiscal year, refused as BAD_USER_INPUT outside the years there can be
    figures of: one past a smallint would otherwise fail in the database, as INTERNAL."""
    if not FIRST_FISCAL_YEAR <= fiscal_year <= LAST_FISCAL_YEAR:
        raise bad_input(f"`{argument}` must be a year from {FIRST_FISCAL_YEAR} to {LAST_FISCAL_YEAR}.")
    return fiscal_year


def western_label(fiscal_year: int) -> str:
    return f"{fiscal_year}年度"


# Every FiscalYear of an answer asks for it (each table's, each trend year's): the era lookup once a year.
@functools.lru_cache(maxsize=128)  # bounded: a year may come from a request
def japanese_label(fiscal_year: int) -> str:
    return f"{era_year(dt.date(fiscal_year + 1, 3, 31), fiscal_year)}度"
