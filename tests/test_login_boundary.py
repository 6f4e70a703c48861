"""The application's database login is the boundary of tenancy, and these tests pin where
it lies (docs/security-model.md, "The application's login").

`kizuna_app` reads nothing as itself; the request path reaches data only through
`kizuna.begin_request`. But it is a member of every app role and custom settings cannot be
protected, so SQL run as it can skip `begin_request`. The tests below show exactly that.
If one of them starts failing, the boundary has moved: say so in the security model.
"""

from __future__ import annotations

import asyncpg
import pytest

from kizuna.platform.vocabulary import AppRole

KAWAGOE = "112011"


async def test_the_login_as_itself_reads_no_tenant_table(app_conn: asyncpg.Connection) -> None:
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await app_conn.fetch("SELECT 1 FROM kizuna.person LIMIT 1")


async def test_sql_as_the_login_reads_any_tenant_without_begin_request(app_conn: asyncpg.Connection) -> None:
    """No membership of 川越市 is involved: the login's credentials are the key."""
    async with app_conn.transaction():
        await app_conn.execute("SET LOCAL ROLE kizuna_caseworker")
        await app_conn.execute(f"SET LOCAL kizuna.municipality = '{KAWAGOE}'")
        names = await app_conn.fetchval("SELECT count(*) FROM kizuna.person WHERE municipality_code = $1", KAWAGOE)
    assert names > 0


async def test_sql_as_the_login_can_sign_another_user_out(app_conn: asyncpg.Connection, user: object) -> None:
    """As the directory role with a forged user id, `kizuna.sign_out()` ends someone
    else's browser sessions (rolled back here)."""
    victim = user(AppRole.SUPERVISOR, KAWAGOE)  # type: ignore[operator]
    epoch = "SELECT session_epoch FROM kizuna.app_user WHERE id = $1"
    transaction = app_conn.transaction()
    await transaction.start()
    try:
        await app_conn.execute("SET LOCAL ROLE kizuna_directory")
        await app_conn.execute(f"SET LOCAL kizuna.subject = '{victim.user_id}'")
        before = await app_conn.fetchval(epoch, victim.user_id)
        await app_conn.execute("SELECT kizuna.sign_out()")
        assert await app_conn.fetchval(epoch, victim.user_id) == before + 1
    finally:
        await transaction.rollback()
