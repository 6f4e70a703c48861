"""Trend charts drawn on the server: the geometry of a bar chart, one bar per fiscal year,
which a template draws as SVG (no script, no chart library, nothing for the browser to
fetch).

A figure that is not shown (suppressed, or not reported) is a gap with its reason written
where the bar would stand, never a bar of height 0: 0 is a count, a gap is not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

WIDTH = 480
HEIGHT = 240
LEFT = 44  # room for the value axis' labels
BOTTOM = 44  # room for two lines of fiscal-year labels
TOP = 16
RIGHT = 8
TICKS = 2


@dataclass(frozen=True, slots=True)
class YearValue:
    """One fiscal year of a trend: its value, or why it has none (`gap`, e.g. 秘匿)."""

    western: str
    japanese: str
    value: float | None
    gap: str | None = None


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    centre: float
    value_label: str
    """The value above the bar, or the reason for a gap."""
    western: str
    japanese: str
    is_gap: bool


@dataclass(frozen=True, slots=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True, slots=True)
class BarChart:
    title: str
    unit: str
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    description: str
    """The chart in words, for a screen reader (the SVG's <desc>)."""
    width: int = WIDTH
    height: int = HEIGHT
    baseline: float = HEIGHT - BOTTOM
    left: float = LEFT
    right: float = WIDTH - RIGHT


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 times a power of ten that is at least `value` (1 for 0)."""
    if value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 2.5, 5, 10) if step * power >= value)


def number(value: float) -> str:
    """A count as Japanese tables write it: thousands separated, a fraction only if any."""
    if isinstance(value, int):  # most figures: the fast way
        return f"{value:,}"
    return f"{value:,.0f}" if value.is_integer() else f"{value:,.1f}"


def bar_chart(title: str, unit: str, years: list[YearValue]) -> BarChart:
    shown = [y.value for y in years if y.value is not None]
    # At least one unit per tick: a count's axis never reads 0.5.
    top = max(nice_ceiling(max(shown, default=0)), TICKS)
    plot_height = HEIGHT - BOTTOM - TOP
    slot = (WIDTH - LEFT - RIGHT) / max(len(years), 1)
    width = min(slot * 0.6, 56.0)
    bars = []
    for i, year in enumerate(years):
        centre = LEFT + slot * (i + 0.5)
        height = 0.0 if year.value is None else plot_height * year.value / top
        bars.append(
            Bar(
                x=centre - width / 2,
                y=HEIGHT - BOTTOM - height,
                width=width,
                height=height,
                centre=centre,
                value_label=number(year.value) if year.value is not None else (year.gap or ""),
                western=year.western,
                japanese=year.japanese,
                is_gap=year.value is None,
            )
        )
    ticks = tuple(
        Tick(y=HEIGHT - BOTTOM - plot_height * i / TICKS, label=number(top * i / TICKS)) for i in range(TICKS + 1)
    )
    description = "、".join(
        f"{y.western}（{y.japanese}）: {number(y.value) + unit if y.value is not None else y.gap}" for y in years
    )
    return BarChart(title=title, unit=unit, bars=tuple(bars), ticks=ticks, description=description)
