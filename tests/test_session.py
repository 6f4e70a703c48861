"""The browser session's rules: idle and absolute timeouts, and the cookie's attributes
outside development."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request

from kizuna.auth import session
from kizuna.auth.identity import Identity
from kizuna.auth.issuers import Assertion, load_issuers
from kizuna.platform.app import create_app
from kizuna.platform.settings import Settings

IDLE, ABSOLUTE = 1800, 28800
STAFF_IDP = {
    "KIZUNA_IDPS": "staff",
    "KIZUNA_IDP_STAFF_DISCOVERY_URL": "https://idp.example/.well-known/openid-configuration",
    "KIZUNA_IDP_STAFF_CLIENT_ID": "kizuna",
    "KIZUNA_IDP_STAFF_AUDIENCE": "kizuna",
    "KIZUNA_IDP_STAFF_ROLES": "caseworker",
}


def signed_in(*, at: float, seen: float) -> Request:
    request = Request({"type": "http", "method": "GET", "headers": [], "session": {}})
    session.sign_in(
        request,
        Identity("https://idp.example/", "someone", Assertion()),
        issuer_name="staff",
        id_token=None,
        session_epoch=0,
    )
    request.session["signed_in"] |= {"at": int(at), "seen": int(seen)}
    return request


def identity(request: Request) -> Identity | None:
    return session.session_identity(request, idle_seconds=IDLE, absolute_seconds=ABSOLUTE)


def test_a_live_session_is_used_and_its_last_use_renewed() -> None:
    now = time.time()
    request = signed_in(at=now - 3600, seen=now - 60)
    found = identity(request)
    assert found is not None
    assert found.subject == "someone"
    assert request.session["signed_in"]["seen"] >= int(now)


@pytest.mark.parametrize(
    ("at", "seen"),
    [(-ABSOLUTE - 1, -10), (-600, -IDLE - 1)],
    ids=["past the absolute timeout though in use", "idle too long"],
)
def test_an_expired_session_is_ended(at: int, seen: int) -> None:
    now = time.time()
    request = signed_in(at=now + at, seen=now + seen)
    assert identity(request) is None
    assert request.session == {}


def test_sign_in_drops_whatever_the_session_held_before() -> None:
    """A session an attacker planted before sign-in (fixation) keeps nothing of theirs."""
    request = Request({"type": "http", "method": "GET", "headers": [], "session": {"municipality": "112011"}})
    session.sign_in(
        request,
        Identity("https://idp.example/", "victim", Assertion()),
        issuer_name="staff",
        id_token=None,
        session_epoch=0,
    )
    assert session.chosen_municipality(request) is None


def test_outside_development_the_cookie_is_secure(tmp_path: Any) -> None:
    production = Settings.from_env(
        {
            "KIZUNA_DATA_DIR": str(tmp_path),
            "KIZUNA_ENV": "production",
            "KIZUNA_SESSION_SECRET": "s" * 48,
        }
        | STAFF_IDP
    )
    app = create_app(production, "postgresql://unused", issuers=load_issuers(None, production.environ))
    (middleware,) = [m for m in app.user_middleware if m.cls is SessionMiddleware]  # type: ignore[comparison-overlap]
    assert middleware.kwargs["https_only"] is True
    assert middleware.kwargs["same_site"] == "lax"
    assert middleware.kwargs["max_age"] == production.session_idle_seconds
    assert middleware.kwargs["session_cookie"] == "__Host-kizuna_session"


@pytest.mark.parametrize("secret", [None, "short"], ids=["none", "too short"])
def test_production_needs_a_shared_session_secret(tmp_path: Any, secret: str | None) -> None:
    environ = {"KIZUNA_DATA_DIR": str(tmp_path), "KIZUNA_ENV": "production"}
    environ |= {} if secret is None else {"KIZUNA_SESSION_SECRET": secret}
    production = Settings.from_env(environ)
    with pytest.raises(ValueError, match="KIZUNA_SESSION_SECRET"):
        create_app(production, "postgresql://unused", issuers=load_issuers(None, STAFF_IDP))


def test_production_without_an_identity_provider_refuses_to_start(tmp_path: Any) -> None:
    production = Settings.from_env({"KIZUNA_DATA_DIR": str(tmp_path), "KIZUNA_ENV": "production"})
    with pytest.raises(ValueError, match="identity provider"):
        create_app(production, "postgresql://unused")


def test_an_unreachable_identity_provider_is_a_page_not_a_crash(
    tmp_path: Any, urls: Any, serve: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Its discovery fails at start-up: Kizuna still starts, says so on sign-in (in the
    browser's language), and a token naming an unknown issuer is simply refused."""
    environ = {"KIZUNA_DATA_DIR": str(tmp_path), "KIZUNA_IDPS": "down,away"}
    for name, label in (("DOWN", "県職員"), ("AWAY", "学校")):
        environ |= {
            # Port 9 (discard) on loopback: nothing listens, the connection is refused.
            f"KIZUNA_IDP_{name}_DISCOVERY_URL": "http://127.0.0.1:9/.well-known/openid-configuration",
            f"KIZUNA_IDP_{name}_CLIENT_ID": "kizuna",
            f"KIZUNA_IDP_{name}_AUDIENCE": "kizuna",
            f"KIZUNA_IDP_{name}_ROLES": "caseworker",
            f"KIZUNA_IDP_{name}_LABEL": label,
        }
    configured = Settings.from_env(environ)
    english = {"accept-language": "en"}
    app = create_app(configured, urls.app, issuers=load_issuers(None, configured.environ))
    with serve(app) as running, httpx.Client(base_url=running.url, follow_redirects=False) as client:
        chooser = client.get("/auth/login")
        assert chooser.status_code == 200
        assert '<html lang="ja">' in chooser.text
        assert "サインインに使うアカウントを選んでください。" in chooser.text
        assert '<a href="/auth/login/down">県職員</a>' in chooser.text
        assert "Choose the account to sign in with." in client.get("/auth/login", headers=english).text
        page = client.get("/auth/login/down")
        assert page.status_code == 502
        assert "認証サービスに接続できません。" in page.text
        page = client.get("/auth/login/down", headers=english)
        assert page.status_code == 502
        assert '<html lang="en">' in page.text
        assert "cannot be reached" in page.text
        assert client.get("/auth/login/elsewhere").status_code == 404
        assert client.get("/healthz").status_code == 200
        refused = client.post(
            "/graphql", json={"query": "{ viewer { role } }"}, headers={"authorization": "Bearer x.y.z"}
        )
        assert refused.status_code == 401
    assert "discovery at http://127.0.0.1:9/" in caplog.text


def test_a_session_without_its_sign_out_count_is_no_session() -> None:
    """A cookie made before sessions carried the count (or forged without one) is refused."""
    now = time.time()
    request = signed_in(at=now, seen=now)
    del request.session["signed_in"]["epoch"]
    assert identity(request) is None


class TestTimeoutsOverHTTP:
    """Both timeouts on a real server, with a session that keeps being used: 2 s idle, 4 s
    absolute. Activity must keep the session past the idle period (the cookie is re-issued
    as it is used), and must not keep it past the absolute one."""

    @pytest.fixture
    def browser(self, data_dir: Any, urls: Any, signing_key: Any, serve: Any, forms: Any) -> Any:
        short = Settings.from_env(
            {"KIZUNA_DATA_DIR": str(data_dir), "KIZUNA_SESSION_IDLE": "2", "KIZUNA_SESSION_MAX": "4"}
        )
        app = create_app(short, urls.app, dev_key=signing_key)
        with serve(app) as running, httpx.Client(base_url=running.url, follow_redirects=False) as client:
            page = client.get("/auth/login")
            while page.status_code in (302, 303, 307):
                page = client.get(page.headers["location"])
            (form,) = forms(page.text)
            chosen = client.post(
                str(page.url.join(form["action"])), data=form["fields"] | {"subject": "demo:caseworker:111007"}
            )
            assert client.get(chosen.headers["location"]).status_code == 303
            yield client

    def ask(self, browser: httpx.Client) -> int:
        return browser.post("/graphql", json={"query": "{ viewer { role } }"}, headers={"kizuna-csrf": "1"}).status_code

    def test_use_keeps_the_session_past_the_idle_timeout_but_not_past_the_absolute_one(
        self, browser: httpx.Client
    ) -> None:
        started = time.monotonic()
        while time.monotonic() - started < 3.2:  # past the idle timeout, in use every 0.8 s
            assert self.ask(browser) == 200
            time.sleep(0.8)
        while time.monotonic() - started < 5.2:
            time.sleep(0.8)
            if self.ask(browser) == 401:
                break
        else:
            pytest.fail("the session outlived its absolute timeout")

    def test_an_idle_session_ends(self, browser: httpx.Client) -> None:
        assert self.ask(browser) == 200
        time.sleep(3.1)
        assert self.ask(browser) == 401
