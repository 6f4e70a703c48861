"""Separation of duties on memberships (docs/security-model.md, "Separation of duties").

A platform administrator reads no personal data. The attack: grant oneself a caseworker's
membership in a municipality, then read its cases. Nobody may grant a membership to
themself, in GraphQL or in SQL; what an administrator grants in a municipality is shown to
its supervisors; and what the design cannot stop (a second account of the same person)
is at least visible to them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import asyncpg
import httpx
import pytest

from kizuna.platform.settings import Settings
from kizuna.platform.vocabulary import AppRole
from kizuna.schema.relay import encode_global_id
from kizuna.tenants import demo_users

if TYPE_CHECKING:
    from kizuna.tests.conftest import Tidy

SAITAMA_CITY = "111007"
PREFECTURE = "110001"
GRANT = """mutation($input: GrantMembershipInput!) {
  grantMembership(input: $input) {
    membership { id subject role grantedBy { issuer subject role } }
    userErrors { field code }
  }
}"""
LIST = "{ memberships(first: 100) { edges { node { subject role grantedBy { subject role } } } } }"
CASES = "{ cases(first: 1) { totalCount } }"
AUDIT = '{ auditEvents(first: 20, entity: "membership") { nodes { action role actor { issuer subject } entityId } } }'


@pytest.fixture
def call(http: httpx.Client, token: Callable[..., str]) -> Callable[..., dict[str, Any]]:
    def post(query: str, role: AppRole, home: str, variables: dict[str, Any] | None = None, **kw: str) -> Any:
        bearer = token(role, home, **({"subject": kw["subject"]} if "subject" in kw else {}))
        headers = {"authorization": f"Bearer {bearer}"}
        if "act_in" in kw:
            headers["kizuna-municipality"] = kw["act_in"]
        response = http.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
        return response.json()

    return post


def grant(settings: Settings, subject: str, role: AppRole = AppRole.CASEWORKER) -> dict[str, Any]:
    return {
        "input": {
            "issuer": settings.issuer,
            "subject": subject,
            "displayName": "テスト 職員",
            "role": role.name,
            "organizationId": encode_global_id("Organization", demo_users.organisation_id(SAITAMA_CITY, "department")),
        }
    }


async def memberships_of(admin_conn: asyncpg.Connection, user_id: uuid.UUID, municipality: str) -> int:
    count: int = await admin_conn.fetchval(
        "SELECT count(*) FROM kizuna.membership WHERE municipality_code = $1 AND user_id = $2", municipality, user_id
    )
    return count


class TestNobodyGrantsThemself:
    async def test_a_platform_administrator_cannot_make_themself_a_caseworker(
        self, call: Any, settings: Settings, user: Any, admin_conn: asyncpg.Connection
    ) -> None:
        admin = user(AppRole.PLATFORM_ADMIN, PREFECTURE)
        body = call(GRANT, AppRole.PLATFORM_ADMIN, PREFECTURE, grant(settings, admin.subject), act_in=SAITAMA_CITY)
        payload = body["data"]["grantMembership"]
        assert payload == {"membership": None, "userErrors": [{"field": "subject", "code": "FORBIDDEN"}]}
        assert await memberships_of(admin_conn, admin.user_id, SAITAMA_CITY) == 0
        # and so still reads no person
        refused = call(CASES, AppRole.PLATFORM_ADMIN, PREFECTURE, act_in=SAITAMA_CITY)
        assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    async def test_a_supervisor_cannot_give_themself_another_role(
        self, call: Any, settings: Settings, user: Any, admin_conn: asyncpg.Connection
    ) -> None:
        boss = user(AppRole.SUPERVISOR, SAITAMA_CITY)
        body = call(GRANT, AppRole.SUPERVISOR, SAITAMA_CITY, grant(settings, boss.subject, AppRole.COORDINATOR))
        assert body["data"]["grantMembership"]["userErrors"] == [{"field": "subject", "code": "FORBIDDEN"}]
        assert await memberships_of(admin_conn, boss.user_id, SAITAMA_CITY) == 1  # the supervisor's own

    @pytest.mark.parametrize("role", [AppRole.SUPERVISOR, AppRole.PLATFORM_ADMIN])
    async def test_in_sql_a_grant_to_oneself_or_in_someone_elses_name_is_refused(
        self, as_user: Any, user: Any, role: AppRole
    ) -> None:
        """Row security holds the rule without the service: the grantee may not be the
        request's user, and the grantor must be."""
        home = PREFECTURE if role is AppRole.PLATFORM_ADMIN else SAITAMA_CITY
        me = user(role, home)
        colleague = user(AppRole.CASEWORKER, SAITAMA_CITY)
        organisation = demo_users.organisation_id(SAITAMA_CITY, "department")
        insert = (
            "INSERT INTO kizuna.membership (municipality_code, id, user_id, display_name, role, organisation_id,"
            " granted_by, granted_by_role) VALUES ($1, $2, $3, 'x', 'coordinator', $4, $5, $6::kizuna.app_role)"
        )
        attempts = [
            (me.user_id, me.user_id, role.value),  # to oneself
            (colleague.user_id, colleague.user_id, role.value),  # in someone else's name
            (colleague.user_id, me.user_id, "caseworker"),  # in another role
            (colleague.user_id, None, None),  # anonymously
        ]
        for grantee, grantor, grantor_role in attempts:
            async with as_user(role, home, act_in=SAITAMA_CITY) as conn:
                with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
                    await conn.execute(insert, SAITAMA_CITY, uuid.uuid4(), grantee, organisation, grantor, grantor_role)
        async with as_user(role, home, act_in=SAITAMA_CITY) as conn:  # the same insert done right passes
            await conn.execute(insert, SAITAMA_CITY, uuid.uuid4(), colleague.user_id, organisation, me.user_id, role)


class TestWhatSupervisorsSee:
    async def test_a_grant_by_a_platform_administrator_is_shown_to_the_supervisors(
        self, call: Any, settings: Settings, user: Any, tidy: Tidy, as_user: Any
    ) -> None:
        """Even to a second account of the administrator (another subject, which the
        design cannot tell from another person): the supervisors see who granted it."""
        admin = user(AppRole.PLATFORM_ADMIN, PREFECTURE)
        second_account = tidy.subject("admin-second-account")
        body = call(GRANT, AppRole.PLATFORM_ADMIN, PREFECTURE, grant(settings, second_account), act_in=SAITAMA_CITY)
        membership = body["data"]["grantMembership"]["membership"]
        assert membership["grantedBy"] == {
            "issuer": settings.issuer,
            "subject": admin.subject,
            "role": "PLATFORM_ADMIN",
        }

        listed = call(LIST, AppRole.SUPERVISOR, SAITAMA_CITY)["data"]["memberships"]["edges"]
        (seen,) = [e["node"] for e in listed if e["node"]["subject"] == second_account]
        assert seen["grantedBy"] == {"subject": admin.subject, "role": "PLATFORM_ADMIN"}

        events = call(AUDIT, AppRole.SUPERVISOR, SAITAMA_CITY)["data"]["auditEvents"]["nodes"]
        (event,) = [e for e in events if e["entityId"] == membership["id"]]
        assert event == {
            "action": "membership.grant",
            "role": "PLATFORM_ADMIN",
            "actor": {"issuer": settings.issuer, "subject": admin.subject},
            "entityId": membership["id"],
        }

    async def test_a_colluding_supervisor_can_grant_the_administrators_second_account(
        self, call: Any, settings: Settings, user: Any, tidy: Tidy
    ) -> None:
        """What the design cannot stop: to Kizuna a second account is another person. The
        grant names its grantor, and the administrator still reads nothing as themself."""
        boss = user(AppRole.SUPERVISOR, SAITAMA_CITY)
        second_account = tidy.subject("admin-second-account")
        body = call(GRANT, AppRole.SUPERVISOR, SAITAMA_CITY, grant(settings, second_account))
        assert body["data"]["grantMembership"]["membership"]["grantedBy"]["subject"] == boss.subject
        assert call(CASES, AppRole.CASEWORKER, SAITAMA_CITY, subject=second_account)["data"]["cases"]["totalCount"] > 0
