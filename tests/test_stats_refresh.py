"""The refresh (issue 16, items 1, 5 and 6), run for real over the suite's seeded tenants:
what it publishes equals the counts in the tenant tables wherever it is shown, no shown
count lies between 1 and k-1, the exact audit finds nothing to learn from the publication
and the edition before it, every figure says when it was computed, a refresh never waits
for a writer nor makes one wait, and figures never go back in time.
"""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from kizuna.platform import stats_refresh
from kizuna.platform.app import create_app
from kizuna.platform.ids import uuid7
from kizuna.platform.runtime import DatabaseUrls
from kizuna.platform.settings import Settings
from kizuna.platform.urls import asyncpg_dsn
from kizuna.platform.vocabulary import AppRole
from kizuna.schema.stats import disclosure, publish, refresh, sources
from kizuna.schema.stats.figures import PROTECTED
from kizuna.schema.stats.publish import STATS_TABLES

SAITAMA_CITY = "111007"
KAWAGOE = "112011"
SAITAMA_PREFECTURE = "110001"
K = 5
# The truth, read by the superuser past row security: new cases by category, by fiscal year.
TRUE_CASES_BY_CATEGORY = """
SELECT municipality_code, extract(year FROM (opened_at AT TIME ZONE 'Asia/Tokyo') - interval '3 months')::int AS year,
       category::text AS category, count(*)::int AS n
FROM kizuna.carer_case GROUP BY 1, 2, 3
"""
PUBLISHED = "SELECT figure, fiscal_year::int AS year, area, category, value, status FROM stats.published_count"


async def _empty_stats(admin_conn: asyncpg.Connection) -> None:
    for table in STATS_TABLES:
        await admin_conn.execute(f"DELETE FROM stats.{table}")


@pytest.fixture
async def refreshed(admin_conn: asyncpg.Connection) -> AsyncIterator[list[refresh.Refreshed]]:
    """One refresh, as `kizuna stats refresh` runs it; the figures are removed afterwards."""
    await _empty_stats(admin_conn)
    try:
        yield await refresh.refresh(admin_conn, k=K)
    finally:
        await _empty_stats(admin_conn)


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
    """No group is put through the disclosure control again, and the figures are the same."""
    before = sorted(map(tuple, await admin_conn.fetch(PUBLISHED)))
    (again,) = await refresh.refresh(admin_conn, k=K)
    assert refreshed[0].protected >= 4
    assert (again.protected, again.cells) == (0, refreshed[0].cells)
    assert again.computed_at > refreshed[0].computed_at
    assert sorted(map(tuple, await admin_conn.fetch(PUBLISHED))) == before
    assert {r["edition"] for r in await admin_conn.fetch("SELECT edition FROM stats.published_table")} == {1}


@pytest.fixture
async def one_more_referral(admin_conn: asyncpg.Connection) -> AsyncIterator[int]:
    """A referral of さいたま市 received in FY2025, a year the demo data fills (by the
    superuser, committed: the refresh reads committed rows), removed afterwards; yields its
    fiscal year."""
    referral_id = uuid7()
    year = await admin_conn.fetchval(
        "INSERT INTO kizuna.referral (municipality_code, id, source, noticed, urgency, status, received_at)"
        " VALUES ($1, $2, 'self', '試験のための相談', 'routine', 'submitted', '2025-10-01 10:00+09')"
        " RETURNING extract(year FROM (received_at AT TIME ZONE 'Asia/Tokyo') - interval '3 months')::int",
        SAITAMA_CITY,
        referral_id,
    )
    try:
        yield year
    finally:
        await admin_conn.execute(
            "DELETE FROM kizuna.referral WHERE municipality_code = $1 AND id = $2", SAITAMA_CITY, referral_id
        )


async def test_a_changed_count_is_a_new_edition_safe_against_the_first(
    refreshed: list[refresh.Refreshed], one_more_referral: int, admin_conn: asyncpg.Connection
) -> None:
    """Only the referrals of that fiscal year are protected anew, as edition 2 (the tables
    of a fiscal year begun since are edition 1 whatever happens), and the exact
    audit of edition 2 against edition 1 finds nothing (no change told by difference)."""
    year = one_more_referral
    async with stats_refresh.as_stats(admin_conn, readonly=True):
        first = await publish.read_published(admin_conn, "11")
    await refresh.refresh(admin_conn, k=K)
    editions = {
        (r["fiscal_year"], r["figure"]): r["edition"]
        for r in await admin_conn.fetch(
            "SELECT fiscal_year::int AS fiscal_year, figure, edition FROM stats.published_table"
        )
    }
    assert {key for key, edition in editions.items() if edition == 2} == {(year, "referrals_by_source")}
    async with stats_refresh.as_stats(admin_conn, readonly=True):
        raw = publish.by_prefecture(await sources.read_every_tenant(admin_conn))["11"]
        second = await publish.read_published(admin_conn, "11")
    (referrals,) = [t for t in second[year] if t.name == "referrals_by_source" and t.edition == 2]
    (counts,) = [t for t in publish.count_tables(year, referrals.rows, raw.counts) if t.name == referrals.name]
    (before,) = [t for t in first[year] if t.name == referrals.name]
    assert disclosure.audit([counts], [referrals], k=K, previous=[before]) == []


async def test_figures_never_go_back_in_time(
    refreshed: list[refresh.Refreshed], admin_conn: asyncpg.Connection
) -> None:
    """A refresh whose snapshot is older than the publication (another refresh finished
    first) writes nothing."""
    later = refreshed[0].computed_at + dt.timedelta(hours=1)
    await admin_conn.execute("UPDATE stats.publication SET computed_at = $1", later)
    before = sorted(map(tuple, await admin_conn.fetch(PUBLISHED)))
    (skipped,) = await refresh.refresh(admin_conn, k=K)
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
        with serve(create_app(settings, urls.app, dev_key=signing_key, stats_url=urls.admin)):
            deadline = time.monotonic() + 120
            while not (found := asyncio.run(publications())) and time.monotonic() < deadline:
                time.sleep(0.5)
            assert [prefecture for prefecture, _ in found] == ["11"]
        after = asyncio.run(publications())
        time.sleep(2.5)  # past two intervals: a refresher left running would have published again
        assert asyncio.run(publications()) == after
    finally:
        asyncio.run(empty())


async def test_every_edition_is_kept_and_a_new_one_is_safe_against_them_all(
    refreshed: list[refresh.Refreshed], one_more_referral: int, admin_conn: asyncpg.Connection
) -> None:
    """A referral comes (edition 2) and goes (edition 3, the counts of edition 1 again):
    the refresh keeps the three editions and protects the third against the first two, so
    that an attacker holding every edition cannot narrow any figure or change beyond the rule."""
    year = one_more_referral
    await refresh.refresh(admin_conn, k=K)
    await admin_conn.execute(
        "DELETE FROM kizuna.referral WHERE municipality_code = $1 AND received_at = '2025-10-01 10:00+09'"
        " AND noticed = '試験のための相談'",
        SAITAMA_CITY,
    )
    await refresh.refresh(admin_conn, k=K)
    async with stats_refresh.as_stats(admin_conn, readonly=True):
        raw = publish.by_prefecture(await sources.read_every_tenant(admin_conn))["11"]
        kept = await publish.read_published(admin_conn, "11")
    editions = sorted((t for t in kept[year] if t.name == "referrals_by_source"), key=lambda t: t.edition)
    assert [t.edition for t in editions] == [1, 2, 3]
    (counts,) = [t for t in publish.count_tables(year, editions[0].rows, raw.counts) if t.name == editions[0].name]
    assert disclosure.audit([counts], [editions[2]], k=K, previous=editions[:2]) == []
