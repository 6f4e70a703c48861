"""Disclosure control (schema/stats/disclosure.py): small counts suppressed, complements
chosen so that nothing suppressed can be recomputed, and the exact audit that proves it
and that does catch a publication that gives a count away."""

from __future__ import annotations

import dataclasses

import pytest

from kizuna.schema.stats.disclosure import CountTable, PublishedTable, audit, protect

STAGES = ("intake", "support", "closed")
TOWNS = ("111007", "112011", "113000")


def table(name: str, rows: tuple[str, ...], columns: tuple[str, ...], grid: list[list[int]]) -> CountTable:
    return CountTable(
        name,
        rows,
        columns,
        {(row, column): grid[i][j] for i, row in enumerate(rows) for j, column in enumerate(columns)},
    )


def shown_as_is(counts: CountTable, hidden: set[tuple[str | None, str | None]]) -> PublishedTable:
    """Every figure as counted, except the `hidden` ones (row or column None = a total)."""

    def show(row: str | None, column: str | None) -> int | None:
        return None if (row, column) in hidden else counts.figures()[counts.name, row, column]

    return PublishedTable(
        name=counts.name,
        rows=counts.rows,
        columns=counts.columns,
        cells={(row, column): show(row, column) for row in counts.rows for column in counts.columns},
        row_totals={row: show(row, None) for row in counts.rows},
        column_totals={column: show(None, column) for column in counts.columns},
        total=show(None, None),
    )


CASES = table("cases_by_stage", TOWNS, STAGES, [[3, 10, 12], [8, 9, 20], [15, 2, 30]])


class TestPrimarySuppression:
    def test_counts_from_1_to_k_minus_1_are_suppressed_and_zero_is_shown(self) -> None:
        counts = table("t", TOWNS, STAGES, [[0, 1, 40], [4, 0, 50], [5, 60, 70]])

        (published,) = protect([counts], k=5)

        assert published.cells["111007", "support"] is None
        assert published.cells["112011", "intake"] is None
        assert published.cells["111007", "intake"] == 0
        assert published.cells["112011", "support"] == 0

    def test_a_small_margin_is_suppressed_like_a_cell(self) -> None:
        counts = table("t", TOWNS, STAGES, [[0, 0, 3], [10, 20, 30], [10, 20, 30]])

        (published,) = protect([counts], k=5)

        assert published.row_totals["111007"] is None

    def test_k_is_configurable(self) -> None:
        counts = table("t", TOWNS, STAGES, [[7, 40, 40], [40, 40, 40], [40, 40, 40]])

        assert protect([counts], k=5)[0].cells["111007", "intake"] == 7
        assert protect([counts], k=10)[0].cells["111007", "intake"] is None


class TestAudit:
    def test_primary_suppression_alone_is_caught_through_the_row_total(self) -> None:
        only_primary = shown_as_is(CASES, {("111007", "intake"), ("113000", "support")})

        exposures = audit([CASES], [only_primary])

        recovered = {(e.row, e.column): (e.lower, e.upper) for e in exposures}
        assert recovered[("111007", "intake")] == (3, 3)
        assert recovered[("113000", "support")] == (2, 2)

    def test_what_protect_publishes_passes_the_audit(self) -> None:
        assert audit([CASES], protect([CASES])) == []

    def test_a_published_small_count_is_an_exposure(self) -> None:
        exposures = audit([CASES], [shown_as_is(CASES, set())])

        assert {(e.row, e.column) for e in exposures} >= {("111007", "intake"), ("113000", "support")}

    def test_a_figure_that_differs_from_the_count_is_refused(self) -> None:
        wrong = dataclasses.replace(protect([CASES])[0], total=110)

        with pytest.raises(ValueError, match="the count is"):
            audit([CASES], [wrong])
