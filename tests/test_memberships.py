"""Memberships through GraphQL, attacked: who may list, grant and revoke, what a refusal
writes (nothing), and what each change leaves in the audit chain.

Every test that writes names its users through the `tidy` fixture (tests/conftest.py),
which removes them, their memberships and the audit events written meanwhile.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import asyncpg
import httpx
import pytest

from kizuna.platform import audit_seal
from kizuna.platform.settings import Settings
from kizuna.platform.vocabulary import AppRole
from kizuna.schema.relay import encode_global_id
from kizuna.tenants import demo_users

if TYPE_CHECKING:
    from kizuna.tests.conftest import Tidy

SAITAMA_CITY = "111007"
KAWAGOE = "112011"
PREFECTURE = "110001"
SEEDED = (SAITAMA_CITY, KAWAGOE, PREFECTURE)

LIST = """query($first: Int, $after: String, $all: Boolean) {
  memberships(first: $first, after: $after, includeRevoked: $all) {
    totalCount
    edges { cursor node { id issuer subject displayName role municipalityCode active revokedAt
                          organization { id name } } }
    pageInfo { hasNextPage endCursor }
  }
}"""
MEMBERSHIP = "membership { id subject role municipalityCode active grantedAt revokedAt organization { id } }"
GRANT = f"""mutation($input: GrantMembershipInput!) {{
  grantMembership(input: $input) {{ {MEMBERSHIP} userErrors {{ field message code }} }}
}}"""
REVOKE = f"""mutation($id: ID!) {{
  revokeMembership(input: {{id: $id}}) {{ {MEMBERSHIP} userErrors {{ field message code }} }}
}}"""
CASES = "{ cases(first: 1) { totalCount } viewer { role municipality { code } } }"


@pytest.fixture
def call(http: httpx.Client, token: Callable[..., str]) -> Callable[..., httpx.Response]:
    """POST as the demo user of (role, home tenant), or as `subject`, acting in `act_in`,
    reading `accept_language`."""

    def post(
        query: str,
        role: AppRole,
        home: str,
        variables: dict[str, Any] | None = None,
        *,
        act_in: str | None = None,
        subject: str | None = None,
        accept_language: str | None = None,
    ) -> httpx.Response:
        bearer = token(role, home) if subject is None else token(role, home, subject=subject)
        headers = {"authorization": f"Bearer {bearer}"}
        if act_in is not None:
            headers["kizuna-municipality"] = act_in
        if accept_language is not None:
            headers["accept-language"] = accept_language
        return http.post("/graphql", json={"query": query, "variables": variables}, headers=headers)

    return post


def ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


def granted(response: httpx.Response) -> dict[str, Any]:
    """The membership a grant returned; its user errors in the message when it returned none."""
    payload = ok(response)["grantMembership"]
    assert payload["userErrors"] == [], payload["userErrors"]
    membership: dict[str, Any] = payload["membership"]
    return membership


def refused(response: httpx.Response, code: str = "FORBIDDEN") -> None:
    assert response.status_code == 200, response.text
    body = response.json()
    # a refused mutation nulls `data` (nothing was written); a refused query field is null alone
    assert body["data"] is None or set(body["data"].values()) == {None}, body["data"]
    assert [e["extensions"]["code"] for e in body["errors"]] == [code]


def grant_input(settings: Settings, subject: str, role: AppRole, organisation: uuid.UUID, **extra: Any) -> Any:
    return {
        "input": {
            "issuer": settings.issuer,
            "subject": subject,
            "displayName": "テスト 職員",
            "role": role.name,
            "organizationId": encode_global_id("Organization", organisation),
            **extra,
        }
    }


def user_errors(data: dict[str, Any], field: str) -> list[tuple[str | None, str]]:
    assert data[field]["membership"] is None, data
    return [(e["field"], e["code"]) for e in data[field]["userErrors"]]


async def written(admin_conn: asyncpg.Connection, tidy: Tidy) -> dict[str, int]:
    """What tests of `tidy` have left in the database, as the superuser sees it."""
    pattern = tidy.prefix + "%"
    audit_rows = await admin_conn.fetchval("SELECT count(*) FROM kizuna.audit_event WHERE occurred_at > $1", tidy.began)
    return {
        "users": await admin_conn.fetchval("SELECT count(*) FROM kizuna.app_user WHERE subject LIKE $1", pattern),
        "memberships": await admin_conn.fetchval(
            "SELECT count(*) FROM kizuna.membership m JOIN kizuna.app_user u ON u.id = m.user_id"
            " WHERE u.subject LIKE $1",
            pattern,
        ),
        "audit": audit_rows,
    }


NOTHING = {"users": 0, "memberships": 0, "audit": 0}


def organisation(code: str, key: str = "department") -> uuid.UUID:
    return demo_users.organisation_id(code, key)


class TestListMemberships:
    def test_supervisor_lists_its_own_tenants_memberships_only(self, call: Any, admin_conn: Any) -> None:
        data = ok(call(LIST, AppRole.SUPERVISOR, SAITAMA_CITY, {"first": 100}))
        nodes = [edge["node"] for edge in data["memberships"]["edges"]]
        assert {n["municipalityCode"] for n in nodes} == {SAITAMA_CITY}
        assert {n["subject"] for n in nodes} >= {f"demo:{r.value}:{SAITAMA_CITY}" for r in demo_users.MUNICIPAL_ROLES}
        assert all(n["active"] and n["revokedAt"] is None for n in nodes)
        assert data["memberships"]["totalCount"] == len(nodes)

    def test_pages_follow_their_cursors(self, call: Any) -> None:
        first = ok(call(LIST, AppRole.SUPERVISOR, SAITAMA_CITY, {"first": 3}))["memberships"]
        assert first["pageInfo"]["hasNextPage"]
        after = {"first": 100, "after": first["pageInfo"]["endCursor"]}
        rest = ok(call(LIST, AppRole.SUPERVISOR, SAITAMA_CITY, after))["memberships"]
        ids = [e["node"]["id"] for e in first["edges"] + rest["edges"]]
        assert len(ids) == len(set(ids)) == first["totalCount"]

    def test_platform_admin_lists_the_tenant_it_names(self, call: Any) -> None:
        data = ok(call(LIST, AppRole.PLATFORM_ADMIN, PREFECTURE, {"first": 100}, act_in=KAWAGOE))
        assert {e["node"]["municipalityCode"] for e in data["memberships"]["edges"]} == {KAWAGOE}

    @pytest.mark.parametrize("role", [AppRole.CASEWORKER, AppRole.SCHOOL_STAFF, AppRole.MUNICIPAL_SYSTEM])
    def test_other_roles_cannot_list(self, role: AppRole, call: Any) -> None:
        refused(call(LIST, role, SAITAMA_CITY, {"first": 10}))

    def test_prefecture_analyst_cannot_list(self, call: Any) -> None:
        refused(call(LIST, AppRole.PREFECTURE_ANALYST, PREFECTURE, {"first": 10}))


GRANTABLE = "{ grantableRoles }"
MUNICIPAL_WORK = ["CASEWORKER", "COORDINATOR", "SCHOOL_STAFF", "SCHOOL_SOCIAL_WORKER", "WELFARE_WORKER"]


class TestGrantableRoles:
    async def test_a_supervisor_is_offered_exactly_the_roles_it_may_grant(
        self, call: Any, settings: Settings, admin_conn: Any, tidy: Tidy
    ) -> None:
        roles = ok(call(GRANTABLE, AppRole.SUPERVISOR, SAITAMA_CITY))["grantableRoles"]
        assert roles == [*MUNICIPAL_WORK, "MUNICIPAL_SYSTEM"]
        for role in roles:  # each one is granted; the others are refused (the tests below)
            variables = grant_input(settings, tidy.subject(role), AppRole[role], organisation(SAITAMA_CITY))
            granted(call(GRANT, AppRole.SUPERVISOR, SAITAMA_CITY, variables))
        assert await written(admin_conn, tidy) == {"users": 6, "memberships": 6, "audit": 6}

    @pytest.mark.parametrize(
        ("act_in", "expected"),
        [
            (PREFECTURE, ["PREFECTURE_ANALYST", "PLATFORM_ADMIN"]),
            (KAWAGOE, ["CASEWORKER", "SUPERVISOR", *MUNICIPAL_WORK[1:], "MUNICIPAL_SYSTEM"]),
        ],
    )
    def test_a_platform_admin_is_offered_the_roles_of_the_tenant_it_acts_in(
        self, act_in: str, expected: list[str], call: Any
    ) -> None:
        roles = ok(call(GRANTABLE, AppRole.PLATFORM_ADMIN, PREFECTURE, act_in=act_in))["grantableRoles"]
        assert sorted(roles) == sorted(expected)

    def test_a_role_that_may_not_grant_is_refused(self, call: Any) -> None:
        refused(call(GRANTABLE, AppRole.CASEWORKER, SAITAMA_CITY))


class TestGrantMembership:
    async def test_caseworker_cannot_grant_and_nothing_is_written(
        self, call: Any, settings: Settings, admin_conn: Any, tidy: Tidy
    ) -> None:
        variables = grant_input(settings, tidy.subject(), AppRole.CASEWORKER, organisation(SAITAMA_CITY))
        refused(call(GRANT, AppRole.CASEWORKER, SAITAMA_CITY, variables))
        assert await written(admin_conn, tidy) == NOTHING

    @pytest.mark.parametrize("role", [AppRole.SUPERVISOR, AppRole.PLATFORM_ADMIN, AppRole.PREFECTURE_ANALYST])
    async def test_supervisor_cannot_grant_roles_above_its_own(
        self, role: AppRole, call: Any, settings: Settings, admin_conn: Any, tidy: Tidy
    ) -> None:
        variables = grant_input(settings, tidy.subject(), role, organisation(SAITAMA_CITY))
        data = ok(call(GRANT, AppRole.SUPERVISOR, SAITAMA_CITY, variables))
        assert user_errors(data, "grantMembership") == [("role", "FORBIDDEN")]
        assert await written(admin_conn, tidy) == NOTHING

    @pytest.mark.parametrize(
        "case",
        [
            (
                {"organizationId": encode_global_id("Organization", organisation(KAWAGOE))},
                "organizationId",
                "BAD_USER_INPUT",
            ),
            ({"organizationId": encode_global_id("Organization", uuid.uuid4())}, "organizationId", "NOT_FOUND"),
            ({"organizationId": encode_global_id("Case", uuid.uuid4())}, "organizationId", "NOT_FOUND"),
            ({"organizationId": "not-an-id"}, "organizationId", "BAD_USER_INPUT"),
            ({"issuer": "https://idp.example.org/realms/evil"}, "issuer", "BAD_USER_INPUT"),
            ({"displayName": "  "}, "displayName", "BAD_USER_INPUT"),
            ({"idempotencyKey": ""}, "idempotencyKey", "BAD_USER_INPUT"),
        ],
    )
    async def test_supervisor_input_breaking_a_rule_writes_nothing(
        self, case: tuple[dict[str, Any], str, str], call: Any, settings: Settings, admin_conn: Any, tidy: Tidy
    ) -> None:
        changes, field, code = case
        variables = grant_input(settings, tidy.subject(), AppRole.CASEWORKER, organisation(SAITAMA_CITY))
        variables["input"].update(changes)
        data = ok(call(GRANT, AppRole.SUPERVISOR, SAITAMA_CITY, variables))
        assert user_errors(data, "grantMembership") == [(field, code)]
        assert await written(admin_conn, tidy) == NOTHING

    @pytest.mark.parametrize(
        "case",
        [
            (AppRole.CASEWORKER, PREFECTURE, organisation(PREFECTURE, "care")),
            (AppRole.PLATFORM_ADMIN, KAWAGOE, organisation(KAWAGOE)),
            (AppRole.PREFECTURE_ANALYST, KAWAGOE, organisation(KAWAGOE)),
        ],
    )
    async def test_platform_admin_grants_each_role_only_in_its_kind_of_tenant(
        self, case: tuple[AppRole, str, uuid.UUID], call: Any, settings: Settings, admin_conn: Any, tidy: Tidy
    ) -> None:
        role, tenant, org = case
        variables = grant_input(settings, tidy.subject(), role, org)
        data = ok(call(GRANT, AppRole.PLATFORM_ADMIN, PREFECTURE, variables, act_in=tenant))
        assert user_errors(data, "grantMembership") == [("role", "BAD_USER_INPUT")]
        assert await written(admin_conn, tidy) == NOTHING

    async def test_platform_admin_grants_a_caseworker_who_then_works_in_that_town_only(
        self, call: Any, settings: Settings, admin_conn: Any, tidy: Tidy, user: Any
    ) -> None:
        newcomer = tidy.subject("kawagoe-caseworker")
        variables = grant_input(settings, newcomer, AppRole.CASEWORKER, organisation(KAWAGOE))
        grant_response = call(GRANT, AppRole.PLATFORM_ADMIN, PREFECTURE, variables, act_in=KAWAGOE)
        membership = granted(grant_response)
        assert membership["municipalityCode"] == KAWAGOE
        assert membership["role"] == "CASEWORKER"
        assert membership["active"]

        as_newcomer = {"subject": newcomer}
        works = ok(call(CASES, AppRole.CASEWORKER, KAWAGOE, **as_newcomer))
        assert works["viewer"] == {"role": "CASEWORKER", "municipality": {"code": KAWAGOE}}
        assert works["cases"]["totalCount"] > 0
        elsewhere = call(CASES, AppRole.CASEWORKER, KAWAGOE, act_in=SAITAMA_CITY, **as_newcomer)
        assert elsewhere.status_code == 403

        revoked = call(REVOKE, AppRole.PLATFORM_ADMIN, PREFECTURE, {"id": membership["id"]}, act_in=KAWAGOE)
        after = ok(revoked)["revokeMembership"]["membership"]
        assert after["id"] == membership["id"]
        assert not after["active"]
        assert after["revokedAt"] is not None
        assert call(CASES, AppRole.CASEWORKER, KAWAGOE, **as_newcomer).status_code == 403

        # Two events in 川越市's chain, by the administrator, with each request's id.
        admin = user(AppRole.PLATFORM_ADMIN, PREFECTURE)
        # Not sealed yet (the sealer chains them after they commit: tests/test_audit_seal.py);
        # the newcomer's reads of cases in between are audited too, as theirs.
        ours = await admin_conn.fetch(
            "SELECT * FROM kizuna.audit_event WHERE municipality_code = $1 AND seq IS NULL"
            " AND action LIKE 'membership.%' ORDER BY occurred_at, id",
            KAWAGOE,
        )
        membership_id = await admin_conn.fetchval(
            "SELECT m.id FROM kizuna.membership m JOIN kizuna.app_user u ON u.id = m.user_id WHERE u.subject = $1",
            newcomer,
        )
        assert [(r["action"], r["entity"], r["entity_id"]) for r in ours] == [
            ("membership.grant", "membership", membership_id),
            ("membership.revoke", "membership", membership_id),
        ]
        assert {(r["subject"], r["role"]) for r in ours} == {(str(admin.user_id), "platform_admin")}
        assert [r["request_id"] for r in ours] == [
            grant_response.headers["x-request-id"],
            revoked.headers["x-request-id"],
        ]
        assert ours[1]["fields"] == ["revoked_at"]

    async def test_a_user_refused_before_the_grant_is_let_in_right_after_it(
        self, call: Any, settings: Settings, tidy: Tidy
    ) -> None:
        """The sign-in cache remembers "no membership" for a while; the grant must tell it
        (Context.membership_changed) or the new colleague waits for the cache to expire."""
        newcomer = tidy.subject("eager")
        assert call(CASES, AppRole.CASEWORKER, SAITAMA_CITY, subject=newcomer).status_code == 403
        variables = grant_input(settings, newcomer, AppRole.CASEWORKER, organisation(SAITAMA_CITY))
        granted(call(GRANT, AppRole.SUPERVISOR, SAITAMA_CITY, variables))
        assert call(CASES, AppRole.CASEWORKER, SAITAMA_CITY, subject=newcomer).status_code == 200

    def test_the_issuer_of_the_discovery_document_works_on_any_port(
        self, call: Any, http: httpx.Client, settings: Settings, tidy: Tidy
    ) -> None:
        """The development IdP names itself the same on every address: a grant that copies
        `issuer` from the discovery document of a server on another port than 8000 lets
        the user in."""
        assert http.base_url.port != 8000
        document = http.get("/dev-idp/.well-known/openid-configuration").json()
        assert document["issuer"] == "urn:kizuna:dev-idp"  # a name: it promises no address
        assert document["token_endpoint"].startswith(str(http.base_url).rstrip("/"))
        newcomer = tidy.subject("any-port")
        variables = grant_input(settings, newcomer, AppRole.CASEWORKER, organisation(SAITAMA_CITY))
        variables["input"]["issuer"] = document["issuer"]
        granted(call(GRANT, AppRole.SUPERVISOR, SAITAMA_CITY, variables))
        assert call(CASES, AppRole.CASEWORKER, SAITAMA_CITY, subject=newcomer).status_code == 200

    async def test_an_idempotency_key_makes_a_retry_return_the_first_membership(
        self, call: Any, settings: Settings, admin_conn: Any, tidy: Tidy
    ) -> None:
        key = f"retry-{uuid.uuid4()}"
        variables = grant_input(
            settings, tidy.subject(), AppRole.COORDINATOR, organisation(SAITAMA_CITY), idempotencyKey=key
        )
        first = granted(call(GRANT, AppRole.SUPERVISOR, SAITAMA_CITY, variables))
        again = granted(call(GRANT, AppRole.SUPERVISOR, SAITAMA_CITY, variables))
        assert first == again
        assert await written(admin_conn, tidy) == {"users": 1, "memberships": 1, "audit": 1}

        # The same key for a different grant is a conflict, not the first membership.
        other = grant_input(
            settings, tidy.subject("other"), AppRole.COORDINATOR, organisation(SAITAMA_CITY), idempotencyKey=key
        )
        data = ok(call(GRANT, AppRole.SUPERVISOR, SAITAMA_CITY, other))
        assert user_errors(data, "grantMembership") == [("idempotencyKey", "CONFLICT")]
        assert await written(admin_conn, tidy) == {"users": 1, "memberships": 1, "audit": 1}

    async def test_an_active_membership_granted_again_is_a_conflict(
        self, call: Any, settings: Settings, admin_conn: Any, tidy: Tidy
    ) -> None:
        variables = grant_input(
            settings, tidy.subject(), AppRole.WELFARE_WORKER, organisation(SAITAMA_CITY, "community/0")
        )
        granted(call(GRANT, AppRole.SUPERVISOR, SAITAMA_CITY, variables))
        data = ok(call(GRANT, AppRole.SUPERVISOR, SAITAMA_CITY, variables))
        assert user_errors(data, "grantMembership") == [(None, "CONFLICT")]
        assert await written(admin_conn, tidy) == {"users": 1, "memberships": 1, "audit": 1}

    async def test_a_revoked_membership_granted_again_is_active_again(
        self, call: Any, settings: Settings, admin_conn: Any, tidy: Tidy
    ) -> None:
        variables = grant_input(
            settings, tidy.subject(), AppRole.SCHOOL_STAFF, organisation(SAITAMA_CITY, "junior_high_school/0")
        )
        first = granted(call(GRANT, AppRole.SUPERVISOR, SAITAMA_CITY, variables))
        ok(call(REVOKE, AppRole.SUPERVISOR, SAITAMA_CITY, {"id": first["id"]}))
        again = granted(call(GRANT, AppRole.SUPERVISOR, SAITAMA_CITY, variables))
        assert again["id"] == first["id"]
        assert again["active"]
        assert await written(admin_conn, tidy) == {"users": 1, "memberships": 1, "audit": 3}
        await audit_seal.seal_tenant(admin_conn, SAITAMA_CITY)
        report = await audit_seal.verify_tenant(admin_conn, SAITAMA_CITY)
        assert (report.broken, report.unsealed) == (None, 0)


class TestUserErrorsInTheCallersLanguage:
    @pytest.mark.parametrize(
        "case",
        [
            (
                {"displayName": "  "},
                "displayName",
                "表示名は1〜200文字で入力してください。",
                "The display name must be 1 to 200 characters.",
            ),
            ({"organizationId": "not-an-id"}, "organizationId", "ID の形式が正しくありません。", "Malformed id."),
        ],
    )
    @pytest.mark.parametrize("accept_language", [None, "ja", "ja-JP,en;q=0.5", "en", "en-US,en;q=0.9,ja;q=0.8"])
    async def test_japanese_by_default_english_when_asked_the_same_code(
        self,
        case: tuple[dict[str, Any], str, str, str],
        accept_language: str | None,
        *,
        call: Any,
        settings: Settings,
        admin_conn: Any,
        tidy: Tidy,
    ) -> None:
        changes, field, japanese, english = case
        variables = grant_input(settings, tidy.subject(), AppRole.CASEWORKER, organisation(SAITAMA_CITY))
        variables["input"].update(changes)
        response = call(GRANT, AppRole.SUPERVISOR, SAITAMA_CITY, variables, accept_language=accept_language)
        (error,) = ok(response)["grantMembership"]["userErrors"]
        message = english if accept_language and accept_language.startswith("en") else japanese
        assert error == {"field": field, "message": message, "code": "BAD_USER_INPUT"}
        assert await written(admin_conn, tidy) == NOTHING


class TestRevokeMembership:
    async def test_another_tenants_membership_is_not_found_like_a_random_id(
        self, call: Any, admin_conn: Any, user: Any, tidy: Tidy
    ) -> None:
        theirs = demo_users.membership_id(user(AppRole.CASEWORKER, KAWAGOE))
        crossed = ok(call(REVOKE, AppRole.SUPERVISOR, SAITAMA_CITY, {"id": encode_global_id("Membership", theirs)}))
        unknown = ok(
            call(REVOKE, AppRole.SUPERVISOR, SAITAMA_CITY, {"id": encode_global_id("Membership", uuid.uuid4())})
        )
        wrong_type = ok(call(REVOKE, AppRole.SUPERVISOR, SAITAMA_CITY, {"id": encode_global_id("Case", theirs)}))
        assert crossed == unknown == wrong_type
        assert user_errors(crossed, "revokeMembership") == [("id", "NOT_FOUND")]
        still = await admin_conn.fetchval("SELECT revoked_at FROM kizuna.membership WHERE id = $1", theirs)
        assert still is None
        assert await written(admin_conn, tidy) == NOTHING

    async def test_supervisor_cannot_revoke_a_supervisors_or_its_own_membership(
        self, call: Any, settings: Settings, admin_conn: Any, user: Any, tidy: Tidy
    ) -> None:
        # An administrator names a second supervisor in さいたま市.
        variables = grant_input(settings, tidy.subject(), AppRole.SUPERVISOR, organisation(SAITAMA_CITY))
        colleague = granted(call(GRANT, AppRole.PLATFORM_ADMIN, PREFECTURE, variables, act_in=SAITAMA_CITY))["id"]
        own = encode_global_id("Membership", demo_users.membership_id(user(AppRole.SUPERVISOR, SAITAMA_CITY)))
        for target in (colleague, own):
            refusal = ok(call(REVOKE, AppRole.SUPERVISOR, SAITAMA_CITY, {"id": target}))
            assert user_errors(refusal, "revokeMembership") == [("id", "FORBIDDEN")]
        assert await written(admin_conn, tidy) == {"users": 1, "memberships": 1, "audit": 1}
        active = await admin_conn.fetchval(
            "SELECT count(*) FROM kizuna.membership m JOIN kizuna.app_user u ON u.id = m.user_id"
            " WHERE u.subject LIKE $1 AND m.revoked_at IS NULL",
            tidy.prefix + "%",
        )
        assert active == 1

    async def test_revoking_twice_is_a_user_error(
        self, call: Any, settings: Settings, admin_conn: Any, tidy: Tidy
    ) -> None:
        variables = grant_input(settings, tidy.subject(), AppRole.CASEWORKER, organisation(SAITAMA_CITY))
        membership = granted(call(GRANT, AppRole.SUPERVISOR, SAITAMA_CITY, variables))
        ok(call(REVOKE, AppRole.SUPERVISOR, SAITAMA_CITY, {"id": membership["id"]}))
        data = ok(call(REVOKE, AppRole.SUPERVISOR, SAITAMA_CITY, {"id": membership["id"]}))
        assert user_errors(data, "revokeMembership") == [("id", "CONFLICT")]
        assert (await written(admin_conn, tidy))["audit"] == 2

    async def test_caseworker_cannot_revoke(self, call: Any, admin_conn: Any, user: Any, tidy: Tidy) -> None:
        colleague = demo_users.membership_id(user(AppRole.COORDINATOR, SAITAMA_CITY))
        refused(call(REVOKE, AppRole.CASEWORKER, SAITAMA_CITY, {"id": encode_global_id("Membership", colleague)}))
        assert await admin_conn.fetchval("SELECT revoked_at FROM kizuna.membership WHERE id = $1", colleague) is None
        assert await written(admin_conn, tidy) == NOTHING
