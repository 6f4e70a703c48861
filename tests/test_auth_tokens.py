"""Attacks on the bearer token: each is answered 401 (or 403) with a coded error, nothing read."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from kizuna.platform.vocabulary import AppRole

SAITAMA_CITY = "111007"
KAWAGOE = "112011"
QUERY = {"query": "{ cases(first: 1) { edges { node { id } } } }"}


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def post(http: httpx.Client, bearer: str | None) -> httpx.Response:
    headers = {} if bearer is None else {"authorization": f"Bearer {bearer}"}
    return http.post("/graphql", json=QUERY, headers=headers)


def assert_refused(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == code
    assert "Traceback" not in response.text


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
        "kizuna_role": "caseworker",
        "kizuna_municipality": SAITAMA_CITY,
        "kizuna_organisation": str(me.organisation_id),
    }


def sign(claims: dict[str, Any], key: Any, alg: str = "RS256") -> str:
    token: str = jwt.encode({"alg": alg, "kid": getattr(key, "kid", None) or "k"}, claims, key)
    return token


class TestBearerToken:
    def test_valid_token_is_accepted(self, http: httpx.Client, claims: dict[str, Any], signing_key: Any) -> None:
        assert post(http, sign(claims, signing_key)).status_code == 200

    def test_no_token(self, http: httpx.Client) -> None:
        response = post(http, None)
        assert_refused(response, 401, "UNAUTHENTICATED")
        assert response.headers["www-authenticate"].startswith("Bearer")

    def test_garbage(self, http: httpx.Client) -> None:
        assert_refused(post(http, "not.a.token"), 401, "UNAUTHENTICATED")

    def test_alg_none(self, http: httpx.Client, claims: dict[str, Any]) -> None:
        token = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."
        assert_refused(post(http, token), 401, "UNAUTHENTICATED")

    def test_hs256_signed_with_the_public_key(
        self, http: httpx.Client, claims: dict[str, Any], signing_key: Any
    ) -> None:
        # Forged by hand: joserfc itself refuses to make an HMAC key of a public key.
        signing_input = f"{b64({'alg': 'HS256', 'typ': 'JWT', 'kid': signing_key.kid})}.{b64(claims)}"
        mac = hmac.new(signing_key.as_pem(private=False), signing_input.encode(), hashlib.sha256).digest()
        token = f"{signing_input}.{base64.urlsafe_b64encode(mac).decode().rstrip('=')}"
        assert_refused(post(http, token), 401, "UNAUTHENTICATED")

    @pytest.mark.parametrize(
        ("claim", "value"),
        [("iss", "https://evil.example/"), ("aud", "someone-else"), ("exp", 1_000_000), ("nbf", 4_000_000_000)],
    )
    def test_claims_that_do_not_hold(
        self, http: httpx.Client, claims: dict[str, Any], signing_key: Any, claim: str, value: Any
    ) -> None:
        assert_refused(post(http, sign(claims | {claim: value}, signing_key)), 401, "UNAUTHENTICATED")

    def test_unknown_kid_signed_by_another_key(self, http: httpx.Client, claims: dict[str, Any]) -> None:
        stranger = RSAKey.generate_key(2048, auto_kid=True)
        assert_refused(post(http, sign(claims, stranger)), 401, "UNAUTHENTICATED")

    def test_tampered_payload(self, http: httpx.Client, claims: dict[str, Any], signing_key: Any) -> None:
        header, _, signature = sign(claims, signing_key).split(".")
        forged = f"{header}.{b64(claims | {'kizuna_municipality': KAWAGOE})}.{signature}"
        assert_refused(post(http, forged), 401, "UNAUTHENTICATED")

    def test_token_for_a_tenant_without_membership(
        self, http: httpx.Client, claims: dict[str, Any], signing_key: Any
    ) -> None:
        """Validly signed, but the subject has no membership in 川越市: the database refuses."""
        assert_refused(post(http, sign(claims | {"kizuna_municipality": KAWAGOE}, signing_key)), 403, "FORBIDDEN")

    def test_token_with_another_role(self, http: httpx.Client, claims: dict[str, Any], signing_key: Any) -> None:
        assert_refused(post(http, sign(claims | {"kizuna_role": "supervisor"}, signing_key)), 403, "FORBIDDEN")

    def test_token_with_another_organisation(
        self, http: httpx.Client, claims: dict[str, Any], signing_key: Any
    ) -> None:
        forged = claims | {"kizuna_organisation": str(uuid.uuid4())}
        assert_refused(post(http, sign(forged, signing_key)), 403, "FORBIDDEN")

    @pytest.mark.parametrize(
        "bad", [{"kizuna_role": "root"}, {"kizuna_municipality": "11100"}, {"kizuna_organisation": "x"}]
    )
    def test_malformed_kizuna_claims(
        self, http: httpx.Client, claims: dict[str, Any], signing_key: Any, bad: dict[str, str]
    ) -> None:
        assert_refused(post(http, sign(claims | bad, signing_key)), 401, "UNAUTHENTICATED")


async def test_a_revoked_membership_stops_working_on_the_next_request(
    http: httpx.Client, admin_conn: Any, token: Any, user: Any
) -> None:
    colleague = user(AppRole.CASEWORKER, SAITAMA_CITY)
    subject = f"revocation-test:{uuid.uuid4()}"
    async with admin_conn.transaction():
        await admin_conn.execute("SET LOCAL kizuna.municipality = '111007'")
        await admin_conn.execute(
            "INSERT INTO kizuna.membership (municipality_code, id, subject, display_name, role, organisation_id)"
            " VALUES ($1, $2, $3, '退職予定の職員', 'caseworker', $4)",
            SAITAMA_CITY,
            uuid.uuid4(),
            subject,
            colleague.organisation_id,
        )
    bearer = token(AppRole.CASEWORKER, SAITAMA_CITY, subject=subject)
    assert post(http, bearer).status_code == 200
    async with admin_conn.transaction():
        await admin_conn.execute("SET LOCAL kizuna.municipality = '111007'")
        await admin_conn.execute("UPDATE kizuna.membership SET revoked_at = now() WHERE subject = $1", subject)
    assert_refused(post(http, bearer), 403, "FORBIDDEN")
