"""Kizuna against an independent, certified OpenID provider: panva's `oidc-provider`.

Kizuna runs with the provider as its only issuer (no development IdP). Over real HTTP: the
browser flow through the provider's own login and consent forms into a session that
answers GraphQL, RP-initiated logout, a municipal system's client-credentials token, and
the attacks on them.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from kizuna.auth.issuers import load_issuers
from kizuna.platform.app import create_app
from kizuna.platform.provisioning import MembershipRow, UserRow, add_memberships, admin_connection, upsert_users
from kizuna.platform.settings import Settings
from kizuna.platform.vocabulary import AppRole

if TYPE_CHECKING:
    from kizuna.tests.oidc.conftest import PanvaProvider

SAITAMA_CITY = "111007"
KAWAGOE = "112011"
AUDIENCE = "urn:kizuna:api"
WORKER = f"panva-caseworker-{uuid.uuid4().hex[:8]}"
SYSTEM = "kizuna-system-111007"
QUERY = {"query": "{ viewer { subject role municipality { code } } cases(first: 2) { edges { node { id } } } }"}


@pytest.fixture(scope="module")
def kizuna(
    panva: PanvaProvider, kizuna_oidc_port: int, settings: Settings, urls: Any, user: Any, *, serve: Any
) -> Iterator[str]:
    """Kizuna trusting only the provider, with memberships for one worker and one system."""
    environ = settings.environ | {
        "KIZUNA_IDPS": "panva",
        "KIZUNA_IDP_PANVA_DISCOVERY_URL": panva.discovery_url,
        "KIZUNA_IDP_PANVA_CLIENT_ID": "kizuna-web",
        "KIZUNA_IDP_PANVA_CLIENT_SECRET": "kizuna-web-secret",
        "KIZUNA_IDP_PANVA_AUDIENCE": AUDIENCE,
        "KIZUNA_IDP_PANVA_SCOPE": "openid profile",
        "KIZUNA_IDP_PANVA_ROLES": "caseworker,municipal_system",
    }
    configured = Settings.from_env(environ)
    issuers = load_issuers(None, configured.environ)
    assert [i.name for i in issuers] == ["panva"]
    colleague = user(AppRole.CASEWORKER, SAITAMA_CITY)
    system = user(AppRole.MUNICIPAL_SYSTEM, SAITAMA_CITY)
    ids = asyncio.run(
        _onboard(
            urls.admin,
            panva.issuer,
            [
                (WORKER, AppRole.CASEWORKER, colleague.organisation_id),
                (SYSTEM, AppRole.MUNICIPAL_SYSTEM, system.organisation_id),
            ],
        )
    )
    try:
        with serve(create_app(configured, urls.app, issuers=issuers), kizuna_oidc_port) as running:
            yield running.url
    finally:
        asyncio.run(_offboard(urls.admin, ids))


async def _onboard(admin_url: str, issuer: str, people: list[tuple[str, AppRole, uuid.UUID]]) -> list[uuid.UUID]:
    async with admin_connection(admin_url) as conn:
        ids = await upsert_users(conn, [UserRow(uuid.uuid4(), issuer, subject) for subject, _, _ in people])
        rows = [
            MembershipRow(uuid.uuid4(), ids[(issuer, subject)], f"panva {subject}", role, organisation)
            for subject, role, organisation in people
        ]
        await add_memberships(conn, SAITAMA_CITY, rows)
    return list(ids.values())


async def _offboard(admin_url: str, ids: list[uuid.UUID]) -> None:
    async with admin_connection(admin_url) as conn:
        await conn.execute("DELETE FROM kizuna.membership WHERE user_id = ANY($1)", ids)
        await conn.execute("DELETE FROM kizuna.app_user WHERE id = ANY($1)", ids)


@pytest.fixture
def browser(kizuna: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=kizuna, timeout=30, follow_redirects=False) as client:
        yield client


def login_at_provider(browser: httpx.Client, complete_login: Callable[..., str], login: str) -> str:
    """Kizuna's login redirect, then the provider's forms; returns Kizuna's callback URL."""
    start = browser.get("/auth/login/panva")
    assert start.status_code == 302, start.text
    authorize = start.headers["location"]
    query = parse_qs(urlsplit(authorize).query)
    assert query["code_challenge_method"] == ["S256"]
    assert query["nonce"][0]
    return complete_login(browser, authorize, login)


def graphql(browser: httpx.Client, **headers: str) -> httpx.Response:
    return browser.post("/graphql", json=QUERY, headers={"origin": str(browser.base_url).rstrip("/"), **headers})


def assert_refused(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == code


def test_browser_sign_in_through_the_provider_answers_graphql(
    browser: httpx.Client, complete_login: Callable[..., str]
) -> None:
    callback = login_at_provider(browser, complete_login, WORKER)
    assert urlsplit(callback).path == "/auth/callback/panva"
    done = browser.get(callback)
    assert done.status_code == 303, done.text
    response = graphql(browser)
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["viewer"] == {"subject": WORKER, "role": "CASEWORKER", "municipality": {"code": SAITAMA_CITY}}
    assert len(data["cases"]["edges"]) == 2
    assert browser.get("/auth/session").json()["name"].endswith(WORKER)


def test_logout_goes_through_the_provider_and_ends_both_sessions(
    browser: httpx.Client, complete_login: Callable[..., str], complete_logout: Callable[..., str]
) -> None:
    browser.get(login_at_provider(browser, complete_login, WORKER))
    response = browser.post("/auth/logout", headers={"origin": str(browser.base_url).rstrip("/")})
    assert response.status_code == 302
    back = complete_logout(browser, response.headers["location"])
    assert urlsplit(back).path == "/auth/signed-out/panva"
    landed = browser.get(back)
    assert (landed.status_code, landed.headers["location"]) == (303, "/")
    assert "サインアウトしました。" in browser.get("/").text
    assert_refused(graphql(browser), 401, "UNAUTHENTICATED")


def test_cross_site_cookie_post_is_refused(browser: httpx.Client, complete_login: Callable[..., str]) -> None:
    browser.get(login_at_provider(browser, complete_login, WORKER))
    assert_refused(graphql(browser, origin="https://evil.example"), 403, "FORBIDDEN")


def test_a_replayed_authorization_code_gives_no_session(
    browser: httpx.Client, complete_login: Callable[..., str]
) -> None:
    first = urlsplit(login_at_provider(browser, complete_login, WORKER))
    assert browser.get(f"{first.path}?{first.query}").status_code == 303
    with contextlib.suppress(KeyError):
        del browser.cookies["kizuna_session"]
    second = urlsplit(login_at_provider(browser, complete_login, WORKER))
    state = parse_qs(second.query)["state"][0]
    response = browser.get(first.path, params={"code": parse_qs(first.query)["code"][0], "state": state})
    assert response.status_code == 400
    assert_refused(graphql(browser), 401, "UNAUTHENTICATED")


def test_a_wrong_state_gives_no_session(browser: httpx.Client, complete_login: Callable[..., str]) -> None:
    callback = urlsplit(login_at_provider(browser, complete_login, WORKER))
    code = parse_qs(callback.query)["code"][0]
    assert browser.get(callback.path, params={"code": code, "state": "not-the-state"}).status_code == 400
    assert_refused(graphql(browser), 401, "UNAUTHENTICATED")


def test_a_user_the_provider_knows_but_kizuna_does_not_gets_no_session(
    browser: httpx.Client, complete_login: Callable[..., str]
) -> None:
    response = browser.get(login_at_provider(browser, complete_login, f"stranger-{uuid.uuid4().hex[:8]}"))
    assert response.status_code == 403
    assert_refused(graphql(browser), 401, "UNAUTHENTICATED")


class TestClientCredentials:
    def test_a_municipal_system_reads_its_municipality(
        self, kizuna: str, client_credentials_token: Callable[[str, str, str], str]
    ) -> None:
        token = client_credentials_token(SYSTEM, f"{SYSTEM}-secret", f"municipality:{SAITAMA_CITY}")
        response = httpx.post(f"{kizuna}/graphql", json=QUERY, headers={"authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.text
        viewer = response.json()["data"]["viewer"]
        assert viewer == {"subject": SYSTEM, "role": "MUNICIPAL_SYSTEM", "municipality": {"code": SAITAMA_CITY}}

    def test_its_token_does_not_open_another_municipality(
        self, kizuna: str, client_credentials_token: Callable[[str, str, str], str]
    ) -> None:
        token = client_credentials_token(SYSTEM, f"{SYSTEM}-secret", f"municipality:{SAITAMA_CITY}")
        headers = {"authorization": f"Bearer {token}", "kizuna-municipality": KAWAGOE}
        assert_refused(httpx.post(f"{kizuna}/graphql", json=QUERY, headers=headers), 403, "FORBIDDEN")

    def test_a_system_without_membership_is_refused(
        self, kizuna: str, client_credentials_token: Callable[[str, str, str], str]
    ) -> None:
        token = client_credentials_token("kizuna-system-112011", "kizuna-system-112011-secret", "municipality:112011")
        headers = {"authorization": f"Bearer {token}"}
        assert_refused(httpx.post(f"{kizuna}/graphql", json=QUERY, headers=headers), 403, "FORBIDDEN")

    def test_an_intercepted_code_is_useless_without_the_pkce_verifier(
        self, kizuna: str, browser: httpx.Client, complete_login: Callable[..., str], panva_metadata: dict[str, Any]
    ) -> None:
        """Even with Kizuna's client secret, a code taken from the redirect cannot be
        exchanged: the verifier never left Kizuna's session."""
        callback = urlsplit(login_at_provider(browser, complete_login, WORKER))
        code = parse_qs(callback.query)["code"][0]
        exchanged = httpx.post(
            panva_metadata["token_endpoint"],
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": f"{kizuna}/auth/callback/panva",
            },
            auth=("kizuna-web", "kizuna-web-secret"),
        )
        assert exchanged.status_code == 400
        assert exchanged.json()["error"] == "invalid_grant"
