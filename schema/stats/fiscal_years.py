"""Fiscal years (April to March) in 西暦 and 和暦: FY2024 is 令和6年度.

The era comes from japanera (its table of eras is maintained upstream, so a new era needs
an upgrade, not a change here). A fiscal year takes the era in force on its last day and is
numbered by the year it began in: FY2019, which began under 平成 on 1 April 2019, is
令和元年度, as the government names it.
"""

from __future__ import annotations

import datetime as dt

from japanera import ERA_DATA_GENERAL


def western_label(fiscal_year: int) -> str:
    return f"{fiscal_year}年度"


def japanese_label(fiscal_year: int) -> str:
    last_day = dt.date(fiscal_year + 1, 3, 31)
    era = next(era for era in ERA_DATA_GENERAL if last_day in era)
    year = era.absolute_year_to_relative_year(fiscal_year)
    return f"{era.kanji}{'元' if year == 1 else year}年度"
