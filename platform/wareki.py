"""Dates as people in Japan read them: the year in 和暦 beside 西暦, in Japan's time.

The eras come from japanera, whose table is maintained upstream: a new era needs an
upgrade, not a change here.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from japanera import ERA_DATA_GENERAL

JAPAN = ZoneInfo("Asia/Tokyo")


def era_year(day: dt.date, year: int | None = None) -> str:
    """`令和8年` (`元年` for an era's first year): the era in force on `day`, numbering
    `year` (by default `day`'s own)."""
    era = next(era for era in ERA_DATA_GENERAL if day in era)
    number = era.absolute_year_to_relative_year(day.year if year is None else year)
    return f"{era.kanji}{'元' if number == 1 else number}年"


def date_label(day: dt.date) -> str:
    """`2026年11月30日（令和8年）`."""
    return f"{day.year}年{day.month}月{day.day}日（{era_year(day)}）"


def in_japan(value: str) -> dt.datetime:
    """An ISO 8601 instant (an API's DateTime) in Japan's time."""
    return dt.datetime.fromisoformat(value).astimezone(JAPAN)


def datetime_label(value: str) -> str:
    """An ISO 8601 instant (an API's DateTime) as a person in Japan reads it, the one
    format of every page: `2026年12月1日（令和8年） 9:05` (the day and the time in Japan,
    whatever zone the value is written in)."""
    moment = in_japan(value)
    return f"{date_label(moment.date())} {moment.hour}:{moment.minute:02d}"
