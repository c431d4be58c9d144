"""Shared pieces of batchUpdate handlers: request context and cell helpers."""
from __future__ import annotations

import copy
from collections.abc import Iterator

from . import cells, colors, fieldmask
from .a1 import Rect
from .errors import ApiError, bad_request
from .model import Sheet, Spreadsheet, box_from_grid_range


class Ctx:
    """Per-request context: the spreadsheet, the caller and the request index."""

    def __init__(self, ss: Spreadsheet, user_email: str):
        self.ss = ss
        self.user_email = user_email
        self.index = 0
        self.kind = ""

    def fail(self, message: str) -> ApiError:
        return bad_request(f"Invalid requests[{self.index}].{self.kind}: {message}")

    def sheet(self, sheet_id) -> Sheet:
        sheet = self.ss.sheet_by_id(sheet_id or 0)
        if sheet is None:
            raise self.fail(f"No grid with id: {sheet_id or 0}")
        return sheet

    def grid(self, gr: dict) -> tuple[Sheet, Rect]:
        sheet = self.sheet(gr.get("sheetId"))
        return sheet, sheet.clamp(box_from_grid_range(gr))

    def dim(self, dr: dict) -> tuple[Sheet, str, int, int]:
        sheet = self.sheet(dr.get("sheetId"))
        d = dr.get("dimension", "ROWS")
        size = sheet.rows if d == "ROWS" else sheet.cols
        start = dr.get("startIndex") or 0
        end = size if dr.get("endIndex") is None else dr["endIndex"]
        if end > size or not 0 <= start < end:
            raise self.fail(f"Invalid dimension range [{start}, {end}) for a grid of size {size}")
        return sheet, d, start, end


def prune(obj):
    """Drop nulls, falses and empty lists the way proto3 JSON output does."""
    if isinstance(obj, dict):
        return {k: prune(v) for k, v in obj.items() if v is not None and v is not False and v != []}
    if isinstance(obj, list):
        return [prune(v) for v in obj]
    return obj


def cells_in(box: Rect) -> Iterator[tuple[int, int]]:
    for r in range(box.r0, box.r1):
        for c in range(box.c0, box.c1):
            yield r, c


def set_cell_fields(sheet: Sheet, r: int, c: int, data: dict, mask: str) -> None:
    cur = copy.deepcopy(sheet.cells.get((r, c), {}))
    fieldmask.copy_fields(cur, data, mask)
    cur = colors.normalise(cur)
    if "userEnteredValue" in cur:
        cur.pop("effectiveValue", None)
    sheet.cells.pop((r, c), None)
    if cells.has_content(cur):
        sheet.cells[(r, c)] = cur
