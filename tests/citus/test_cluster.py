"""The cluster itself: every node up, the workers registered, every Kizuna table distributed."""

from __future__ import annotations

import asyncpg

from .conftest import Cluster


async def test_every_kizuna_table_is_distributed_or_reference(coordinator_admin: asyncpg.Connection) -> None:
    local = await coordinator_admin.fetch(
        "SELECT c.relname FROM pg_class c"
        " WHERE c.relnamespace = 'kizuna'::regnamespace AND c.relkind IN ('r', 'p')"
        " AND NOT EXISTS (SELECT FROM pg_dist_partition p WHERE p.logicalrelid = c.oid)"
    )
    assert [r["relname"] for r in local] == []


async def test_the_workers_hold_every_shard(citus_cluster: Cluster, coordinator_admin: asyncpg.Connection) -> None:
    """None on the coordinator, where a setting that does not propagate would still be seen
    (DESIGN section 8)."""
    ports = await coordinator_admin.fetch(
        "SELECT DISTINCT n.nodeport FROM pg_dist_shard s JOIN pg_dist_placement p USING (shardid)"
        " JOIN pg_dist_node n USING (groupid) JOIN pg_dist_partition t USING (logicalrelid)"
        " WHERE t.partmethod = 'h'"
    )
    assert {r["nodeport"] for r in ports} == {w.port for w in citus_cluster.workers}
