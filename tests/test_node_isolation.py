"""Every tenant-owned Node type: another tenant's id fails exactly like an unknown id
(STYLE section 4, after Zulip's test_access_user_by_id)."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import pytest

import kizuna.schema.root  # noqa: F401  (imports every domain, which registers its Node types)
from kizuna.platform.vocabulary import AppRole
from kizuna.schema.relay import encode_global_id, node_types
from kizuna.tests.test_isolation_sql import victim_row  # noqa: F401  (a fixture: a row, seeded if the demo has none)

SAITAMA_CITY = "111007"
KAWAGOE = "112011"
QUERY = "query($id: ID!) { node(id: $id) { id } }"
# Every registered Node type with a tenant table behind it; the global ones (the
# organisation directory) are readable by every tenant by design.
TENANT_NODE_TABLES = {t.name: t.table for t in node_types() if t.table is not None}


def test_the_walk_covers_the_tenant_node_types() -> None:
    assert {t.name for t in node_types() if t.table is None} == {"Organization"}
    assert {"Case", "Person", "Referral", "Membership"} <= set(TENANT_NODE_TABLES)


@pytest.mark.parametrize("type_name", sorted(TENANT_NODE_TABLES))
async def test_another_tenants_node_is_not_found(type_name: str, victim_row: Any, graphql: Any) -> None:  # noqa: F811
    theirs = uuid.UUID((await victim_row(TENANT_NODE_TABLES[type_name]))["id"])
    global_id = encode_global_id(type_name, theirs)

    owner = graphql(QUERY, AppRole.SUPERVISOR, KAWAGOE, {"id": global_id})
    assert owner["data"]["node"]["id"] == global_id

    crossed = graphql(QUERY, AppRole.SUPERVISOR, SAITAMA_CITY, {"id": global_id})
    unknown = graphql(QUERY, AppRole.SUPERVISOR, SAITAMA_CITY, {"id": encode_global_id(type_name, uuid.uuid4())})
    for body in (crossed, unknown):
        assert body["data"] == {"node": None}
        assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert crossed["errors"][0]["message"] == unknown["errors"][0]["message"]


@pytest.mark.parametrize("type_name", ["Case", "Person", "Membership"])
def test_schools_cannot_fetch_case_nodes_even_of_their_own_tenant(type_name: str, graphql: Any) -> None:
    body = graphql(QUERY, AppRole.SCHOOL_STAFF, SAITAMA_CITY, {"id": encode_global_id(type_name, uuid.uuid4())})
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_a_school_cannot_fetch_another_schools_referral(
    admin_conn: asyncpg.Connection, graphql: Any, user: Any
) -> None:
    teacher = user(AppRole.SCHOOL_STAFF, SAITAMA_CITY)
    other = await admin_conn.fetchval(
        "SELECT id FROM kizuna.referral WHERE municipality_code = $1 AND referrer_organisation_id <> $2 LIMIT 1",
        SAITAMA_CITY,
        teacher.organisation_id,
    )
    own = await admin_conn.fetchval(
        "SELECT id FROM kizuna.referral WHERE municipality_code = $1 AND referrer_organisation_id = $2 LIMIT 1",
        SAITAMA_CITY,
        teacher.organisation_id,
    )
    found = graphql(QUERY, AppRole.SCHOOL_STAFF, SAITAMA_CITY, {"id": encode_global_id("Referral", own)})
    assert found["data"]["node"]["id"] == encode_global_id("Referral", own)
    hidden = graphql(QUERY, AppRole.SCHOOL_STAFF, SAITAMA_CITY, {"id": encode_global_id("Referral", other)})
    assert hidden["errors"][0]["extensions"]["code"] == "NOT_FOUND"
