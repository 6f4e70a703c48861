"""tests/test_login_boundary.py, run on the Citus cluster (the fixtures of tests/citus/conftest.py)."""

import asyncpg

from kizuna.tests.test_login_boundary import *  # noqa: F403
from kizuna.tests.test_login_boundary import KAWAGOE


# Replaces the imported test of the same name: on Citus the attack needs one more setting.
async def test_sql_as_the_login_reads_any_tenant_without_begin_request(app_conn: asyncpg.Connection) -> None:  # type: ignore[no-redef]
    """The login's credentials are the key on Citus too: the forged tenant reaches the
    workers once the attacker also sets the propagation `begin_request` sets."""
    async with app_conn.transaction():
        await app_conn.execute("SET LOCAL ROLE kizuna_caseworker")
        await app_conn.execute("SET LOCAL citus.propagate_set_commands = 'local'")
        await app_conn.execute(f"SET LOCAL kizuna.municipality = '{KAWAGOE}'")
        names = await app_conn.fetchval("SELECT count(*) FROM kizuna.person WHERE municipality_code = $1", KAWAGOE)
    assert names > 0
