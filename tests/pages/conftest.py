"""Fixtures for the pages: the prefecture's figures published by the real stats refresh
(once per module), and browsers signed in through the development IdP's own form."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import asyncpg
import httpx
import pytest

from kizuna.platform.runtime import DatabaseUrls
from kizuna.platform.urls import asyncpg_dsn
from kizuna.schema.stats import refresh
from kizuna.schema.stats.publish import STATS_TABLES
from kizuna.tests.ide.test_browser import browse, chromium, playwright  # noqa: F401  (Chromium, for the pages too)

K = 5


async def _empty_stats(admin_url: str) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(admin_url))
    try:
        for table in STATS_TABLES:
            await conn.execute(f"DELETE FROM stats.{table}")
    finally:
        await conn.close()


async def _refresh(admin_url: str) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(admin_url))
    try:
        await refresh.refresh(conn, k=K, interval=dt.timedelta(days=30))
    finally:
        await conn.close()


@pytest.fixture(scope="module")
def published(urls: DatabaseUrls) -> Iterator[None]:
    """The seeded tenants' figures, as `kizuna stats refresh` publishes them; removed afterwards."""
    asyncio.run(_empty_stats(urls.admin))
    asyncio.run(_refresh(urls.admin))
    yield
    asyncio.run(_empty_stats(urls.admin))


def sign_in(client: httpx.Client, forms: Callable[[str], list[dict[str, Any]]], subject: str) -> None:
    """Through the development IdP's page as `subject`, as a person clicks through it."""
    page = client.get("/auth/login")
    while page.is_redirect:
        page = client.get(page.headers["location"])
    (form,) = forms(page.text)
    picked = client.post(str(page.url.join(form["action"])), data=form["fields"] | {"subject": subject})
    landed = client.get(picked.headers["location"])
    assert (landed.status_code, landed.headers["location"]) == (303, "/"), landed.text


@pytest.fixture(scope="module")
def browser_as(server: Any, forms: Callable[[str], list[dict[str, Any]]]) -> Iterator[Callable[[str], httpx.Client]]:
    """`(subject) -> client`: an HTTP client signed in as that demo user, one per subject
    for the module; its requests say what a browser's top-level navigation says."""
    clients: dict[str, httpx.Client] = {}
    with ExitStack() as stack:

        def signed_in(subject: str) -> httpx.Client:
            if subject not in clients:
                client = stack.enter_context(httpx.Client(base_url=server.url, follow_redirects=False, timeout=30))
                sign_in(client, forms, subject)
                client.headers.update(NAVIGATION)
                clients[subject] = client
            return clients[subject]

        yield signed_in


NAVIGATION = {"sec-fetch-mode": "navigate", "sec-fetch-dest": "document", "sec-fetch-site": "none"}
