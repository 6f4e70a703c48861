"""Dates and times as people in Japan read them (platform/wareki.py): the day is Japan's,
whatever zone the API wrote the instant in, and the year carries its era."""

from __future__ import annotations

import datetime as dt

import pytest

from kizuna.platform import wareki


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        # 23:30 in UTC is already the next morning in Japan: the day is Japan's, not UTC's.
        ("2026-11-30T23:30:00+00:00", "2026年12月1日（令和8年） 8:30"),
        ("2026-12-01T08:30:00+09:00", "2026年12月1日（令和8年） 8:30"),
        ("2026-12-01T14:30:00+00:00", "2026年12月1日（令和8年） 23:30"),
        ("2019-04-30T15:05:00+00:00", "2019年5月1日（令和元年） 0:05"),
        ("2019-04-30T14:59:00Z", "2019年4月30日（平成31年） 23:59"),
    ],
)
def test_a_moment_is_shown_on_japans_day_with_its_era(value: str, shown: str) -> None:
    assert wareki.datetime_label(value) == shown


def test_the_day_of_a_moment_is_japans() -> None:
    assert wareki.in_japan("2026-11-30T23:30:00+00:00").date() == dt.date(2026, 12, 1)
