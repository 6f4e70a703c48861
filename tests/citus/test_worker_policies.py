"""Row security arrives intact on the workers: every shard placement of every Citus table carries the
coordinator's policies, with the same command, roles, mode and expressions.

Citus re-creates a table's policies on each shard from the coordinator's catalog; this is
where a policy created AS RESTRICTIVE was found re-created permissive (docs/scale-out.md).
"""

from __future__ import annotations

import asyncpg
import pytest

from .conftest import DEPLOY, Cluster

# A relation's policies as the catalog holds them, whatever the relation is called.
POLICIES = """
SELECT p.polname AS name, p.polcmd AS command, p.polpermissive AS permissive,
       ARRAY(SELECT CASE r WHEN 0 THEN 'public' ELSE pg_get_userbyid(r) END FROM unnest(p.polroles) r ORDER BY 1)
           AS roles,
       pg_get_expr(p.polqual, p.polrelid) AS using_expression,
       pg_get_expr(p.polwithcheck, p.polrelid) AS check_expression
FROM pg_policy p WHERE p.polrelid = $1::regclass ORDER BY p.polname
"""


def _rows(records: list[asyncpg.Record]) -> list[tuple[object, ...]]:
    return [tuple(tuple(v) if isinstance(v, list) else v for v in r.values()) for r in records]


async def test_every_shard_has_the_coordinators_policies(
    citus_cluster: Cluster, coordinator_admin: asyncpg.Connection
) -> None:
    shards = await coordinator_admin.fetch(
        "SELECT s.table_name::text AS table_name, s.shard_name, s.nodeport"
        " FROM citus_shards s WHERE s.table_name::text LIKE 'kizuna.%' ORDER BY s.table_name, s.shard_name"
    )
    tables = {r["table_name"] for r in shards}
    assert {"kizuna.membership", "kizuna.referral", "kizuna.app_user"} <= tables
    expected = {table: _rows(await coordinator_admin.fetch(POLICIES, table)) for table in tables}
    assert expected["kizuna.membership"], "the coordinator has the policies"
    # The workers hold the shards; the coordinator holds copies of the reference tables' too.
    nodes = (citus_cluster.coordinator, *citus_cluster.workers)
    compared = 0
    differences = []
    for node in nodes:
        conn = await asyncpg.connect(node.admin_url())
        try:
            for shard in (s for s in shards if s["nodeport"] == node.port):
                found = _rows(await conn.fetch(POLICIES, shard["shard_name"]))
                compared += 1
                if found != expected[shard["table_name"]]:
                    differences.append((shard["shard_name"], sorted(set(found) ^ set(expected[shard["table_name"]]))))
        finally:
            await conn.close()
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
