"""The request path's statements on the cluster, as the application sends them."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import pytest
from asyncpg import introspection

from kizuna.platform.database import Database
from kizuna.platform.settings import DEFAULT_DEV_ISSUER
from kizuna.platform.vocabulary import AppRole
from kizuna.schema.memberships.service import ADD_USER
from kizuna.tenants import demo_users

from .cluster import Cluster
from .conftest import SAITAMA_CITY, SAITAMA_PREFECTURE, SEEDED

USERS = demo_users.demo_users("11", list(SEEDED))


def _user(role: AppRole, municipality: str) -> demo_users.DemoUser:
    return next(u for u in USERS if u.role is role and u.municipality_code == municipality)


async def test_the_sign_in_read_finds_the_users_memberships(citus_cluster: Cluster) -> None:
    me = _user(AppRole.CASEWORKER, SAITAMA_CITY)
    database = await Database.connect(citus_cluster.urls.app, size=1)
    try:
        found = await database.directory(DEFAULT_DEV_ISSUER, me.subject)
    finally:
        await database.close()
    assert found.user_id == me.user_id
    assert found.memberships == [(SAITAMA_CITY, "caseworker", me.organisation_id, me.display_name)]


@pytest.mark.parametrize(
    ("role", "tenant"), [(AppRole.SUPERVISOR, SAITAMA_CITY), (AppRole.PLATFORM_ADMIN, SAITAMA_PREFECTURE)]
)
async def test_a_manager_registers_a_user_in_the_reference_table(on_citus: Any, role: AppRole, tenant: str) -> None:
    """grantMembership's registration (schema/memberships/service.py): refused on Citus
    until deploy/citus/distribute.sql's two settings."""
    async with on_citus(role, tenant) as conn:
        added = await conn.fetchval(ADD_USER, uuid.uuid4(), "urn:test", f"test:{uuid.uuid4()}")
    assert added is not None


async def test_a_new_connection_looks_its_types_up_without_citus_hiding_shards(citus_cluster: Cluster) -> None:
    """asyncpg looks up a type it has no codec for (Kizuna's enums) once per connection, with
    one query over `pg_type` and `pg_class`. Citus adds `relation_is_a_known_shard(oid) IS
    NOT TRUE` to every read of `pg_class`, called for each row before the query's own
    condition: 1.3 s for that lookup, at the first request of every new pooled connection.
    The login is exempted from the filter (deploy/citus/distribute.sql; docs/scale-out.md,
    finding 8)."""
    conn = await asyncpg.connect(citus_cluster.urls.app)
    try:
        app_role = await conn.fetchval("SELECT 'kizuna.app_role'::regtype::oid")
        # the lookup asyncpg runs on PostgreSQL 14 and later, for the enum and its array
        plan = await conn.fetch("EXPLAIN " + introspection.INTRO_LOOKUP_TYPES, [app_role])
    finally:
        await conn.close()
    lines = [row[0] for row in plan]
    assert any("pg_class" in line for line in lines)
    assert not [line for line in lines if "relation_is_a_known_shard" in line]
