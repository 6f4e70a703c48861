"""The stats refresh: read every tenant, protect each prefecture's figures, publish them,
as `kizuna_stats` over the administrative connection (platform/stats_refresh.py holds the
role switch and the schedule).

Never blocking writers. Reading takes no lock a writer waits for: one REPEATABLE READ,
READ ONLY transaction reads every tenant (one snapshot). The fiscal years due (at most once
per publication interval, or when forced: schema/stats/publish.py) have the groups of
tables whose counts changed since their edition go through the disclosure control; the
rest is published again as it was. Each
prefecture's publication is then replaced in one transaction of its own on `stats` only
(delete and insert, under a lock of that prefecture's publication that only refreshes
take), so a reader sees the old figures or the new ones, never a mix. A refresh whose
snapshot is older than the one published meanwhile writes nothing: figures never go back
in time.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt

import asyncpg

from kizuna.platform.stats_refresh import as_stats
from kizuna.schema.stats import disclosure, indicator_values, publish, sources

_REFRESH_LOCK_CLASS = 0x4B5A_0A16
LOCK_PREFECTURE_SQL = f"SELECT pg_advisory_xact_lock({_REFRESH_LOCK_CLASS}, $1::text::integer)"
PUBLISHED_SQL = "SELECT computed_at, edition_at, next_edition_at FROM stats.publication WHERE prefecture_code = $1"


@dataclasses.dataclass(frozen=True, slots=True)
class Refreshed:
    prefecture_code: str
    computed_at: dt.datetime
    cells: int
    """Figures written; 0 when a newer refresh had published already."""
    protected: int
    """Groups of tables put through the disclosure control anew (the others had not changed, or were not due)."""
    edition_at: dt.datetime
    """When the counts of the open fiscal years, as published, were counted."""
    next_edition_at: dt.datetime
    """When their next edition is due."""


async def refresh(conn: asyncpg.Connection, *, k: int, interval: dt.timedelta, force: bool = False) -> list[Refreshed]:
    """Read every tenant, protect each prefecture's figures, publish them: a new edition of
    the open fiscal years once `interval` has passed since the last (or now, with `force`)."""
    async with as_stats(conn, readonly=True):
        computed_at: dt.datetime = await conn.fetchval("SELECT now()")
        raw = await sources.read_every_tenant(conn)
        for_indicators = await sources.read_for_indicators(conn)
    done = []
    for prefecture, figures in publish.by_prefecture(raw).items():
        async with as_stats(conn):
            await conn.execute(LOCK_PREFECTURE_SQL, prefecture)
            published = await conn.fetchrow(PUBLISHED_SQL, prefecture)
            if published is not None and published["computed_at"] >= computed_at:
                at, edition_at, next_at = (
                    published["computed_at"],
                    published["edition_at"],
                    published["next_edition_at"],
                )
                done.append(Refreshed(prefecture, at, 0, 0, edition_at, next_at))
                continue
            schedule = publish.plan(
                prefecture,
                figures,
                previous=await publish.read_published(conn, prefecture),
                in_force=await publish.read_in_force(conn, prefecture),
                computed_at=computed_at,
                interval=interval,
                force=force,
            )
            tables = {year: list(again) for year, again in schedule.tables.items()}
            for task, protected in zip(schedule.tasks, await _protect(schedule.tasks, k), strict=True):
                tables.setdefault(task.fiscal_year, []).extend(protected)
            publication = publish.assemble(prefecture, figures, k=k, schedule=schedule, tables=tables)
            await publish.write(conn, publication, computed_at=computed_at, k=k)
            values = indicator_values.compute(prefecture, figures, for_indicators)
            await indicator_values.write(conn, prefecture, values)
        written, anew = len(publication.cells), len(schedule.tasks)
        done.append(Refreshed(prefecture, computed_at, written, anew, schedule.edition_at, schedule.next_edition_at))
    return done


async def _protect(tasks: list[publish.Task], k: int) -> list[list[disclosure.PublishedTable]]:
    """The groups through the disclosure control, one after the other in a thread (CPU-bound:
    Python and HiGHS; the event loop stays free). Processes of their own do not pay: at
    scale 20 every group of every year takes under a second in all, less than starting
    and importing into two processes (docs/benchmarks.md)."""
    return [await asyncio.to_thread(publish.protect, task, k) for task in tasks]
