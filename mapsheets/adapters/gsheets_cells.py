"""WorkbookSpec <-> Sheets API v4 JSON (pure): CellData, GridData, whole-sheet bodies.

Kept apart from the HTTP side so the request shapes can be read and tested on their own.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from typing import Any

from mapsheets.core.dates import SERIAL_EPOCH, from_serial
from mapsheets.core.layout import (
    ALERT_BACKGROUND,
    ALERT_TEXT,
    DATE_FORMAT,
    DATETIME_FORMAT,
    HEADER_BACKGROUND,
    HEADER_TEXT,
    MUTED_TEXT,
    PROTECTED_TAB,
    STYLES,
    SheetSpec,
    WorkbookSpec,
)
from mapsheets.core.text_gate import problem
from mapsheets.errors import PlanFileError

PIXELS_PER_CHAR = 7
# Dropdowns are per cell in the API: cover this many spare rows below the data, not the whole
# TABLE_ROWS the .xlsx gets as a range, or a new plan's create body grows to megabytes.
SPARE_ROWS = 200


def serial(value: date) -> float:
    if isinstance(value, datetime):
        delta = value.replace(tzinfo=None) - datetime(SERIAL_EPOCH.year, SERIAL_EPOCH.month, SERIAL_EPOCH.day)
        return round(delta.total_seconds() / 86400, 8)
    return float((value - SERIAL_EPOCH).days)


def rgb(hex_colour: str) -> dict[str, float]:
    """"1F3864" -> {"red": 0.12, "green": 0.22, "blue": 0.39}, as the API takes colours."""
    return {name: round(int(hex_colour[i:i + 2], 16) / 255, 3) for name, i in (("red", 0), ("green", 2), ("blue", 4))}


def style_format(name: str) -> dict[str, Any]:
    """A palette style (layout.STYLES) as a CellFormat."""
    background, colour, bold = STYLES[name]
    out: dict[str, Any] = {"textFormat": {"bold": bold, **({"foregroundColor": rgb(colour)} if colour else {})}}
    if background:
        out["backgroundColor"] = rgb(background)
    return out


def cell_data(value: Any, fmt: dict[str, Any] | None = None) -> dict[str, Any]:
    """One CellData. Text is always stringValue: never parsed, never a formula."""
    out: dict[str, Any] = {}
    user_format: dict[str, Any] = dict(fmt or {})
    if isinstance(value, bool):
        out["userEnteredValue"] = {"boolValue": value}
    elif isinstance(value, datetime):
        out["userEnteredValue"] = {"numberValue": serial(value)}
        user_format["numberFormat"] = {"type": "DATE_TIME", "pattern": DATETIME_FORMAT}
    elif isinstance(value, date):
        out["userEnteredValue"] = {"numberValue": serial(value)}
        user_format["numberFormat"] = {"type": "DATE", "pattern": DATE_FORMAT}
    elif isinstance(value, (int, float)):
        out["userEnteredValue"] = {"numberValue": value}
    elif value is not None and value != "":
        out["userEnteredValue"] = {"stringValue": checked(str(value))}
    if user_format:
        out["userEnteredFormat"] = user_format
    return out


def checked(text: str, what: str = "text to write") -> str:
    """``text``, unless a cell cannot hold it as it is (the text gate's last check): refused, naming
    its start, before any request is sent."""
    if said := problem(text):
        raise PlanFileError(f"{what} ({ascii(text[:24])[1:-1]}{'…' if len(text) > 24 else ''}) {said}: "
                            "nothing written")
    return text


def user_entered(value: Any) -> Any:
    """One value for a USER_ENTERED write that Google reads back as exactly this value: text behind
    an apostrophe (never a formula, number or date), dates in ISO form (recognised as dates), None
    as null (the cell is left alone)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or isinstance(value, (int, float)):
        return value
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return "'" + checked(str(value))


def grid_value(cell: dict[str, Any]) -> Any:
    """A Python value from a CellData read back (dates where the cell is formatted as one)."""
    value = cell.get("effectiveValue")
    if value is None:
        return None
    if "stringValue" in value:
        return value["stringValue"]
    if "boolValue" in value:
        return value["boolValue"]
    if "numberValue" in value:
        number = value["numberValue"]
        kind = (cell.get("userEnteredFormat") or cell.get("effectiveFormat") or {}).get("numberFormat", {}).get("type")
        if kind == "DATE":
            return from_serial(number)
        if kind == "DATE_TIME":
            day = from_serial(number)
            seconds = round((number - int(number)) * 86400)
            return datetime(day.year, day.month, day.day) + _seconds(seconds)
        return int(number) if float(number).is_integer() else number
    if "errorValue" in value:
        return value["errorValue"].get("message") or value["errorValue"].get("type")
    return None


def _seconds(n: int):
    from datetime import timedelta

    return timedelta(seconds=n)


def grid_rows(sheet: dict[str, Any]) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for block in sheet.get("data", []):
        start = block.get("startRow", 0)
        for i, row in enumerate(block.get("rowData", [])):
            while len(rows) < start + i:
                rows.append([])
            values = [grid_value(c) for c in row.get("values", [])]
            if len(rows) == start + i:
                rows.append(values)
            else:
                rows[start + i] = values
    return rows


def _grid_range(sheet_id: int, r0: int, r1: int, c0: int, c1: int) -> dict[str, int]:
    return {"sheetId": sheet_id, "startRowIndex": r0, "endRowIndex": r1, "startColumnIndex": c0, "endColumnIndex": c1}


def _row_cells(spec: SheetSpec, r: int, width: int) -> list[dict[str, Any]]:
    row = spec.rows[r] if r < len(spec.rows) else []
    validations = {v.column: v for v in spec.validations if v.first_row <= r <= v.last_row}
    if r >= len(spec.rows):  # a spare row: only its dropdowns
        width = max(validations, default=-1) + 1
    cells = []
    for c in range(width):
        value = row[c] if c < len(row) else None
        fmt: dict[str, Any] = {}
        if r in spec.band_rows:  # coloured by a conditional format (layout.band_format)
            fmt = {"wrapStrategy": "OVERFLOW_CELL"}
        elif spec.header_row is not None and r == spec.header_row:
            fmt = {"textFormat": {"bold": True, "foregroundColor": rgb(HEADER_TEXT)},
                   "backgroundColor": rgb(HEADER_BACKGROUND)}
            if r in spec.rotated_rows and not isinstance(value, str):
                fmt.update({"textRotation": {"angle": 90}, "horizontalAlignment": "CENTER"})
        elif r in spec.heading_rows and c == 0:
            fmt = {"textFormat": {"bold": True, "fontSize": 16}}
        elif spec.label_column == c and (spec.header_row is None or r < spec.header_row):
            fmt = {"textFormat": {"bold": True}}
        elif spec.header_row is not None and spec.header_row < r < len(spec.rows):
            fmt = {"wrapStrategy": "WRAP" if spec.wrap_body else "CLIP", "verticalAlignment": "TOP"}
            if c in spec.column_formats and r < len(spec.rows):
                kind = "DATE_TIME" if spec.column_formats[c] == DATETIME_FORMAT else "DATE"
                fmt["numberFormat"] = {"type": kind, "pattern": spec.column_formats[c]}
        cell = cell_data(value, fmt)
        if c in validations:
            v = validations[c]
            cell["dataValidation"] = {
                "condition": {"type": "ONE_OF_LIST", "values": [{"userEnteredValue": o} for o in v.options]},
                "strict": v.strict, "showCustomUi": True,
            }
        cells.append(cell)
    return cells


def sheet_body(spec: SheetSpec, sheet_id: int, index: int) -> dict[str, Any]:
    """A full Sheet for spreadsheets.create: properties, data, conditional formats, protection."""
    width = max([len(r) for r in spec.rows] + [len(spec.widths), 1])
    if spec.band_rows and spec.header_row is not None:  # bands are coloured across the table
        width = max(width, len(spec.rows[spec.header_row]))
    last = max([len(spec.rows)] + [min(v.last_row + 1, len(spec.rows) + SPARE_ROWS) for v in spec.validations])
    row_count = max(last, 100)
    body: dict[str, Any] = {
        "properties": {
            "sheetId": sheet_id, "title": spec.title, "index": index,
            "gridProperties": {"rowCount": row_count,
                               "columnCount": max([width, 26] + [cf.columns for cf in spec.conditional]),
                               "frozenRowCount": spec.frozen_rows},
        },
        "data": [{
            "startRow": 0, "startColumn": 0,
            "rowData": [{"values": _row_cells(spec, r, width)} for r in range(last)],
            "columnMetadata": [{"pixelSize": round(w * PIXELS_PER_CHAR + 10)} for w in spec.widths],
        }],
    }
    if spec.hidden:
        body["properties"]["hidden"] = True
    if spec.protected:
        body["properties"]["tabColorStyle"] = {"rgbColor": rgb(PROTECTED_TAB)}
        body["protectedRanges"] = [{
            "range": {"sheetId": sheet_id}, "warningOnly": True,
            "description": "Written by mapsheets when people sign; edit by hand only if you mean to.",
        }]
    rules = []
    for cf in spec.conditional:
        if cf.style in STYLES:
            fmt = style_format(cf.style)
        else:
            fmt = ({"textFormat": {"foregroundColor": rgb(MUTED_TEXT)}} if cf.style == "muted"
                   else {"backgroundColor": rgb(ALERT_BACKGROUND), "textFormat": {"foregroundColor": rgb(ALERT_TEXT)}})
        rules.append({
            "ranges": [_grid_range(sheet_id, cf.first_row, cf.last_row + 1, cf.first_column, cf.columns)],
            "booleanRule": {"condition": {"type": "CUSTOM_FORMULA", "values": [{"userEnteredValue": cf.formula}]},
                            "format": fmt},
        })
    if rules:
        body["conditionalFormats"] = rules
    return body


def create_body(spec: WorkbookSpec) -> dict[str, Any]:
    """The whole formatted workbook as one spreadsheets.create body."""
    return {
        "properties": {"title": checked(spec.title, "the spreadsheet's title")},
        "sheets": [sheet_body(s, i, i) for i, s in enumerate(spec.sheets)],
    }


def add_sheets_requests(spec: WorkbookSpec, first_id: int) -> list[dict[str, Any]]:
    """The same workbook as batchUpdate requests into an existing spreadsheet (the add-on case)."""
    requests: list[dict[str, Any]] = []
    for i, sheet in enumerate(spec.sheets):
        body = sheet_body(sheet, first_id + i, i)
        requests.append({"addSheet": {"properties": body["properties"]}})
        data = body["data"][0]
        requests.append({"updateCells": {
            "start": {"sheetId": first_id + i, "rowIndex": 0, "columnIndex": 0},
            "rows": data["rowData"], "fields": "userEnteredValue,userEnteredFormat,dataValidation"}})
        for c, meta in enumerate(data["columnMetadata"]):
            requests.append({"updateDimensionProperties": {
                "range": {"sheetId": first_id + i, "dimension": "COLUMNS", "startIndex": c, "endIndex": c + 1},
                "properties": {"pixelSize": meta["pixelSize"]}, "fields": "pixelSize"}})
        for n, rule in enumerate(body.get("conditionalFormats", [])):  # in order: the first that holds wins
            requests.append({"addConditionalFormatRule": {"rule": rule, "index": n}})
        for protected in body.get("protectedRanges", []):
            requests.append({"addProtectedRange": {"protectedRange": protected}})
    return requests


def update_cells_requests(sheet_id: int, cells: dict[tuple[int, int], Any]) -> list[dict[str, Any]]:
    """One updateCells per cell run on a row; only values and number formats are touched."""
    requests = []
    by_row: dict[int, dict[int, Any]] = {}
    for (row, col), v in cells.items():
        by_row.setdefault(row, {})[col] = v
    for r in sorted(by_row):
        run: list[int] = []
        for c in [*sorted(by_row[r]), None]:  # None ends the last run
            if run and (c is None or c != run[-1] + 1):
                requests.append({"updateCells": {
                    "start": {"sheetId": sheet_id, "rowIndex": r, "columnIndex": run[0]},
                    "rows": [{"values": [cell_data(by_row[r][k]) for k in run]}],
                    "fields": "userEnteredValue,userEnteredFormat.numberFormat"}})
                run = []
            if c is not None:
                run.append(c)
    return requests


def insert_rows_request(sheet_id: int, at: int, n: int) -> dict[str, Any]:
    """Empty rows before 0-based row ``at``, formatted like the row above (a step row, not the band)."""
    return {"insertDimension": {"range": {"sheetId": sheet_id, "dimension": "ROWS", "startIndex": at,
                                          "endIndex": at + n}, "inheritFromBefore": at > 0}}


def append_cells_request(sheet_id: int, rows: list[dict[int, Any]]) -> dict[str, Any]:
    """An appendCells of ``rows`` (0-based column -> value), after the tab's last row with data."""
    width = max(c for row in rows for c in row) + 1
    return {"appendCells": {
        "sheetId": sheet_id, "fields": "userEnteredValue,userEnteredFormat.numberFormat",
        "rows": [{"values": [cell_data(row.get(c)) for c in range(width)]} for row in rows]}}


ONCE_KEY = "mapsheets.once"


def once_id(key: str, attempt: int = 0) -> int:
    """The developer metadata ID of a once-only edit's ``attempt``: positive, under 2**31."""
    digest = hashlib.sha256(f"{key}\0{attempt}".encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") % (2**31 - 1) + 1


def once_request(key: str, attempt: int = 0) -> dict[str, Any]:
    """A createDeveloperMetadata Google refuses when its ID exists: the batch it opens is written
    at most once per ``key`` and ``attempt``. (The ID carries the key: nothing personal is stored.)"""
    return {"createDeveloperMetadata": {"developerMetadata": {
        "metadataId": once_id(key, attempt), "metadataKey": ONCE_KEY,
        "location": {"spreadsheet": True}, "visibility": "DOCUMENT"}}}
