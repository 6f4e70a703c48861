"""tests/test_catalog.py, run on the Citus cluster (the fixtures of tests/citus/conftest.py)."""

import asyncpg
import pytest

from kizuna.tests.test_catalog import *  # noqa: F403

from .cluster import Cluster


# Replaces the imported test of the same name.
@pytest.mark.skip(reason="on Citus the app roles log in (the coordinator connects to the workers as them): see below")  # type: ignore[no-redef]
def test_app_roles_cannot_log_in_or_bypass_security() -> None:
    """Replaced, for the cluster, by the test that follows."""


async def test_app_roles_log_in_only_as_the_workers_need(citus_cluster: Cluster) -> None:
    """On every node the app roles, the directory, the audit sealer and the stats role are LOGIN
    (deploy/citus/roles.sql) and still neither superuser nor BYPASSRLS; pg_hba.conf is what
    keeps them out (deploy/citus/README.md)."""
    for node in (citus_cluster.coordinator, *citus_cluster.workers):
        conn = await asyncpg.connect(node.admin_url())
        try:
            rows = await conn.fetch(
                "SELECT rolname, rolcanlogin, rolsuper, rolbypassrls FROM pg_roles"
                " WHERE rolname LIKE 'kizuna\\_%' AND rolname <> 'kizuna_app' ORDER BY rolname"
            )
        finally:
            await conn.close()
        assert len(rows) == 12, node
        assert {(r["rolcanlogin"], r["rolsuper"], r["rolbypassrls"]) for r in rows} == {(True, False, False)}, node
