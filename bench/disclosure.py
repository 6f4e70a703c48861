"""Disclosure control on tables shaped like the prefecture page's: 63 municipalities, cases
by carer category, by stage and by risk (linked by the municipality totals), referrals by
source, closures. Municipality sizes are Pareto-distributed, as a prefecture's are (one
large city, many small towns). Prints how many figures are suppressed and how long
protect and audit take, for a first edition and for the next one after a refresh.

    uv run python bench/disclosure.py --cases-per-town 4 --seed 1

With `--months`, a fiscal year of editions of the refresh's group of cases by category and
by stage instead, each protected against every edition before (as the refresh does): one a
month (the publication interval, schema/stats/publish.py) against one at every refresh that
found `--new-cases` new cases (before the interval), with the same cases arriving in both.

    uv run python bench/disclosure.py --months 12 --cases-per-month 60 --new-cases 5
"""

from __future__ import annotations

import argparse
import random
import time

from kizuna.schema.stats.disclosure import CountTable, PublishedTable, audit, protect

TOWNS = tuple(f"{110000 + i:06d}" for i in range(63))
CASE_VARIABLES = {"category": 8, "stage": 7, "risk": 3}


def prefecture(rng: random.Random, cases_per_town: float) -> list[CountTable]:
    people = {
        town: [{name: rng.randrange(n) for name, n in CASE_VARIABLES.items()} for _ in range(size)]
        for town in TOWNS
        for size in [int(rng.paretovariate(1.2) * cases_per_town)]
    }
    tables = []
    for name, n in CASE_VARIABLES.items():
        cells: dict[tuple[str, str], int] = {}
        for town, cases in people.items():
            for case in cases:
                key = (town, f"{name}{case[name]}")
                cells[key] = cells.get(key, 0) + 1
        tables.append(CountTable(f"cases_by_{name}", TOWNS, tuple(f"{name}{i}" for i in range(n)), cells))
    sources = tuple(f"source{i}" for i in range(7))
    referrals = {(town, rng.choice(sources)): len(cases) // 2 for town, cases in people.items()}
    tables.append(CountTable("referrals_by_source", TOWNS, sources, referrals))
    closures = {(town, "closed"): rng.randrange(1 + len(cases) // 3) for town, cases in people.items()}
    tables.append(CountTable("closures", TOWNS, ("closed",), closures))
    return tables


Case = tuple[str, dict[str, int]]


def new_cases(rng: random.Random, n: int) -> list[Case]:
    return [(rng.choice(TOWNS), {name: rng.randrange(n) for name, n in CASE_VARIABLES.items()}) for _ in range(n)]


def refreshed(rng: random.Random, tables: list[CountTable], new: int) -> list[CountTable]:
    """New cases spread over the towns (the case tables stay linked)."""
    return with_cases(tables, new_cases(rng, new))


def with_cases(tables: list[CountTable], added: list[Case]) -> list[CountTable]:
    later = []
    for table in tables:
        cells = dict(table.cells)
        variable = table.name.removeprefix("cases_by_")
        for town, case in added if variable in CASE_VARIABLES else ():
            key = (town, f"{variable}{case[variable]}")
            cells[key] = cells.get(key, 0) + 1
        later.append(CountTable(table.name, table.rows, table.columns, cells))
    return later


def report(label: str, tables: list[CountTable], previous: list[PublishedTable], k: int) -> list[PublishedTable]:
    started = time.perf_counter()
    published = protect(tables, k=k, previous=previous)
    protected = time.perf_counter() - started
    started = time.perf_counter()
    exposures = audit(tables, published, k=k, previous=previous)
    audited = time.perf_counter() - started
    assert exposures == []
    figures = [value for table in published for value in table.figures().values()]
    small = sum(0 < value < k for table in tables for value in table.figures().values())
    print(
        f"{label}: {len(figures)} figures, {small} under {k}, {figures.count(None)} suppressed; "
        f"protect {protected:.2f} s, audit {audited:.2f} s"
    )
    return published


def series(tables: list[CountTable], arrivals: list[Case], every: int, *, k: int, label: str, budget: float) -> None:
    """Editions of `tables`, one per `every` new cases of `arrivals`, each protected against all
    before; stops once one edition's protect took more than `budget` seconds."""
    previous: list[PublishedTable] = []
    for edition, start in enumerate(range(0, len(arrivals) + 1, every), start=1):
        counts = with_cases(tables, arrivals[:start])
        began = time.perf_counter()
        published = protect(counts, k=k, previous=previous)
        took = time.perf_counter() - began
        suppressed = sum(value is None for table in published for value in table.figures().values())
        figures = sum(len(table.figures()) for table in published)
        print(
            f"{label} edition {edition} ({start} new cases): protect {took:.2f} s, {suppressed} of {figures} suppressed"
        )
        previous += published
        if took > budget:
            print(f"{label}: stopped, one edition over {budget:.0f} s")
            return


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases-per-town", type=float, default=4)
    parser.add_argument("--new-cases", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("-k", type=int, default=5)
    parser.add_argument("--months", type=int, help="a fiscal year of editions, monthly against at every refresh")
    parser.add_argument("--cases-per-month", type=int, default=60)
    parser.add_argument("--budget", type=float, default=30, help="seconds one edition may take before a series stops")
    args = parser.parse_args()
    rng = random.Random(args.seed)  # noqa: S311  (synthetic counts, not secrets)
    tables = prefecture(rng, args.cases_per_town)
    if args.months:
        group = [t for t in tables if t.name in ("cases_by_category", "cases_by_stage")]
        arrivals = new_cases(rng, args.months * args.cases_per_month)
        print(f"{group[0].figures()[group[0].name, None, None]} cases at the first edition, k={args.k}")
        series(group, arrivals, args.cases_per_month, k=args.k, label="monthly", budget=args.budget)
        series(group, arrivals, args.new_cases, k=args.k, label="every refresh", budget=args.budget)
        return
    cases = sum(table.figures()[table.name, None, None] for table in tables[:1])
    print(f"{cases} cases in {len(TOWNS)} municipalities, {len(tables)} tables, k={args.k}")
    first = report("first edition", tables, [], args.k)
    assert protect(tables, k=args.k) == first, "the same counts give the same publication"
    report(f"next edition ({args.new_cases} new cases)", refreshed(rng, tables, args.new_cases), first, args.k)


if __name__ == "__main__":
    main()
