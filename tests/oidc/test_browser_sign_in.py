"""Browser sign-in through the development IdP, over real HTTP: the whole code + PKCE
flow, the session cookie, the municipality switch, logout, and the attacks on each step."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

SAITAMA_CITY = "111007"
KAWAGOE = "112011"
CASEWORKER = f"demo:caseworker:{SAITAMA_CITY}"
QUERY = {"query": "{ viewer { subject role municipality { code } } cases(first: 1) { edges { node { id } } } }"}

Forms = Callable[[str], list[dict[str, Any]]]


@pytest.fixture
def browser(server: Any) -> Iterator[httpx.Client]:
    """A client with its own cookie jar that follows no redirect by itself."""
    with httpx.Client(base_url=server.url, timeout=30, follow_redirects=False) as client:
        yield client


def start_login(browser: httpx.Client) -> httpx.Response:
    """From /auth/login to the development IdP's sign-in page."""
    response = browser.get("/auth/login")
    while response.status_code in (302, 303, 307):
        response = browser.get(response.headers["location"])
    assert response.status_code == 200, response.text
    return response


def pick_user(browser: httpx.Client, page: httpx.Response, forms: Forms, subject: str) -> str:
    """Submit the sign-in page as `subject`; returns the callback URL the IdP redirects to."""
    (form,) = forms(page.text)
    response = browser.post(str(page.url.join(form["action"])), data=form["fields"] | {"subject": subject})
    assert response.status_code in (302, 303), response.text
    location: str = response.headers["location"]
    assert urlsplit(location).path == "/auth/callback/dev"
    return location


def sign_in(browser: httpx.Client, forms: Forms, subject: str = CASEWORKER) -> httpx.Response:
    callback = pick_user(browser, start_login(browser), forms, subject)
    return browser.get(callback)


def graphql(browser: httpx.Client, **headers: str) -> httpx.Response:
    origin = str(browser.base_url).rstrip("/")
    return browser.post("/graphql", json=QUERY, headers={"origin": origin, **headers})


def assert_refused(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == code


class TestSignIn:
    def test_the_whole_flow_ends_in_a_session_that_answers_graphql(self, browser: httpx.Client, forms: Forms) -> None:
        page = start_login(browser)
        assert CASEWORKER in page.text
        authorize = parse_qs(urlsplit(str(page.url)).query)
        assert authorize["code_challenge_method"] == ["S256"]
        assert authorize["nonce"][0]
        assert authorize["state"][0]
        done = browser.get(pick_user(browser, page, forms, CASEWORKER))
        assert done.status_code == 303
        assert done.headers["location"] == "/"
        cookie = done.headers["set-cookie"]
        assert cookie.startswith("kizuna_session=")
        assert "httponly" in cookie.lower()
        assert "samesite=lax" in cookie.lower()
        response = graphql(browser)
        assert response.status_code == 200, response.text
        viewer = response.json()["data"]["viewer"]
        assert viewer == {"subject": CASEWORKER, "role": "CASEWORKER", "municipality": {"code": SAITAMA_CITY}}

    def test_home_and_session_describe_the_signed_in_user(self, browser: httpx.Client, forms: Forms) -> None:
        sign_in(browser, forms)
        described = browser.get("/auth/session").json()
        assert described["signedIn"] is True
        assert described["memberships"] == [{"municipality": SAITAMA_CITY, "role": "caseworker"}]
        assert "サインアウト" in browser.get("/").text

    def test_logout_ends_the_session_and_returns_through_the_idp(self, browser: httpx.Client, forms: Forms) -> None:
        sign_in(browser, forms)
        origin = str(browser.base_url).rstrip("/")
        response = browser.post("/auth/logout", headers={"origin": origin})
        assert response.status_code == 302
        end_session = urlsplit(response.headers["location"])
        assert end_session.path == "/dev-idp/logout"
        assert parse_qs(end_session.query)["id_token_hint"]
        back = browser.get(response.headers["location"])
        assert back.status_code in (302, 303)
        returned = urlsplit(back.headers["location"])
        assert returned.path == "/auth/signed-out/dev"
        assert parse_qs(returned.query)["state"]
        landed = browser.get(back.headers["location"])
        assert landed.status_code == 303
        assert landed.headers["location"] == "/"  # a clean page: no `?state=…`
        home = browser.get("/")
        assert "サインアウトしました。" in home.text
        assert "サインアウトしました。" not in browser.get("/").text  # said once
        assert "kizuna_session" not in browser.cookies  # no state of the logout left behind
        assert_refused(graphql(browser), 401, "UNAUTHENTICATED")

    def test_a_return_from_logout_with_another_state_says_nothing(self, browser: httpx.Client, forms: Forms) -> None:
        """A stale or forged link to the post-logout URI: home, without "signed out"."""
        sign_in(browser, forms)
        origin = str(browser.base_url).rstrip("/")
        browser.get(browser.post("/auth/logout", headers={"origin": origin}).headers["location"])
        landed = browser.get("/auth/signed-out/dev", params={"state": "forged-state"})
        assert (landed.status_code, landed.headers["location"]) == (303, "/")
        assert "サインアウトしました。" not in browser.get("/").text
        for unknown in ("/auth/signed-out/dev", "/auth/signed-out/nowhere?state=x"):
            assert browser.get(unknown).headers["location"] == "/"


ENGLISH = {"accept-language": "en-US,en;q=0.9,ja;q=0.8"}


def assert_page(response: httpx.Response, status: int, language: str, *texts: str) -> None:
    assert response.status_code == status, response.text
    assert f'<html lang="{language}">' in response.text
    for text in texts:
        assert text in response.text


class TestLanguage:
    """Pages in Japanese by default, in English when the browser prefers English."""

    def test_home_signed_out(self, browser: httpx.Client) -> None:
        japanese = browser.get("/")
        assert_page(japanese, 200, "ja", ">サインイン<")
        assert "Sign in" not in japanese.text
        assert_page(browser.get("/", headers=ENGLISH), 200, "en", ">Sign in<")
        assert "Accept-Language" in japanese.headers["vary"]

    def test_home_signed_in(self, browser: httpx.Client, forms: Forms) -> None:
        # A welfare worker's `/` is the home page (a caseworker's is the inbox, in Japanese).
        sign_in(browser, forms, f"demo:welfare_worker:{SAITAMA_CITY}")
        japanese = browser.get("/")
        assert_page(japanese, 200, "ja", "福祉関係機関職員", "この団体で作業する", ">サインアウト<")
        assert "Sign out" not in japanese.text
        english = browser.get("/", headers=ENGLISH)
        assert_page(english, 200, "en", "welfare_worker", "Work in this municipality", ">Sign out<")
        assert "サインアウト" not in english.text

    def test_unknown_identity_provider(self, browser: httpx.Client) -> None:
        assert_page(browser.get("/auth/login/nowhere"), 404, "ja", "指定された認証サービスは登録されていません。")
        english = browser.get("/auth/login/nowhere", headers=ENGLISH)
        assert_page(english, 404, "en", "Unknown identity provider.")
        assert_page(browser.get("/auth/callback/nowhere", headers=ENGLISH), 404, "en", "Unknown identity provider.")

    @pytest.mark.parametrize(
        ("headers", "language", "texts"),
        [
            ({}, "ja", ("サインインできませんでした。", "もう一度サインインする")),
            ({"accept-language": "ja-JP,en;q=0.5"}, "ja", ("サインインできませんでした。",)),
            (ENGLISH, "en", ("Sign-in failed.", "Try again")),
        ],
    )
    def test_failed_sign_in(
        self, browser: httpx.Client, forms: Forms, headers: dict[str, str], language: str, texts: tuple[str, ...]
    ) -> None:
        callback = urlsplit(pick_user(browser, start_login(browser), forms, CASEWORKER))
        code = parse_qs(callback.query)["code"][0]
        response = browser.get("/auth/callback/dev", params={"code": code, "state": "forged"}, headers=headers)
        assert_page(response, 400, language, *texts)

    def test_refused_switch_and_cross_site_logout(self, browser: httpx.Client, forms: Forms) -> None:
        sign_in(browser, forms)
        origin = {"origin": str(browser.base_url).rstrip("/")}
        switch = {"municipality": KAWAGOE}
        japanese = browser.post("/auth/municipality", data=switch, headers=origin)
        assert_page(japanese, 403, "ja", "その団体を利用する権限がありません。")
        english = browser.post("/auth/municipality", data=switch, headers=origin | ENGLISH)
        assert_page(english, 403, "en", "No membership in that municipality.")
        evil = {"origin": "https://evil.example"}
        assert_page(
            browser.post("/auth/logout", headers=evil), 403, "ja", "ほかのサイトからの操作は受け付けられません。"
        )
        assert_page(browser.post("/auth/logout", headers=evil | ENGLISH), 403, "en", "Cross-site request refused.")


class TestAttacks:
    def test_a_copy_of_the_cookie_taken_before_logout_is_worthless(
        self, browser: httpx.Client, forms: Forms, server: Any
    ) -> None:
        sign_in(browser, forms)
        stolen = browser.cookies["kizuna_session"]
        browser.post("/auth/logout", headers={"origin": str(browser.base_url).rstrip("/")})
        with httpx.Client(base_url=server.url, timeout=30, cookies={"kizuna_session": stolen}) as thief:
            assert_refused(graphql(thief), 401, "UNAUTHENTICATED")
        # Signing in again works at once.
        sign_in(browser, forms)
        assert graphql(browser).status_code == 200

    def test_cross_site_cookie_post_is_refused(self, browser: httpx.Client, forms: Forms) -> None:
        sign_in(browser, forms)
        assert_refused(graphql(browser, origin="https://evil.example"), 403, "FORBIDDEN")

    def test_cookie_post_without_any_proof_of_origin_is_refused(self, browser: httpx.Client, forms: Forms) -> None:
        sign_in(browser, forms)
        assert_refused(browser.post("/graphql", json=QUERY), 403, "FORBIDDEN")
        assert browser.post("/graphql", json=QUERY, headers={"kizuna-csrf": "1"}).status_code == 200

    def test_cross_site_cookie_get_is_refused(self, browser: httpx.Client, forms: Forms) -> None:
        sign_in(browser, forms)
        response = browser.get(
            "/graphql", params={"query": "{ viewer { subject } }"}, headers={"sec-fetch-site": "cross-site"}
        )
        assert_refused(response, 403, "FORBIDDEN")

    def test_cross_site_logout_is_refused(self, browser: httpx.Client, forms: Forms) -> None:
        sign_in(browser, forms)
        assert browser.post("/auth/logout", headers={"origin": "https://evil.example"}).status_code == 403
        assert graphql(browser).status_code == 200

    def test_wrong_state_gives_no_session(self, browser: httpx.Client, forms: Forms) -> None:
        callback = urlsplit(pick_user(browser, start_login(browser), forms, CASEWORKER))
        code = parse_qs(callback.query)["code"][0]
        response = browser.get("/auth/callback/dev", params={"code": code, "state": "forged-state"})
        assert response.status_code == 400
        assert_refused(graphql(browser), 401, "UNAUTHENTICATED")

    def test_callback_without_a_login_started_in_this_browser(
        self, browser: httpx.Client, forms: Forms, server: Any
    ) -> None:
        """An attacker's own code and state, replayed into a victim's browser (login CSRF)."""
        callback = pick_user(browser, start_login(browser), forms, CASEWORKER)
        with httpx.Client(base_url=server.url, timeout=30, follow_redirects=False) as victim:
            assert victim.get(callback).status_code == 400
            assert_refused(graphql(victim), 401, "UNAUTHENTICATED")

    def test_replayed_authorization_code_is_refused(self, browser: httpx.Client, forms: Forms) -> None:
        first = urlsplit(pick_user(browser, start_login(browser), forms, CASEWORKER))
        assert browser.get(f"{first.path}?{first.query}").status_code == 303
        browser.cookies.clear()
        # A new login gives a fresh state in a fresh session; the old code goes with it.
        second = urlsplit(pick_user(browser, start_login(browser), forms, CASEWORKER))
        old_code = parse_qs(first.query)["code"][0]
        state = parse_qs(second.query)["state"][0]
        response = browser.get("/auth/callback/dev", params={"code": old_code, "state": state})
        assert response.status_code == 400
        assert_refused(graphql(browser), 401, "UNAUTHENTICATED")

    def test_tampered_session_cookie_is_ignored(self, browser: httpx.Client, forms: Forms) -> None:
        sign_in(browser, forms)
        value = browser.cookies["kizuna_session"]
        browser.cookies.clear()
        browser.cookies.set("kizuna_session", value[:-4] + ("AAAA" if not value.endswith("AAAA") else "BBBB"))
        assert_refused(graphql(browser), 401, "UNAUTHENTICATED")


class TestMunicipalitySwitch:
    def test_switch_to_a_municipality_without_membership_is_refused(self, browser: httpx.Client, forms: Forms) -> None:
        sign_in(browser, forms)
        origin = str(browser.base_url).rstrip("/")
        response = browser.post("/auth/municipality", data={"municipality": KAWAGOE}, headers={"origin": origin})
        assert response.status_code == 403
        assert graphql(browser).json()["data"]["viewer"]["municipality"]["code"] == SAITAMA_CITY

    def test_switch_to_an_own_municipality(self, browser: httpx.Client, forms: Forms) -> None:
        sign_in(browser, forms)
        origin = str(browser.base_url).rstrip("/")
        response = browser.post("/auth/municipality", data={"municipality": SAITAMA_CITY}, headers={"origin": origin})
        assert response.status_code == 303
        assert browser.get("/auth/session").json()["municipality"] == SAITAMA_CITY

    def test_a_platform_administrator_switches_to_any_municipality_of_the_prefecture(
        self, browser: httpx.Client, forms: Forms
    ) -> None:
        sign_in(browser, forms, "demo:platform_admin:110001")
        assert "川越市（112011）" in browser.get("/").text  # the switch offers every municipality
        origin = str(browser.base_url).rstrip("/")
        switched = browser.post("/auth/municipality", data={"municipality": KAWAGOE}, headers={"origin": origin})
        assert switched.status_code == 303
        query = {"query": "{ viewer { role municipality { code } } }"}
        viewer = browser.post("/graphql", json=query, headers={"origin": origin}).json()["data"]["viewer"]
        assert viewer == {"role": "PLATFORM_ADMIN", "municipality": {"code": KAWAGOE}}
        for elsewhere in ("392014", "119999"):  # another prefecture's city; no such municipality
            response = browser.post("/auth/municipality", data={"municipality": elsewhere}, headers={"origin": origin})
            assert response.status_code == 403

    def test_header_naming_another_municipality_is_refused(self, browser: httpx.Client, forms: Forms) -> None:
        sign_in(browser, forms)
        assert_refused(graphql(browser, **{"kizuna-municipality": KAWAGOE}), 403, "FORBIDDEN")
