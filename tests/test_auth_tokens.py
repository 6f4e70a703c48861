"""Attacks on the bearer token: each is answered 401 (or 403) with a coded error, nothing read."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
import uuid
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from kizuna.platform.provisioning import MembershipRow, UserRow, add_memberships, upsert_users
from kizuna.platform.vocabulary import AppRole

if TYPE_CHECKING:
    from kizuna.tests.conftest import Tidy

SAITAMA_CITY = "111007"
KAWAGOE = "112011"
QUERY = {"query": "{ cases(first: 1) { edges { node { id } } } }"}


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def post(
    http: httpx.Client, bearer: str | None, *, municipality: str | None = None, query: dict[str, Any] = QUERY
) -> httpx.Response:
    headers = {} if bearer is None else {"authorization": f"Bearer {bearer}"}
    if municipality is not None:
        headers["kizuna-municipality"] = municipality
    return http.post("/graphql", json=query, headers=headers)


def assert_refused(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == code
    assert "Traceback" not in response.text


def assert_invalid_token(response: httpx.Response, reason: str, bearer: str) -> None:
    """401 with RFC 6750's challenge naming the reason, in the header and the message,
    and nothing of the token echoed."""
    assert_refused(response, 401, "UNAUTHENTICATED")
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith('Bearer realm="kizuna", error="invalid_token", error_description="')
    description = challenge.split('error_description="', 1)[1].rstrip('"')
    assert reason in description
    assert response.json()["errors"][0]["message"] == description
    for part in bearer.split("."):
        assert part not in response.text or len(part) < 8


@pytest.fixture
def claims(user: Any, settings: Any) -> dict[str, Any]:
    me = user(AppRole.CASEWORKER, SAITAMA_CITY)
    now = int(time.time())
    return {
        "iss": settings.issuer,
        "aud": settings.audience,
        "sub": me.subject,
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "scope": "openid",
    }


def sign(claims: dict[str, Any], key: Any, alg: str = "RS256") -> str:
    token: str = jwt.encode({"alg": alg, "kid": getattr(key, "kid", None) or "k"}, claims, key)
    return token


class TestBearerToken:
    def test_valid_token_is_accepted(self, http: httpx.Client, claims: dict[str, Any], signing_key: Any) -> None:
        assert post(http, sign(claims, signing_key)).status_code == 200

    def test_no_token(self, http: httpx.Client) -> None:
        """RFC 6750 3.1: a request without credentials gets the challenge and no error code."""
        response = post(http, None)
        assert_refused(response, 401, "UNAUTHENTICATED")
        assert response.headers["www-authenticate"] == 'Bearer realm="kizuna"'
        assert response.json()["errors"][0]["message"] == "No bearer token or session was sent."

    @pytest.mark.parametrize("bearer", ["not.a.token", "a.b", "e30.e30.", "...."])
    def test_garbage(self, http: httpx.Client, bearer: str) -> None:
        assert_refused(post(http, bearer), 401, "UNAUTHENTICATED")

    def test_basic_scheme(self, http: httpx.Client) -> None:
        response = http.post("/graphql", json=QUERY, headers={"authorization": "Basic a2l6dW5hOmtpenVuYQ=="})
        assert_refused(response, 401, "UNAUTHENTICATED")

    def test_alg_none(self, http: httpx.Client, claims: dict[str, Any]) -> None:
        token = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."
        assert_invalid_token(post(http, token), "algorithm is not accepted", token)

    def test_hs256_signed_with_the_public_key(
        self, http: httpx.Client, claims: dict[str, Any], signing_key: Any
    ) -> None:
        # Forged by hand: joserfc itself refuses to make an HMAC key of a public key.
        signing_input = f"{b64({'alg': 'HS256', 'typ': 'JWT', 'kid': signing_key.kid})}.{b64(claims)}"
        mac = hmac.new(signing_key.as_pem(private=False), signing_input.encode(), hashlib.sha256).digest()
        token = f"{signing_input}.{base64.urlsafe_b64encode(mac).decode().rstrip('=')}"
        assert_refused(post(http, token), 401, "UNAUTHENTICATED")

    @pytest.mark.parametrize(
        ("claim", "value", "reason"),
        [
            ("iss", "https://evil.example/", "issuer (iss) is not trusted"),
            ("aud", "someone-else", "another audience (aud)"),
            ("exp", 1_000_000, "has expired"),
            ("nbf", 4_000_000_000, "not valid yet"),
        ],
    )
    def test_claims_that_do_not_hold(
        self, http: httpx.Client, claims: dict[str, Any], signing_key: Any, *, claim: str, value: Any, reason: str
    ) -> None:
        bearer = sign(claims | {claim: value}, signing_key)
        assert_invalid_token(post(http, bearer), reason, bearer)

    def test_missing_expiry(self, http: httpx.Client, claims: dict[str, Any], signing_key: Any) -> None:
        bearer = sign({k: v for k, v in claims.items() if k != "exp"}, signing_key)
        assert_invalid_token(post(http, bearer), "lacks a required claim", bearer)

    def test_unknown_kid_signed_by_another_key(self, http: httpx.Client, claims: dict[str, Any]) -> None:
        bearer = sign(claims, RSAKey.generate_key(2048, auto_kid=True))
        assert_invalid_token(post(http, bearer), "key id (kid)", bearer)

    def test_known_kid_signed_by_another_key(
        self, http: httpx.Client, claims: dict[str, Any], signing_key: Any
    ) -> None:
        stranger = RSAKey.generate_key(2048)
        bearer: str = jwt.encode({"alg": "RS256", "kid": signing_key.kid}, claims, stranger)
        assert_invalid_token(post(http, bearer), "signature does not verify", bearer)

    def test_tampered_payload(self, http: httpx.Client, claims: dict[str, Any], signing_key: Any, user: Any) -> None:
        """The caseworker's token, its subject changed to the supervisor's."""
        header, _, signature = sign(claims, signing_key).split(".")
        boss = user(AppRole.SUPERVISOR, SAITAMA_CITY)
        forged = f"{header}.{b64(claims | {'sub': boss.subject})}.{signature}"
        assert_refused(post(http, forged), 401, "UNAUTHENTICATED")

    @pytest.mark.parametrize("marker", [{"nonce": "n-0S6_WzA2Mj"}, {"typ": "ID"}], ids=["nonce", "keycloak typ"])
    def test_an_id_token_with_the_apis_audience_is_not_an_access_token(
        self, http: httpx.Client, claims: dict[str, Any], signing_key: Any, marker: dict[str, str]
    ) -> None:
        """Where the client id equals the audience, an ID token would pass `aud`; it still
        travels in cookies and logout URLs, so it is refused."""
        assert_refused(post(http, sign(claims | marker, signing_key)), 401, "UNAUTHENTICATED")

    def test_subject_without_membership(self, http: httpx.Client, claims: dict[str, Any], signing_key: Any) -> None:
        """Validly signed by a trusted issuer, but nobody gave this subject a membership."""
        forged = claims | {"sub": f"stranger:{uuid.uuid4()}"}
        assert_refused(post(http, sign(forged, signing_key)), 403, "FORBIDDEN")

    def test_a_refusal_is_logged_without_the_token(
        self, http: httpx.Client, claims: dict[str, Any], caplog: pytest.LogCaptureFixture
    ) -> None:
        forged = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."
        with caplog.at_level(logging.INFO, logger="kizuna.schema.http"):
            response = post(http, forged)
        request_id = response.json()["errors"][0]["extensions"]["requestId"]
        (record,) = [r for r in caplog.records if request_id in r.getMessage()]
        assert record.levelno == logging.WARNING
        assert "credentials refused (alg)" in record.getMessage()
        assert forged not in caplog.text
        assert b64(claims) not in caplog.text

    def test_same_subject_from_an_untrusted_issuer(self, http: httpx.Client, claims: dict[str, Any]) -> None:
        """A user is (issuer, subject): another IdP naming the same subject is nobody here."""
        stranger = RSAKey.generate_key(2048, auto_kid=True)
        bearer = sign(claims | {"iss": "https://idp.evil.example/"}, stranger)
        assert_invalid_token(post(http, bearer), "issuer (iss) is not trusted", bearer)


class TestMunicipalityHeader:
    def test_token_for_one_municipality_with_another_in_the_header(self, http: httpx.Client, token: Any) -> None:
        """さいたま市's caseworker asks for 川越市's cases: no membership there, nothing read."""
        bearer = token(AppRole.CASEWORKER, SAITAMA_CITY)
        response = post(http, bearer, municipality=KAWAGOE)
        assert_refused(response, 403, "FORBIDDEN")

    def test_own_municipality_in_the_header(self, http: httpx.Client, token: Any) -> None:
        assert post(http, token(AppRole.CASEWORKER, SAITAMA_CITY), municipality=SAITAMA_CITY).status_code == 200

    @pytest.mark.parametrize("bad", ["11100", "1110070", "111007,112011", "' OR 1=1"])
    def test_malformed_header(self, http: httpx.Client, token: Any, bad: str) -> None:
        assert_refused(post(http, token(AppRole.CASEWORKER, SAITAMA_CITY), municipality=bad), 400, "BAD_USER_INPUT")

    @pytest.mark.parametrize(
        ("role", "status", "code"), [("root", 400, "BAD_USER_INPUT"), ("supervisor", 403, "FORBIDDEN")]
    )
    def test_role_header_naming_no_role_or_one_not_held(
        self, http: httpx.Client, token: Any, role: str, status: int, code: str
    ) -> None:
        bearer = token(AppRole.CASEWORKER, SAITAMA_CITY)
        response = http.post("/graphql", json=QUERY, headers={"authorization": f"Bearer {bearer}", "kizuna-role": role})
        assert_refused(response, status, code)
        message = response.json()["errors"][0]["message"]
        assert "Kizuna-Role" in message
        assert "municipality" not in message
        if status == 403:
            assert "supervisor" in message

    def test_platform_admin_cannot_reach_another_prefecture(self, http: httpx.Client, token: Any) -> None:
        bearer = token(AppRole.PLATFORM_ADMIN, "110001")
        assert_refused(post(http, bearer, municipality="392014"), 403, "FORBIDDEN")

    def test_municipal_system_needs_its_municipality_scope(self, http: httpx.Client, token: Any) -> None:
        assert post(http, token(AppRole.MUNICIPAL_SYSTEM, SAITAMA_CITY)).status_code == 200
        wrong_scope = token(AppRole.MUNICIPAL_SYSTEM, SAITAMA_CITY, scope=f"municipality:{KAWAGOE}")
        assert_refused(post(http, wrong_scope), 403, "FORBIDDEN")
        assert_refused(post(http, token(AppRole.MUNICIPAL_SYSTEM, SAITAMA_CITY, scope="openid")), 403, "FORBIDDEN")


async def _grant(
    admin_conn: Any, settings: Any, subject: str, memberships: list[tuple[str, AppRole, uuid.UUID]]
) -> uuid.UUID:
    """Onboard a user with memberships (municipality, role, organisation), by provisioning."""
    ids = await upsert_users(admin_conn, [UserRow(uuid.uuid4(), settings.issuer, subject)])
    user_id = ids[(settings.issuer, subject)]
    for municipality, role, organisation in memberships:
        await add_memberships(
            admin_conn, municipality, [MembershipRow(uuid.uuid4(), user_id, "テスト 職員", role, organisation)]
        )
    return user_id


async def test_a_revoked_membership_stops_working_on_the_next_request(
    http: httpx.Client, admin_conn: Any, token: Any, user: Any, settings: Any, *, tidy: Tidy
) -> None:
    colleague = user(AppRole.CASEWORKER, SAITAMA_CITY)
    subject = tidy.subject("revoked")
    memberships = [(SAITAMA_CITY, AppRole.CASEWORKER, colleague.organisation_id)]
    user_id = await _grant(admin_conn, settings, subject, memberships)
    bearer = token(AppRole.CASEWORKER, SAITAMA_CITY, subject=subject)
    assert post(http, bearer).status_code == 200
    async with admin_conn.transaction():
        await admin_conn.execute("SET LOCAL kizuna.municipality = '111007'")
        await admin_conn.execute("UPDATE kizuna.membership SET revoked_at = now() WHERE user_id = $1", user_id)
    assert_refused(post(http, bearer), 403, "FORBIDDEN")
    assert_refused(post(http, bearer), 403, "FORBIDDEN")


async def test_a_worker_serving_two_towns_names_the_one_they_act_in(
    http: httpx.Client, admin_conn: Any, token: Any, user: Any, settings: Any, *, tidy: Tidy
) -> None:
    """An SSW with memberships in さいたま市 and 川越市: without the header the request is
    refused (which town?); with it, each answer holds only that town's referrals."""
    here, there = user(AppRole.SCHOOL_SOCIAL_WORKER, SAITAMA_CITY), user(AppRole.SCHOOL_SOCIAL_WORKER, KAWAGOE)
    subject = tidy.subject("two-towns")
    await _grant(
        admin_conn,
        settings,
        subject,
        [
            (SAITAMA_CITY, AppRole.SCHOOL_SOCIAL_WORKER, here.organisation_id),
            (KAWAGOE, AppRole.SCHOOL_SOCIAL_WORKER, there.organisation_id),
        ],
    )
    bearer = token(AppRole.SCHOOL_SOCIAL_WORKER, SAITAMA_CITY, subject=subject)
    query = {
        "query": "{ viewer { municipality { code } organization { name } memberships { municipality { code } role } } }"
    }
    refused = post(http, bearer, query=query)
    assert_refused(refused, 403, "FORBIDDEN")
    assert "Kizuna-Municipality" in refused.json()["errors"][0]["message"]
    for code in (SAITAMA_CITY, KAWAGOE):
        response = post(http, bearer, municipality=code, query=query)
        assert response.status_code == 200, response.text
        viewer = response.json()["data"]["viewer"]
        assert viewer["municipality"]["code"] == code
        assert [m["municipality"]["code"] for m in viewer["memberships"]] == [SAITAMA_CITY, KAWAGOE]
        assert {m["role"] for m in viewer["memberships"]} == {"SCHOOL_SOCIAL_WORKER"}
