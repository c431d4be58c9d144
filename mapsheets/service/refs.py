"""Plan references: a local .xlsx path, a Google Sheets URL or a spreadsheet ID."""

from __future__ import annotations

import re
from pathlib import Path

from mapsheets.errors import UsageError

_SHEETS_URL = re.compile(r"^https://docs\.google\.com/spreadsheets/d/([A-Za-z0-9_-]+)")
_SHEET_ID = re.compile(r"^[A-Za-z0-9_-]{25,}$")


def google_id(ref: str) -> str | None:
    """The spreadsheet ID if ``ref`` names a Google Sheet, else None."""
    if m := _SHEETS_URL.match(ref.strip()):
        return m[1]
    if _SHEET_ID.match(ref.strip()) and not Path(ref).exists():
        return ref.strip()
    return None


def open_workbook(ref: str):
    """The backend object for a plan reference (same operations whatever the backend)."""
    if not ref or not ref.strip():
        raise UsageError("no plan given: pass a .xlsx path, a Google Sheets URL or a spreadsheet ID")
    sheet_id = google_id(ref)
    if sheet_id is not None:
        from mapsheets.adapters.gsheets import GoogleWorkbook
        return GoogleWorkbook.from_env(sheet_id)
    path = Path(ref)
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        raise UsageError(f"{ref}: not a plan reference (expected a .xlsx file, a Google Sheets URL or ID)")
    from mapsheets.adapters.xlsx import XlsxWorkbook
    return XlsxWorkbook(path)


def new_workbook(output: str | None, *, google: bool = False):
    """Where ``new`` writes: a new Google Sheet, an existing one (by URL or ID), or a .xlsx path."""
    if google and not output:
        from mapsheets.adapters.gsheets import GoogleWorkbook
        return GoogleWorkbook.from_env(None)
    if not output:
        raise UsageError("say where to create the plan: -o FILE.xlsx, -o SHEET-URL, or --google")
    return open_workbook(output)


def read_parsed(book):
    """(grid, parsed plan) of a workbook; a sheet that is not a plan is an error naming it."""
    grid = book.read_grid()
    return grid, parse_grid(book, grid)


def parse_grid(book, grid):
    """The parsed plan of a grid read from ``book``; a sheet that is not a plan is an error naming it."""
    from mapsheets.core.parse import parse_plan
    from mapsheets.errors import PlanFileError

    try:
        return parse_plan(grid)
    except PlanFileError as exc:
        raise PlanFileError(f"{book.ref}: {exc}") from None
