"""A table as a file people open in Excel: CSV (UTF-8 with a BOM) and xlsx.

A spreadsheet runs a cell that begins with `=`, `+`, `-` or `@` as a formula, and a tab or
a carriage return in front of one hides it (CSV injection, OWASP). Every text written here
is neutralised, whatever it holds: a prefecture can name an indicator, and one day some
table will carry a name a person typed.
- CSV has no types, so a text that could start a formula gets a leading apostrophe (what
  OWASP recommends; Excel and LibreOffice read it as "this is text").
- xlsx keeps the text exactly: the cell is typed as a string (never `f`, a formula) and
  marked `quotePrefix`, so that it stays text even when someone edits it in Excel.
Numbers stay numbers in both.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_SHEET_TITLE_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_SHEET_TITLE_MAX = 31  # Excel's limit

Value = str | int | float | None


@dataclass(frozen=True, slots=True)
class Sheet:
    """One table: a title (the xlsx sheet's name), its header and its rows; None is an
    empty cell."""

    title: str
    header: Sequence[str]
    rows: Sequence[Sequence[Value]]


def starts_formula(text: str) -> bool:
    return text.startswith(FORMULA_STARTS)


def csv_text(text: str) -> str:
    """The text as a CSV cell that no spreadsheet runs."""
    return "'" + text if starts_formula(text) else text


def to_csv(sheet: Sheet) -> bytes:
    """RFC 4180 CSV (CRLF, quoted where needed) in UTF-8 with a BOM, which is what makes
    Excel read Japanese text as UTF-8 rather than Shift_JIS."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in (sheet.header, *sheet.rows):
        writer.writerow(csv_text(v) if isinstance(v, str) else ("" if v is None else v) for v in row)
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(sheet: Sheet) -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.worksheets[0])  # the default "Sheet"
    worksheet = workbook.create_sheet(sheet_title(sheet.title))
    for r, row in enumerate((sheet.header, *sheet.rows), start=1):
        for c, value in enumerate(row, start=1):
            cell = worksheet.cell(row=r, column=c)
            if isinstance(value, str):
                # XML cannot hold most control characters (they are shown as U+FFFD), and
                # reads a carriage return as a line feed.
                cell.value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value.replace("\r\n", "\n").replace("\r", "\n"))
                cell.data_type = "s"  # openpyxl would otherwise store "=…" as a formula
                if starts_formula(value):
                    cell.quotePrefix = True
            else:
                cell.value = value
            if r == 1:
                cell.font = Font(bold=True)
    worksheet.freeze_panes = "A2"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def sheet_title(title: str) -> str:
    """A name Excel accepts for a sheet: without []:*?/\\ and at most 31 characters."""
    cleaned = _SHEET_TITLE_FORBIDDEN.sub("_", title).strip("'") or "Sheet"
    return cleaned[:_SHEET_TITLE_MAX]
