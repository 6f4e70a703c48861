"""The refresh (issue 16, items 1, 5 and 6), run for real over the suite's seeded tenants:
what it publishes equals the counts in the tenant tables wherever it is shown, no shown
count lies between 1 and k-1, the exact audit finds nothing to learn from the publication
and the editions before it, every figure says when it was computed, a new edition comes at
most once per publication interval and a closed fiscal year's never again, a refresh never
waits for a writer nor makes one wait, and figures never go back in time.

The demo's fiscal years (FY2022 to FY2025) are closed by the machine's clock from July 2026
on; the tests that need an open year add records received now, in the current fiscal year.
"""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from kizuna.platform import stats_refresh
from kizuna.platform.app import create_app
from kizuna.platform.ids import uuid7
from kizuna.platform.runtime import DatabaseUrls
from kizuna.platform.serving import jobs_beside
from kizuna.platform.settings import Settings
from kizuna.platform.urls import asyncpg_dsn
from kizuna.platform.vocabulary import AppRole
from kizuna.platform.wareki import JAPAN
from kizuna.schema.stats import disclosure, publish, refresh, sources
from kizuna.schema.stats.figures import PROTECTED
from kizuna.schema.stats.publish import STATS_TABLES
from kizuna.schema.stats.sources import RawFigures

SAITAMA_CITY = "111007"
KAWAGOE = "112011"
SAITAMA_PREFECTURE = "110001"
K = 5
INTERVAL = dt.timedelta(days=30)
# The truth, read by the superuser past row security: new cases by category, by fiscal year.
TRUE_CASES_BY_CATEGORY = """
SELECT municipality_code, extract(year FROM (opened_at AT TIME ZONE 'Asia/Tokyo') - interval '3 months')::int AS year,
       category::text AS category, count(*)::int AS n
FROM kizuna.carer_case GROUP BY 1, 2, 3
"""
PUBLISHED = "SELECT figure, fiscal_year::int AS year, area, category, value, status FROM stats.published_count"
FISCAL_YEAR = (
    "SELECT extract(year FROM (coalesce($1::timestamptz, now()) AT TIME ZONE 'Asia/Tokyo') - interval '3 months')::int"
)


def home_of(role: AppRole) -> str:
    return SAITAMA_PREFECTURE if role in (AppRole.PREFECTURE_ANALYST, AppRole.PLATFORM_ADMIN) else SAITAMA_CITY


async def _empty_stats(admin_conn: asyncpg.Connection) -> None:
    for table in STATS_TABLES:
        await admin_conn.execute(f"DELETE FROM stats.{table}")


@pytest.fixture
async def refreshed(admin_conn: asyncpg.Connection) -> AsyncIterator[list[refresh.Refreshed]]:
    """One refresh, as `kizuna stats refresh` runs it; the figures are removed afterwards."""
    await _empty_stats(admin_conn)
    try:
        yield await refresh.refresh(admin_conn, k=K, interval=INTERVAL)
    finally:
        await _empty_stats(admin_conn)


async def _interval_passes(admin_conn: asyncpg.Connection) -> None:
    """A publication interval passes. The refresh's clock is the database's (the time of its
    snapshot), so the schedule it wrote moves back by an interval instead (by the superuser;
    the times computed here: Citus refuses a STABLE timestamptz - interval over a column)."""
    edition_at, next_at = await admin_conn.fetchrow("SELECT edition_at, next_edition_at FROM stats.publication")
    await admin_conn.execute(
        "UPDATE stats.publication SET edition_at = $1, next_edition_at = $2", edition_at - INTERVAL, next_at - INTERVAL
    )


async def _editions(admin_conn: asyncpg.Connection) -> dict[tuple[int, str], int]:
    """The edition in force of each (fiscal year, table)."""
    rows = await admin_conn.fetch("SELECT fiscal_year::int AS fiscal_year, figure, edition FROM stats.published_table")
    return {(r["fiscal_year"], r["figure"]): r["edition"] for r in rows}


async def _truth(admin_conn: asyncpg.Connection) -> tuple[RawFigures, dict[int, list[disclosure.PublishedTable]]]:
    """The counts read again, and every edition kept."""
    async with stats_refresh.as_stats(admin_conn, readonly=True):
        raw = publish.by_prefecture(await sources.read_every_tenant(admin_conn))["11"]
        return raw, await publish.read_published(admin_conn, "11")


def _safe_against_all_before(raw: RawFigures, editions: list[disclosure.PublishedTable], year: int) -> bool:
    """The exact audit of the newest edition of one table, alone in its group, against all its earlier ones."""
    *earlier, newest = sorted(editions, key=lambda t: t.edition)
    (counts,) = [t for t in publish.count_tables(year, newest.rows, raw.counts) if t.name == newest.name]
    return disclosure.audit([counts], [newest], k=K, previous=earlier) == []


async def test_it_publishes_each_prefecture_with_the_time_it_computed(
    refreshed: list[refresh.Refreshed], admin_conn: asyncpg.Connection
) -> None:
    (saitama,) = refreshed
    assert saitama.prefecture_code == "11"
    assert saitama.cells > 0
    publication = await admin_conn.fetchrow("SELECT computed_at, k FROM stats.publication WHERE prefecture_code = '11'")
    assert (publication["computed_at"], publication["k"]) == (saitama.computed_at, K)
    assert dt.datetime.now(dt.UTC) - saitama.computed_at < dt.timedelta(minutes=5)


async def test_what_is_shown_is_the_true_count_and_never_a_small_one(
    refreshed: list[refresh.Refreshed], admin_conn: asyncpg.Connection
) -> None:
    truth = {
        (r["municipality_code"], r["year"], r["category"]): r["n"]
        for r in await admin_conn.fetch(TRUE_CASES_BY_CATEGORY)
    }
    published = await admin_conn.fetch(PUBLISHED)
    cells = [r for r in published if r["figure"] == "cases_by_category" and "total" not in (r["area"], r["category"])]
    assert cells
    for cell in cells:
        true = truth.get((cell["area"], cell["year"], cell["category"]), 0)
        if cell["status"] == "shown":
            assert cell["value"] == true
        else:
            assert cell["value"] is None
    protected = [r for r in published if r["figure"] in {f.value for f in PROTECTED} and r["status"] == "shown"]
    assert not [r for r in protected if 0 < r["value"] < K]
    # さいたま市 and 川越市 hold cases; every other municipality of Saitama is a row of zeros.
    assert {r["area"] for r in cells} >= {SAITAMA_CITY, KAWAGOE}
    assert len({r["area"] for r in cells}) == 63
    assert {r["status"] for r in published} <= {"shown", "suppressed"}


async def test_the_exact_audit_finds_nothing_in_the_publication(
    refreshed: list[refresh.Refreshed], admin_conn: asyncpg.Connection
) -> None:
    """Against the true counts read again, every fiscal year's tables together."""
    async with stats_refresh.as_stats(admin_conn, readonly=True):
        raw = publish.by_prefecture(await sources.read_every_tenant(admin_conn))["11"]
    async with stats_refresh.as_stats(admin_conn, readonly=True):
        published = await publish.read_published(admin_conn, "11")
    rows = next(iter(published.values()))[0].rows
    for year, tables in published.items():
        counts = publish.count_tables(year, rows, raw.counts)
        assert disclosure.audit(counts, tables, k=K) == [], year


async def test_a_refresh_with_nothing_changed_publishes_the_same_edition(
    refreshed: list[refresh.Refreshed], admin_conn: asyncpg.Connection
) -> None:
    """Even when an edition is due (forced): no group is put through the disclosure control
    again, and the figures are the same."""
    before = sorted(map(tuple, await admin_conn.fetch(PUBLISHED)))
    (again,) = await refresh.refresh(admin_conn, k=K, interval=INTERVAL, force=True)
    assert refreshed[0].protected >= 4
    assert (again.protected, again.cells) == (0, refreshed[0].cells)
    assert again.computed_at > refreshed[0].computed_at
    assert sorted(map(tuple, await admin_conn.fetch(PUBLISHED))) == before
    assert set((await _editions(admin_conn)).values()) == {1}


@pytest.fixture
async def referrals(admin_conn: asyncpg.Connection) -> AsyncIterator[Callable[..., Awaitable[int]]]:
    """Adds `n` referrals of さいたま市 received now (in the current fiscal year, which is
    open) or at `received`, by the superuser, committed (the refresh reads committed rows);
    yields the function, which returns their fiscal year. They are removed afterwards."""
    added: list[uuid.UUID] = []

    async def add(n: int, received: dt.datetime | None = None) -> int:
        ids = [uuid7() for _ in range(n)]
        added.extend(ids)
        await admin_conn.executemany(
            "INSERT INTO kizuna.referral (municipality_code, id, source, noticed, urgency, status, received_at)"
            " VALUES ($1, $2, 'self', '試験のための相談', 'routine', 'submitted', coalesce($3, now()))",
            [(SAITAMA_CITY, i, received) for i in ids],
        )
        return int(await admin_conn.fetchval(FISCAL_YEAR, received))

    try:
        yield add
    finally:
        await admin_conn.execute("DELETE FROM kizuna.referral WHERE id = ANY($1::uuid[])", added)


async def test_within_an_interval_readers_keep_the_edition_in_force(
    refreshed: list[refresh.Refreshed],
    referrals: Callable[..., Awaitable[int]],
    admin_conn: asyncpg.Connection,
    as_user: Callable[..., Any],
) -> None:
    """Referrals keep coming and the refresh keeps running: the prefecture reads the edition
    in force, as of its time, while a municipality's supervisor reads its own counts as
    they are. Once the interval has passed, one new edition, safe against the one before;
    it is new although its counts are those the previous refresh saw (the trap: deciding
    "unchanged" against the last refresh's counts would publish the old edition again)."""
    year = await referrals(1)
    (first,) = await refresh.refresh(admin_conn, k=K, interval=INTERVAL, force=True)
    assert first.edition_at == first.computed_at
    assert first.next_edition_at == first.computed_at + INTERVAL
    editions = await _editions(admin_conn)
    # Edition 1, or a later one where the suite's earlier tests left referrals of this year.
    in_force = editions[year, "referrals_by_source"]

    async def seen() -> tuple[list[tuple[Any, ...]], dt.datetime, int]:
        async with as_user(AppRole.PREFECTURE_ANALYST, SAITAMA_PREFECTURE) as conn:
            published = sorted(map(tuple, await conn.fetch(PUBLISHED + " WHERE fiscal_year = $1", year)))
            at = await conn.fetchval("SELECT edition_at FROM stats.publication")
        async with as_user(AppRole.SUPERVISOR, SAITAMA_CITY) as conn:
            own = await conn.fetchval(
                "SELECT sum(value) FROM stats.raw_count WHERE figure = 'referrals_by_source' AND fiscal_year = $1", year
            )
        return published, at, own

    before = await seen()
    assert before[1] == first.computed_at
    for _ in range(2):
        await referrals(3)
        (between,) = await refresh.refresh(admin_conn, k=K, interval=INTERVAL)
        assert (between.protected, between.edition_at) == (0, first.computed_at)
    assert await _editions(admin_conn) == editions
    published, at, own = await seen()
    assert (published, at, own) == (before[0], first.computed_at, before[2] + 6)

    await _interval_passes(admin_conn)
    (due,) = await refresh.refresh(admin_conn, k=K, interval=INTERVAL)
    assert (due.edition_at, due.next_edition_at) == (due.computed_at, due.computed_at + INTERVAL)
    after = await _editions(admin_conn)
    assert {key for key, edition in after.items() if edition != editions[key]} == {(year, "referrals_by_source")}
    assert after[year, "referrals_by_source"] == in_force + 1
    assert (await seen())[1:] == (due.computed_at, before[2] + 6)
    raw, kept = await _truth(admin_conn)
    assert _safe_against_all_before(raw, [t for t in kept[year] if t.name == "referrals_by_source"], year)


async def test_every_edition_is_kept_and_a_new_one_is_safe_against_them_all(
    refreshed: list[refresh.Refreshed], referrals: Callable[..., Awaitable[int]], admin_conn: asyncpg.Connection
) -> None:
    """A referral comes (edition 2) and goes (edition 3, the counts of edition 1 again),
    each edition forced (`kizuna stats refresh --publish`): the refresh keeps the three
    editions and protects the third against the first two, so that an attacker holding
    every edition cannot narrow any figure or change beyond the rule."""
    year = await referrals(1)
    # None, or some where the suite's earlier tests left referrals of this year.
    before = (await _editions(admin_conn)).get((year, "referrals_by_source"), 0)
    await refresh.refresh(admin_conn, k=K, interval=INTERVAL, force=True)
    await referrals(1)
    await refresh.refresh(admin_conn, k=K, interval=INTERVAL, force=True)
    await admin_conn.execute(
        "DELETE FROM kizuna.referral WHERE municipality_code = $1 AND id ="
        " (SELECT id FROM kizuna.referral WHERE municipality_code = $1 AND noticed = '試験のための相談'"
        " ORDER BY id DESC LIMIT 1)",
        SAITAMA_CITY,
    )
    await refresh.refresh(admin_conn, k=K, interval=INTERVAL, force=True)
    raw, kept = await _truth(admin_conn)
    editions = [t for t in kept[year] if t.name == "referrals_by_source"]
    assert sorted(t.edition for t in editions) == list(range(1, before + 4))
    assert _safe_against_all_before(raw, editions, year)


async def test_figures_never_go_back_in_time(
    refreshed: list[refresh.Refreshed], admin_conn: asyncpg.Connection
) -> None:
    """A refresh whose snapshot is older than the publication (another refresh finished
    first) writes nothing."""
    later = refreshed[0].computed_at + dt.timedelta(hours=1)
    await admin_conn.execute("UPDATE stats.publication SET computed_at = $1", later)
    before = sorted(map(tuple, await admin_conn.fetch(PUBLISHED)))
    (skipped,) = await refresh.refresh(admin_conn, k=K, interval=INTERVAL)
    assert (skipped.cells, skipped.computed_at) == (0, later)
    assert sorted(map(tuple, await admin_conn.fetch(PUBLISHED))) == before


async def test_only_programme_figures_the_prefecture_accepted_count(admin_conn: asyncpg.Connection) -> None:
    """A municipality's programmes of a fiscal year count once that year's submission is
    accepted (the demo has drafts, pending and returned years too); the prefecture's own count."""
    states = {
        (r["municipality_code"], r["fiscal_year"]): r["submission"]
        for r in await admin_conn.fetch(
            "SELECT municipality_code, fiscal_year::int AS fiscal_year, submission::text"
            " FROM kizuna.programme_submission"
        )
    }
    held = collections.Counter(
        (r["municipality_code"], r["fiscal_year"])
        for r in await admin_conn.fetch(
            "SELECT municipality_code, fiscal_year::int AS fiscal_year FROM kizuna.programme_activity"
            " WHERE kind <> 'awareness_survey'"
        )
    )
    async with stats_refresh.as_stats(admin_conn, readonly=True):
        raw = await sources.read_every_tenant(admin_conn)
    counted: collections.Counter[tuple[str, int]] = collections.Counter()
    for row in raw.programmes:
        counted[row["municipality_code"], row["fiscal_year"]] += row["held"]

    def counts(key: tuple[str, int]) -> bool:
        return states.get(key) == "accepted" or key[0][2:5] == "000"

    assert any(not counts(key) for key in held)  # figures not accepted exist: this can fail
    assert dict(counted) == {key: n for key, n in held.items() if counts(key)}


async def test_a_refresh_reading_every_tenant_never_makes_a_writer_wait(
    urls: DatabaseUrls, as_user: Callable[..., Any]
) -> None:
    """The refresh's reading transaction held open: a supervisor changes a case and commits
    under a lock timeout of a second (the change is undone by the rollback of `as_user`)."""
    reader = await asyncpg.connect(asyncpg_dsn(urls.admin))
    try:
        async with stats_refresh.as_stats(reader, readonly=True):
            await sources.read_every_tenant(reader)
            async with as_user(AppRole.SUPERVISOR, SAITAMA_CITY) as conn:
                await conn.execute("SET LOCAL lock_timeout = '1s'")
                changed = await conn.execute(
                    "UPDATE kizuna.carer_case SET risk_level = 'high'"
                    " WHERE municipality_code = $1 AND id = (SELECT id FROM kizuna.carer_case"
                    " WHERE municipality_code = $1 ORDER BY id LIMIT 1)",
                    SAITAMA_CITY,
                )
                assert changed == "UPDATE 1"
    finally:
        await reader.close()


async def test_readers_see_the_old_figures_or_the_new_never_a_mix(
    refreshed: list[refresh.Refreshed], urls: DatabaseUrls, as_user: Callable[..., Any]
) -> None:
    """While a refresh writes (its transaction held open after the new rows are in), the
    analyst still reads the figures of the first refresh, whole."""
    async with as_user(AppRole.PREFECTURE_ANALYST, SAITAMA_PREFECTURE) as conn:
        old = collections.Counter(r["status"] for r in await conn.fetch("SELECT status FROM stats.published_count"))
        old_at = await conn.fetchval("SELECT computed_at FROM stats.publication")
    writer = await asyncpg.connect(asyncpg_dsn(urls.admin))
    writing = writer.transaction()
    try:
        await writing.start()
        await writer.execute("SET LOCAL ROLE kizuna_stats")
        await writer.execute("DELETE FROM stats.published_count")
        await writer.execute("UPDATE stats.publication SET computed_at = now()")
        async with as_user(AppRole.PREFECTURE_ANALYST, SAITAMA_PREFECTURE) as conn:
            await conn.execute("SET LOCAL lock_timeout = '1s'")
            during = collections.Counter(
                r["status"] for r in await conn.fetch("SELECT status FROM stats.published_count")
            )
            during_at = await conn.fetchval("SELECT computed_at FROM stats.publication")
        await writing.rollback()
    finally:
        await writer.close()
    assert (during, during_at) == (old, old_at)


def test_serve_refreshes_on_its_schedule(
    urls: DatabaseUrls, data_dir: Path, signing_key: Any, serve: Callable[..., Any]
) -> None:
    """With KIZUNA_STATS_REFRESH set, the server refreshes in a process of its own, and stops
    it when it stops; without it (the suite's servers) nothing refreshes."""

    async def publications() -> list[tuple[str, dt.datetime]]:
        conn = await asyncpg.connect(asyncpg_dsn(urls.admin))
        try:
            return [tuple(r) for r in await conn.fetch("SELECT prefecture_code, computed_at FROM stats.publication")]
        finally:
            await conn.close()

    async def empty() -> None:
        conn = await asyncpg.connect(asyncpg_dsn(urls.admin))
        try:
            await _empty_stats(conn)
        finally:
            await conn.close()

    asyncio.run(empty())
    settings = Settings.from_env({"KIZUNA_DATA_DIR": str(data_dir), "KIZUNA_STATS_REFRESH": "1"})
    try:
        with jobs_beside(settings, urls.admin), serve(create_app(settings, urls.app, dev_key=signing_key)):
            deadline = time.monotonic() + 120
            while not (found := asyncio.run(publications())) and time.monotonic() < deadline:
                time.sleep(0.5)
            assert [prefecture for prefecture, _ in found] == ["11"]
        after = asyncio.run(publications())
        time.sleep(2.5)  # past two intervals: a refresher left running would have published again
        assert asyncio.run(publications()) == after
    finally:
        asyncio.run(empty())


async def test_a_closed_fiscal_year_gets_one_last_edition_and_then_none(
    refreshed: list[refresh.Refreshed], referrals: Callable[..., Awaitable[int]], admin_conn: asyncpg.Connection
) -> None:
    """FY2024 (closed on 1 July 2025) was last counted before it closed, as if the refresh
    had not run since: the next refresh, though not due, gives it its last edition, with a
    referral entered late; after that, not even a forced edition publishes its next one
    (a supervisor still reads it among its own counts)."""
    received = dt.datetime(2024, 10, 1, 10, tzinfo=JAPAN)
    year = 2024
    await admin_conn.execute(
        "UPDATE stats.published_table SET as_of = $2 WHERE fiscal_year = $1",
        year,
        publish.closes(year) - dt.timedelta(days=1),
    )
    assert await referrals(1, received) == year
    (last,) = await refresh.refresh(admin_conn, k=K, interval=INTERVAL)
    editions = await _editions(admin_conn)
    assert {key for key, edition in editions.items() if edition > 1} == {(year, "referrals_by_source")}
    assert editions[year, "referrals_by_source"] == 2
    published = sorted(map(tuple, await admin_conn.fetch(PUBLISHED + " WHERE fiscal_year = $1", year)))
    as_of = await admin_conn.fetchval("SELECT min(as_of) FROM stats.published_table WHERE fiscal_year = $1", year)
    assert as_of == last.computed_at

    await referrals(1, received)
    (forced,) = await refresh.refresh(admin_conn, k=K, interval=INTERVAL, force=True)
    assert forced.protected == 0
    assert await _editions(admin_conn) == editions
    assert sorted(map(tuple, await admin_conn.fetch(PUBLISHED + " WHERE fiscal_year = $1", year))) == published
    own = "SELECT value FROM stats.raw_count WHERE figure = 'referrals_by_source' AND fiscal_year = $1"
    truth = (
        "SELECT count(*) FROM kizuna.referral WHERE municipality_code = $1 AND source = 'self'"
        " AND received_at >= $2 AND received_at < $3"
    )
    async with stats_refresh.as_stats(admin_conn, readonly=True):
        counts = await publish.read_in_force(admin_conn, "11")
    true_now = await admin_conn.fetchval(
        truth, SAITAMA_CITY, dt.datetime(year, 4, 1, tzinfo=JAPAN), dt.datetime(year + 1, 4, 1, tzinfo=JAPAN)
    )
    in_edition = counts.counts[year, "referrals_by_source"]
    assert in_edition is not None
    assert in_edition[SAITAMA_CITY, "self"] == true_now - 1
    raw_now = await admin_conn.fetch(own + " AND municipality_code = $2 AND category = 'self'", year, SAITAMA_CITY)
    assert [r["value"] for r in raw_now] == [true_now]


async def test_the_true_counts_of_an_edition_are_kept_for_the_refresh_alone(
    refreshed: list[refresh.Refreshed], admin_conn: asyncpg.Connection, as_user: Callable[..., Any]
) -> None:
    """Each edition in force keeps the counts it was protected from (what the refresh
    compares with); no app role reads them, in SQL, whatever it names."""
    raw, kept = await _truth(admin_conn)
    async with stats_refresh.as_stats(admin_conn, readonly=True):
        in_force = await publish.read_in_force(admin_conn, "11")
    assert len(in_force.counts) == sum(map(len, kept.values()))
    for (year, name), counts in in_force.counts.items():
        (table,) = [t for t in publish.count_tables(year, kept[year][0].rows, raw.counts) if t.name == name]
        assert counts == {key: value for key, value in table.cells.items() if value}
    assert any(in_force.counts.values())
    for role in AppRole:
        for statement in (
            "SELECT counts FROM stats.published_edition",
            "SELECT count(*) FROM stats.published_edition WHERE counts IS NOT NULL",
        ):
            async with as_user(role, home_of(role)) as conn:
                with pytest.raises(asyncpg.InsufficientPrivilegeError):
                    await conn.fetch(statement)
