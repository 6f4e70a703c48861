"""The dashboard in headless Chromium with the network off: sign in through the development
IdP's pages as the prefecture's analyst (and as a municipal supervisor), open `/`, and
read on the rendered page the same figures that the registered document answers over
GraphQL, with no serious or critical accessibility violation (axe-core). Console errors,
uncaught exceptions and Content-Security-Policy violations fail the test; a screenshot is
kept in tests/artifacts/.

Debian's `chromium`, driven by playwright (`playwright install` is never run); skipped
with the reason when it is missing (.ci/run installs it). The browser fixtures are
tests/ide/test_browser.py's (through tests/pages/conftest.py).
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from kizuna.schema.pages import documents
from kizuna.tests.accessibility import Axe
from kizuna.tests.ide.test_browser import Seen, assert_stayed_offline_and_clean, keep_screenshot

pytestmark = pytest.mark.usefixtures("published")
GAPS = {"SUPPRESSED": "秘匿", "NOT_REPORTED": "報告なし", "TOO_FEW": "非表示"}


def sign_in_as(page: Page, server_url: str, subject: str) -> None:
    page.goto(f"{server_url}/")
    page.locator('a[href="/auth/login"]').click()
    page.locator(f'button[name="subject"][value="{subject}"]').click()
    page.wait_for_url(f"{server_url}/")
    expect(page.locator("h1")).to_contain_text("集計ダッシュボード")


def graphql_as_page(page: Page, server_url: str) -> dict[str, Any]:
    """The dashboard's document sent to /graphql with the browser's own session (its
    cookie): the page itself cannot send it, its policy allows no request from script."""
    document = documents.document("dashboard")
    response = page.request.post(
        f"{server_url}/graphql",
        data={"query": document.text, "operationName": document.operation},
        headers={"kizuna-csrf": "1"},
    )
    assert response.status == 200, response.text()
    answer: dict[str, Any] = response.json()
    assert "errors" not in answer, answer
    data: dict[str, Any] = answer["data"]
    return data


def shown_rows(page: Page, figure: str) -> list[list[str]]:
    table = page.locator(f"#table-{figure}")
    table.locator("summary").click()  # opened as a person opens it
    rows: list[list[str]] = table.locator("tbody tr").evaluate_all(
        "rows => rows.map(r => [...r.children].map(c => c.textContent.trim()))"
    )
    return rows


def expected_rows(data: dict[str, Any], table: dict[str, Any]) -> list[list[str]]:
    names = {m["code"]: m["name"] for m in data["municipalities"]}
    area = data["viewer"]["municipality"]["name"]
    has_total = any(r["total"] is not None or any(w["column"] is None for w in r["withheld"]) for r in table["rows"])
    rows = []
    for row in table["rows"]:
        why = {w["column"]: w["status"] for w in row["withheld"]}
        values = [*row["values"], row["total"]] if has_total else row["values"]
        statuses = [why.get(i) for i in range(len(row["values"]))] + ([why.get(None)] if has_total else [])
        cells = [GAPS[s or "NOT_REPORTED"] if v is None else f"{v:,}" for v, s in zip(values, statuses, strict=True)]
        code = row["municipalityCode"]
        rows.append([area if code is None else names[code], *cells])
    return rows


def check_dashboard(page: Page, data: dict[str, Any]) -> None:
    stats = data["prefectureStats"]
    year = max(y["year"] for y in stats["fiscalYears"])
    tables = [t for t in stats["tables"] if t["fiscalYear"]["year"] == year]
    assert tables
    for table in tables:
        assert shown_rows(page, table["figure"].lower()) == expected_rows(data, table), table["figure"]
    names = {m["code"]: m["name"] for m in data["municipalities"]}
    (medians,) = [m for m in stats["medians"] if m["fiscalYear"]["year"] == year]
    assert [row[0] for row in shown_rows(page, "medians")] == [
        data["viewer"]["municipality"]["name"] if m["municipalityCode"] is None else names[m["municipalityCode"]]
        for m in medians["medians"]
    ]
    expect(page.locator(".indicator")).to_have_count(len(data["indicators"]))
    expect(page.locator("svg.chart__svg")).not_to_have_count(0)
    # The charts label every fiscal year in both calendars.
    for fiscal_year in stats["fiscalYears"]:
        expect(page.locator(".chart__year", has_text=fiscal_year["japanese"]).first).to_be_visible()


def test_the_analyst_reads_the_figures_of_the_graphql_answer(
    browse: tuple[Page, Seen], server: Any, axe: Axe, capsys: pytest.CaptureFixture[str]
) -> None:
    page, seen = browse
    page.set_viewport_size({"width": 1180, "height": 820})  # a school's or an office's tablet
    sign_in_as(page, server.url, "demo:prefecture_analyst:110001")
    data = graphql_as_page(page, server.url)
    expect(page.locator(".tile")).to_have_count(63)
    keep_screenshot(page, "dashboard.png", capsys)  # as it opens: the tables folded
    check_dashboard(page, data)
    assert axe.violations(page) == []  # every table open
    assert_stayed_offline_and_clean(seen, server.url)


def test_a_supervisor_reads_its_own_municipality(
    browse: tuple[Page, Seen], server: Any, axe: Axe, capsys: pytest.CaptureFixture[str]
) -> None:
    page, seen = browse
    page.set_viewport_size({"width": 820, "height": 1180})
    sign_in_as(page, server.url, "demo:supervisor:112011")
    data = graphql_as_page(page, server.url)
    assert data["prefectureStats"]["unsuppressed"] is True
    expect(page.locator(".tile")).to_have_count(1)
    check_dashboard(page, data)
    assert axe.violations(page) == []
    keep_screenshot(page, "dashboard-supervisor.png", capsys)  # its tables opened
    assert_stayed_offline_and_clean(seen, server.url)
