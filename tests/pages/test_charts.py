"""The trend charts' geometry (schema/pages/charts.py): a figure that is not shown is a
gap that says why, never a bar of 0, and the chart in words says every year in both
calendars."""

from __future__ import annotations

from kizuna.schema.pages.charts import YearValue, bar_chart, nice_ceiling

YEARS = [
    YearValue("2022年度", "令和4年度", 0),
    YearValue("2023年度", "令和5年度", None, "秘匿"),
    YearValue("2024年度", "令和6年度", 1234),
    YearValue("2025年度", "令和7年度", None, "報告なし"),
]


def test_a_withheld_figure_is_a_gap_with_its_reason_and_zero_is_a_count() -> None:
    chart = bar_chart("新規ケース数", "件", YEARS)
    zero, suppressed, shown, unreported = chart.bars
    assert (zero.is_gap, zero.value_label, zero.height) == (False, "0", 0)
    assert (suppressed.is_gap, suppressed.value_label) == (True, "秘匿")
    assert (unreported.is_gap, unreported.value_label) == (True, "報告なし")
    assert (shown.is_gap, shown.value_label) == (False, "1,234")
    # The tallest bar reaches a round top of the axis; the bars stand on the baseline.
    assert chart.ticks[-1].label == "2,000"
    assert shown.y + shown.height == chart.baseline
    assert chart.description == (
        "2022年度（令和4年度）: 0件、2023年度（令和5年度）: 秘匿、"
        "2024年度（令和6年度）: 1,234件、2025年度（令和7年度）: 報告なし"
    )


def test_the_axis_top_is_round_and_counts_in_whole_units() -> None:
    assert [nice_ceiling(v) for v in (0, 1, 3, 7, 12, 240, 251)] == [1, 1, 5, 10, 20, 250, 500]
    tiny = bar_chart("終結件数", "件", [YearValue("2024年度", "令和6年度", 1)])
    assert [t.label for t in tiny.ticks] == ["0", "1", "2"]
