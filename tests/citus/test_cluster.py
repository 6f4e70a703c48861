"""The cluster itself: every node up, the workers registered, every Kizuna table distributed,
and the app roles logging in where deploy/citus/README.md lets them, and nowhere else."""

from __future__ import annotations

import asyncpg
import pytest

from .cluster import APP_ROLES, Cluster
from .conftest import KAWAGOE, SAITAMA_CITY


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


async def test_the_two_municipalities_live_on_different_workers(
    citus_cluster: Cluster, coordinator_admin: asyncpg.Connection
) -> None:
    """The suite's cluster has few shards a table (conftest: each shard costs the refresh
    and every fan-out), yet the tenants are apart: a statement that reached the wrong
    worker, or a setting one worker did not see, shows."""
    workers = {
        code: await coordinator_admin.fetchval(
            "SELECT n.nodeport FROM pg_dist_placement p JOIN pg_dist_node n USING (groupid)"
            " WHERE p.shardid = get_shard_id_for_distribution_column('kizuna.carer_case', $1::text)",
            code,
        )
        for code in (SAITAMA_CITY, KAWAGOE)
    }
    assert workers[SAITAMA_CITY] != workers[KAWAGOE]
    assert set(workers.values()) == {w.port for w in citus_cluster.workers}


async def test_tenants_seeded_before_and_after_the_distribution_each_live_on_one_shard(
    coordinator_admin: asyncpg.Connection,
) -> None:
    """さいたま市 was seeded into plain tables and moved by `distribute.sql`; 川越市 was
    seeded through the distributed tables (the demo seed's multi-row VALUES, which Citus
    routes). Each tenant's cases are all in the shard its code hashes to."""
    for code in (SAITAMA_CITY, KAWAGOE):
        shards = await coordinator_admin.fetch(
            "SELECT DISTINCT get_shard_id_for_distribution_column('kizuna.carer_case', municipality_code)"
            " FROM kizuna.carer_case WHERE municipality_code = $1",
            code,
        )
        assert len(shards) == 1, code
        assert (
            await coordinator_admin.fetchval(
                "SELECT count(*) FROM kizuna.carer_case WHERE municipality_code = $1", code
            )
            > 0
        )


async def test_a_worker_lets_an_app_role_in_with_its_password_only(citus_cluster: Cluster) -> None:
    """The coordinator's own connections succeed because it holds the password
    (`pg_dist_authinfo`): every request of the suite goes through them."""
    worker = citus_cluster.workers[0]
    with pytest.raises(asyncpg.InvalidPasswordError):
        await asyncpg.connect(worker.url("kizuna_caseworker"), password="not-the-password")
    conn = await asyncpg.connect(worker.url("kizuna_caseworker"), password=citus_cluster.app_role_password)
    await conn.close()


@pytest.mark.parametrize("role", APP_ROLES)
async def test_the_coordinator_refuses_an_app_role_even_with_its_password(citus_cluster: Cluster, role: str) -> None:
    """LOGIN for the workers' sake (deploy/citus/roles.sql), never a way in beside `kizuna_app`."""
    with pytest.raises(asyncpg.InvalidAuthorizationSpecificationError, match=r"pg_hba\.conf rejects"):
        await asyncpg.connect(citus_cluster.coordinator.url(role), password=citus_cluster.app_role_password)


async def test_the_shards_have_their_statistics(coordinator_admin: asyncpg.Connection) -> None:
    """The demo seed names its tables in ANALYZE, which Citus runs on their shards, and
    `distribute.sql` ends with one on every node (`last_analyze`; autovacuum's would be
    `last_autoanalyze`): the shard of さいたま市's cases is planned with its row counts. (The
    suite seeds 川越市 after the distribution, so either alone passes this test.)"""
    analyzed = await coordinator_admin.fetchval(
        "SELECT r.result FROM run_command_on_placements('kizuna.carer_case',"
        " 'SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE relid = ''%s''::regclass') r"
        " WHERE r.shardid = get_shard_id_for_distribution_column('kizuna.carer_case', $1::text)",
        SAITAMA_CITY,
    )
    assert analyzed == "t"
