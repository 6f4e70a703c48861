"""The sign-in directory (`kizuna.begin_sign_in`, role `kizuna_directory`), attacked in SQL:
it shows a user their own memberships and nothing else, and signs out only that user."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from kizuna.platform.settings import DEFAULT_DEV_ISSUER
from kizuna.platform.vocabulary import AppRole

SAITAMA_CITY, KAWAGOE = "111007", "112011"


async def test_a_user_sees_only_their_own_memberships(app_conn: asyncpg.Connection, user: Any) -> None:
    me = user(AppRole.CASEWORKER, SAITAMA_CITY)
    async with app_conn.transaction():
        found = await app_conn.fetchval("SELECT kizuna.begin_sign_in($1, $2)", DEFAULT_DEV_ISSUER, me.subject)
        assert found == me.user_id
        rows = await app_conn.fetch("SELECT user_id, municipality_code FROM kizuna.membership")
        assert {(r["user_id"], r["municipality_code"]) for r in rows} == {(me.user_id, SAITAMA_CITY)}
        # Nothing of the tenants' data: the directory role holds no grant on it.
        for forbidden in ("SELECT * FROM kizuna.person LIMIT 1", "SELECT granted_at FROM kizuna.membership"):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                async with app_conn.transaction():  # a savepoint: the next statement still runs
                    await app_conn.fetch(forbidden)


async def test_signing_out_touches_only_the_signed_in_user(
    app_conn: asyncpg.Connection, admin_conn: asyncpg.Connection, user: Any
) -> None:
    me, other = user(AppRole.CASEWORKER, SAITAMA_CITY), user(AppRole.SUPERVISOR, KAWAGOE)
    before = await admin_conn.fetchval("SELECT session_epoch FROM kizuna.app_user WHERE id = $1", other.user_id)
    transaction = app_conn.transaction()
    await transaction.start()
    try:
        await app_conn.fetchval("SELECT kizuna.begin_sign_in($1, $2)", DEFAULT_DEV_ISSUER, me.subject)
        status = await app_conn.execute(
            "UPDATE kizuna.app_user SET session_epoch = session_epoch + 1 WHERE id = $1", other.user_id
        )
        assert status == "UPDATE 0"
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await app_conn.execute("UPDATE kizuna.app_user SET subject = 'hijacked' WHERE id = $1", me.user_id)
    finally:
        await transaction.rollback()
    after = await admin_conn.fetchval("SELECT session_epoch FROM kizuna.app_user WHERE id = $1", other.user_id)
    assert after == before


async def test_the_directory_and_a_tenant_cannot_share_a_transaction(app_conn: asyncpg.Connection, user: Any) -> None:
    me = user(AppRole.CASEWORKER, SAITAMA_CITY)
    async with app_conn.transaction():
        await app_conn.fetchval("SELECT kizuna.begin_sign_in($1, $2)", DEFAULT_DEV_ISSUER, me.subject)
        await app_conn.execute("RESET ROLE")
        with pytest.raises(asyncpg.ActiveSQLTransactionError, match="already set"):
            await app_conn.execute(
                "SELECT kizuna.begin_request('caseworker', $1, $2, $3)",
                SAITAMA_CITY,
                str(me.user_id),
                str(me.organisation_id),
            )


async def test_an_unknown_user_is_nobody(app_conn: asyncpg.Connection) -> None:
    async with app_conn.transaction():
        assert await app_conn.fetchval("SELECT kizuna.begin_sign_in($1, $2)", DEFAULT_DEV_ISSUER, "nobody") is None
        assert await app_conn.fetch("SELECT user_id FROM kizuna.membership") == []


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE kizuna.membership SET user_id = $1 WHERE municipality_code = '111007'",
        "UPDATE kizuna.membership SET organisation_id = $1 WHERE municipality_code = '111007'",
        "INSERT INTO kizuna.app_user (id, issuer, subject, session_epoch) VALUES ($1, 'https://x/', 'y', 7)",
    ],
    ids=["move a membership to another user", "to another organisation", "a user with a sign-out count"],
)
async def test_a_supervisor_writes_only_what_granting_and_revoking_write(
    as_user: Any, user: Any, statement: str
) -> None:
    """In SQL, past the resolvers: the column grants refuse what the service never does."""
    async with as_user(AppRole.SUPERVISOR, SAITAMA_CITY) as conn:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute(statement, user(AppRole.SUPERVISOR, SAITAMA_CITY).user_id)
