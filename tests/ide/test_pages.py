"""The /graphql page over real HTTP: what it loads, under which policy, and what it never
serves: files outside its list, anything in production, GraphiQL before it is installed."""

from __future__ import annotations

import re
import shutil
import tomllib
from pathlib import Path
from typing import Any

import httpx
import pytest

from kizuna.auth.issuers import load_issuers
from kizuna.platform.app import create_app
from kizuna.platform.settings import Settings
from kizuna.schema.ide import npm, pages

HTML = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
# Written out, not imported: a looser policy in the code must fail here.
QUERY_PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
GRAPHIQL_POLICY = (
    "default-src 'none'; script-src 'self'; "
    "style-src 'self' 'sha256-Y/huXlwoYkVyQlxwSVcCi1RCDGDCSVBzDt0hYP9qlTc='; font-src data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
OWN_FILES = ("query.js", "query.css", "graphiql-start.js", "graphiql-page.css")
GRAPHIQL_FILES = ("react.production.min.js", "react-dom.production.min.js", "graphiql.min.js", "graphiql.min.css")


def loaded(page: str) -> list[str]:
    """Every URL the page loads by itself (scripts and stylesheets)."""
    return re.findall(r'<(?:script|link)[^>]* (?:src|href)="([^"]+)"', page)


def assert_page_headers(response: httpx.Response, policy: str) -> None:
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["content-security-policy"] == policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["vary"] == "Accept-Language"


def assert_nothing_inline(page: str) -> None:
    assert re.search(r"<script(?![^>]* src=)", page) is None  # every script is a file
    assert "<style" not in page
    assert " style=" not in page
    assert re.search(r" on[a-z]+=", page) is None  # no event handler attributes


class TestOwnPage:
    """GraphiQL not installed: Kizuna's own page."""

    def test_is_served_under_the_strict_policy(self, http: httpx.Client) -> None:
        response = http.get("/graphql", headers=HTML)
        assert_page_headers(response, QUERY_PAGE_POLICY)
        assert_nothing_inline(response.text)
        assert loaded(response.text) == ["/graphql/ide/kizuna/query.css", "/graphql/ide/kizuna/query.js"]
        assert '<a id="home" href="/">' in response.text
        assert "uv run kizuna graphiql install" in response.text

    @pytest.mark.parametrize(
        ("accept_language", "lang", "run"), [(None, "ja", "実行"), ("en-GB,en;q=0.9,ja;q=0.5", "en", "Run")]
    )
    def test_speaks_the_browsers_language(
        self, http: httpx.Client, accept_language: str | None, lang: str, run: str
    ) -> None:
        headers = HTML | ({"accept-language": accept_language} if accept_language else {})
        page = http.get("/graphql", headers=headers).text
        assert f'<html lang="{lang}">' in page
        assert f'<button id="run" type="submit">{run}</button>' in page

    @pytest.mark.parametrize("name", OWN_FILES)
    def test_its_files_are_served_as_what_they_are_and_revalidated(self, http: httpx.Client, name: str) -> None:
        response = http.get(f"/graphql/ide/kizuna/{name}")
        assert response.status_code == 200
        kind = "text/css" if name.endswith(".css") else "text/javascript"
        assert response.headers["content-type"] == f"{kind}; charset=utf-8"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cache-control"] == "no-cache"
        again = http.get(f"/graphql/ide/kizuna/{name}", headers={"if-none-match": response.headers["etag"]})
        assert again.status_code == 304

    @pytest.mark.parametrize(
        "path",
        [
            "/graphql/ide/kizuna/nothing.js",
            "/graphql/ide/kizuna/..%2Fnpm.py",
            "/graphql/ide/kizuna/%2E%2E",
            "/graphql/ide/graphiql/graphiql.min.js",  # not installed in this data directory
            "/graphql/ide/graphiql/..%2F..%2Fsession-secret",
        ],
    )
    def test_nothing_else_is_served(self, http: httpx.Client, path: str) -> None:
        assert http.get(path).status_code == 404

    def test_an_api_client_still_gets_graphql(self, http: httpx.Client) -> None:
        response = http.get("/graphql", params={"query": "{ viewer { role } }"}, headers={"accept": "application/json"})
        assert response.status_code == 401
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


class TestGraphiQLPage:
    """GraphiQL installed by `kizuna graphiql install`."""

    def test_is_served_under_the_strict_policy(self, graphiql_server: Any) -> None:
        response = httpx.get(f"{graphiql_server.url}/graphql", headers=HTML)
        assert_page_headers(response, GRAPHIQL_POLICY)
        assert_nothing_inline(response.text)
        assert set(loaded(response.text)) == {
            *(f"/graphql/ide/graphiql/{name}" for name in GRAPHIQL_FILES),
            "/graphql/ide/kizuna/graphiql-page.css",
            "/graphql/ide/kizuna/graphiql-start.js",
        }
        assert '<a id="home" href="/">' in response.text

    def test_its_stylesheet_asks_for_nothing_remote(self, graphiql_server: Any) -> None:
        css = httpx.get(f"{graphiql_server.url}/graphql/ide/graphiql/graphiql.min.css").text
        assert "@import" not in css
        assert {url.split(":")[0] for url in re.findall(r"url\(\s*['\"]?([^'\")]+)", css)} == {"data"}

    @pytest.mark.parametrize("name", GRAPHIQL_FILES)
    def test_its_files_come_from_the_data_directory(self, graphiql_server: Any, name: str) -> None:
        response = httpx.get(f"{graphiql_server.url}/graphql/ide/graphiql/{name}")
        assert response.status_code == 200
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cache-control"] == "no-cache"

    @pytest.mark.parametrize("name", ["package.json", "graphiql%2Fpackage.json", "react.development.js"])
    def test_nothing_else_of_node_modules_is_served(self, graphiql_server: Any, name: str) -> None:
        assert httpx.get(f"{graphiql_server.url}/graphql/ide/graphiql/{name}").status_code == 404


def test_production_serves_no_page_and_no_file(tmp_path: Path, urls: Any, serve: Any) -> None:
    environ = {
        "KIZUNA_DATA_DIR": str(tmp_path),
        "KIZUNA_ENV": "production",
        "KIZUNA_SESSION_SECRET": "s" * 48,
        "KIZUNA_IDPS": "staff",
        # Nothing listens on port 9: discovery fails, and Kizuna starts all the same.
        "KIZUNA_IDP_STAFF_DISCOVERY_URL": "http://127.0.0.1:9/.well-known/openid-configuration",
        "KIZUNA_IDP_STAFF_CLIENT_ID": "kizuna",
        "KIZUNA_IDP_STAFF_AUDIENCE": "kizuna",
        "KIZUNA_IDP_STAFF_ROLES": "caseworker",
    }
    production = Settings.from_env(environ)
    with serve(create_app(production, urls.app, issuers=load_issuers(None, environ))) as running:
        page = httpx.get(f"{running.url}/graphql", headers=HTML)
        assert page.headers["content-type"] == "application/json"  # a GraphQL error, no page
        assert page.json()["errors"]
        assert httpx.get(f"{running.url}/graphql/ide/kizuna/query.js").status_code == 404


def test_an_install_shows_at_once_and_only_as_pinned(
    tmp_path: Path, graphiql_data_dir: Path, urls: Any, signing_key: Any, serve: Any
) -> None:
    """The page looks for GraphiQL on every request, and only a `node_modules` that
    `npm ci` completed from this lock file counts."""
    settings = Settings.from_env({"KIZUNA_DATA_DIR": str(tmp_path), "KIZUNA_PREFECTURE": "11"})
    target = npm.graphiql_dir(tmp_path)
    with serve(create_app(settings, urls.app, dev_key=signing_key)) as running:
        assert "query.js" in httpx.get(f"{running.url}/graphql", headers=HTML).text
        (target / "node_modules").mkdir(parents=True)
        (target / "node_modules" / npm.MARKER).write_text("0" * 64 + "\n")  # another lock file's
        assert "query.js" in httpx.get(f"{running.url}/graphql", headers=HTML).text
        shutil.rmtree(target)
        target.symlink_to(npm.graphiql_dir(graphiql_data_dir), target_is_directory=True)
        assert "graphiql.min.js" in httpx.get(f"{running.url}/graphql", headers=HTML).text
        assert httpx.get(f"{running.url}/graphql/ide/graphiql/graphiql.min.css").status_code == 200


def test_without_npm_the_command_says_what_to_do(tmp_path: Path, graphiql_install: Any) -> None:
    result = graphiql_install(tmp_path, env={"PATH": str(tmp_path)})
    assert result.returncode == 1
    assert "npm was not found" in result.stderr
    assert "uv run kizuna graphiql install" in result.stderr
    assert "Traceback" not in result.stderr
    assert not npm.graphiql_dir(tmp_path).exists()


def test_the_page_files_and_the_lock_ship_in_the_wheel() -> None:
    """The editable install used in development would hide a file left out of package-data."""
    pyproject = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())
    globs = pyproject["tool"]["setuptools"]["package-data"]["kizuna.schema.ide"]
    package = pages.STATIC_DIR.parent
    needed = [*pages.STATIC_DIR.rglob("*"), *(npm.PACKAGE_DIR / name for name in npm.PACKAGE_FILES)]
    for path in needed:
        relative = path.relative_to(package)
        assert any(relative.match(glob) for glob in globs), f"{relative} is not in package-data"
