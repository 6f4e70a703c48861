"""The `kizuna` command, as a person runs it: serve on a fresh data directory, tokens, db url."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from kizuna.platform.cli import main

KOCHI_CITY = "392014"


def run_cli(
    *args: str, data_dir: Path, prefecture: str = "39", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kizuna.platform.cli", *args],
        env=os.environ | {"KIZUNA_DATA_DIR": str(data_dir), "KIZUNA_PREFECTURE": prefecture} | (env or {}),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_tenants_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tenants", "list", "--prefecture", "39"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 35
    assert lines[0].split("\t") == ["390003", "高知県", "こうちけん", "prefecture"]
    assert lines[1].split("\t")[:2] == ["392014", "高知市"]


def test_tenants_list_refuses_unknown_prefecture(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tenants", "list", "--prefecture", "13"]) == 2
    assert "unknown prefecture" in capsys.readouterr().err


def test_dev_token_refuses_bad_code(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dev-token", "--role", "caseworker", "--municipality", "111008"]) == 2
    assert "not a local-government code" in capsys.readouterr().err


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """`kizuna serve` for Kochi on a fresh data directory: migrates, seeds, serves."""
    data_dir = tmp_path_factory.mktemp("serve")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "kizuna.platform.cli", "serve", "--port", str(port)],
        env=os.environ | {"KIZUNA_DATA_DIR": str(data_dir), "KIZUNA_PREFECTURE": "39"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 240
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"kizuna serve did not come up:\n{process.communicate()[0]}")
        time.sleep(0.2)
    yield url, data_dir
    process.send_signal(signal.SIGINT)
    output = process.communicate(timeout=60)[0]
    assert process.returncode == 0, output
    # the embedded server stopped with it
    assert not (data_dir / "pgdata" / "postmaster.pid").exists()


def test_serve_answers_a_signed_in_caseworker(served: tuple[str, Path]) -> None:
    url, data_dir = served
    token = run_cli("dev-token", "--role", "caseworker", "--municipality", KOCHI_CITY, data_dir=data_dir)
    assert token.returncode == 0, token.stderr
    response = httpx.post(
        f"{url}/graphql",
        json={"query": "{ viewer { municipality { name } } cases(first: 5) { totalCount edges { node { id } } } }"},
        headers={"authorization": f"Bearer {token.stdout.strip()}"},
    )
    body = response.json()
    assert body["data"]["viewer"]["municipality"]["name"] == "高知市"
    assert body["data"]["cases"]["totalCount"] > 0
    assert httpx.get(f"{url}/readyz").json()["status"] == "ready"


def test_serve_signs_a_person_in_through_the_browser(served: tuple[str, Path], forms: Any) -> None:
    """No IdP configured and no other software: the development IdP's page, a demo user,
    a session, a GraphQL answer."""
    url, _ = served
    with httpx.Client(base_url=url, follow_redirects=False, timeout=30) as browser:
        page = browser.get("/auth/login")
        while page.is_redirect:
            page = browser.get(page.headers["location"])
        assert "高知市" in page.text
        (form,) = forms(page.text)
        picked = browser.post(
            str(page.url.join(form["action"])), data=form["fields"] | {"subject": f"demo:caseworker:{KOCHI_CITY}"}
        )
        assert browser.get(picked.headers["location"]).status_code == 303
        response = browser.post(
            "/graphql", json={"query": "{ viewer { municipality { name } } }"}, headers={"origin": url}
        )
    assert response.json()["data"]["viewer"]["municipality"]["name"] == "高知市"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"KIZUNA_IDPS": "staff"}, "discovery_url"),
        ({"KIZUNA_ENV": "production"}, "KIZUNA_IDP_FILE"),
        ({"KIZUNA_IDP_FILE": "/nonexistent/idp.toml"}, "KIZUNA_IDP_FILE"),
        (
            {
                "KIZUNA_ENV": "production",
                "KIZUNA_IDPS": "staff",
                "KIZUNA_IDP_STAFF_DISCOVERY_URL": "https://idp.example/.well-known/openid-configuration",
                "KIZUNA_IDP_STAFF_CLIENT_ID": "kizuna",
                "KIZUNA_IDP_STAFF_AUDIENCE": "kizuna",
                "KIZUNA_IDP_STAFF_ROLES": "caseworker",
            },
            "KIZUNA_SESSION_SECRET",
        ),
    ],
)
def test_serve_refuses_a_bad_sign_in_configuration(tmp_path: Path, env: dict[str, str], message: str) -> None:
    """Refused before anything starts: no database, no port, a message naming the setting."""
    result = run_cli("serve", data_dir=tmp_path, env=env)
    assert result.returncode == 2
    assert message in result.stderr
    assert not (tmp_path / "pgdata").exists()


def test_db_url_is_the_unprivileged_login(served: tuple[str, Path]) -> None:
    _, data_dir = served
    result = run_cli("db", "url", data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith("postgresql://kizuna_app")
