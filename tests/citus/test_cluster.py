"""The cluster itself: every node up, the workers registered, every Kizuna table distributed."""

from __future__ import annotations

import asyncpg


async def test_every_kizuna_table_is_distributed_or_reference(coordinator_admin: asyncpg.Connection) -> None:
    local = await coordinator_admin.fetch(
        "SELECT c.relname FROM pg_class c"
        " WHERE c.relnamespace = 'kizuna'::regnamespace AND c.relkind IN ('r', 'p')"
        " AND NOT EXISTS (SELECT FROM pg_dist_partition p WHERE p.logicalrelid = c.oid)"
    )
    assert [r["relname"] for r in local] == []


async def test_two_workers_hold_the_shards(coordinator_admin: asyncpg.Connection) -> None:
    nodes = await coordinator_admin.fetchval(
        "SELECT count(DISTINCT nodeport) FROM citus_shards WHERE citus_table_type = 'distributed'"
    )
    assert nodes == 2
