"""The demo's clock and school calendar: a fixed "now", fiscal years (April to March) and
school grades, so that the same seed always gives the same rows."""

from __future__ import annotations

import datetime as dt
from typing import Final

from kizuna.platform.vocabulary import OrganisationKind

JST: Final = dt.timezone(dt.timedelta(hours=9), "JST")
AS_OF: Final = dt.datetime(2026, 1, 31, tzinfo=JST)
"""The demo's "now" (end of 30 January 2026, FY2025 = 令和7年度): fixed, so seeds repeat."""
AS_OF_DATE: Final = dt.date(2026, 1, 30)
EARLIEST: Final = dt.date(2022, 4, 1)
"""Cases open from FY2022 (令和4年度) on."""
SPAN_DAYS: Final = (AS_OF_DATE - EARLIEST).days


def fiscal_year(day: dt.date) -> int:
    return day.year if day.month >= 4 else day.year - 1


def school_grade(birth: dt.date, on: dt.date) -> int:
    """1-12 for 小1 … 高3 (a school year takes the births of 2 April to 1 April); else not at school."""
    birth_fy = birth.year if (birth.month, birth.day) >= (4, 2) else birth.year - 1
    return fiscal_year(on) - birth_fy - 6


def years_before(day: dt.date, years: int) -> dt.date:
    return dt.date(day.year - years, day.month, min(day.day, 28))


def grade_label(grade: int) -> str:
    if grade <= 6:
        return f"小学{grade}年"
    return f"中学{grade - 6}年" if grade <= 9 else f"高校{grade - 9}年"


def school_kind(grade: int) -> OrganisationKind:
    if grade <= 6:
        return OrganisationKind.ELEMENTARY_SCHOOL
    return OrganisationKind.JUNIOR_HIGH_SCHOOL if grade <= 9 else OrganisationKind.HIGH_SCHOOL
