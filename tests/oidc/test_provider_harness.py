"""The OIDC test harness itself, against the real running provider (panva's oidc-provider).

Discovery, client-credentials JWTs verified against the provider's JWKS, the scope allow-list
of the machine clients, and a whole authorization-code + PKCE run driven by authlib's own
client through the provider's real login and consent forms.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import pytest
from authlib.common.security import generate_token  # type: ignore[import-untyped, unused-ignore]
from authlib.integrations.base_client import OAuthError  # type: ignore[import-untyped, unused-ignore]
from joserfc import jwt
from joserfc.jwk import KeySet

if TYPE_CHECKING:
    from kizuna.tests.oidc.conftest import PanvaProvider

# authlib 1.9.10 warns, once, when its httpx integration is imported without the `httpx2`
# package installed ("The httpx module is deprecated; please use httpx2 instead."). That one
# warning is dropped here; any other raised while importing is passed on (and, as configured
# for the suite, fails it).
with warnings.catch_warnings(record=True) as _caught:
    warnings.simplefilter("always")
    from authlib.integrations.httpx_client import OAuth2Client  # type: ignore[import-untyped, unused-ignore]
for _warning in _caught:
    if not str(_warning.message).startswith("The httpx module is deprecated"):
        warnings.warn_explicit(_warning.message, _warning.category, _warning.filename, _warning.lineno)

PROVIDER_DIR = Path(__file__).resolve().parent.parent / "oidc_provider"
API = "urn:kizuna:api"
WEB_CLIENT = ("kizuna-web", "kizuna-web-secret")
CompleteLogin = Callable[[httpx.Client, str, str], str]
CompleteLogout = Callable[[httpx.Client, str], str]
ClientCredentialsToken = Callable[[str, str, str], str]


@pytest.fixture(scope="module")
def keys(panva_metadata: dict[str, Any]) -> KeySet:
    response = httpx.get(panva_metadata["jwks_uri"], timeout=10)
    response.raise_for_status()
    return KeySet.import_key_set(response.json())


def verified(token: str, keys: KeySet, *, issuer: str, audience: str) -> jwt.Token:
    """The token, once its RS256 signature, `iss`, `aud`, `exp` and `iat` are checked."""
    decoded = jwt.decode(token, keys, algorithms=["RS256"])
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": audience},
        exp={"essential": True},
        iat={"essential": True},
    ).validate(decoded.claims)
    return decoded


def test_discovery_document(panva: PanvaProvider, panva_metadata: dict[str, Any]) -> None:
    assert panva.issuer.startswith("http://127.0.0.1:")
    assert panva_metadata["issuer"] == panva.issuer
    for endpoint in ("authorization_endpoint", "token_endpoint", "jwks_uri", "end_session_endpoint"):
        assert panva_metadata[endpoint].startswith(panva.issuer + "/"), endpoint
    assert panva_metadata["code_challenge_methods_supported"] == ["S256"]
    assert panva_metadata["response_types_supported"] == ["code"]
    assert "client_credentials" in panva_metadata["grant_types_supported"]
    assert "RS256" in panva_metadata["id_token_signing_alg_values_supported"]
    assert "userinfo_endpoint" not in panva_metadata  # every access token is for Kizuna's API


@pytest.mark.parametrize("municipality", ["111007", "112011"])
def test_client_credentials_token_is_an_rs256_jwt_for_the_api(
    municipality: str, panva: PanvaProvider, client_credentials_token: ClientCredentialsToken, keys: KeySet
) -> None:
    client_id = f"kizuna-system-{municipality}"
    token = client_credentials_token(client_id, f"{client_id}-secret", f"municipality:{municipality}")

    decoded = verified(token, keys, issuer=panva.issuer, audience=API)
    assert decoded.claims["client_id"] == client_id
    assert decoded.claims["sub"] == client_id
    assert decoded.header["alg"] == "RS256"
    assert decoded.header["typ"] == "at+jwt"
    assert decoded.header["kid"] in {key.kid for key in keys}
    assert decoded.claims["scope"].split() == [f"municipality:{municipality}"]


def test_a_machine_client_is_refused_another_municipality(client_credentials_token: ClientCredentialsToken) -> None:
    with pytest.raises(httpx.HTTPStatusError) as refused:
        client_credentials_token("kizuna-system-111007", "kizuna-system-111007-secret", "municipality:112011")
    assert refused.value.response.status_code == 400
    assert refused.value.response.json()["error"] == "invalid_scope"


def test_a_wrong_client_secret_is_refused(client_credentials_token: ClientCredentialsToken) -> None:
    with pytest.raises(httpx.HTTPStatusError) as refused:
        client_credentials_token("kizuna-system-111007", "not-the-secret", "municipality:111007")
    assert refused.value.response.status_code == 401
    assert refused.value.response.json()["error"] == "invalid_client"


def test_authorization_code_with_pkce_through_the_real_forms(
    panva: PanvaProvider,
    panva_metadata: dict[str, Any],
    kizuna_oidc_port: int,
    complete_login: CompleteLogin,
    keys: KeySet,
) -> None:
    redirect_uri = f"http://127.0.0.1:{kizuna_oidc_port}/auth/callback/panva"
    login = "carer-support-worker-1"
    nonce = generate_token(24)
    code_verifier = generate_token(64)
    with OAuth2Client(
        client_id=WEB_CLIENT[0],
        client_secret=WEB_CLIENT[1],
        token_endpoint_auth_method="client_secret_basic",
        scope="openid profile",
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        timeout=10,
    ) as oauth:
        authorize_url, state = oauth.create_authorization_url(
            panva_metadata["authorization_endpoint"], code_verifier=code_verifier, nonce=nonce
        )
        assert "code_challenge_method=S256" in authorize_url
        with httpx.Client(timeout=10) as browser:
            callback = complete_login(browser, authorize_url, login)
            # The provider's cookies are its own, and work over plain http.
            assert {"panva_session", "panva_session.sig"} <= {cookie.name for cookie in browser.cookies.jar}

        assert callback.startswith(redirect_uri + "?")
        answer = {name: values[0] for name, values in parse_qs(urlsplit(callback).query).items()}
        assert answer["state"] == state
        assert answer["iss"] == panva.issuer
        assert "code" in answer

        tokens = oauth.fetch_token(
            panva_metadata["token_endpoint"], authorization_response=callback, state=state, code_verifier=code_verifier
        )

        id_token = verified(tokens["id_token"], keys, issuer=panva.issuer, audience=WEB_CLIENT[0])
        assert id_token.claims["sub"] == login
        assert id_token.claims["nonce"] == nonce
        assert id_token.claims["name"] == f"テスト 利用者 {login}"
        access_token = verified(tokens["access_token"], keys, issuer=panva.issuer, audience=API)
        assert access_token.claims["sub"] == login
        assert access_token.header["typ"] == "at+jwt"
        assert access_token.claims["client_id"] == WEB_CLIENT[0]
        assert "refresh_token" not in tokens

        with pytest.raises(OAuthError) as refused:
            oauth.fetch_token(
                panva_metadata["token_endpoint"],
                authorization_response=callback,
                state=state,
                code_verifier=code_verifier,
            )
        assert refused.value.error == "invalid_grant"


def test_an_authorization_request_without_pkce_is_refused(
    panva_metadata: dict[str, Any], kizuna_oidc_port: int, complete_login: CompleteLogin
) -> None:
    redirect_uri = f"http://127.0.0.1:{kizuna_oidc_port}/auth/callback/panva"
    request = httpx.Request(
        "GET",
        panva_metadata["authorization_endpoint"],
        params={
            "client_id": WEB_CLIENT[0],
            "response_type": "code",
            "scope": "openid",
            "redirect_uri": redirect_uri,
            "state": "s1",
        },
    )
    with httpx.Client(timeout=10) as browser:
        callback = complete_login(browser, str(request.url), "anyone")
    answer = parse_qs(urlsplit(callback).query)
    assert callback.startswith(redirect_uri + "?")
    assert answer["error"] == ["invalid_request"]
    assert "PKCE" in answer["error_description"][0]
    assert answer["state"] == ["s1"]


@pytest.mark.usefixtures("panva")  # node and npm are there, and the npm packages installed
def test_the_provider_exits_when_its_stdin_closes() -> None:
    # What keeps a killed test run from leaving node behind: the parent's end of stdin closes.
    node_path = shutil.which("node")
    assert node_path is not None
    node = subprocess.Popen(
        [node_path, "provider.mjs"],
        cwd=PROVIDER_DIR,
        env=os.environ | {"PORT": "0", "REDIRECT_URIS": "http://127.0.0.1:9/cb"},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert node.stdin is not None
    assert node.stdout is not None
    watchdog = threading.Timer(30, node.kill)  # a hung node fails this test instead of hanging it
    watchdog.start()
    try:
        with node.stdout:
            assert node.stdout.readline().startswith('{"issuer":"http://127.0.0.1:')
            node.stdin.close()
            assert node.wait(timeout=10) == 0
    finally:
        watchdog.cancel()
        if node.poll() is None:
            node.kill()
            node.wait()


def test_rp_initiated_logout_ends_the_provider_session(
    panva_metadata: dict[str, Any],
    kizuna_oidc_port: int,
    complete_login: CompleteLogin,
    complete_logout: CompleteLogout,
) -> None:
    kizuna = f"http://127.0.0.1:{kizuna_oidc_port}"
    signed_out = f"{kizuna}/auth/signed-out/panva"  # registered by the `panva` fixture
    with (
        OAuth2Client(
            client_id=WEB_CLIENT[0],
            client_secret=WEB_CLIENT[1],
            scope="openid",
            redirect_uri=f"{kizuna}/auth/callback/panva",
            code_challenge_method="S256",
            timeout=10,
        ) as oauth,
        httpx.Client(timeout=10) as browser,
    ):
        code_verifier = generate_token(64)
        authorize_url, state = oauth.create_authorization_url(
            panva_metadata["authorization_endpoint"], code_verifier=code_verifier, nonce=generate_token(24)
        )
        callback = complete_login(browser, authorize_url, "leaving-user")
        tokens = oauth.fetch_token(
            panva_metadata["token_endpoint"], authorization_response=callback, state=state, code_verifier=code_verifier
        )

        end_session = httpx.URL(
            panva_metadata["end_session_endpoint"],
            params={"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": signed_out, "state": "bye"},
        )
        assert complete_logout(browser, str(end_session)) == f"{signed_out}?state=bye"

        # Signed out at the provider: the next authorization request asks for a login again.
        again, _ = oauth.create_authorization_url(panva_metadata["authorization_endpoint"], code_verifier=code_verifier)
        page = browser.get(again)
        while page.is_redirect:
            target = urljoin(str(page.url), page.headers["location"])
            assert not target.startswith(kizuna), "still signed in at the provider"
            page = browser.get(target)
        assert 'name="prompt" value="login"' in page.text
