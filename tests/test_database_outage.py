"""The database goes away under a running server, and comes back; and a failure nobody
expected. Either way the answer is a coded error with the request id, never a traceback.

The module runs a PostgreSQL of its own (the session's stays untouched), migrated and
seeded for さいたま市, under a real server with the development IdP.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from kizuna.platform import embedded, migrate
from kizuna.platform.app import create_app
from kizuna.platform.runtime import DatabaseUrls
from kizuna.platform.settings import Settings
from kizuna.platform.urls import app_url, asyncpg_dsn
from kizuna.platform.vocabulary import AppRole
from kizuna.tenants import demo

SAITAMA_CITY = "111007"
QUERY = "{ viewer { subject } cases(first: 1) { totalCount } }"


@pytest.fixture(scope="module")
def pgdata(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("outage") / "pgdata"
    yield path
    embedded.stop(path)


@pytest.fixture(scope="module")
def outage_urls(pgdata: Path) -> DatabaseUrls:
    admin = asyncio.run(migrate.ensure_database(embedded.start(pgdata, cleanup=None), "kizuna_outage"))
    migrate.upgrade(admin)
    app = asyncpg_dsn(app_url(admin, None))
    asyncio.run(demo.seed_demo(admin, app, prefecture="11", municipalities=[SAITAMA_CITY], scale=0.01))
    return DatabaseUrls(admin=admin, app=app)


@pytest.fixture(scope="module")
def outage_server(
    settings: Settings, outage_urls: DatabaseUrls, signing_key: Any, serve: Callable[..., Any]
) -> Iterator[str]:
    with serve(create_app(settings, outage_urls.app, dev_key=signing_key)) as running:
        yield running.url


@pytest.fixture
def client(outage_server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=outage_server, timeout=30) as http:
        yield http


def ask(client: httpx.Client, token: str) -> httpx.Response:
    return client.post("/graphql", json={"query": QUERY}, headers={"authorization": f"Bearer {token}"})


def sign_in(
    client: httpx.Client, forms: Callable[[str], list[dict[str, Any]]], subject: str, language: str = "ja"
) -> httpx.Response:
    """Through the development IdP's page as `subject`; returns Kizuna's answer to the callback."""
    page = client.get("/auth/login", follow_redirects=False)
    while page.is_redirect:
        page = client.get(page.headers["location"], follow_redirects=False)
    (form,) = forms(page.text)
    picked = client.post(str(page.url.join(form["action"])), data=form["fields"] | {"subject": subject})
    browser = {"accept": "text/html", "accept-language": language}
    return client.get(picked.headers["location"], headers=browser, follow_redirects=False)


def assert_coded(response: httpx.Response, status: int, code: str) -> None:
    """One coded error with the request id of the response header, and no data."""
    assert response.status_code == status, response.text
    body = response.json()
    assert list(body) == ["errors"]
    (error,) = body["errors"]
    assert error["extensions"] == {"code": code, "requestId": response.headers["x-request-id"]}


def test_a_stopped_database_is_503_unavailable_until_it_is_back(
    pgdata: Path,
    client: httpx.Client,
    token: Callable[..., str],
    forms: Callable[[str], list[dict[str, Any]]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caseworker, supervisor = token(AppRole.CASEWORKER, SAITAMA_CITY), token(AppRole.SUPERVISOR, SAITAMA_CITY)
    assert ask(client, caseworker).json()["data"]["viewer"]["subject"] == f"demo:caseworker:{SAITAMA_CITY}"
    caplog.clear()
    assert embedded.stop(pgdata)
    try:
        # the caseworker's memberships are cached: the transaction fails; the supervisor's
        # are not: the directory read before it fails
        for bearer in (caseworker, supervisor):
            response = ask(client, bearer)
            assert_coded(response, 503, "UNAVAILABLE")
            assert response.headers["retry-after"] == "5"
        assert client.get("/readyz").status_code == 503
        page = sign_in(client, forms, f"demo:coordinator:{SAITAMA_CITY}")
        assert page.status_code == 503
        assert page.headers["content-type"].startswith("text/html")
        assert '<html lang="ja">' in page.text
        assert "ただいま利用できません" in page.text
        assert page.headers["x-request-id"] in page.text
        outage_log = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert len(outage_log) == 3, [r.getMessage() for r in outage_log]  # one line per request
        assert all(r.exc_info is None and "unavailable" in r.getMessage() for r in outage_log)
    finally:
        embedded.start(pgdata, cleanup=None)
    # back without a restart of the server, from the first request on
    assert ask(client, supervisor).json()["data"]["viewer"]["subject"] == f"demo:supervisor:{SAITAMA_CITY}"
    assert ask(client, caseworker).json()["data"]["cases"]["totalCount"] >= 0
    assert client.get("/readyz").json()["status"] == "ready"


async def test_an_unexpected_failure_is_500_internal_with_the_request_id_and_one_traceback(
    outage_urls: DatabaseUrls,
    client: httpx.Client,
    token: Callable[..., str],
    forms: Callable[[str], list[dict[str, Any]]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A database that answers, but wrongly: the sign-in lookup is no longer granted (a
    broken deployment). Neither the message nor the SQL of the failure reaches the client."""
    admin = await asyncpg.connect(asyncpg_dsn(outage_urls.admin))
    grant = "ON FUNCTION kizuna.begin_sign_in(text, text) {} kizuna_app"
    await admin.execute("REVOKE EXECUTE " + grant.format("FROM"))
    try:
        caplog.clear()
        response = await asyncio.to_thread(ask, client, token(AppRole.COORDINATOR, SAITAMA_CITY))
        assert_coded(response, 500, "INTERNAL")
        page = await asyncio.to_thread(sign_in, client, forms, f"demo:school_staff:{SAITAMA_CITY}", "en")
    finally:
        await admin.execute("GRANT EXECUTE " + grant.format("TO"))
        await admin.close()
    assert page.status_code == 500
    assert page.headers["x-request-id"] in page.text
    assert '<html lang="en">' in page.text
    assert "quote the request id" in page.text
    for answer in (response, page):
        assert "Traceback" not in answer.text
        assert "permission denied" not in answer.text
        assert "begin_sign_in" not in answer.text
    # The page's traceback is logged by uvicorn after the response has gone (Starlette
    # re-raises once it has answered), in the server's thread: wait for it, then a moment
    # more, so that a third would be seen too.
    for _ in range(200):
        if len([r for r in caplog.records if r.exc_info is not None]) >= 2:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.2)
    tracebacks = [r for r in caplog.records if r.exc_info is not None]
    assert len(tracebacks) == 2, [r.getMessage() for r in tracebacks]  # once per request
    graphql_log, page_log = (logging.Formatter().format(r) for r in tracebacks)
    assert response.headers["x-request-id"] in graphql_log
    assert page.headers["x-request-id"] in page_log
    assert "InsufficientPrivilegeError" in graphql_log
    assert "InsufficientPrivilegeError" in page_log
