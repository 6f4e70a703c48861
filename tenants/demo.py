"""Demo data: deterministic, synthetic, believable data for every tenant of a prefecture.

`seed_demo` provisions over the administrative connection only what must exist before a
request can be made (the prefecture's registry, the organisations directory, one
membership per role and tenant: `tenants/demo_users.py`), then writes every tenant's data through
`Database.transaction` as that tenant's demo supervisor (the prefecture's analyst for the
prefecture tenant), under the application role and row security, exactly as requests do:
one transaction per tenant (two tenants at a time), one multi-row INSERT per table, never
COPY. A tenant that already holds data is skipped, so seeding twice inserts nothing new;
`remove_demo_data` (development's `kizuna demo seed --reset`) starts afresh.

Organisation and membership ids are uuid5 of stable names (the same on every run and in
`demo_users`); every other id is a UUIDv7 from a `random.Random` seeded with (seed,
municipality), so the same seed and scale give the same rows. Dates run from FY2022 to
`demo_calendar.AS_OF` (FY2025, 令和7年度), fixed so that a seed always gives the same data.

This module composes; the rows come from `demo_municipalities` (population, districts,
organisations), `demo_casework` (people and casework) and `demo_programmes` (municipality
status and programmes), none of which touches a database.

Sizing: `data/population.csv` holds approximate populations of the 2020 census (令和2年
国勢調査) of every municipality of Saitama (63) and Kochi (34). A municipality gets
`max(8, round(population × scale / 10,000))` cases (さいたま市: 132 at scale 1, 2,648 at
scale 20), so that every stage can show even in a village; referrals, households and the
rest follow the cases.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from kizuna.platform.caller import Caller
from kizuna.platform.database import Database, TenantTransaction
from kizuna.platform.models import GLOBAL_TABLES, TENANT_TABLES
from kizuna.platform.provisioning import (
    MembershipRow,
    UserRow,
    add_indicators,
    add_memberships,
    admin_connection,
    has_organisations,
    registered_codes,
    remove_tenant_rows,
    remove_users_and_organisations,
    upsert_organisations,
    upsert_registry,
    upsert_users,
)
from kizuna.platform.settings import DEFAULT_DEV_ISSUER
from kizuna.platform.vocabulary import AppRole, OrganisationKind
from kizuna.tenants import demo_casework, demo_draft, indicators
from kizuna.tenants.demo_decisions import decide
from kizuna.tenants.demo_draft import Row
from kizuna.tenants.demo_municipalities import districts, organisations, population
from kizuna.tenants.demo_programmes import (
    COLUMNS,
    municipal_programmes,
    prefecture_programmes,
    programme_submission_rows,
    status_rows,
)
from kizuna.tenants.demo_users import DemoUser, demo_users, membership_id, organisation_id, selected
from kizuna.tenants.registry import LocalGovernment, for_prefecture, prefecture_tenant_code

MIN_CASES: Final = 8
PEOPLE_PER_CASE: Final = 10_000
SEEDING_TENANTS: Final = 2
"""Tenants seeded at the same time, each in its own transaction and connection."""


@dataclass(frozen=True)
class DemoSummary:
    municipalities: int
    """Tenants whose data this call wrote (a tenant that already held data is skipped)."""
    rows: dict[str, int]
    """Table name -> rows inserted by this call."""
    users: tuple[DemoUser, ...]


def case_count(code: str, scale: float) -> int:
    return max(MIN_CASES, round(population(code) * scale / PEOPLE_PER_CASE))


# --- generating a tenant's rows --------------------------------------------------------


def tenant_plan(government: LocalGovernment, users: Sequence[DemoUser]) -> demo_draft.TenantPlan:
    def staff(role: AppRole) -> demo_draft.StaffMember:
        user = next(u for u in users if u.role is role and u.municipality_code == government.code)
        return demo_draft.StaffMember(str(user.user_id), user.display_name, user.organisation_id)

    return demo_draft.TenantPlan(
        code=government.code,
        districts=districts(government),
        organisations=organisations(government),
        caseworker=staff(AppRole.CASEWORKER),
        supervisor=staff(AppRole.SUPERVISOR),
        coordinator=staff(AppRole.COORDINATOR),
        school_staff=staff(AppRole.SCHOOL_STAFF),
        school_social_worker=staff(AppRole.SCHOOL_SOCIAL_WORKER),
        welfare_worker=staff(AppRole.WELFARE_WORKER),
        prefecture_department=organisation_id(prefecture_tenant_code(government.prefecture_code), "care"),
    )


def tenant_rows(government: LocalGovernment, *, scale: float, seed: int) -> dict[str, list[Row]]:
    """Every row `seed_demo` writes into one tenant (without the tenant code), by table."""
    if government.is_prefecture:
        return {"programme_activity": prefecture_programmes(government, seed)}
    users = demo_users(government.prefecture_code, [government.code])
    cases = case_count(government.code, scale)
    rows = demo_casework.generate_casework(tenant_plan(government, users), cases=cases, seed=seed)
    schools = [o.name for o in organisations(government) if o.kind is OrganisationKind.JUNIOR_HIGH_SCHOOL]
    people = population(government.code)
    supervisor = next(u.user_id for u in users if u.role is AppRole.SUPERVISOR)
    rows["municipality_status"] = status_rows(government, people, seed, supervisor)
    rows["programme_activity"] = municipal_programmes(government, people, schools, seed)
    rows["programme_submission"] = programme_submission_rows(government, seed, supervisor)
    return rows


def column_names(table: str) -> tuple[str, ...]:
    """The columns of a table's rows, in order, after the tenant code."""
    return tuple(c.split(":")[0] for c in demo_draft.COLUMNS.get(table) or COLUMNS[table])


# PostgreSQL binds at most 32,767 parameters to one statement.
MAX_PARAMETERS: Final = 32_767


def rows_per_insert(table: str) -> int:
    """How many rows one INSERT of `table` carries: as many as its parameters allow."""
    return (MAX_PARAMETERS - 1) // len(column_names(table))


@functools.cache
def insert_sql(table: str, rows: int) -> str:
    """A multi-row INSERT … VALUES of `rows` rows: $1 is the tenant (the transaction passes
    it), then each row's columns in order. VALUES, because Citus routes it to the tenant's
    shard, where it refuses an INSERT … SELECT from a function under row security
    (docs/scale-out.md, finding 4). One text per table and row count, prepared once."""
    names = column_names(table)
    width = len(names)
    values = ", ".join(
        "($1, " + ", ".join(f"${2 + row * width + column}" for column in range(width)) + ")" for row in range(rows)
    )
    return f"INSERT INTO kizuna.{table} (municipality_code, {', '.join(names)}) VALUES {values}"


# --- the database ----------------------------------------------------------------------

HOLDS_CASEWORK = "SELECT EXISTS (SELECT 1 FROM kizuna.household WHERE municipality_code = $1)"
HOLDS_PROGRAMMES = "SELECT EXISTS (SELECT 1 FROM kizuna.programme_activity WHERE municipality_code = $1)"


async def is_seeded(admin_url: str) -> bool:
    """True once organisations are onboarded: demo data or a real deployment's, and
    `kizuna serve` must not add demo data to a real deployment."""
    async with admin_connection(admin_url) as conn:
        return await has_organisations(conn)


async def development_users(admin_url: str) -> int:
    """How many users of the development IdP the database holds: the demo's, whose
    memberships would let anyone in wherever a development server reaches the database."""
    async with admin_connection(admin_url) as conn:
        count: int = await conn.fetchval("SELECT count(*) FROM kizuna.app_user WHERE issuer = $1", DEFAULT_DEV_ISSUER)
        return count


async def remove_demo_data(admin_url: str) -> int:
    """Remove what seeding and the demo's requests wrote: every tenant's rows (audit log
    included), the users and the organisations; the registry stays. One transaction over
    the administrative connection; returns the tenant rows removed.

    Development only: `kizuna demo seed --reset` refuses to call it in any other mode.
    Until seeding runs again, `is_seeded` is False, so an interrupted reset is finished by
    the next `kizuna serve` or `kizuna demo seed`.
    """
    children_first = tuple(reversed(TENANT_TABLES))
    async with admin_connection(admin_url) as conn, conn.transaction():
        removed = 0
        for code in await registered_codes(conn):
            removed += await remove_tenant_rows(conn, code, children_first)
        await remove_users_and_organisations(conn)
    return removed


async def _provision(
    admin_url: str,
    prefecture: str,
    governments: Sequence[LocalGovernment],
    users: Sequence[DemoUser],
    issuer: str,
) -> int:
    """Registry, organisations, users and memberships; returns how many memberships are new."""
    directory = {o.id: o for g in (for_prefecture(prefecture)[0], *governments) for o in organisations(g)}
    async with admin_connection(admin_url) as conn:
        await upsert_registry(conn, for_prefecture(prefecture))
        await add_indicators(conn, indicators.for_prefecture(prefecture))
        await upsert_organisations(conn, directory.values())
        ids = await upsert_users(conn, [UserRow(u.user_id, issuer, u.subject) for u in users])
        if strays := [u.subject for u in users if ids[(issuer, u.subject)] != u.user_id]:
            # Only a data directory migrated from before revision 0004 holds demo users
            # under other ids; its demo data stays usable, but cannot be extended.
            raise RuntimeError(
                f"demo users {strays[:3]} are registered under other ids: this data directory predates"
                " revision 0004; stop the server (kizuna db stop) and remove it to seed afresh"
            )
        added = 0
        for government in governments:
            rows = [
                MembershipRow(membership_id(u), u.user_id, u.display_name, u.role, u.organisation_id)
                for u in users
                if u.municipality_code == government.code
            ]
            added += await add_memberships(conn, government.code, rows)
        return added


async def _seed_tenant(
    database: Database,
    government: LocalGovernment,
    users: Sequence[DemoUser],
    *,
    issuer: str,
    scale: float,
    seed: int,
) -> dict[str, int]:
    """One transaction as the tenant's demo supervisor (prefecture: analyst); {} if it already held data."""
    role = AppRole.PREFECTURE_ANALYST if government.is_prefecture else AppRole.SUPERVISOR
    user = next(u for u in users if u.role is role and u.municipality_code == government.code)
    caller = Caller(user.user_id, issuer, user.subject, role, government.code, user.organisation_id)
    async with database.transaction(caller, readonly=False) as tx:
        if await tx.fetchval(HOLDS_PROGRAMMES if government.is_prefecture else HOLDS_CASEWORK):
            return {}
        # In a thread: the event loop meanwhile sends another tenant's rows to the server.
        rows = await asyncio.to_thread(tenant_rows, government, scale=scale, seed=seed)
        return await _insert(tx, rows)


async def _decide_submissions(
    database: Database,
    prefecture: str,
    governments: Sequence[LocalGovernment],
    users: Sequence[DemoUser],
    *,
    issuer: str,
    seed: int,
) -> None:
    """The prefecture's analyst accepts or returns the municipalities' submissions as the
    demo plans them, in one transaction of the prefecture's tenant (when it is seeded too)."""
    code = prefecture_tenant_code(prefecture)
    analyst = next((u for u in users if u.role is AppRole.PREFECTURE_ANALYST and u.municipality_code == code), None)
    if analyst is None:
        return
    caller = Caller(analyst.user_id, issuer, analyst.subject, analyst.role, code, analyst.organisation_id)
    async with database.transaction(caller, readonly=False) as tx:
        await decide(tx, [g for g in governments if not g.is_prefecture], analyst.user_id, seed)


async def _insert(tx: TenantTransaction, rows: Mapping[str, Sequence[Sequence[Any]]]) -> dict[str, int]:
    """A few statements per table: the server inserts thousands of rows in one execution,
    where one execution per row cost the most of a first start."""
    counts: dict[str, int] = {}
    for table in TENANT_TABLES:  # parents first
        if table_rows := rows.get(table):
            size = rows_per_insert(table)
            for start in range(0, len(table_rows), size):
                chunk = table_rows[start : start + size]
                await tx.execute(insert_sql(table, len(chunk)), *itertools.chain.from_iterable(chunk))
            counts[table] = len(table_rows)
    return counts


async def _refresh_statistics(admin_url: str) -> None:
    """The planner's statistics of every table, as a bulk load ends. Until autovacuum
    analyzes them (a minute or more after the load, if the server stays up that long) the
    planner knows no row counts: the cases page then read and sorted a whole tenant
    (2.3 ms a page at 1,600 cases) instead of 51 rows along its index (0.3 ms). Named
    tables, so that Citus analyzes their shards too."""
    tables = ", ".join(f"kizuna.{table}" for table in (*GLOBAL_TABLES, *TENANT_TABLES))
    async with admin_connection(admin_url) as conn:
        await conn.execute(f"ANALYZE {tables}")


async def seed_demo(
    admin_url: str,
    app_dsn: str,
    *,
    prefecture: str = "11",
    scale: float = 1.0,
    seed: int = 0,
    municipalities: Sequence[str] | None = None,
    issuer: str = DEFAULT_DEV_ISSUER,
) -> DemoSummary:
    """Provision and seed the prefecture tenant and its municipalities (or only
    `municipalities`); the demo users are those of the development IdP, `issuer`."""
    if not scale > 0:
        raise ValueError("scale must be positive")
    governments = selected(prefecture, municipalities)
    users = demo_users(prefecture, [g.code for g in governments])
    totals = dict.fromkeys(TENANT_TABLES, 0)
    totals["membership"] = await _provision(admin_url, prefecture, governments, users, issuer)
    pending = iter(governments)

    async def seed_pending() -> list[dict[str, int]]:
        return [await _seed_tenant(database, g, users, issuer=issuer, scale=scale, seed=seed) for g in pending]

    database = await Database.connect(app_dsn, size=SEEDING_TENANTS)
    try:
        # A few tenants at a time, so the client's work (generating rows) and the server's
        # (inserting them) overlap; each tenant's rows depend on its own seed only.
        done = await asyncio.gather(*(seed_pending() for _ in range(SEEDING_TENANTS)))
        await _decide_submissions(database, prefecture, governments, users, issuer=issuer, seed=seed)
    finally:
        await database.close()
    await _refresh_statistics(admin_url)
    tenants = [counts for worker in done for counts in worker]
    for counts in tenants:
        for table, count in counts.items():
            totals[table] += count
    return DemoSummary(municipalities=sum(bool(c) for c in tenants), rows=totals, users=users)
