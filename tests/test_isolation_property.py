"""Random tenant pairs, tables and ids (hypothesis): no combination crosses a tenant."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kizuna.platform.models import TENANT_TABLES
from kizuna.platform.runtime import DatabaseUrls
from kizuna.platform.vocabulary import AppRole
from kizuna.schema.relay import encode_global_id

# Each seeded tenant with the role that may read the most there.
READERS = {"111007": AppRole.SUPERVISOR, "112011": AppRole.SUPERVISOR, "110001": AppRole.PREFECTURE_ANALYST}
pairs = st.permutations(sorted(READERS)).map(lambda p: (p[0], p[1]))


async def visible_rows(urls: DatabaseUrls, user: Any, reader: str, target: str, table: str) -> int | None:
    me = user(READERS[reader], reader)
    conn = await asyncpg.connect(urls.app)
    try:
        async with conn.transaction(readonly=True):
            await conn.execute(
                "SELECT kizuna.begin_request($1, $2, $3, $4)",
                me.role.value,
                reader,
                str(me.user_id),
                str(me.organisation_id),
            )
            try:
                count: int = await conn.fetchval(
                    f"SELECT count(*) FROM kizuna.{table} WHERE municipality_code = $1", target
                )
            except asyncpg.InsufficientPrivilegeError:
                return None
            return count
    finally:
        await conn.close()


# The one crossing by design (0024): a prefecture's analyst reads its own municipalities'
# submitted figures, which name no person, to decide them (tests/test_submissions_sql.py).
PREFECTURE_DECIDES = frozenset({"municipality_status", "programme_submission", "programme_activity"})


def may_read(reader: str, target: str, table: str) -> bool:
    return READERS[reader] is AppRole.PREFECTURE_ANALYST and table in PREFECTURE_DECIDES and reader[:2] == target[:2]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pair=pairs, table=st.sampled_from(TENANT_TABLES))
def test_no_tenant_reads_another(urls: DatabaseUrls, user: Any, pair: tuple[str, str], table: str) -> None:
    reader, target = pair
    if not may_read(reader, target, table):
        assert asyncio.run(visible_rows(urls, user, reader, target, table)) in (0, None)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    reader=st.sampled_from(["111007", "112011"]),
    type_name=st.sampled_from(["Case", "Person", "Referral"]),
    key=st.uuids(version=4),
)
def test_random_ids_are_not_found(graphql: Any, reader: str, type_name: str, key: uuid.UUID) -> None:
    body = graphql(
        "query($id: ID!) { node(id: $id) { id } }", AppRole.CASEWORKER, reader, {"id": encode_global_id(type_name, key)}
    )
    assert body["data"] == {"node": None}
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
