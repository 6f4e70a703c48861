"""The development OpenID provider over HTTP, mounted at /dev-idp behind a real uvicorn:
discovery, the code flow with PKCE as authlib's own client drives it, client
credentials, logout, and the attacks each of its rules exists to refuse."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from authlib.integrations.httpx_client import AsyncOAuth2Client
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from starlette.applications import Starlette
from starlette.routing import Mount

from kizuna.auth.devidp import DevClient, DevUser, create_dev_provider

# Deliberately not the port the test server listens on: `iss` is configuration, not the URL.
ISSUER = "urn:kizuna:dev-idp"
AUDIENCE = "kizuna"
WEB_SECRET = "web-secret"
SYSTEM_SECRET = "system-secret"
CLI_CALLBACK = "http://127.0.0.1:53682/callback"
WEB = DevClient("kizuna-web", WEB_SECRET, ("/auth/callback/dev",), ("/",), ("authorization_code",), "openid profile")
CLI = DevClient("kizuna-cli", None, (CLI_CALLBACK,), (), ("authorization_code",), "openid profile")
SYSTEM = DevClient(
    "system-111007",
    SYSTEM_SECRET,
    (),
    (),
    ("client_credentials",),
    "municipality:111007",
    subject="demo:municipal_system:111007",
)
CASEWORKER = DevUser("demo:caseworker:111007", "さいたま市 ケースワーカー 山田 太郎", "さいたま市 · ケースワーカー")
USERS = (
    CASEWORKER,
    DevUser("demo:supervisor:111007", "さいたま市 スーパーバイザー 鈴木 一郎", "さいたま市 · スーパーバイザー"),
    DevUser("demo:caseworker:112011", "川越市 ケースワーカー 佐藤 花子", "川越市 · ケースワーカー"),
)


@dataclass(frozen=True)
class Provider:
    origin: str
    """Where the test server listens, e.g. http://127.0.0.1:40123."""

    @property
    def callback(self) -> str:
        return f"{self.origin}/auth/callback/dev"


@pytest.fixture(scope="module")
def key() -> RSAKey:
    return RSAKey.generate_key(2048, auto_kid=True, parameters={"alg": "RS256", "use": "sig"})


@pytest.fixture(scope="module")
def provider(key: RSAKey, serve: Any) -> Iterator[Provider]:
    """The provider mounted as Kizuna mounts it, under uvicorn on a loopback port."""
    idp = create_dev_provider(
        key=key, issuer=ISSUER, audience=AUDIENCE, users=USERS, clients=(WEB, CLI, SYSTEM), token_ttl_seconds=300
    )
    with serve(Starlette(routes=[Mount("/dev-idp", app=idp)])) as running:
        yield Provider(origin=running.url)


@pytest.fixture
async def browser(provider: Provider) -> AsyncIterator[httpx.AsyncClient]:
    """A user agent that shows redirects instead of following them."""
    async with httpx.AsyncClient(base_url=provider.origin, follow_redirects=False, timeout=30) as client:
        yield client


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def authorization_query(callback: str, verifier: str, /, **changes: str | None) -> dict[str, str]:
    """A valid authorization request for the web client; a change to None drops a parameter."""
    query: dict[str, str | None] = {
        "response_type": "code",
        "client_id": WEB.client_id,
        "redirect_uri": callback,
        "scope": "openid profile",
        "state": "state-123",
        "nonce": secrets.token_urlsafe(16),
        "code_challenge": s256(verifier),
        "code_challenge_method": "S256",
    }
    query.update(changes)
    return {name: value for name, value in query.items() if value is not None}


@dataclass
class SignInForm(HTMLParser):
    """The sign-in page's form, read as a browser submits it."""

    action: str = ""
    hidden: dict[str, str] = field(default_factory=dict)
    subjects: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.action = attributes["action"]
        elif tag == "input" and attributes.get("type") == "hidden":
            self.hidden[attributes["name"]] = attributes["value"]
        elif tag == "button" and attributes.get("name") == "subject":
            self.subjects.append(attributes["value"])


async def sign_in_page(browser: httpx.AsyncClient, url: str, params: dict[str, str] | None = None) -> SignInForm:
    page = await browser.get(url, params=params)
    assert page.status_code == 200, page.text
    form = SignInForm()
    form.feed(page.text)
    return form


async def sign_in(browser: httpx.AsyncClient, url: str, subject: str, params: dict[str, str] | None = None) -> str:
    """The Location the provider answers the chosen subject with."""
    form = await sign_in_page(browser, url, params)
    answer = await browser.post(form.action, data=form.hidden | {"subject": subject})
    assert answer.status_code == 302, answer.text
    return answer.headers["location"]


def query_of(location: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}


async def code_for(browser: httpx.AsyncClient, provider: Provider, verifier: str) -> str:
    location = await sign_in(
        browser, "/dev-idp/authorize", CASEWORKER.subject, authorization_query(provider.callback, verifier)
    )
    return query_of(location)["code"]


async def redeem(
    browser: httpx.AsyncClient, provider: Provider, code: str, verifier: str, secret: str = WEB_SECRET
) -> httpx.Response:
    return await browser.post(
        "/dev-idp/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": provider.callback,
            "code_verifier": verifier,
        },
        auth=(WEB.client_id, secret),
    )


async def decode(browser: httpx.AsyncClient, token: str) -> jwt.Token:
    """The token verified against the provider's published JWKS."""
    keys = KeySet.import_key_set((await browser.get("/dev-idp/jwks.json")).json())
    return jwt.decode(token, keys, algorithms=["RS256"])


def at_hash(access_token: str) -> str:
    digest = hashlib.sha256(access_token.encode()).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()


class TestDiscovery:
    async def test_discovery_names_the_configured_issuer_and_endpoints_where_the_provider_is_mounted(
        self, browser: httpx.AsyncClient, provider: Provider
    ) -> None:
        answer = await browser.get("/dev-idp/.well-known/openid-configuration")
        document = answer.json()
        base = f"{provider.origin}/dev-idp"
        assert document["issuer"] == ISSUER
        assert document["authorization_endpoint"] == f"{base}/authorize"
        assert document["token_endpoint"] == f"{base}/token"
        assert document["jwks_uri"] == f"{base}/jwks.json"
        assert document["end_session_endpoint"] == f"{base}/logout"
        assert document["response_types_supported"] == ["code"]
        assert document["grant_types_supported"] == ["authorization_code", "client_credentials"]
        assert document["code_challenge_methods_supported"] == ["S256"]
        assert document["id_token_signing_alg_values_supported"] == ["RS256"]
        assert set(document["token_endpoint_auth_methods_supported"]) == {
            "client_secret_basic",
            "client_secret_post",
            "none",
        }
        assert document["scopes_supported"] == ["municipality:111007", "openid", "profile"]
        assert document["subject_types_supported"] == ["public"]
        assert {"sub", "nonce", "name", "auth_time"} <= set(document["claims_supported"])

    async def test_jwks_publishes_the_public_key_only(self, browser: httpx.AsyncClient, key: RSAKey) -> None:
        (published,) = (await browser.get("/dev-idp/jwks.json")).json()["keys"]
        assert published["kid"] == key.kid
        assert "d" not in published


class TestCodeFlow:
    async def test_web_client_with_pkce_gets_a_verified_id_token_and_access_token(
        self, browser: httpx.AsyncClient, provider: Provider, key: RSAKey
    ) -> None:
        verifier, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(16)
        async with AsyncOAuth2Client(
            client_id=WEB.client_id,
            client_secret=WEB_SECRET,
            scope="openid profile",
            redirect_uri=provider.callback,
            code_challenge_method="S256",
        ) as client:
            url, state = client.create_authorization_url(
                f"{provider.origin}/dev-idp/authorize", code_verifier=verifier, nonce=nonce
            )
            location = await sign_in(browser, url, CASEWORKER.subject)
            assert location.startswith(f"{provider.callback}?")
            token = await client.fetch_token(
                f"{provider.origin}/dev-idp/token", authorization_response=location, state=state, code_verifier=verifier
            )
        assert "refresh_token" not in token
        id_token = await decode(browser, token["id_token"])
        assert id_token.header["kid"] == key.kid
        jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": ISSUER},
            aud={"essential": True, "value": WEB.client_id},
            sub={"essential": True, "value": CASEWORKER.subject},
            nonce={"essential": True, "value": nonce},
            exp={"essential": True},
            auth_time={"essential": True},
        ).validate(id_token.claims)
        assert id_token.claims["name"] == CASEWORKER.display_name
        assert id_token.claims["at_hash"] == at_hash(token["access_token"])
        access = await decode(browser, token["access_token"])
        assert access.header["typ"] == "at+jwt"
        jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": ISSUER},
            aud={"essential": True, "value": AUDIENCE},
            sub={"essential": True, "value": CASEWORKER.subject},
            scope={"essential": True, "value": "openid profile"},
            client_id={"essential": True, "value": WEB.client_id},
            nbf={"essential": True},
            jti={"essential": True},
        ).validate(access.claims)

    async def test_public_client_redeems_its_code_with_the_verifier_alone(
        self, browser: httpx.AsyncClient, provider: Provider
    ) -> None:
        verifier = secrets.token_urlsafe(48)
        async with AsyncOAuth2Client(
            client_id=CLI.client_id,
            token_endpoint_auth_method="none",
            scope="openid",
            redirect_uri=CLI_CALLBACK,
            code_challenge_method="S256",
        ) as client:
            url, state = client.create_authorization_url(
                f"{provider.origin}/dev-idp/authorize", code_verifier=verifier, nonce="n-1"
            )
            location = await sign_in(browser, url, USERS[2].subject)
            token = await client.fetch_token(
                f"{provider.origin}/dev-idp/token", authorization_response=location, state=state, code_verifier=verifier
            )
        assert (await decode(browser, token["id_token"])).claims["sub"] == USERS[2].subject

    async def test_sign_in_page_lists_every_user_escapes_the_request_and_forbids_framing_and_scripts(
        self, browser: httpx.AsyncClient, provider: Provider
    ) -> None:
        state = '"><script>alert(1)</script>'
        query = authorization_query(provider.callback, secrets.token_urlsafe(48), state=state)
        page = await browser.get("/dev-idp/authorize", params=query)
        assert "<script>" not in page.text
        assert page.headers["x-frame-options"] == "DENY"
        assert page.headers["cache-control"] == "no-store"
        policy = page.headers["content-security-policy"]
        assert "default-src 'none'" in policy
        assert "frame-ancestors 'none'" in policy
        form = SignInForm()
        form.feed(page.text)
        assert form.subjects == [user.subject for user in USERS]
        assert form.hidden == query


class TestTokenEndpointRefuses:
    async def test_replayed_code_is_invalid_grant(self, browser: httpx.AsyncClient, provider: Provider) -> None:
        verifier = secrets.token_urlsafe(48)
        code = await code_for(browser, provider, verifier)
        first = await redeem(browser, provider, code, verifier)
        assert first.status_code == 200
        assert first.headers["cache-control"] == "no-store"
        replay = await redeem(browser, provider, code, verifier)
        assert replay.status_code == 400
        assert replay.json()["error"] == "invalid_grant"

    async def test_wrong_code_verifier_is_invalid_grant_and_spends_the_code(
        self, browser: httpx.AsyncClient, provider: Provider
    ) -> None:
        verifier = secrets.token_urlsafe(48)
        code = await code_for(browser, provider, verifier)
        wrong = await redeem(browser, provider, code, secrets.token_urlsafe(48))
        assert wrong.json()["error"] == "invalid_grant"
        retry = await redeem(browser, provider, code, verifier)
        assert retry.json()["error"] == "invalid_grant"

    async def test_wrong_client_secret_is_invalid_client(self, browser: httpx.AsyncClient, provider: Provider) -> None:
        verifier = secrets.token_urlsafe(48)
        code = await code_for(browser, provider, verifier)
        answer = await redeem(browser, provider, code, verifier, secret="guessed")
        assert answer.status_code == 401
        assert answer.json()["error"] == "invalid_client"
        assert "access_token" not in answer.json()

    async def test_code_of_another_client_is_invalid_grant(
        self, browser: httpx.AsyncClient, provider: Provider
    ) -> None:
        verifier = secrets.token_urlsafe(48)
        code = await code_for(browser, provider, verifier)
        answer = await browser.post(
            "/dev-idp/token",
            data={
                "grant_type": "authorization_code",
                "client_id": CLI.client_id,
                "code": code,
                "redirect_uri": provider.callback,
                "code_verifier": verifier,
            },
        )
        assert answer.json()["error"] == "invalid_grant"


class TestAuthorizeRefuses:
    @pytest.mark.parametrize(
        ("changes", "error"),
        [
            ({"code_challenge": None, "code_challenge_method": None}, "invalid_request"),
            ({"code_challenge_method": "plain"}, "invalid_request"),
            ({"code_challenge_method": None}, "invalid_request"),
            ({"nonce": None}, "invalid_request"),
            ({"scope": "profile"}, "invalid_scope"),
            ({"scope": "openid municipality:111007"}, "invalid_scope"),
            ({"response_type": "token"}, "unsupported_response_type"),
        ],
        ids=["no-pkce", "plain-pkce", "no-pkce-method", "no-nonce", "no-openid", "foreign-scope", "implicit"],
    )
    async def test_invalid_request_is_sent_back_to_the_client_with_an_error_and_no_code(
        self, browser: httpx.AsyncClient, provider: Provider, changes: dict[str, str | None], error: str
    ) -> None:
        query = authorization_query(provider.callback, secrets.token_urlsafe(48), **changes)
        answer = await browser.get("/dev-idp/authorize", params=query)
        assert answer.status_code == 302
        assert answer.headers["location"].startswith(f"{provider.callback}?")
        returned = query_of(answer.headers["location"])
        assert returned["error"] == error
        assert returned["state"] == "state-123"
        assert "code" not in returned

    @pytest.mark.parametrize(
        "changes",
        [
            {"redirect_uri": "https://evil.example/callback"},
            {"redirect_uri": "http://127.0.0.1:1/auth/callback/dev"},
            {"redirect_uri": 'https://evil.example/"callback'},
            {"redirect_uri": None},
            {"client_id": "nobody"},
            {"client_id": None},
            {"response_type": 'c"ode'},
        ],
        ids=["foreign-uri", "other-origin", "quote-in-uri", "no-uri", "unknown-client", "no-client", "quote-in-type"],
    )
    async def test_unregistered_client_or_redirect_uri_gets_an_error_page_not_a_redirect(
        self, browser: httpx.AsyncClient, provider: Provider, changes: dict[str, str | None]
    ) -> None:
        query = authorization_query(provider.callback, secrets.token_urlsafe(48), **changes)
        for answer in (
            await browser.get("/dev-idp/authorize", params=query),
            await browser.post("/dev-idp/authorize", data=query | {"subject": CASEWORKER.subject}),
        ):
            assert answer.status_code == 400
            assert "location" not in answer.headers
            assert answer.headers["content-type"].startswith("text/html")

    async def test_subject_that_is_not_a_dev_user_gets_no_code(
        self, browser: httpx.AsyncClient, provider: Provider
    ) -> None:
        form = await sign_in_page(
            browser, "/dev-idp/authorize", authorization_query(provider.callback, secrets.token_urlsafe(48))
        )
        answer = await browser.post(form.action, data=form.hidden | {"subject": "demo:platform_admin:000000"})
        assert answer.status_code == 400
        assert "location" not in answer.headers


class TestClientCredentials:
    async def test_system_client_gets_a_token_for_its_subject_and_scope(
        self, browser: httpx.AsyncClient, provider: Provider
    ) -> None:
        async with AsyncOAuth2Client(
            client_id=SYSTEM.client_id,
            client_secret=SYSTEM_SECRET,
            scope="municipality:111007",
            token_endpoint_auth_method="client_secret_post",
        ) as client:
            token = await client.fetch_token(f"{provider.origin}/dev-idp/token", grant_type="client_credentials")
        claims = (await decode(browser, token["access_token"])).claims
        assert claims["sub"] == SYSTEM.subject
        assert claims["aud"] == AUDIENCE
        assert claims["scope"] == "municipality:111007"
        assert claims["client_id"] == SYSTEM.client_id
        assert "id_token" not in token

    @pytest.mark.parametrize("scope", ["municipality:112011", "municipality:111007 openid"])
    async def test_scope_beyond_the_clients_is_invalid_scope(self, browser: httpx.AsyncClient, scope: str) -> None:
        answer = await browser.post(
            "/dev-idp/token",
            data={"grant_type": "client_credentials", "scope": scope},
            auth=(SYSTEM.client_id, SYSTEM_SECRET),
        )
        assert answer.status_code == 400
        assert answer.json()["error"] == "invalid_scope"

    @pytest.mark.parametrize(
        ("auth", "data"),
        [
            ((SYSTEM.client_id, "guessed"), {}),
            (None, {"client_id": SYSTEM.client_id, "client_secret": "guessed"}),
            (None, {"client_id": SYSTEM.client_id}),
            ((WEB.client_id, WEB_SECRET), {}),
        ],
        ids=["basic-wrong-secret", "post-wrong-secret", "no-secret", "code-flow-client"],
    )
    async def test_client_without_valid_credentials_for_the_grant_gets_no_token(
        self, browser: httpx.AsyncClient, auth: tuple[str, str] | None, data: dict[str, str]
    ) -> None:
        answer = await browser.post(
            "/dev-idp/token", data={"grant_type": "client_credentials"} | data, auth=auth or httpx.USE_CLIENT_DEFAULT
        )
        assert answer.status_code in {400, 401}
        assert answer.json()["error"] in {"invalid_client", "unauthorized_client"}
        assert "access_token" not in answer.json()


class TestLogout:
    async def test_registered_uri_named_by_client_id_is_redirected_to_with_the_state(
        self, browser: httpx.AsyncClient, provider: Provider
    ) -> None:
        answer = await browser.get(
            "/dev-idp/logout",
            params={"client_id": WEB.client_id, "post_logout_redirect_uri": f"{provider.origin}/", "state": "s-9"},
        )
        assert answer.status_code == 302
        assert answer.headers["location"] == f"{provider.origin}/?state=s-9"

    async def test_id_token_hint_identifies_the_client(self, browser: httpx.AsyncClient, provider: Provider) -> None:
        verifier = secrets.token_urlsafe(48)
        token = (await redeem(browser, provider, await code_for(browser, provider, verifier), verifier)).json()
        answer = await browser.get(
            "/dev-idp/logout",
            params={"id_token_hint": token["id_token"], "post_logout_redirect_uri": f"{provider.origin}/"},
        )
        assert answer.status_code == 302
        assert answer.headers["location"] == f"{provider.origin}/"

    @pytest.mark.parametrize(
        "params",
        [
            {"client_id": WEB.client_id, "post_logout_redirect_uri": "https://evil.example/"},
            {"client_id": WEB.client_id, "post_logout_redirect_uri": "http://127.0.0.1:1/"},
            {"client_id": "nobody", "post_logout_redirect_uri": "https://evil.example/"},
            {"post_logout_redirect_uri": "https://evil.example/"},
            {"id_token_hint": "not.a.token", "post_logout_redirect_uri": "https://evil.example/"},
        ],
        ids=["foreign-uri", "other-origin", "unknown-client", "no-client", "bad-hint"],
    )
    async def test_unregistered_uri_gets_the_signed_out_page_not_a_redirect(
        self, browser: httpx.AsyncClient, params: dict[str, str]
    ) -> None:
        answer = await browser.get("/dev-idp/logout", params=params)
        assert answer.status_code == 200
        assert "location" not in answer.headers
        assert "サインアウトしました" in answer.text

    @pytest.mark.parametrize("kid", ["forger", 'a"b'])
    async def test_id_token_hint_signed_by_another_key_redirects_nowhere(
        self, browser: httpx.AsyncClient, provider: Provider, kid: str
    ) -> None:
        forger = RSAKey.generate_key(2048)
        claims: dict[str, Any] = {"iss": ISSUER, "aud": WEB.client_id, "sub": CASEWORKER.subject, "exp": 2**31}
        forged = jwt.encode({"alg": "RS256", "kid": kid}, claims, forger)
        answer = await browser.get(
            "/dev-idp/logout", params={"id_token_hint": forged, "post_logout_redirect_uri": f"{provider.origin}/"}
        )
        assert answer.status_code == 200
        assert "location" not in answer.headers


class TestPagesSpeakTheBrowsersLanguage:
    """Japanese by default, English when the browser prefers it; OAuth error codes alike."""

    ENGLISH: ClassVar[dict[str, str]] = {"accept-language": "en-GB,en;q=0.9"}

    async def test_sign_in_page(self, browser: httpx.AsyncClient, provider: Provider) -> None:
        query = authorization_query(provider.callback, secrets.token_urlsafe(48))
        japanese = await browser.get("/dev-idp/authorize", params=query)
        assert '<html lang="ja">' in japanese.text
        assert "<h1>開発用サインイン</h1>" in japanese.text
        assert "サインインする利用者を選んでください。" in japanese.text
        assert "Development" not in japanese.text
        english = await browser.get("/dev-idp/authorize", params=query, headers=self.ENGLISH)
        assert '<html lang="en">' in english.text
        assert "<h1>Development sign-in</h1>" in english.text
        assert "開発用サインイン" not in english.text
        assert english.headers["vary"] == "Accept-Language"

    async def test_error_page_for_an_unknown_client(self, browser: httpx.AsyncClient, provider: Provider) -> None:
        query = authorization_query(provider.callback, secrets.token_urlsafe(48), client_id="nobody")
        japanese = await browser.get("/dev-idp/authorize", params=query)
        english = await browser.get("/dev-idp/authorize", params=query, headers=self.ENGLISH)
        assert (japanese.status_code, english.status_code) == (400, 400)
        assert "認可リクエストが正しくありません。" in japanese.text
        assert "The authorization request is invalid" in english.text
        assert "<code>invalid_client</code>" in japanese.text
        assert "<code>invalid_client</code>" in english.text

    async def test_error_page_for_a_subject_that_is_not_a_dev_user(
        self, browser: httpx.AsyncClient, provider: Provider
    ) -> None:
        form = await sign_in_page(
            browser, "/dev-idp/authorize", authorization_query(provider.callback, secrets.token_urlsafe(48))
        )
        data = form.hidden | {"subject": "demo:nobody"}
        japanese = await browser.post(form.action, data=data)
        assert "<code>unknown_user</code>: 選ばれた利用者は開発用の利用者ではありません。" in japanese.text
        english = await browser.post(form.action, data=data, headers=self.ENGLISH)
        assert "<code>unknown_user</code>: The chosen subject is not a development user." in english.text

    async def test_signed_out_page(self, browser: httpx.AsyncClient) -> None:
        japanese = await browser.get("/dev-idp/logout")
        assert "<h1>サインアウトしました</h1>" in japanese.text
        english = await browser.get("/dev-idp/logout", headers=self.ENGLISH)
        assert '<html lang="en">' in english.text
        assert "<h1>Signed out</h1>" in english.text


class TestConfiguration:
    @pytest.mark.parametrize(
        "client",
        [
            DevClient("open", None, (), (), ("client_credentials",), "municipality:111007"),
            DevClient(AUDIENCE, "s", ("/cb",), (), ("authorization_code",), "openid"),
            DevClient("implicit", "s", ("/cb",), (), ("implicit",), "openid"),
            DevClient("relative", "s", ("cb",), (), ("authorization_code",), "openid"),
            DevClient("scheme-relative", "s", ("//evil.example/cb",), (), ("authorization_code",), "openid"),
            DevClient("script", "s", ("javascript:alert(1)",), (), ("authorization_code",), "openid"),
            DevClient("policy", "s", ("https://a.example;script-src/cb",), (), ("authorization_code",), "openid"),
        ],
        ids=[
            "public-client-credentials",
            "named-like-audience",
            "implicit",
            "relative",
            "scheme-relative",
            "js",
            "csp",
        ],
    )
    def test_client_the_provider_cannot_serve_safely_is_refused(self, key: RSAKey, client: DevClient) -> None:
        with pytest.raises(ValueError, match=client.client_id):
            create_dev_provider(
                key=key, issuer=ISSUER, audience=AUDIENCE, users=USERS, clients=(client,), token_ttl_seconds=60
            )
