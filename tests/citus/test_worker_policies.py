"""Row security arrives intact on the workers: every shard placement of every Citus table carries the
coordinator's policies, with the same command, roles, mode and expressions.

Citus re-creates a table's policies on each shard from the coordinator's catalog; this is
where a policy created AS RESTRICTIVE was found re-created permissive (docs/scale-out.md).
"""

from __future__ import annotations

import asyncpg
import pytest

from .cluster import DEPLOY, Cluster

# Relations' policies as the catalog holds them, whatever the relations are called; all
# text, so asyncpg introspects no type (which takes seconds on a Citus node).
POLICIES = """
SELECT p.polrelid::regclass::text AS relation, p.polname::text AS name, p.polcmd::text AS command,
       p.polpermissive AS permissive,
       array_to_string(ARRAY(SELECT CASE r WHEN 0 THEN 'public' ELSE pg_get_userbyid(r)::text END
                             FROM unnest(p.polroles) r ORDER BY 1), ',') AS roles,
       pg_get_expr(p.polqual, p.polrelid) AS using_expression,
       pg_get_expr(p.polwithcheck, p.polrelid) AS check_expression
FROM pg_policy p WHERE p.polrelid = ANY($1::text[]::regclass[]) ORDER BY p.polname
"""


async def _policies(conn: asyncpg.Connection, relations: list[str]) -> dict[str, list[tuple[object, ...]]]:
    """Each relation's policies (every column but the relation's name), in name order."""
    found: dict[str, list[tuple[object, ...]]] = {relation: [] for relation in relations}
    for r in await conn.fetch(POLICIES, relations):
        found[r["relation"]].append(tuple(r.values())[1:])
    return found


async def test_every_shard_has_the_coordinators_policies(
    citus_cluster: Cluster, coordinator_admin: asyncpg.Connection
) -> None:
    # Citus's metadata, not the citus_shards view, which also measures every shard's size.
    shards = await coordinator_admin.fetch(
        "SELECT s.logicalrelid::text AS table_name, shard_name(s.logicalrelid, s.shardid) AS shard_name, n.nodeport"
        " FROM pg_dist_shard s JOIN pg_dist_placement p USING (shardid) JOIN pg_dist_node n USING (groupid)"
        " WHERE s.logicalrelid::text LIKE 'kizuna.%' ORDER BY 1, 2"
    )
    tables = {r["table_name"] for r in shards}
    assert {"kizuna.membership", "kizuna.referral", "kizuna.app_user"} <= tables
    expected = await _policies(coordinator_admin, sorted(tables))
    assert expected["kizuna.membership"], "the coordinator has the policies"
    # The workers hold the shards; the coordinator holds copies of the reference tables' too.
    nodes = (citus_cluster.coordinator, *citus_cluster.workers)
    compared = 0
    differences = []
    for node in nodes:
        placed = {s["shard_name"]: s["table_name"] for s in shards if s["nodeport"] == node.port}
        conn = await asyncpg.connect(node.admin_url())
        try:
            found = await _policies(conn, list(placed))
        finally:
            await conn.close()
        for shard, table in placed.items():
            compared += 1
            if found[shard] != expected[table]:
                differences.append((shard, sorted(set(found[shard]) ^ set(expected[table]))))
    assert compared == len(shards)
    assert differences == [], differences[:3]


@pytest.mark.parametrize("table", ["kizuna.membership", "kizuna.referral", "kizuna.app_user"])
async def test_no_policy_is_restrictive(coordinator_admin: asyncpg.Connection, table: str) -> None:
    """Citus drops AS RESTRICTIVE on the shards: Kizuna states every rule as permissive
    policies per role, which survive distribution."""
    restrictive = await coordinator_admin.fetch(
        "SELECT polname FROM pg_policy WHERE polrelid = $1::regclass AND NOT polpermissive", table
    )
    assert [r["polname"] for r in restrictive] == []


async def test_the_deployments_policy_check_finds_nothing_amiss(coordinator_admin: asyncpg.Connection) -> None:
    """deploy/citus/check-policies.sql, which the guide has people run after each change."""
    differing = await coordinator_admin.fetch((DEPLOY / "check-policies.sql").read_text())
    assert [dict(r) for r in differing] == []
