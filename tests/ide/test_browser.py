"""/graphql in headless Chromium with the network off: sign in through the development
IdP's pages, open the page, run a query, see the answer, go back home.

"Network off": every host but 127.0.0.1 is unresolvable in the browser, and every request
the page makes is recorded and must go to the Kizuna server. Console errors, uncaught
exceptions and Content-Security-Policy violations fail the test. A screenshot of each
page is kept in tests/artifacts/ (its path is printed).

Debian's `chromium`, driven by playwright (`playwright install` is never run); skipped
with the reason when it is missing (.ci/run installs it).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, expect, sync_playwright

from kizuna.tests.accessibility import Axe

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
CASEWORKER = "demo:caseworker:111007"
QUERY = "{ viewer { role municipality { name } } }"
ANSWER = {"viewer": {"role": "CASEWORKER", "municipality": {"name": "さいたま市"}}}  # the answer's data
# Runs before the page's own scripts (through the DevTools protocol, not as page script):
# a violation becomes a console error even where the browser would only report it.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI || "inline"}`
    + ` (${event.sourceFile}:${event.lineNumber})`);
});
"""


@dataclass
class Seen:
    """What one browser context did: its requests, and every error it reported."""

    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(f"console: {message.text}")

    def off_server(self, server_url: str) -> list[str]:
        own = urlsplit(server_url)
        return [url for url in self.requests if urlsplit(url)[:2] != own[:2]]


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        pytest.skip(f"Debian's chromium is not installed ({CHROMIUM} is missing; .ci/run installs it)")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def chromium(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
    yield browser
    browser.close()


@contextmanager
def browser_context(chromium: Browser) -> Iterator[tuple[Page, Seen]]:
    """A fresh browser context (no cookies), its page and what it does; closed afterwards."""
    seen = Seen()
    context = chromium.new_context(locale="ja-JP")
    context.set_default_timeout(10_000)  # everything is on loopback: a wait this long has failed
    context.add_init_script(REPORT_CSP_VIOLATIONS)
    context.on("request", lambda request: seen.requests.append(request.url))
    page = context.new_page()
    page.on("console", seen.console)
    page.on("pageerror", lambda error: seen.errors.append(f"uncaught: {error}"))
    try:
        yield page, seen
    finally:
        context.close()


@pytest.fixture
def browse(chromium: Browser) -> Iterator[tuple[Page, Seen]]:
    """A fresh browser context (no cookies) and what it does."""
    with browser_context(chromium) as opened:
        yield opened


def sign_in(page: Page, server_url: str, axe: Axe | None = None) -> None:
    """From the home page through the development IdP's page, as the caseworker of さいたま市;
    with `axe`, each page on the way is checked for accessibility."""
    page.goto(f"{server_url}/")
    if axe is not None:
        assert axe.violations(page) == [], "the signed-out home page"
    page.locator('a[href="/auth/login"]').click()
    subject = page.locator(f'button[name="subject"][value="{CASEWORKER}"]')
    if axe is not None:
        expect(subject).to_be_visible()
        assert axe.violations(page) == [], "the development IdP's sign-in page"
    subject.click()
    page.wait_for_url(f"{server_url}/")
    expect(page.locator('form[action="/auth/logout"]')).to_be_visible()
    if axe is not None:
        assert axe.violations(page) == [], "the signed-in home page"


def go_home(page: Page, server_url: str) -> None:
    page.locator("#home").click()
    page.wait_for_url(f"{server_url}/")
    expect(page.locator('form[action="/auth/logout"]')).to_be_visible()


def keep_screenshot(page: Page, name: str, capsys: pytest.CaptureFixture[str]) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=path, full_page=True)
    with capsys.disabled():
        print(f"\n  screenshot: {path}")  # noqa: T201  (where the artefact is, for whoever runs the test)


def assert_stayed_offline_and_clean(seen: Seen, server_url: str) -> None:
    assert seen.requests, "no request was recorded"
    assert seen.off_server(server_url) == []
    assert seen.errors == []


def test_own_page_runs_a_query_offline(
    browse: tuple[Page, Seen], server: Any, axe: Axe, capsys: pytest.CaptureFixture[str]
) -> None:
    page, seen = browse
    sign_in(page, server.url, axe)
    page.goto(f"{server.url}/graphql")
    expect(page.locator(".note")).to_contain_text("uv run kizuna graphiql install")
    assert axe.violations(page) == [], "the query page"
    page.locator("#variables").fill("{ not json")
    page.locator("#run").click()
    expect(page.locator("#status")).to_have_text("変数が JSON ではありません。")
    page.locator("#variables").fill("")
    page.locator("#query").fill(QUERY)
    page.locator("#run").click()
    expect(page.locator("#status")).to_have_text("HTTP 200")
    assert json.loads(page.locator("#answer").inner_text())["data"] == ANSWER
    keep_screenshot(page, "graphql-own-page.png", capsys)
    go_home(page, server.url)
    assert_stayed_offline_and_clean(seen, server.url)


def test_graphiql_runs_a_query_offline(
    browse: tuple[Page, Seen], graphiql_server: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    page, seen = browse
    sign_in(page, graphiql_server.url)
    page.goto(f"{graphiql_server.url}/graphql")
    editor = page.locator(".graphiql-query-editor .CodeMirror")
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.insert_text(QUERY)
    page.locator(".graphiql-execute-button").click()
    result = page.locator(".result-window")
    expect(result).to_contain_text("さいたま市")
    shown = result.locator(".CodeMirror").evaluate("element => element.CodeMirror.getValue()")
    assert json.loads(shown)["data"] == ANSWER
    # A dialog locks the page's scrolling with the one inline stylesheet the policy allows.
    page.get_by_role("button", name="Open settings dialog").click()
    expect(page.get_by_role("dialog")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)
    keep_screenshot(page, "graphiql.png", capsys)
    go_home(page, graphiql_server.url)
    assert_stayed_offline_and_clean(seen, graphiql_server.url)


def test_the_accessibility_check_finds_a_violation(browse: tuple[Page, Seen], axe: Axe) -> None:
    """The check can fail: a button without a name is one of axe's critical violations."""
    page, _ = browse
    page.set_content(
        '<!doctype html><html lang="ja"><head><title>t</title></head><body><main><button></button></main></body></html>'
    )
    assert [v.split(" ")[0] for v in axe.violations(page)] == ["button-name"]
