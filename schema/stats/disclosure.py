"""Disclosure control for the prefecture's count tables: small counts suppressed, enough
other figures suppressed with them that none can be recomputed, and an exact audit that
proves it (docs/disclosure-control.md states the rule and why).

`protect` suppresses; `audit` checks any publication against the true counts and returns
what an attacker could learn (an empty list = safe). Both take every table published
together, because tables that share a margin leak through each other, and the earlier
editions of the same tables, because two editions leak by difference.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import astuple, dataclass, field
from typing import get_args

from kizuna.schema.stats.disclosure_audit import (
    Attacker,
    Axis,
    Edition,
    FigureKey,
    Interval,
    Margin,
    change_rule,
    figure_keys,
    figure_rule,
)

DEFAULT_K = 5


@dataclass(frozen=True)
class CountTable:
    """A two-way table of true counts; its margins are implied (sums of the cells)."""

    name: str  # e.g. "cases_by_stage"
    rows: tuple[str, ...]  # e.g. municipality codes
    columns: tuple[str, ...]  # e.g. stage values
    cells: Mapping[tuple[str, str], int]  # interior counts, a missing key = 0

    def __post_init__(self) -> None:
        _check_labels(self.name, self.rows, self.columns)
        for (row, column), count in self.cells.items():
            if row not in self.rows or column not in self.columns:
                raise ValueError(f"table {self.name!r}: cell ({row!r}, {column!r}) is outside its rows and columns")
            if not isinstance(count, int) or isinstance(count, bool) or count < 0:
                raise ValueError(f"table {self.name!r}: cell ({row!r}, {column!r}) is not a count: {count!r}")

    def figures(self) -> dict[FigureKey, int]:
        """Every figure, margins included, keyed (table, row, column) with None for a total."""
        cell = {(row, column): self.cells.get((row, column), 0) for row in self.rows for column in self.columns}
        values: dict[FigureKey, int] = {(self.name, row, column): count for (row, column), count in cell.items()}
        for row in self.rows:
            values[self.name, row, None] = sum(cell[row, column] for column in self.columns)
        for column in self.columns:
            values[self.name, None, column] = sum(cell[row, column] for row in self.rows)
        values[self.name, None, None] = sum(cell.values())
        return values


@dataclass(frozen=True)
class SharedMargin:
    """This table's totals along `axis` are the same figures as `table`'s along `other_axis`."""

    axis: Axis
    table: str
    other_axis: Axis


@dataclass(frozen=True)
class PublishedTable:
    """A table as it may leave the server: None marks a suppressed figure.

    `edition` numbers the publications of the same tables (1, 2, ...). `shared_margins`
    names the other tables' totals that are the same figures as this one's (a reader and
    the audit treat them as one), `shares_total_with` the tables with the same grand total.
    """

    name: str
    rows: tuple[str, ...]
    columns: tuple[str, ...]
    cells: Mapping[tuple[str, str], int | None]  # None = suppressed
    row_totals: Mapping[str, int | None]
    column_totals: Mapping[str, int | None]
    total: int | None
    edition: int = 1
    shared_margins: tuple[SharedMargin, ...] = field(default=())
    shares_total_with: tuple[str, ...] = field(default=())

    def figures(self) -> dict[FigureKey, int | None]:
        try:
            values: dict[FigureKey, int | None] = {
                (self.name, row, column): self.cells[row, column] for row in self.rows for column in self.columns
            }
            values.update({(self.name, row, None): self.row_totals[row] for row in self.rows})
            values.update({(self.name, None, column): self.column_totals[column] for column in self.columns})
        except KeyError as missing:
            raise ValueError(f"published table {self.name!r} lacks the figure {missing}") from None
        values[self.name, None, None] = self.total
        return values


@dataclass(frozen=True)
class Exposure:
    """What an attacker can learn about one figure (or about its change since an earlier
    edition): its value lies in [lower, upper] (None = unbounded), which breaks the rule."""

    table: str
    row: str | None  # None: a column total or the grand total
    column: str | None  # None: a row total or the grand total
    lower: int | None
    upper: int | None
    reason: str
    since_edition: int | None = None  # set when the figure's change since that edition is exposed


def protect(
    tables: Sequence[CountTable], *, k: int = DEFAULT_K, previous: Sequence[PublishedTable] = ()
) -> list[PublishedTable]:
    """The tables as they may be published together, as the next edition after `previous`
    (every earlier edition of these tables that anyone may have kept).

    Counts 1..k-1 are suppressed, margins included; zeros are shown. Complements are
    chosen by a greedy rule and the exact audit is run after each round until it finds
    nothing; the same input always gives the same output.
    """
    _check_k(k)
    current = _Current(tables)
    earlier = _earlier_editions(previous)
    suppressed = {unknown for unknown, count in enumerate(current.truth) if 0 < count < k}
    current.complete_lines(suppressed)
    attacker = current.attacker(suppressed)
    while True:
        exposed = current.exposures(attacker, suppressed, k, earlier)
        if not exposed:
            break
        complements = current.complements({unknown for unknown, _ in exposed}, suppressed)
        if not complements:
            # Every non-zero figure is hidden and still something is exposed: only an earlier
            # edition not protected by `protect` with this k can do that (docs, "Differencing").
            raise ValueError(f"no publication is safe against the earlier editions with k={k}")
        suppressed |= complements
        current.complete_lines(suppressed)
        attacker.hide(suppressed)
    return current.published(suppressed, edition=1 + max((table.edition for table in previous), default=0))


def audit(
    tables: Sequence[CountTable],
    published: Sequence[PublishedTable],
    *,
    k: int = DEFAULT_K,
    previous: Sequence[PublishedTable] = (),
) -> list[Exposure]:
    """Everything an attacker holding `published` (and `previous`) learns beyond the rule
    of docs/disclosure-control.md; an empty list means the publication is safe.

    Raises ValueError when `published` is not a publication of `tables` (another shape, or
    a shown figure that differs from the count).
    """
    _check_k(k)
    current = _Current(tables)
    shown = {key: value for table in _match(tables, published) for key, value in table.figures().items()}
    suppressed: set[int] = set()
    for key, value in shown.items():
        unknown = current.edition.unknown[key]
        if value is None:
            suppressed.add(unknown)
        elif value != current.truth[unknown]:
            raise ValueError(f"published figure {key} is {value}, the count is {current.truth[unknown]}")
    # A shared margin shown in any table is known in all of them, whatever the others show.
    hidden_but_shown = {
        current.edition.unknown[key]
        for key, value in shown.items()
        if value is not None and current.edition.unknown[key] in suppressed
    }
    exposures = [
        Exposure(*key, current.truth[unknown], current.truth[unknown], "suppressed here, shown in a linked table")
        for key, value in shown.items()
        if value is None and (unknown := current.edition.unknown[key]) in hidden_but_shown
    ]
    suppressed -= hidden_but_shown
    exposed = current.exposures(current.attacker(suppressed), suppressed, k, _earlier_editions(previous))
    return exposures + [exposure for _, exposure in exposed]


class _Current:
    """The edition being protected or audited, with its true counts."""

    def __init__(self, tables: Sequence[CountTable]) -> None:
        names = [table.name for table in tables]
        if len(set(names)) != len(names):
            raise ValueError("each table published together needs a name of its own")
        truth = {key: count for table in tables for key, count in table.figures().items()}
        self.tables = list(tables)
        margins = [Margin(table.name, axis) for table in tables for axis in get_args(Axis)]

        def totals(margin: Margin) -> tuple[tuple[str, int], ...]:
            table = next(table for table in tables if table.name == margin.table)
            labels = table.rows if margin.axis == "rows" else table.columns
            return tuple((label, truth[margin.key(label)]) for label in labels)

        # Equal totals over the same labels are linked whether or not they count the same
        # people: assuming an attacker knows more than they do only narrows the audit's intervals.
        self.margin_links = [
            (first, second)
            for first, second in itertools.combinations(margins, 2)
            if first.table != second.table and totals(first) == totals(second)
        ]
        self.total_links = [
            (first.name, second.name)
            for first, second in itertools.combinations(tables, 2)
            if truth[first.name, None, None] == truth[second.name, None, None]
        ]
        self.edition = Edition(tables, margin_links=self.margin_links, total_links=self.total_links)
        self.truth = [truth[members[0]] for members in self.edition.members]
        self.lines: list[list[int]] = []
        self.unknowns_of = {table.name: self._unknowns(figure_keys(table)) for table in tables}
        for table in tables:
            for row in (*table.rows, None):
                self.lines.append(self._unknowns([(table.name, row, column) for column in (*table.columns, None)]))
            for column in (*table.columns, None):
                self.lines.append(self._unknowns([(table.name, row, column) for row in (*table.rows, None)]))

    def _unknowns(self, keys: list[FigureKey]) -> list[int]:
        return sorted({self.edition.unknown[key] for key in keys})

    def _is_margin(self, unknown: int) -> bool:
        _, row, column = self.edition.members[unknown][0]
        return row is None or column is None

    def _cheapest(self, candidates: set[int]) -> int:
        """The complement that hides least: a cell before a margin, then the smallest count."""
        return min(candidates, key=lambda unknown: (self._is_margin(unknown), self.truth[unknown], unknown))

    def complete_lines(self, suppressed: set[int]) -> None:
        """A line (one table equation) with a single suppressed figure gives it away:
        suppress a second one. Cheap, and saves most audit rounds."""
        changed = True
        while changed:
            changed = False
            for line in self.lines:
                hidden = [unknown for unknown in line if unknown in suppressed]
                candidates = {unknown for unknown in line if unknown not in suppressed and self.truth[unknown] > 0}
                if len(hidden) == 1 and candidates:
                    suppressed.add(self._cheapest(candidates))
                    changed = True

    def complements(self, exposed: set[int], suppressed: set[int]) -> set[int]:
        """One more figure for each exposed one: itself when it is shown, else the
        cheapest shown non-zero figure on one of its lines, else in one of its tables,
        else anywhere."""
        chosen: set[int] = set()
        for unknown in sorted(exposed):
            if unknown not in suppressed:
                if self.truth[unknown] > 0:
                    chosen.add(unknown)
                continue
            tables = {name for name, _, _ in self.edition.members[unknown]}
            for scope in (
                [other for line in self.lines if unknown in line for other in line],
                [other for name in sorted(tables) for other in self.unknowns_of[name]],
                range(len(self.truth)),
            ):
                candidates = {other for other in scope if other not in suppressed and self.truth[other] > 0}
                if candidates:
                    chosen.add(self._cheapest(candidates))
                    break
        return chosen

    def attacker(self, suppressed: set[int]) -> Attacker:
        published = {unknown: count for unknown, count in enumerate(self.truth) if unknown not in suppressed}
        return Attacker(self.edition, published, solution=self.truth)

    def exposures(
        self, attacker: Attacker, suppressed: set[int], k: int, earlier: Sequence[_EarlierEdition]
    ) -> list[tuple[int, Exposure]]:
        """Every figure (and change) that breaks the rule. Linear programs are solved only
        where the ranges already seen do not settle it: both rules can only be broken by
        an interval too narrow, and `seen` lies within the exact interval."""
        found: list[tuple[int, Exposure]] = []
        for unknown, count in enumerate(self.truth):
            if unknown not in suppressed:
                if 0 < count < k:
                    found.append(
                        (unknown, Exposure(*self.edition.members[unknown][0], count, count, "small count published"))
                    )
                continue
            # The lower bound decides "possibly empty"; only the upper bound may be a seen one.
            if figure_rule(Interval(attacker.lowest(unknown), attacker.seen(unknown).upper), k):
                interval = attacker.interval(unknown)
                reason = figure_rule(interval, k)
                if reason:
                    found.append(
                        (unknown, Exposure(*self.edition.members[unknown][0], interval.lower, interval.upper, reason))
                    )
        for before in earlier:
            for key, then in before.edition.unknown.items():
                if key not in self.edition.unknown:
                    continue  # a row or column the earlier edition did not have, or the reverse
                changed = self.edition.unknown[key]
                count = self.truth[changed]
                # First with what is at hand: ranges seen for the attacker's bounds, and
                # [0, unbounded) for the earlier figure's true value; exact bounds only if that fails.
                if change_rule(
                    attacker.seen(changed), before.attacker.seen(then), before.attacker.outer(then), count, k
                ):
                    earlier_exact = before.attacker.interval(then)
                    change = change_rule(attacker.interval(changed), earlier_exact, earlier_exact, count, k)
                    if change:
                        lower, upper, reason = change
                        found.append((changed, Exposure(*key, lower, upper, reason, since_edition=before.number)))
        return found

    def _margin_pairs(self, name: str) -> list[tuple[Margin, Margin]]:
        """This table's linked margins, each as (its margin, the other table's)."""
        return [
            (first, second) if first.table == name else (second, first)
            for first, second in self.margin_links
            if name in (first.table, second.table)
        ]

    def published(self, suppressed: set[int], *, edition: int) -> list[PublishedTable]:
        def shown(key: FigureKey) -> int | None:
            unknown = self.edition.unknown[key]
            return None if unknown in suppressed else self.truth[unknown]

        return [
            PublishedTable(
                name=table.name,
                rows=table.rows,
                columns=table.columns,
                cells={
                    (row, column): shown((table.name, row, column)) for row in table.rows for column in table.columns
                },
                row_totals={row: shown((table.name, row, None)) for row in table.rows},
                column_totals={column: shown((table.name, None, column)) for column in table.columns},
                total=shown((table.name, None, None)),
                edition=edition,
                shared_margins=tuple(
                    sorted(
                        {
                            SharedMargin(mine.axis, other.table, other.axis)
                            for mine, other in self._margin_pairs(table.name)
                        },
                        key=astuple,
                    )
                ),
                shares_total_with=tuple(
                    sorted({b if a == table.name else a for a, b in self.total_links if table.name in (a, b)})
                ),
            )
            for table in self.tables
        ]


@dataclass(frozen=True)
class _EarlierEdition:
    number: int
    edition: Edition
    attacker: Attacker


def _earlier_editions(previous: Sequence[PublishedTable]) -> list[_EarlierEdition]:
    """What an attacker knows of each earlier edition, each on its own: the editions are
    counts at different times, so no equation links one to another."""
    editions: dict[int, list[PublishedTable]] = {}
    for table in previous:
        editions.setdefault(table.edition, []).append(table)
    known: list[_EarlierEdition] = []
    for number in sorted(editions):
        tables = editions[number]
        names = {table.name for table in tables}
        if len(names) != len(tables):
            raise ValueError(f"edition {number} holds two tables of one name")
        edition = Edition(
            tables,
            margin_links=[
                (Margin(table.name, shared.axis), Margin(shared.table, shared.other_axis))
                for table in tables
                for shared in table.shared_margins
                if shared.table in names
            ],
            total_links=[
                (table.name, other) for table in tables for other in table.shares_total_with if other in names
            ],
        )
        published: dict[int, int] = {}
        for table in tables:
            for key, value in table.figures().items():
                unknown = edition.unknown[key]
                if value is not None and published.setdefault(unknown, value) != value:
                    raise ValueError(f"edition {number}: the shared figure {key} is published with two values")
        known.append(_EarlierEdition(number, edition, Attacker(edition, published)))
    return known


def _match(tables: Sequence[CountTable], published: Sequence[PublishedTable]) -> list[PublishedTable]:
    by_name = {table.name: table for table in published}
    if len(by_name) != len(published) or set(by_name) != {table.name for table in tables}:
        raise ValueError("the published tables must be exactly the counted ones, one each")
    for table in tables:
        shown = by_name[table.name]
        if (shown.rows, shown.columns) != (table.rows, table.columns):
            raise ValueError(f"published table {table.name!r} has other rows or columns than the counts")
    return [by_name[table.name] for table in tables]


def _check_k(k: int) -> None:
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise ValueError(f"k must be a whole number of at least 1, not {k!r}")


def _check_labels(name: str, rows: tuple[str, ...], columns: tuple[str, ...]) -> None:
    if not rows or not columns:
        raise ValueError(f"table {name!r} needs at least one row and one column")
    if len(set(rows)) != len(rows) or len(set(columns)) != len(columns):
        raise ValueError(f"table {name!r} repeats a row or column label")
