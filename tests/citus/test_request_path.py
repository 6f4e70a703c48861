"""The request path's statements on the cluster, as the application sends them."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from kizuna.platform.database import Database
from kizuna.platform.settings import DEFAULT_DEV_ISSUER
from kizuna.platform.vocabulary import AppRole
from kizuna.schema.memberships.service import ADD_USER
from kizuna.tenants import demo_users

from .conftest import SAITAMA_CITY, SAITAMA_PREFECTURE, SEEDED, Cluster

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
    assert found.memberships == [(SAITAMA_CITY, "caseworker", me.organisation_id)]


@pytest.mark.parametrize(
    ("role", "tenant"), [(AppRole.SUPERVISOR, SAITAMA_CITY), (AppRole.PLATFORM_ADMIN, SAITAMA_PREFECTURE)]
)
async def test_a_manager_registers_a_user_in_the_reference_table(on_citus: Any, role: AppRole, tenant: str) -> None:
    """grantMembership's registration (schema/memberships/service.py): refused on Citus
    until deploy/citus/distribute.sql's two settings."""
    async with on_citus(role, tenant) as conn:
        added = await conn.fetchval(ADD_USER, uuid.uuid4(), "urn:test", f"test:{uuid.uuid4()}")
    assert added is not None
