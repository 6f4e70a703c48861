"""`/` over real HTTP with real sessions from the development IdP: the dashboard for the
prefecture's analyst and for a municipal supervisor, nothing of it for anyone else, the
headers of every page, and figures that are exactly the registered document's answer."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest

from kizuna.schema.pages import documents

ANALYST = "demo:prefecture_analyst:110001"
SUPERVISOR = "demo:supervisor:112011"
SCHOOL = "demo:school_staff:111007"
KAWAGOE = "112011"
# Written out, not imported: a looser policy in the code must fail here. The development
# IdP is Kizuna itself, so no other origin may receive a form.
POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
GAPS = {"SUPPRESSED": "秘匿", "NOT_REPORTED": "報告なし", "TOO_FEW": "非表示"}
# The trend charts, in the page's order: the figure, its unit, and the column drawn where not the total.
CHARTS = [
    ("CASES_BY_CATEGORY", "件", None),
    ("REFERRALS_BY_SOURCE", "件", None),
    ("CLOSURES", "件", None),
    ("HELPER_VISITS", "件", None),
    ("MUNICIPALITY_STATUS", "団体", "window_or_team"),
]

pytestmark = pytest.mark.usefixtures("published")


class _Tables(HTMLParser):
    """The cells of each statistics table of a page: {figure: [[row header, cell, …], …]}."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: dict[str, list[list[str]]] = {}
        self._figure: str | None = None
        self._in_body = False
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "details" and (attributes.get("id") or "").startswith("table-"):
            self._figure = (attributes["id"] or "").removeprefix("table-")
            self.tables[self._figure] = []
        elif self._figure and tag == "tbody":
            self._in_body = True
        elif self._in_body and tag == "tr":
            self.tables[self._figure or ""].append([])
        elif self._in_body and tag in ("th", "td"):
            self._cell = []

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("th", "td") and self._cell is not None:
            self.tables[self._figure or ""][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tbody":
            self._in_body = False
        elif tag == "details":
            self._figure = None


def tables_of(page: str) -> dict[str, list[list[str]]]:
    parser = _Tables()
    parser.feed(page)
    return parser.tables


def shown(value: int | None, status: str | None) -> str:
    """A figure as a person must read it: the count, or why there is none (never 0 for a gap)."""
    return GAPS[status or "NOT_REPORTED"] if value is None else f"{value:,}"


def expected_tables(data: dict[str, Any], year: int) -> dict[str, list[list[str]]]:
    names = {m["code"]: m["name"] for m in data["municipalities"]}
    area = data["viewer"]["municipality"]["name"]
    expected = {}
    for table in data["prefectureStats"]["tables"]:
        if table["fiscalYear"]["year"] != year:
            continue
        has_total = any(
            r["total"] is not None or any(w["column"] is None for w in r["withheld"]) for r in table["rows"]
        )
        rows = []
        for row in table["rows"]:
            why = {w["column"]: w["status"] for w in row["withheld"]}
            cells = [shown(v, why.get(i)) for i, v in enumerate(row["values"])]
            total = [shown(row["total"], why.get(None))] if has_total else []
            code = row["municipalityCode"]
            rows.append([area if code is None else names[code], *cells, *total])
        expected[table["figure"].lower()] = rows
    for of_year in data["prefectureStats"]["medians"]:
        if of_year["fiscalYear"]["year"] == year:
            expected["medians"] = [
                [area if m["municipalityCode"] is None else names[m["municipalityCode"]], days(m["days"], m["status"])]
                for m in of_year["medians"]
            ]
    return expected


def days(value: float | None, status: str) -> str:
    """A median in days as a person reads it: whole days without a fraction."""
    return GAPS[status] if value is None else (f"{value:,.0f}" if value == int(value) else f"{value:,.1f}")


def graphql_answer(client: httpx.Client, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    """The dashboard's registered document, sent to /graphql with the same session."""
    document = documents.document("dashboard")
    response = client.post(
        "/graphql",
        json={"query": document.text, "operationName": document.operation, "variables": variables},
        headers={
            "kizuna-csrf": "1",
            "sec-fetch-mode": "cors",
            "sec-fetch-dest": "empty",
            "sec-fetch-site": "same-origin",
        },
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


def assert_indicator_values(page: str, indicators: list[dict[str, Any]]) -> None:
    """Each indicator's current value and progress bar on the page are the answer's."""
    with_value = [i for i in indicators if i["currentValue"] is not None]
    assert with_value, "the demo's accepted figures give some indicator a value"
    for indicator in indicators:
        item = page.split(f'id="indicator-{indicator["key"]}"', 1)[1].split("</li>", 1)[0]
        current = indicator["currentValue"]
        if current is None:
            assert "現在値はまだありません" in item
            continue
        value = Decimal(current["value"])
        shown = f"{value:,.0f}" if value == value.to_integral_value() else f"{value.normalize():,}"
        assert f"現在値 <strong>{shown}{html.escape(indicator['unit'])}</strong>" in item
        progress = 0.0 if current["progress"] is None else min(max(float(current["progress"]), 0.0), 100.0)
        bar = re.search(r'<progress id="progress-[^"]+" value="([^"]+)" max="100"', item)
        assert bar is not None
        assert float(bar.group(1)) == progress


def charts_of(page: str) -> list[str]:
    """Each trend chart in words (its SVG's <desc>), as a screen reader reads it."""
    return [html.unescape(d) for d in re.findall(r'<desc id="chart-[0-9]+-desc">([^<]*)</desc>', page)]


def expected_charts(data: dict[str, Any]) -> list[str]:
    """The charts the answer's trends make: the total of every year (the status table: the
    municipalities with a window or a team), or why there is none."""
    trends = {t["figure"]: t for t in data["prefectureStats"]["trends"]}
    described = []
    for figure, unit, column in CHARTS:
        words = []
        for year in trends[figure]["years"]:
            why = {w["column"]: w["status"] for w in year["withheld"]}
            if column is None:
                value, status = year["total"], why.get(None)
            else:
                index = [c["category"] for c in trends[figure]["columns"]].index(column)
                value, status = year["values"][index], why.get(index)
            shown = GAPS[status or "NOT_REPORTED"] if value is None else f"{value:,}{unit}"
            words.append(f"{year['fiscalYear']['western']}（{year['fiscalYear']['japanese']}）: {shown}")
        described.append("、".join(words))
    return described


def tiles_of(page: str) -> list[str]:
    return re.findall(r'<li class="tile tile--[a-z]+" data-code="([0-9]{6})">', page)


def assert_page_headers(response: httpx.Response) -> None:
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["content-security-policy"] == POLICY
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    # Nothing inline for the policy to have to allow, and nothing from another origin.
    assert "<script" not in response.text
    assert " style=" not in response.text
    assert re.search(r"<[^>]+ on[a-z]+=", response.text) is None
    assert re.findall(r'<link[^>]* href="([^"]+)"', response.text) == [
        "/assets/favicon.svg",
        "/assets/design-tokens/tokens.css",
        "/assets/kizuna.css",
    ]


class TestTheAnalyst:
    def test_sees_every_municipality_and_the_figures_of_the_registered_document(
        self, browser_as: Callable[[str], httpx.Client]
    ) -> None:
        client = browser_as(ANALYST)
        page = client.get("/")
        assert page.status_code == 200, page.text
        assert_page_headers(page)
        assert '<html lang="ja">' in page.text
        data = graphql_answer(client)
        stats = data["prefectureStats"]
        assert (stats["unsuppressed"], stats["threshold"]) == (False, 5)
        year = max(y["year"] for y in stats["fiscalYears"])
        # Saitama's 63 municipalities at a glance, the prefecture itself not among them.
        assert len(tiles_of(page.text)) == 63
        assert "110001" not in tiles_of(page.text)
        tables = tables_of(page.text)
        assert tables == expected_tables(data, year)
        assert "秘匿" in str(tables)  # the seeded tenants' small counts are suppressed
        # Only the year's tables are sent; the charts are the trends of every year.
        assert {t["fiscalYear"]["year"] for t in stats["tables"]} == {year}
        assert charts_of(page.text) == expected_charts(data)
        assert [len(t["years"]) for t in stats["trends"]] == [len(stats["fiscalYears"])] * len(stats["trends"])
        assert "medians" in tables
        for figure in set(tables) - {"medians"}:
            assert f'href="/exports/stats/{figure}.csv?fiscalYear={year}"' in page.text
            assert f'href="/exports/stats/{figure}.xlsx?fiscalYear={year}"' in page.text
        assert f'href="/exports/medians.xlsx?fiscalYear={year}"' in page.text
        assert 'href="/exports/indicators.csv"' in page.text
        for indicator in data["indicators"]:
            assert html.escape(indicator["name"]) in page.text
        assert_indicator_values(page.text, data["indicators"])
        # The export buttons lead to the exports (schema/pages/exports.py), with the same session.
        download = client.get(f"/exports/stats/cases_by_category.csv?fiscalYear={year}")
        assert download.status_code == 200, download.text
        assert download.content.startswith(b"\xef\xbb\xbf")

    def test_another_fiscal_year_and_a_bad_one(self, browser_as: Callable[[str], httpx.Client]) -> None:
        client = browser_as(ANALYST)
        earliest = min(y["year"] for y in graphql_answer(client)["prefectureStats"]["fiscalYears"])
        page = client.get("/", params={"fiscalYear": earliest})
        data = graphql_answer(client, {"fiscalYears": [earliest]})
        assert {t["fiscalYear"]["year"] for t in data["prefectureStats"]["tables"]} == {earliest}
        assert tables_of(page.text) == expected_tables(data, earliest)
        assert charts_of(page.text) == expected_charts(data)
        for bad in ("1999", "2024; DROP", "٢٠٢٤", ""):
            refused = client.get("/", params={"fiscalYear": bad})
            assert refused.status_code == 400
            assert_page_headers(refused)
            assert "ページの指定が正しくありません。" in refused.text
            assert "data-table" not in refused.text


def test_a_supervisor_sees_its_own_municipality_unsuppressed(browser_as: Callable[[str], httpx.Client]) -> None:
    client = browser_as(SUPERVISOR)
    page = client.get("/")
    assert page.status_code == 200, page.text
    assert_page_headers(page)
    data = graphql_answer(client)
    assert data["prefectureStats"]["unsuppressed"] is True
    assert tiles_of(page.text) == [KAWAGOE]
    year = max(y["year"] for y in data["prefectureStats"]["fiscalYears"])
    tables = tables_of(page.text)
    assert tables == expected_tables(data, year)
    assert charts_of(page.text) == expected_charts(data)
    assert {row[0] for rows in tables.values() for row in rows} == {"川越市"}
    assert "秘匿" not in str(tables)


# A caseworker starts at the inbox (tests/pages/test_inbox_http.py).
@pytest.mark.parametrize("subject", ["demo:welfare_worker:111007", SCHOOL])
def test_other_roles_get_their_home_page_and_no_figure(browser_as: Callable[[str], httpx.Client], subject: str) -> None:
    page = browser_as(subject).get("/", params={"fiscalYear": "2024"})
    assert page.status_code == 200
    assert_page_headers(page)
    assert 'action="/auth/logout"' in page.text
    assert 'href="/graphql"' in page.text
    for figure_mark in ("集計日時", "data-table", "tile--", "/exports/", "<svg"):
        assert figure_mark not in page.text


def test_signed_out_gets_the_sign_in_page(server: Any) -> None:
    page = httpx.get(f"{server.url}/")
    assert page.status_code == 200
    assert_page_headers(page)
    assert '<a class="button" href="/auth/login">サインイン</a>' in page.text
    assert "集計日時" not in page.text


def test_a_cross_site_fetch_with_the_cookie_is_refused(browser_as: Callable[[str], httpx.Client]) -> None:
    """Another site's script may make the browser send the cookie (a fetch, a frame): only
    a top-level navigation opens the page, whose answer no other site can read."""
    client = browser_as(ANALYST)
    for fetch in (
        {
            "sec-fetch-mode": "cors",
            "sec-fetch-dest": "empty",
            "sec-fetch-site": "cross-site",
            "origin": "https://evil.example",
        },
        {"sec-fetch-mode": "navigate", "sec-fetch-dest": "iframe", "sec-fetch-site": "cross-site"},
    ):
        refused = client.get("/", headers=fetch)
        assert refused.status_code == 403, fetch
        assert_page_headers(refused)
        assert "このページは表示できません。" in refused.text
        assert "集計日時" not in refused.text
        assert "data-table" not in refused.text
    # A navigation from another site (a link, the IdP's redirect) opens it.
    linked = client.get("/", headers={"sec-fetch-site": "cross-site"})
    assert linked.status_code == 200
    assert "集計日時" in linked.text


def test_the_stylesheets_are_served_and_nothing_else(server: Any) -> None:
    for path in ("/assets/kizuna.css", "/assets/design-tokens/tokens.css", "/assets/favicon.svg"):
        response = httpx.get(f"{server.url}{path}")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith(("text/css", "image/svg+xml"))
        assert response.headers["x-content-type-options"] == "nosniff"
    for path in ("/assets/../home.py", "/assets/%2e%2e/home.py", "/assets/nothing.css", "/assets/"):
        assert httpx.get(f"{server.url}{path}").status_code == 404, path
