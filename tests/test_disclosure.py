"""Disclosure control (schema/stats/disclosure.py): small counts suppressed, complements
chosen so that nothing suppressed can be recomputed, and the exact audit that proves it
and that does catch a publication that gives a count away."""

from __future__ import annotations

import dataclasses
import itertools
import subprocess
import sys
from collections.abc import Callable

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from kizuna.schema.stats.disclosure import CountTable, PublishedTable, SharedMargin, audit, protect
from kizuna.schema.stats.disclosure_audit import Attacker, Edition, FigureKey, Margin

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


class TestLinkedTables:
    BY_SOURCE = table(
        "referrals_by_source", TOWNS, ("school", "self"), [[20, 5], [30, 7], [40, 7]]
    )  # totals 25, 37, 47

    def test_a_shared_margin_is_hidden_in_every_table_or_in_none(self) -> None:
        small_town = table("cases_by_stage", TOWNS, STAGES, [[1, 1, 1], [8, 9, 20], [15, 2, 30]])
        by_source = table("referrals_by_source", TOWNS, ("school", "self"), [[3, 0], [30, 7], [40, 7]])

        published = protect([small_town, by_source])

        assert [p.row_totals["111007"] for p in published] == [None, None]
        assert published[0].shared_margins == (SharedMargin("rows", "referrals_by_source", "rows"),)
        assert audit([small_town, by_source], published) == []

    def test_a_margin_hidden_in_one_table_and_shown_in_the_other_is_caught(self) -> None:
        (safe,) = protect([CASES])
        one = dataclasses.replace(safe, row_totals={**safe.row_totals, "111007": None, "112011": None})
        other = shown_as_is(self.BY_SOURCE, set())  # shows every town's total

        exposures = audit([CASES, self.BY_SOURCE], [one, other])

        assert {(e.table, e.row, e.column, e.lower) for e in exposures} == {
            ("cases_by_stage", "111007", None, 25),
            ("cases_by_stage", "112011", None, 37),
        }
        assert audit([CASES], [one]) == [], "alone, the same table gives nothing away"

    def test_three_views_of_one_three_way_table_are_refused(self) -> None:
        by_category = table("by_category", TOWNS, ("young", "adult"), [[10, 15], [17, 20], [20, 27]])
        by_stage = CASES  # the same towns' totals: 25, 37, 47
        category_by_stage = table("category_by_stage", ("young", "adult"), STAGES, [[10, 10, 27], [16, 11, 35]])

        with pytest.raises(ValueError, match="cycle of shared margins"):
            protect([by_category, by_stage, category_by_stage])


def test_the_solver_prints_nothing() -> None:
    """HiGHS writes its banner on stdout unless told not to before its first call; the
    refresh runs in `kizuna stats refresh`, whose stdout is the command's output."""
    script = (
        "from kizuna.schema.stats.disclosure import CountTable, protect\n"
        "protect([CountTable('t', ('a', 'b'), ('x', 'y'), {('a', 'x'): 2, ('a', 'y'): 7, ('b', 'x'): 9})])\n"
    )
    ran = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert (ran.stdout, ran.stderr) == ("", "")


class TestBadInput:
    @pytest.mark.parametrize(
        ("make", "message"),
        [
            (lambda: CountTable("t", ("a",), ("x",), {("a", "x"): -1}), "not a count"),
            (lambda: CountTable("t", ("a",), ("x",), {("a", "y"): 1}), "outside its rows and columns"),
            (lambda: CountTable("t", ("a", "a"), ("x",), {}), "repeats a row or column"),
            (lambda: CountTable("t", (), ("x",), {}), "at least one row"),
            (lambda: protect([CASES], k=0), "k must be"),
            (lambda: protect([CASES, CASES]), "a name of its own"),
            (lambda: audit([CASES], []), "exactly the counted ones"),
        ],
    )
    def test_is_refused_with_a_clear_error(self, make: Callable[[], object], message: str) -> None:
        with pytest.raises(ValueError, match=message):
            make()

    def test_an_earlier_edition_that_showed_a_small_count_cannot_be_made_safe(self) -> None:
        unprotected = dataclasses.replace(shown_as_is(CASES, set()), edition=1)  # shows the 3
        now_empty = with_cell(CASES, "111007", "intake", 0)  # zero is shown: the 3 left by difference

        with pytest.raises(ValueError, match="earlier editions"):
            protect([now_empty], previous=[unprotected])


def with_cell(counts: CountTable, row: str, column: str, count: int) -> CountTable:
    return dataclasses.replace(counts, cells={**counts.cells, (row, column): count})


class TestDifferencing:
    """Two editions of one table give away a change by difference; `previous` protects it."""

    LATER = with_cell(CASES, "113000", "closed", 31)  # one new case where 30 were

    def test_one_new_case_is_given_away_by_two_editions_each_safe_alone(self) -> None:
        first = protect([CASES])
        second = protect([self.LATER])  # protected without the first edition in mind
        assert audit([self.LATER], second) == []

        exposures = audit([self.LATER], second, previous=first)

        assert ("113000", "closed", 1) in {(e.row, e.column, e.since_edition) for e in exposures}
        assert all(e.since_edition == 1 for e in exposures)

    def test_protect_with_the_earlier_edition_hides_the_change(self) -> None:
        first = protect([CASES])

        (second,) = protect([self.LATER], previous=first)

        assert second.edition == 2
        assert audit([self.LATER], [second], previous=first) == []
        assert second.cells["113000", "closed"] is None
        assert second.total is None, "the grand total grew by one too"

    def test_every_earlier_edition_counts_not_only_the_last(self) -> None:
        """Shown 30, then everything hidden, then shown 31: against the second edition alone
        nothing is given away; against the first, the new case is."""
        first = protect([CASES])
        everything = {key[1:] for key in CASES.figures()}
        second = dataclasses.replace(shown_as_is(CASES, everything), edition=2)
        third = dataclasses.replace(protect([self.LATER])[0], edition=3)  # safe alone

        against_second = audit([self.LATER], [third], previous=[second])
        against_both = audit([self.LATER], [third], previous=[*first, second])

        assert against_second == []
        assert ("113000", "closed", 1) in {(e.row, e.column, e.since_edition) for e in against_both}

    def test_a_change_of_k_or_more_is_published(self) -> None:
        first = protect([CASES])
        later = with_cell(CASES, "113000", "closed", 40)

        (second,) = protect([later], previous=first)

        assert second.cells["113000", "closed"] == 40
        assert audit([later], [second], previous=first) == []


# --- random tables ---------------------------------------------------------------------

ROWS = tuple(f"m{i}" for i in range(6))  # municipalities
COLUMNS = tuple(f"c{i}" for i in range(6))  # e.g. carer categories
OTHER_COLUMNS = tuple(f"s{i}" for i in range(6))  # e.g. stages
# Zeros for sparse tables, small counts to suppress, and counts large enough to publish.
COUNT = st.one_of(st.just(0), st.integers(1, 6), st.integers(0, 60))


@st.composite
def count_tables(draw: st.DrawFn, name: str = "t") -> CountTable:
    rows = ROWS[: draw(st.integers(1, len(ROWS)))]
    columns = COLUMNS[: draw(st.integers(1, len(COLUMNS)))]
    grid = draw(
        st.lists(st.lists(COUNT, min_size=len(columns), max_size=len(columns)), min_size=len(rows), max_size=len(rows))
    )
    return table(name, rows, columns, grid)


@st.composite
def linked_to(draw: st.DrawFn, first: CountTable, name: str) -> CountTable:
    """Another table of the same people by another variable: the same row totals."""
    columns = OTHER_COLUMNS[: draw(st.integers(1, len(OTHER_COLUMNS)))]
    grid = []
    for row in first.rows:
        total = first.figures()[first.name, row, None]
        cuts = sorted(draw(st.lists(st.integers(0, total), min_size=len(columns) - 1, max_size=len(columns) - 1)))
        grid.append([high - low for low, high in itertools.pairwise([0, *cuts, total])])
    return table(name, first.rows, columns, grid)


@st.composite
def publications(draw: st.DrawFn) -> list[CountTable]:
    """One table, or two that share the per-municipality totals."""
    first = draw(count_tables("cases_by_category"))
    if draw(st.booleans()):
        return [first, draw(linked_to(first, "cases_by_stage"))]
    return [first]


def assert_published_as_the_rule_says(tables: list[CountTable], published: list[PublishedTable], k: int) -> None:
    for counts, shown in zip(tables, published, strict=True):
        truth = counts.figures()
        for key, value in shown.figures().items():
            if truth[key] == 0:
                assert value == 0, f"{key}: a zero is shown as zero"
            elif truth[key] < k:
                assert value is None, f"{key}: a count under {k} is suppressed"
            else:
                assert value in (None, truth[key]), f"{key}: a shown figure is the count"


class TestProtectThenAudit:
    @settings(max_examples=150, deadline=None)
    @given(tables=publications(), k=st.sampled_from([2, 3, 5]))
    def test_no_random_table_has_a_figure_the_audit_can_recover(self, tables: list[CountTable], k: int) -> None:
        published = protect(tables, k=k)

        assert audit(tables, published, k=k) == []
        assert_published_as_the_rule_says(tables, published, k)
        assert protect(tables, k=k) == published, "the same counts give the same publication"


@st.composite
def stars(draw: st.DrawFn) -> list[CountTable]:
    """One to three small tables of the same people: each shares the row totals."""
    rows = ROWS[: draw(st.integers(1, 2))]
    first = table(
        "a",
        rows,
        COLUMNS[:2],
        draw(st.lists(st.lists(st.integers(0, 2), min_size=2, max_size=2), min_size=len(rows), max_size=len(rows))),
    )
    others = [draw(linked_to(first, name)) for name in ("b", "c")[: draw(st.integers(0, 2))]]
    return [first, *others]


def every_table_that_agrees(
    tables: list[CountTable], edition: Edition, hidden: set[int], cap: int
) -> dict[int, tuple[int, int]]:
    """For each hidden unknown, its smallest and largest value over every integer table
    with hidden cells in 0..cap that shows the same figures and keeps linked figures equal."""
    truth = {key: value for counts in tables for key, value in counts.figures().items()}
    free = [
        key for key in edition.unknown if key[1] is not None and key[2] is not None and edition.unknown[key] in hidden
    ]
    seen: dict[int, tuple[int, int]] = {}
    for values in itertools.product(range(cap + 1), repeat=len(free)):
        cells = dict(zip(free, values, strict=True))
        figures: dict[FigureKey, int] = {}
        for counts in tables:
            candidate = CountTable(
                counts.name,
                counts.rows,
                counts.columns,
                {
                    (r, c): cells.get((counts.name, r, c), truth[counts.name, r, c])
                    for r in counts.rows
                    for c in counts.columns
                },
            )
            figures.update(candidate.figures())
        by_unknown: dict[int, set[int]] = {}
        for key, value in figures.items():
            by_unknown.setdefault(edition.unknown[key], set()).add(value)
        if any(len(values_of) > 1 for values_of in by_unknown.values()):
            continue  # linked figures differ
        if any(
            unknown not in hidden and by_unknown[unknown] != {truth[edition.members[unknown][0]]}
            for unknown in by_unknown
        ):
            continue  # a shown figure differs
        for unknown in hidden:
            (value,) = by_unknown[unknown]
            low, high = seen.get(unknown, (value, value))
            seen[unknown] = (min(low, value), max(high, value))
    return seen


class TestAuditIsExact:
    """The audit's bounds against brute force, for one to three tables sharing a margin,
    from the linear programs and from integer programs (which the audit falls back on at
    a fractional vertex)."""

    CAPS = (8, 14)  # a figure whose largest value grows with the enumeration's cap is unbounded

    @pytest.mark.parametrize("integer_programs", [False, True], ids=["relaxation", "integer-programs"])
    @settings(max_examples=60, deadline=None)
    @given(tables=stars(), data=st.data())
    def test_the_bounds_are_those_of_every_table_that_agrees_with_what_is_shown(
        self, tables: list[CountTable], data: st.DataObject, integer_programs: bool
    ) -> None:
        links = [(Margin(t.name, "rows"), Margin(u.name, "rows")) for t, u in itertools.pairwise(tables)]
        edition = Edition(tables, margin_links=links)
        hidden = data.draw(st.sets(st.sampled_from(range(len(edition.members)))))
        free_cells = [key for key in edition.unknown if key[1] and key[2] and edition.unknown[key] in hidden]
        assume(len(free_cells) <= 3)
        truth = {key: value for counts in tables for key, value in counts.figures().items()}
        attacker = Attacker(
            edition, {u: truth[edition.members[u][0]] for u in range(len(edition.members)) if u not in hidden}
        )

        expected, wider = (every_table_that_agrees(tables, edition, hidden, cap) for cap in self.CAPS)

        for unknown in hidden:
            low, high = expected[unknown]
            assert attacker.lowest(unknown) == low
            highest = attacker.highest(unknown)
            if highest is None:
                assert wider[unknown][1] > high, "unbounded: the enumeration finds more with a wider cap"
            else:
                assert highest == high == wider[unknown][1]


@st.composite
def refreshes(draw: st.DrawFn) -> list[CountTable]:
    """A table counted three times, a few cases coming and going in between."""
    counts = [draw(count_tables("cases_by_category"))]
    for _ in range(2):
        last = counts[-1]
        cells = dict(last.cells)
        for row, column in draw(
            st.lists(st.tuples(st.sampled_from(last.rows), st.sampled_from(last.columns)), max_size=4)
        ):
            cells[row, column] = max(0, cells.get((row, column), 0) + draw(st.integers(-3, 6)))
        counts.append(dataclasses.replace(last, cells=cells))
    return counts


class TestRefreshes:
    @settings(max_examples=60, deadline=None)
    @given(counts=refreshes(), k=st.sampled_from([3, 5]))
    def test_no_change_between_any_two_editions_is_small_and_recoverable(
        self, counts: list[CountTable], k: int
    ) -> None:
        editions: list[PublishedTable] = []
        for now in counts:
            (published,) = protect([now], k=k, previous=editions)

            assert audit([now], [published], k=k, previous=editions) == []
            assert_published_as_the_rule_says([now], [published], k)
            for earlier in editions:
                for key, value in published.figures().items():
                    before = earlier.figures()[key]
                    if value is not None and before is not None:
                        assert value == before or abs(value - before) >= k, f"{key} changed by a small number"
            editions.append(published)
