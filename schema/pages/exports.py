"""Every table of the prefecture view as a download, CSV or xlsx.

An export runs its GraphQL document through `GraphQLEndpoint.run`, as the signed-in user
(the session cookie) or an API client (a bearer token): it is authorised, limited and
answered exactly as the same query sent to /graphql, and holds nothing the query would
not. The file is that answer laid out as a table (`spreadsheets.py` neutralises every text).

    GET /exports/stats/{figure}.{csv|xlsx}[?fiscalYear=2024…]   one figure, every year asked
    GET /exports/medians.{csv|xlsx}[?fiscalYear=…]              days to the first conference
    GET /exports/indicators.{csv|xlsx}                          the indicators, targets, current values and progress
"""

from __future__ import annotations

import decimal
from collections.abc import Callable, Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from kizuna.platform.errors import ErrorCode, RequestRefused, error_entry
from kizuna.platform.ids import new_request_id
from kizuna.schema.http import GraphQLEndpoint, GraphQLRequest
from kizuna.schema.pages.spreadsheets import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE, Sheet, Value, to_csv, to_xlsx
from kizuna.schema.stats.figures import CellStatus, Figure
from kizuna.tenants.registry import by_code

STATS_DOCUMENT = """
query ExportStats($figures: [Figure!], $fiscalYears: [Int!]) {
  prefectureStats(figures: $figures, fiscalYears: $fiscalYears) {
    computedAt
    tables {
      label
      fiscalYear { year japanese }
      columns { label }
      rows { municipalityCode values total withheld { column status } }
    }
    medians {
      fiscalYear { year japanese }
      medians { municipalityCode days status }
    }
  }
}
"""

INDICATORS_DOCUMENT = """
query ExportIndicators {
  indicators {
    key name unit baseline baselineFiscalYear target targetDate targetFiscalYear countedFromFiscalYear
    deadlinePassed
    currentValue { fiscalYear { japanese } value progress targetReached coverage { reported municipalities } }
  }
}
"""

WRITERS: dict[str, tuple[Callable[[Sheet], bytes], str]] = {
    "csv": (to_csv, CSV_MEDIA_TYPE),
    "xlsx": (to_xlsx, XLSX_MEDIA_TYPE),
}
# What a withheld figure's cell says; the statuses' full labels are in the GraphQL schema.
WITHHELD_TEXT = {
    CellStatus.SUPPRESSED: "秘匿",
    CellStatus.NOT_REPORTED: "未報告",
    CellStatus.TOO_FEW: "非表示",
}
TOTAL_LABEL = "合計"
_HEADERS = {"cache-control": "no-store", "x-content-type-options": "nosniff"}


class Exports:
    def __init__(self, endpoint: GraphQLEndpoint) -> None:
        self.endpoint = endpoint

    def routes(self) -> list[Route]:
        return [
            Route("/exports/stats/{figure}.{format}", self.stats, methods=["GET"]),
            Route("/exports/medians.{format}", self.medians, methods=["GET"]),
            Route("/exports/indicators.{format}", self.indicators, methods=["GET"]),
        ]

    async def stats(self, request: Request) -> Response:
        def variables() -> dict[str, Any]:
            try:
                figure = Figure(request.path_params["figure"])
            except ValueError:
                raise RequestRefused(404, ErrorCode.NOT_FOUND, "No such table.") from None
            return {"figures": [figure.name], "fiscalYears": _fiscal_years(request)}

        return await self._export(request, STATS_DOCUMENT, variables, request.path_params["figure"], _stats_sheet)

    async def medians(self, request: Request) -> Response:
        # The medians come with any figure; the smallest one keeps the request's cost low.
        def variables() -> dict[str, Any]:
            return {"figures": [Figure.CLOSURES.name], "fiscalYears": _fiscal_years(request)}

        return await self._export(request, STATS_DOCUMENT, variables, "medians", _medians_sheet)

    async def indicators(self, request: Request) -> Response:
        return await self._export(request, INDICATORS_DOCUMENT, lambda: None, "indicators", _indicators_sheet)

    async def _export(
        self,
        request: Request,
        document: str,
        variables: Callable[[], dict[str, Any] | None],
        name: str,
        sheet: Callable[[dict[str, Any]], Sheet],
    ) -> Response:
        """The document's answer as a file; `variables` reads the request's parameters and
        may refuse them (RequestRefused) before anything runs."""
        request_id = new_request_id()
        try:
            format_ = request.path_params["format"]
            writer, media_type = _writer(format_)
            gql = GraphQLRequest(document, variables(), None)
            answer = await self.endpoint.run(request, gql, request_id, page=True)
        except RequestRefused as exc:
            return _refused(exc, request_id)
        errors = answer.errors
        if errors or not answer.result.data:
            # The API's own refusal (FORBIDDEN for a role without the figures, …), as the API words it.
            codes = {e.get("extensions", {}).get("code") for e in errors}
            status = next((s for code, s in _STATUS.items() if code in codes), 400)
            return JSONResponse({"errors": errors}, status_code=status, headers=_HEADERS | {"x-request-id": request_id})
        content = writer(sheet(answer.result.data))
        filename = f"kizuna-{name}.{format_}"
        headers = _HEADERS | {"x-request-id": request_id, "content-disposition": f'attachment; filename="{filename}"'}
        return Response(content, media_type=media_type, headers=headers)


_STATUS = {
    ErrorCode.INTERNAL: 500,
    ErrorCode.UNAUTHENTICATED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.RATE_LIMITED: 429,
}


def _fiscal_years(request: Request) -> list[int] | None:
    """The `fiscalYear` parameters (any number of them; none means every year)."""
    given = request.query_params.getlist("fiscalYear")
    if not all(y.isascii() and y.isdigit() and len(y) == 4 for y in given):
        raise RequestRefused(400, ErrorCode.BAD_USER_INPUT, "fiscalYear must be a year such as 2024.")
    return [int(y) for y in given] or None


def _writer(format_: str) -> tuple[Callable[[Sheet], bytes], str]:
    if format_ not in WRITERS:
        raise RequestRefused(404, ErrorCode.NOT_FOUND, "Exports are .csv or .xlsx.")
    return WRITERS[format_]


def _refused(exc: RequestRefused, request_id: str) -> Response:
    body = {"errors": [error_entry(exc.code, exc.message, request_id, **exc.extensions)]}
    return JSONResponse(body, status_code=exc.status, headers=_HEADERS | exc.headers | {"x-request-id": request_id})


def _area(code: str | None) -> tuple[str, str]:
    if code is None:
        return "", TOTAL_LABEL
    government = by_code(code)
    return code, code if government is None else government.name


def _withheld_text(status: str) -> str:
    return WITHHELD_TEXT.get(CellStatus[status], "")


def _stats_sheet(data: dict[str, Any]) -> Sheet:
    tables = data["prefectureStats"]["tables"]
    columns: Sequence[str] = [c["label"] for c in tables[0]["columns"]] if tables else []
    rows: list[list[Value]] = []
    for table in tables:
        year = table["fiscalYear"]
        for row in table["rows"]:
            withheld = {w["column"]: _withheld_text(w["status"]) for w in row["withheld"]}
            values: list[Value] = [withheld.get(i) if v is None else v for i, v in enumerate(row["values"])]
            total: Value = withheld.get(None) if row["total"] is None else row["total"]
            rows.append([year["year"], year["japanese"], *_area(row["municipalityCode"]), *values, total])
    title = tables[0]["label"] if tables else "集計"
    return Sheet(title, ["年度", "年度（和暦）", "市町村コード", "市町村名", *columns, TOTAL_LABEL], rows)


def _medians_sheet(data: dict[str, Any]) -> Sheet:
    rows: list[list[Value]] = []
    for year in data["prefectureStats"]["medians"]:
        fiscal = year["fiscalYear"]
        for cell in year["medians"]:
            days: Value = _withheld_text(cell["status"]) if cell["days"] is None else cell["days"]
            rows.append([fiscal["year"], fiscal["japanese"], *_area(cell["municipalityCode"]), days])
    header = [
        "年度",
        "年度（和暦）",
        "市町村コード",
        "市町村名",
        "相談受理から最初のケース検討会議までの日数（中央値）",
    ]
    return Sheet("最初の会議までの日数", header, rows)


def _number(text: str | None) -> Value:
    if text is None:
        return None
    value = decimal.Decimal(text)
    return int(value) if value == value.to_integral_value() else float(value)


def _indicators_sheet(data: dict[str, Any]) -> Sheet:
    header = [
        *("キー", "指標", "単位", "基準値", "基準年度", "目標値", "目標の期日", "目標年度", "累計の開始年度"),
        *("現在値", "現在値の年度", "承認済みの市町村数", "市町村数", "進捗率（%）", "目標達成", "期日経過"),
    ]
    rows: list[list[Value]] = [
        [
            i["key"],
            i["name"],
            i["unit"],
            _number(i["baseline"]),
            i["baselineFiscalYear"],
            _number(i["target"]),
            i["targetDate"],
            i["targetFiscalYear"],
            i["countedFromFiscalYear"],
            *_current_value(i["currentValue"]),
            _yes_no(i["deadlinePassed"]),
        ]
        for i in data["indicators"] or ()
    ]
    return Sheet("指標", header, rows)


def _current_value(current: dict[str, Any] | None) -> list[Value]:
    """The value, its year, how many municipalities it holds of how many (empty for the
    prefecture's own survey), progress and whether the target is reached; empty cells
    when not computed yet."""
    if current is None:
        return [None] * 6
    coverage = current["coverage"] or {"reported": None, "municipalities": None}
    return [
        _number(current["value"]),
        current["fiscalYear"]["japanese"],
        coverage["reported"],
        coverage["municipalities"],
        _number(current["progress"]),
        _yes_no(current["targetReached"]),
    ]


def _yes_no(flag: bool) -> str:
    return "はい" if flag else "いいえ"
