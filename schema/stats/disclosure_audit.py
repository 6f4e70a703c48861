"""What an attacker can infer from one edition of published tables: the exact interval of
every figure, by linear programming over everything published together (HiGHS).

A figure is a cell, a row total, a column total or a grand total of a table, keyed
`(table, row, column)` with None standing for the total of that coordinate. Margins that
tables share (same rows and equal row totals, same columns and equal column totals) are one
unknown: publishing it in one table publishes it in all of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import highspy

FigureKey = tuple[str, str | None, str | None]
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


class Edition:
    """The attacker's model of one edition: an unknown per figure (shared margins merged),
    the table equations (cells add up to their row and column totals, row totals to the
    grand total), every unknown non-negative, and each published figure fixed.

    `row_links` and `column_links` are pairs of table names whose row (column) totals are
    the same quantities; both tables must have the same rows (columns).
    """

    def __init__(
        self,
        tables: Sequence[TableShape],
        *,
        row_links: Iterable[tuple[str, str]] = (),
        column_links: Iterable[tuple[str, str]] = (),
    ) -> None:
        self.tables = {table.name: table for table in tables}
        representative: dict[FigureKey, FigureKey] = {}

        def find(key: FigureKey) -> FigureKey:
            while representative[key] != key:
                key = representative[key]
            return key

        def union(first: FigureKey, second: FigureKey) -> None:
            a, b = find(first), find(second)
            if a != b:
                # The earlier figure stays the representative, so merges do not depend on link order.
                keep, drop = sorted((a, b), key=self._order)
                representative[drop] = keep

        self._position: dict[FigureKey, int] = {}
        for table in tables:
            for key in figure_keys(table):
                self._position[key] = len(self._position)
                representative[key] = key
        for first, second in row_links:
            for row in self.tables[first].rows:
                union((first, row, None), (second, row, None))
            union((first, None, None), (second, None, None))
        for first, second in column_links:
            for column in self.tables[first].columns:
                union((first, None, column), (second, None, column))
            union((first, None, None), (second, None, None))

        self.unknown: dict[FigureKey, int] = {}
        self.members: list[list[FigureKey]] = []
        for key in self._position:
            root = find(key)
            if root == key:
                self.unknown[key] = len(self.members)
                self.members.append([])
            self.unknown[key] = self.unknown[root]
            self.members[self.unknown[key]].append(key)
        self._equations = [equation for table in tables for equation in self._table_equations(table)]

    def _order(self, key: FigureKey) -> int:
        return self._position[key]

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

    def intervals(self, published: Mapping[int, int], targets: Iterable[int]) -> dict[int, Interval]:
        """The exact integer interval of each target unknown, given the published ones.

        Two linear programs per target (minimise, maximise). A simplex optimum at an
        integral vertex is also the integer optimum (that vertex is an integer solution and
        no integer solution beats the relaxation); two-way tables and tables linked by a
        margin are network matrices, so that is the rule. A fractional vertex (possible
        once several editions' constraints meet) is solved again as an integer program.
        """
        solver = _Solver(self, published, integer=False)
        exact: _Solver | None = None
        answers: dict[int, Interval] = {}
        for target in targets:
            if target in published:
                answers[target] = Interval.exact(published[target])
                continue
            bounds: list[int | None] = []
            for sense in (highspy.ObjSense.kMinimize, highspy.ObjSense.kMaximize):
                bound = solver.optimum(target, sense)
                if bound is _FRACTIONAL:
                    exact = exact or _Solver(self, published, integer=True)
                    bound = exact.optimum(target, sense)
                assert not isinstance(bound, _Fractional)  # noqa: S101  (an integer program's optimum is integral)
                bounds.append(bound)
            lower, upper = bounds
            assert lower is not None  # noqa: S101  (every unknown is bounded below by 0)
            answers[target] = Interval(lower, upper)
        return answers


class _Fractional:
    """The relaxation's optimum is at a fractional vertex: not an integer bound."""


_FRACTIONAL = _Fractional()


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
        self._highs = highspy.Highs()  # type: ignore[no-untyped-call]  # highspy's Python class has an unannotated __init__
        self._highs.setOptionValue("output_flag", False)
        self._highs.passModel(lp)
        self._integer = integer
        self._target: int | None = None

    def optimum(self, target: int, sense: highspy.ObjSense) -> int | _Fractional | None:
        """The target's optimum (None when unbounded), or _FRACTIONAL when the relaxation is not exact."""
        highs = self._highs
        if self._target != target:
            if self._target is not None:
                highs.changeColCost(self._target, 0.0)
            highs.changeColCost(target, 1.0)
            self._target = target
        highs.changeObjectiveSense(sense)
        highs.run()
        status = highs.getModelStatus()
        if status == highspy.HighsModelStatus.kUnboundedOrInfeasible:
            # Presolve may stop at "one or the other"; the simplex alone tells which.
            highs.setOptionValue("presolve", "off")
            highs.run()
            status = highs.getModelStatus()
            highs.setOptionValue("presolve", "choose")
        if status == highspy.HighsModelStatus.kUnbounded:
            return None
        if status == highspy.HighsModelStatus.kInfeasible:
            raise InconsistentFigures("the published figures contradict each other")
        if status != highspy.HighsModelStatus.kOptimal:
            raise RuntimeError(f"HiGHS ended with {highs.modelStatusToString(status)}")
        values = highs.getSolution().col_value
        if not self._integer and any(abs(value - round(value)) > INTEGRAL_TOLERANCE for value in values):
            return _FRACTIONAL
        return round(highs.getObjectiveValue())
