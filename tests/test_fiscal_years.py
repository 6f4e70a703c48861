"""Fiscal years in 西暦 and 和暦 (DESIGN section 4), and the stats settings' checks."""

from __future__ import annotations

import pytest

from kizuna.platform.settings import Settings, SettingsError
from kizuna.schema.stats.fiscal_years import japanese_label, western_label


@pytest.mark.parametrize(
    ("year", "japanese"),
    [
        (2024, "令和6年度"),
        (2025, "令和7年度"),
        # Begun under 平成 on 1 April 2019, named 令和元年度 as the government names it.
        (2019, "令和元年度"),
        (2018, "平成30年度"),
        (2000, "平成12年度"),
    ],
)
def test_a_fiscal_year_in_both_calendars(year: int, japanese: str) -> None:
    assert (western_label(year), japanese_label(year)) == (f"{year}年度", japanese)


def test_the_stats_settings() -> None:
    settings = Settings.from_env({})
    assert (settings.stats_k, settings.stats_refresh_seconds) == (5, 900)
    assert Settings.from_env({"KIZUNA_STATS_REFRESH": "0"}).stats_refresh_seconds == 0
    assert settings.stats_publication_days == 30
    assert Settings.from_env({"KIZUNA_STATS_PUBLICATION_DAYS": "7"}).stats_publication_days == 7
    for bad in ("0", "-1", "a month"):
        with pytest.raises(SettingsError, match="KIZUNA_STATS_PUBLICATION_DAYS"):
            Settings.from_env({"KIZUNA_STATS_PUBLICATION_DAYS": bad})
    for bad in ("1", "0", "-3", "five"):
        with pytest.raises(SettingsError, match="KIZUNA_STATS_K"):
            Settings.from_env({"KIZUNA_STATS_K": bad})
