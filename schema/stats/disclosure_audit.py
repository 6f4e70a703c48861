"""What an attacker can infer from one edition of published tables, and the rule it must
not break (docs/disclosure-control.md): the exact integer interval of every figure, by
linear programming over everything published together (HiGHS).

A figure is a cell, a row total, a column total or a grand total of a table, keyed
`(table, row, column)` with None standing for the total of that coordinate. Linked margins
(the same labels and the same totals, in two tables) and linked grand totals are one
unknown: publishing it in one table publishes it in all of them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, Literal, NamedTuple, Protocol, TypeVar

import highspy
import numpy
import numpy.typing
from highspy._core import _Highs

FigureKey = tuple[str, str | None, str | None]
Axis = Literal["rows", "columns"]
T = TypeVar("T")
FloatArray = numpy.typing.NDArray[numpy.float64]
INTEGRAL_TOLERANCE = 1e-6


class TableShape(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def rows(self) -> tuple[str, ...]: ...
    @property
    def columns(self) -> tuple[str, ...]: ...


def figure_keys(table: TableShape) -> list[FigureKey]:
    """Every figure of a table in a fixed order: cells row by row, row totals, column totals, grand total."""
    cells: list[FigureKey] = [(table.name, row, column) for row in table.rows for column in table.columns]
    row_totals: list[FigureKey] = [(table.name, row, None) for row in table.rows]
    column_totals: list[FigureKey] = [(table.name, None, column) for column in table.columns]
    return [*cells, *row_totals, *column_totals, (table.name, None, None)]


@dataclass(frozen=True)
class Interval:
    """The smallest and largest integer value a figure can take; `upper` None = unbounded."""

    lower: int
    upper: int | None

    @staticmethod
    def exact(value: int) -> Interval:
        return Interval(value, value)


class Margin(NamedTuple):
    """The totals of a table along one axis: its row totals ("rows") or column totals ("columns")."""

    table: str
    axis: Axis

    def key(self, label: str) -> FigureKey:
        return (self.table, label, None) if self.axis == "rows" else (self.table, None, label)


class Partition(Generic[T]):
    """Union-find over hashable items; the earliest added item represents its class, so
    the classes do not depend on the order of the unions."""

    def __init__(self) -> None:
        self._parent: dict[T, T] = {}
        self._order: dict[T, int] = {}

    def add(self, item: T) -> None:
        self._parent.setdefault(item, item)
        self._order.setdefault(item, len(self._order))

    def find(self, item: T) -> T:
        while self._parent[item] != item:
            item = self._parent[item]
        return item

    def union(self, first: T, second: T) -> bool:
        """Join two classes; False if they were one already."""
        a, b = self.find(first), self.find(second)
        if a == b:
            return False
        keep, drop = sorted((a, b), key=self._order.__getitem__)
        self._parent[drop] = keep
        return True


class Edition:
    """The attacker's model of one edition: an unknown per figure (shared margins merged),
    the table equations (cells add up to their row and column totals, row totals to the
    grand total), every unknown non-negative, and each published figure fixed.

    `margin_links` pairs margins that are the same figures (same labels; a table's rows
    may be another's columns); `total_links` pairs tables whose grand totals are the same.
    Such links are exactly what an attacker knows only while they form no cycle through
    three or more margins (three tables over town x category, town x stage, category x
    stage are views of one three-way table, which constrains them further): refused.
    """

    def __init__(
        self,
        tables: Sequence[TableShape],
        *,
        margin_links: Iterable[tuple[Margin, Margin]] = (),
        total_links: Iterable[tuple[str, str]] = (),
    ) -> None:
        self.tables = {table.name: table for table in tables}
        figures: Partition[FigureKey] = Partition()
        for table in tables:
            for key in figure_keys(table):
                figures.add(key)
        margins: Partition[Margin] = Partition()
        for table in tables:
            margins.add(Margin(table.name, "rows"))
            margins.add(Margin(table.name, "columns"))
        for first, second in margin_links:
            labels = self._labels(first)
            if labels != self._labels(second):
                raise ValueError(f"margins {first} and {second} have different labels")
            margins.union(first, second)
            for label in labels:
                figures.union(first.key(label), second.key(label))
            figures.union((first.table, None, None), (second.table, None, None))
        for first_table, second_table in total_links:
            figures.union((first_table, None, None), (second_table, None, None))
        self._refuse_cycles(tables, margins)

        self.unknown: dict[FigureKey, int] = {}
        self.members: list[list[FigureKey]] = []
        for table in tables:
            for key in figure_keys(table):
                root = figures.find(key)
                if root == key:
                    self.unknown[key] = len(self.members)
                    self.members.append([])
                self.unknown[key] = self.unknown[root]  # the root comes first in this order
                self.members[self.unknown[key]].append(key)
        self._equations = [equation for table in tables for equation in self._table_equations(table)]

    def _labels(self, margin: Margin) -> tuple[str, ...]:
        table = self.tables[margin.table]
        return table.rows if margin.axis == "rows" else table.columns

    @staticmethod
    def _refuse_cycles(tables: Sequence[TableShape], margins: Partition[Margin]) -> None:
        """Each table joins its two margins' classes; two tables joining the same two
        classes are fine (no third variable is implied), a longer cycle is not."""
        joined: Partition[Margin] = Partition()
        pairs: set[frozenset[Margin]] = set()
        for table in tables:
            rows, columns = margins.find(Margin(table.name, "rows")), margins.find(Margin(table.name, "columns"))
            for margin in (rows, columns):
                joined.add(margin)
            pair = frozenset((rows, columns))
            if pair in pairs:
                continue
            pairs.add(pair)
            if len(pair) == 1 or not joined.union(rows, columns):
                raise ValueError(
                    f"table {table.name!r} closes a cycle of shared margins; tables that are views of one "
                    "higher-way table are not modelled: publish that table instead, or fewer views of it"
                )

    def _table_equations(self, table: TableShape) -> list[list[tuple[int, float]]]:
        """Each as (unknown, coefficient) terms that add up to 0."""
        u = self.unknown
        name = table.name
        equations = [
            [*((u[name, row, column], 1.0) for column in table.columns), (u[name, row, None], -1.0)]
            for row in table.rows
        ]
        equations += [
            [*((u[name, row, column], 1.0) for row in table.rows), (u[name, None, column], -1.0)]
            for column in table.columns
        ]
        equations.append([*((u[name, row, None], 1.0) for row in table.rows), (u[name, None, None], -1.0)])
        return equations


class Attacker:
    """What someone holding the published figures of one edition can infer about each
    unknown, answered lazily: `seen` is a range of values shown possible by integer
    solutions found so far (the true counts, when known, are one); `lowest` and `highest`
    solve for the exact bounds.

    Exact bounds come from two linear programs per unknown (minimise, maximise). A simplex
    optimum at an integral vertex is also the integer optimum (that vertex is an integer
    solution, and no integer solution beats the relaxation); a two-way table, and two tables
    linked by a margin, are network matrices, so that is the rule. Three tables sharing a
    margin are not, and the code does not rely on it: at a fractional vertex the bound is
    solved again as an integer program (always, with `integer_programs`, which the tests
    use to check both ways). An unbounded relaxation means an unbounded integer problem,
    since the published figures come from real counts (an integer solution exists).
    """

    def __init__(
        self,
        edition: Edition,
        published: Mapping[int, int],
        *,
        solution: Sequence[int] | None = None,
        integer_programs: bool = False,
    ) -> None:
        self._edition = edition
        self._published = dict(published)
        self._relaxed = _Solver(edition, self._published, integer=False)
        self._integer_programs = integer_programs
        self._integer = _Solver(edition, self._published, integer=True) if integer_programs else None
        size = len(edition.members)
        if solution is None:
            self._seen_low = numpy.full(size, numpy.inf)
            self._seen_high = numpy.full(size, -numpy.inf)
        else:
            self._seen_low = numpy.array(solution, dtype=float)
            self._seen_high = self._seen_low.copy()
        self._lowest: dict[int, int] = {}
        self._highest: dict[int, int | None] = {}

    def hide(self, unknowns: Iterable[int]) -> None:
        """Stop publishing these unknowns. Every solution seen stays a solution (fewer
        figures are fixed), so `seen` is kept; the exact bounds are solved again."""
        for unknown in unknowns:
            if self._published.pop(unknown, None) is not None:
                self._relaxed.free(unknown)
                if self._integer:
                    self._integer.free(unknown)
        self._lowest.clear()
        self._highest.clear()

    def outer(self, unknown: int) -> Interval:
        """A range that holds the exact interval, without solving anything."""
        if unknown in self._published:
            return Interval.exact(self._published[unknown])
        return Interval(0, None)

    def seen(self, unknown: int) -> Interval:
        """A range the exact interval contains (both ends are values of integer solutions)."""
        if unknown in self._published:
            return Interval.exact(self._published[unknown])
        low, high = self._seen_low[unknown], self._seen_high[unknown]
        if low > high:  # no solution seen yet: find one
            self.lowest(unknown)
            low, high = self._seen_low[unknown], self._seen_high[unknown]
        return Interval(int(low), int(high))

    def lowest(self, unknown: int) -> int:
        if unknown in self._published:
            return self._published[unknown]
        if self._seen_low[unknown] == 0:  # every unknown is a count, so a solution at 0 is the minimum
            return 0
        if unknown not in self._lowest:
            bound = self._optimum(unknown, highspy.ObjSense.kMinimize)
            assert bound is not None  # noqa: S101  (counts are bounded below by 0)
            self._lowest[unknown] = bound
        return self._lowest[unknown]

    def highest(self, unknown: int) -> int | None:
        """None: unbounded (the attacker cannot bound it from above at all)."""
        if unknown in self._published:
            return self._published[unknown]
        if unknown not in self._highest:
            self._highest[unknown] = self._optimum(unknown, highspy.ObjSense.kMaximize)
        return self._highest[unknown]

    def interval(self, unknown: int) -> Interval:
        return Interval(self.lowest(unknown), self.highest(unknown))

    def _optimum(self, unknown: int, sense: highspy.ObjSense) -> int | None:
        found = self._relaxed.optimum(unknown, sense)
        if found is not None and (isinstance(found, _Fractional) or self._integer_programs):
            self._integer = self._integer or _Solver(self._edition, self._published, integer=True)
            found = self._integer.optimum(unknown, sense)
            assert not isinstance(found, _Fractional)  # noqa: S101  (an integer program's optimum is integral)
        if found is None:
            return None
        bound, solution = found
        numpy.minimum(self._seen_low, solution, out=self._seen_low)
        numpy.maximum(self._seen_high, solution, out=self._seen_high)
        return bound


def figure_rule(interval: Interval, k: int) -> str | None:
    """The protection rule for a suppressed figure (docs/disclosure-control.md, "The rule")."""
    lower, upper = interval.lower, interval.upper
    if lower == upper:
        return "suppressed figure can be recomputed"
    if 0 < lower < k:
        return f"suppressed figure shown to be at least {lower}, so not empty yet possibly under {k}"
    if upper is not None and upper < k:
        return f"suppressed figure shown to be at most {upper}, under {k}"
    return None


def change_rule(
    now: Interval, then: Interval, then_true: Interval, count: int, k: int
) -> tuple[int | None, int | None, str] | None:
    """The rule for a figure's change since an earlier edition. The attacker can bound the
    change within `now - then`; the true change lies in `count - then_true` (the earlier
    true count is not kept, only what was published: `then_true` is a range that holds it).
    If a small increase (1..k-1) is possible, the attacker's interval must reach both 0 and
    k; for a small decrease, -k and 0. The rule can only fail more often with `now` and
    `then` narrower and `then_true` wider, so ranges on the safe side may stand in for them."""
    now_upper = math.inf if now.upper is None else now.upper
    then_upper = math.inf if then.upper is None else then.upper
    lowest, highest = now.lower - then_upper, now_upper - then.lower
    true_upper = math.inf if then_true.upper is None else then_true.upper
    true_lowest, true_highest = count - true_upper, count - then_true.lower
    small_increase = true_highest >= 1 and true_lowest <= k - 1
    small_decrease = true_lowest <= -1 and true_highest >= -(k - 1)
    if (small_increase and not (lowest <= 0 and highest >= k)) or (
        small_decrease and not (lowest <= -k and highest >= 0)
    ):
        return (
            None if lowest == -math.inf else int(lowest),
            None if highest == math.inf else int(highest),
            f"change since the earlier edition can be narrowed to a small one (under {k} either way)",
        )
    return None


class _Fractional:
    """The relaxation's optimum is at a fractional vertex: not an integer bound."""


_FRACTIONAL = _Fractional()


_CONCLUSIVE = (
    highspy.HighsModelStatus.kOptimal,
    highspy.HighsModelStatus.kUnbounded,
    highspy.HighsModelStatus.kInfeasible,
)


class InconsistentFigures(ValueError):
    """The published figures admit no table at all (they contradict each other)."""


class _Solver:
    def __init__(self, edition: Edition, published: Mapping[int, int], *, integer: bool) -> None:
        count = len(edition.members)
        terms: list[list[tuple[int, float]]] = [[] for _ in range(count)]
        for row, equation in enumerate(edition._equations):
            for unknown, coefficient in equation:
                terms[unknown].append((row, coefficient))
        lp = highspy.HighsLp()
        lp.num_col_ = count
        lp.num_row_ = len(edition._equations)
        lp.col_cost_ = [0.0] * count
        lp.col_lower_ = [float(published.get(unknown, 0)) for unknown in range(count)]
        lp.col_upper_ = [float(published[u]) if u in published else highspy.kHighsInf for u in range(count)]
        lp.row_lower_ = [0.0] * lp.num_row_
        lp.row_upper_ = [0.0] * lp.num_row_
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        starts = [0]
        for column in terms:
            starts.append(starts[-1] + len(column))
        lp.a_matrix_.start_ = starts
        lp.a_matrix_.index_ = [row for column in terms for row, _ in column]
        lp.a_matrix_.value_ = [coefficient for column in terms for _, coefficient in column]
        if integer:
            lp.integrality_ = [highspy.HighsVarType.kInteger] * count
        # HiGHS's own class, not highspy's `Highs` wrapper: the wrapper's constructor registers
        # its Python callbacks (unused here), a first call that prints the banner on stdout
        # before `output_flag` can be set. The option must come before any other call.
        self._highs = _Highs()
        self._highs.setOptionValue("output_flag", False)
        # Each solve starts from the last basis: presolving anew every time costs more than
        # it saves, and ends at other vertices, which settle fewer figures (measured).
        self._highs.setOptionValue("presolve", "off")
        self._highs.passModel(lp)
        self._integer = integer
        self._target: int | None = None

    def optimum(self, target: int, sense: highspy.ObjSense) -> tuple[int, FloatArray] | _Fractional | None:
        """The target's optimum and a solution that reaches it (None when unbounded), or
        _FRACTIONAL when the relaxation's optimum is not an integer solution."""
        highs = self._highs
        if self._target != target:
            if self._target is not None:
                highs.changeColCost(self._target, 0.0)
            highs.changeColCost(target, 1.0)
            self._target = target
        highs.changeObjectiveSense(sense)
        highs.run()
        status = highs.getModelStatus()
        if status not in _CONCLUSIVE:
            # The dual simplex warm-started from the last basis can stop at "unknown" on an
            # unbounded problem; a cold start decides.
            highs.clearSolver()
            highs.run()
            status = highs.getModelStatus()
        if status == highspy.HighsModelStatus.kUnbounded:
            return None
        if status == highspy.HighsModelStatus.kInfeasible:
            raise InconsistentFigures("the published figures contradict each other")
        if status != highspy.HighsModelStatus.kOptimal:
            raise RuntimeError(f"HiGHS ended with {highs.modelStatusToString(status)}")
        values = numpy.asarray(highs.getSolution().col_value)
        solution = numpy.rint(values)
        if not self._integer and numpy.abs(values - solution).max() > INTEGRAL_TOLERANCE:
            return _FRACTIONAL
        return round(highs.getObjectiveValue()), solution

    def free(self, unknown: int) -> None:
        self._highs.changeColBounds(unknown, 0.0, highspy.kHighsInf)
