"""OIDC test fixtures: panva's certified `oidc-provider` (npm) run on loopback as a real provider.

`tests/oidc_provider/provider.mjs` configures it (clients, keys, resource indicators); these
fixtures install its npm packages when needed, start it once per session, drive its real login
and consent forms over HTTP, and get client-credentials tokens from it.

- `kizuna_oidc_port`: a free port on 127.0.0.1 for the Kizuna server the OIDC tests start
  (the provider must know kizuna-web's redirect URI before it starts).
- `panva`: the running provider, a `PanvaProvider`.
- `complete_login`: `(client, authorize_url, login) -> callback URL` through the provider's forms.
- `complete_logout`: `(client, end_session_url) -> post-logout redirect URL` through its form.
- `client_credentials_token`: `(client_id, client_secret, scope) -> access token`.
- `panva_metadata`: the provider's discovery document.

Without node or npm the tests that use `panva` are skipped with a reason; `.ci/run` installs them.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import json
import os
import queue
import shutil
import socket
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

PROVIDER_DIR = Path(__file__).resolve().parent.parent / "oidc_provider"
# Written into node_modules after a successful `npm ci`: the digest of the package.json and
# package-lock.json it installed from; when they change, the next session runs `npm ci` again.
INSTALLED_MARKER = PROVIDER_DIR / "node_modules" / ".kizuna-package-lock.sha256"
NPM_CI_TIMEOUT = 600.0
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
HTTP_TIMEOUT = 10.0
MAX_LOGIN_STEPS = 12
CALLBACK_PATH = "/auth/callback/panva"
SIGNED_OUT_PATH = "/auth/signed-out/panva"
FormReader = Callable[[str], list[dict[str, Any]]]


@dataclass(frozen=True)
class PanvaProvider:
    issuer: str  # http://127.0.0.1:PORT, no trailing slash
    discovery_url: str  # {issuer}/.well-known/openid-configuration
    process: subprocess.Popen[str]
    log_path: Path  # node's stderr: the provider's refusals and errors


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def kizuna_oidc_port() -> int:
    """A free TCP port on 127.0.0.1 for the Kizuna server that the OIDC tests start."""
    return _free_port()


def _lock_digest() -> str:
    digest = hashlib.sha256()
    for name in ("package.json", "package-lock.json"):
        digest.update((PROVIDER_DIR / name).read_bytes())
    return digest.hexdigest()


def _installed() -> bool:
    try:
        return INSTALLED_MARKER.read_text().strip() == _lock_digest()
    except FileNotFoundError:
        return False


def _text(output: bytes | str | None) -> str:
    return output.decode(errors="replace") if isinstance(output, bytes) else output or ""


def _ensure_node_modules(npm: str) -> None:
    """`npm ci` in tests/oidc_provider unless node_modules was installed from this lock file.

    An exclusive lock on a file in the temporary directory keeps concurrent test runs on the same
    tree from installing over each other; the one that waited finds the marker and does nothing.
    """
    if _installed():
        return
    tree = hashlib.sha256(str(PROVIDER_DIR).encode()).hexdigest()[:16]
    lock_path = Path(tempfile.gettempdir()) / f"kizuna-oidc-provider-npm-{tree}.lock"
    with lock_path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if _installed():
                return
            try:
                result = subprocess.run(
                    [npm, "ci", "--no-audit", "--no-fund"],
                    cwd=PROVIDER_DIR,
                    capture_output=True,
                    text=True,
                    timeout=NPM_CI_TIMEOUT,
                    check=False,
                )
            except subprocess.TimeoutExpired as exc:
                output = f"{_text(exc.stdout)}\n{_text(exc.stderr)}"
                pytest.fail(f"`npm ci` in {PROVIDER_DIR} took over {NPM_CI_TIMEOUT:.0f}s:\n{output}")
            if result.returncode != 0:
                pytest.fail(
                    f"`npm ci` in {PROVIDER_DIR} failed (exit {result.returncode}):\n{result.stdout}\n{result.stderr}"
                )
            INSTALLED_MARKER.write_text(_lock_digest() + "\n")
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _read_lines(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    # Drains node's stdout to its end, so node can never block on a full pipe.
    for line in stream:
        lines.put(line)
    lines.put(None)


def _stop(process: subprocess.Popen[str]) -> None:
    # Closing stdin is the provider's signal to exit; SIGTERM and SIGKILL if it does not.
    if process.stdin is not None:
        with contextlib.suppress(OSError):
            process.stdin.close()
    try:
        process.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def panva(kizuna_oidc_port: int, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PanvaProvider]:
    """panva's oidc-provider on 127.0.0.1, with kizuna-web redirecting to the Kizuna port."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        missing = " and ".join(name for name, path in (("node", node), ("npm", npm)) if path is None)
        pytest.skip(f"node/npm not installed: {missing} not found on PATH (.ci/run installs them)")
    _ensure_node_modules(npm)

    log_path = tmp_path_factory.mktemp("panva") / "provider.log"
    kizuna = f"http://127.0.0.1:{kizuna_oidc_port}"
    env = os.environ | {
        "PORT": "0",
        "HOST": "127.0.0.1",
        "REDIRECT_URIS": f"{kizuna}{CALLBACK_PATH}",
        "POST_LOGOUT_REDIRECT_URIS": f"{kizuna}{SIGNED_OUT_PATH}",
    }
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [node, "provider.mjs"],
            cwd=PROVIDER_DIR,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
    assert process.stdout is not None
    lines: queue.Queue[str | None] = queue.Queue()
    reader = threading.Thread(target=_read_lines, args=(process.stdout, lines), name="panva-stdout", daemon=True)
    reader.start()
    try:
        issuer = _wait_for_issuer(process, lines, log_path)
        yield PanvaProvider(
            issuer=issuer,
            discovery_url=f"{issuer}/.well-known/openid-configuration",
            process=process,
            log_path=log_path,
        )
    finally:
        _stop(process)
        reader.join(STOP_TIMEOUT)
        process.stdout.close()


def _wait_for_issuer(process: subprocess.Popen[str], lines: queue.Queue[str | None], log_path: Path) -> str:
    seen: list[str] = []

    def failure(why: str) -> str:
        stdout = "".join(seen)
        return f"panva's oidc-provider {why}\n--- node stdout ---\n{stdout}--- node stderr ---\n{log_path.read_text()}"

    while True:
        try:
            line = lines.get(timeout=START_TIMEOUT)
        except queue.Empty:
            pytest.fail(failure(f"did not print its issuer within {START_TIMEOUT:.0f}s"))
        if line is None:
            pytest.fail(failure(f"exited before listening (exit code {process.wait(STOP_TIMEOUT)})"))
        seen.append(line)
        with contextlib.suppress(ValueError):
            announced = json.loads(line)
            if isinstance(announced, dict) and isinstance(announced.get("issuer"), str):
                issuer: str = announced["issuer"]
                return issuer


def _same_origin(a: str, b: str) -> bool:
    first, second = urlsplit(a), urlsplit(b)
    return (first.scheme, first.netloc) == (second.scheme, second.netloc)


def _describe(response: httpx.Response) -> str:
    return f"{response.request.method} {response.request.url} -> {response.status_code}\n{response.text[:2000]}"


def _complete_login(read_forms: FormReader, client: httpx.Client, authorize_url: str, login: str) -> str:
    """Sign in at the provider as `login` (any password) and consent, through its real forms.

    Starts at `authorize_url` (the provider's authorization endpoint with the client's request,
    as a Kizuna login redirect points to), follows the provider's own redirects, submits the
    login form and then the consent form, and returns the first redirect that leaves the
    provider: the client's redirect URI with `code`, `state` (and `iss`), or with `error` if the
    provider refused. That URL is not requested. Cookies stay in `client`'s jar.
    """

    def fill(forms: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, str]] | None:
        form = next((f for f in forms if f["fields"].get("prompt") in {"login", "consent"}), None)
        if form is None:
            return None
        fields: dict[str, str] = dict(form["fields"])
        if fields["prompt"] == "login":
            fields["login"] = login
            fields["password"] = "any password"  # devInteractions accept any password
        return form, fields

    return _through_provider(read_forms, client, authorize_url, fill, "login")


@pytest.fixture(scope="session")
def complete_login(forms: FormReader) -> Callable[[httpx.Client, str, str], str]:
    """`(client, authorize_url, login) -> callback URL` (see `_complete_login`)."""
    return functools.partial(_complete_login, forms)


def _complete_logout(read_forms: FormReader, client: httpx.Client, end_session_url: str) -> str:
    """Confirm an RP-initiated logout at the provider ("Yes, sign me out") through its real form.

    Starts at `end_session_url` (the provider's end_session_endpoint with `id_token_hint`,
    `post_logout_redirect_uri`, `state`...), submits the provider's logout form with `logout=yes`
    and returns the first redirect that leaves the provider (the post-logout redirect URI with
    `state`), without requesting it.
    """

    def fill(forms: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, str]] | None:
        form = next((f for f in forms if f["id"] == "op.logoutForm"), None)
        return None if form is None else (form, {**form["fields"], "logout": "yes"})

    return _through_provider(read_forms, client, end_session_url, fill, "logout")


def _through_provider(
    read_forms: FormReader,
    client: httpx.Client,
    start_url: str,
    fill: Callable[[list[dict[str, Any]]], tuple[dict[str, Any], dict[str, str]] | None],
    step: str,
) -> str:
    """Follow the provider's redirects from `start_url`, submitting each page's form as
    `fill` fills it in, until a redirect leaves the provider; returns that URL."""
    response = client.get(start_url, follow_redirects=False)
    for _ in range(MAX_LOGIN_STEPS):
        if response.is_redirect:
            target = urljoin(str(response.url), response.headers["location"])
            if not _same_origin(target, start_url):
                return target
            response = client.get(target, follow_redirects=False)
            continue
        if response.status_code != 200:
            raise AssertionError(f"the provider refused during {step}:\n{_describe(response)}")
        filled = fill(read_forms(response.text))
        if filled is None:
            raise AssertionError(f"no {step} form on the provider's page:\n{_describe(response)}")
        form, fields = filled
        action = urljoin(str(response.url), form["action"] or str(response.url))
        if form["method"] == "post":
            response = client.post(action, data=fields, follow_redirects=False)
        else:
            response = client.get(action, params=fields, follow_redirects=False)
    raise AssertionError(f"no redirect back to the client after {MAX_LOGIN_STEPS} steps at the provider")


@pytest.fixture(scope="session")
def complete_logout(forms: FormReader) -> Callable[[httpx.Client, str], str]:
    """`(client, end_session_url) -> post-logout redirect URL` (see `_complete_logout`)."""
    return functools.partial(_complete_logout, forms)


@pytest.fixture(scope="session")
def panva_metadata(panva: PanvaProvider) -> dict[str, Any]:
    """The provider's discovery document."""
    response = httpx.get(panva.discovery_url, timeout=HTTP_TIMEOUT)
    response.raise_for_status()
    metadata: dict[str, Any] = response.json()
    return metadata


@pytest.fixture(scope="session")
def client_credentials_token(panva_metadata: dict[str, Any]) -> Callable[[str, str, str], str]:
    """`(client_id, client_secret, scope) -> access token` from the provider's token endpoint.

    client_secret_basic; no `resource` parameter, since the provider's default resource is Kizuna's
    API (`urn:kizuna:api`). A refusal raises `httpx.HTTPStatusError` whose `response.json()` is
    the OAuth error (e.g. `{"error": "invalid_scope", ...}`).
    """
    token_endpoint: str = panva_metadata["token_endpoint"]

    def fetch(client_id: str, client_secret: str, scope: str) -> str:
        response = httpx.post(
            token_endpoint,
            data={"grant_type": "client_credentials", "scope": scope},
            auth=(client_id, client_secret),
            timeout=HTTP_TIMEOUT,
        )
        if response.status_code != 200:
            raise httpx.HTTPStatusError(
                f"the token endpoint refused {client_id} ({scope}): {response.status_code} {response.text}",
                request=response.request,
                response=response,
            )
        access_token: str = response.json()["access_token"]
        return access_token

    return fetch
