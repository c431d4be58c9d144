"""batchUpdate handlers that edit cells: values/formats, merges, borders, paste, sort, resize."""
from __future__ import annotations

import copy

from . import cells
from .a1 import Rect
from .batch_common import Ctx, cells_in, set_cell_fields
from .model import Sheet, grid_range_json


def update_cells(ctx: Ctx, req: dict) -> dict:
    mask = req.get("fields") or ""
    if req.get("range"):
        sheet, box = ctx.grid(req["range"])
    else:
        start = req.get("start") or {}
        sheet = ctx.sheet(start.get("sheetId"))
        box = Rect(start.get("rowIndex") or 0, start.get("columnIndex") or 0, sheet.rows, sheet.cols)
    rows = req.get("rows") or []
    for i, row in enumerate(rows):
        for j, data in enumerate(row.get("values") or []):
            r, c = box.r0 + i, box.c0 + j
            if r < box.r1 and c < box.c1:
                set_cell_fields(sheet, r, c, data or {}, mask)
    if req.get("range"):  # cells in range without data are cleared for the masked fields
        for r, c in cells_in(box):
            i, j = r - box.r0, c - box.c0
            if i >= len(rows) or j >= len(rows[i].get("values") or []):
                set_cell_fields(sheet, r, c, {}, mask)
    return {}


def append_cells(ctx: Ctx, req: dict) -> dict:
    sheet = ctx.sheet(req.get("sheetId"))
    last = max((r for (r, _), cell in sheet.cells.items() if cells.has_content(cell)), default=-1)
    rows = req.get("rows") or []
    if last + 1 + len(rows) > sheet.rows:
        sheet.grid["rowCount"] = last + 1 + len(rows)
    for i, row in enumerate(rows):
        for j, data in enumerate(row.get("values") or []):
            if j >= sheet.cols:
                sheet.grid["columnCount"] = j + 1
            set_cell_fields(sheet, last + 1 + i, j, data or {}, req.get("fields") or "")
    return {}


def repeat_cell(ctx: Ctx, req: dict) -> dict:
    sheet, box = ctx.grid(req.get("range") or {})
    for r, c in cells_in(box):
        set_cell_fields(sheet, r, c, req.get("cell") or {}, req.get("fields") or "")
    return {}


def set_data_validation(ctx: Ctx, req: dict) -> dict:
    sheet, box = ctx.grid(req.get("range") or {})
    rule = req.get("rule")
    for r, c in cells_in(box):
        set_cell_fields(sheet, r, c, {"dataValidation": rule} if rule else {}, "dataValidation")
    return {}


def merge_cells(ctx: Ctx, req: dict) -> dict:
    sheet, box = ctx.grid(req.get("range") or {})
    kind = req.get("mergeType") or "MERGE_ALL"
    parts = ([box] if kind == "MERGE_ALL" else
             [Rect(r, box.c0, r + 1, box.c1) for r in range(box.r0, box.r1)] if kind == "MERGE_ROWS" else
             [Rect(box.r0, c, box.r1, c + 1) for c in range(box.c0, box.c1)])
    sheet.merges = [m for m in sheet.merges  # a new merge replaces the merges it overlaps
                    if m["endRowIndex"] <= box.r0 or m["startRowIndex"] >= box.r1
                    or m["endColumnIndex"] <= box.c0 or m["startColumnIndex"] >= box.c1]
    for p in parts:
        for r, c in cells_in(p):
            if (r, c) != (p.r0, p.c0):
                sheet.put(r, c, {})
        sheet.merges.append(grid_range_json(0, p))
    return {}


def unmerge_cells(ctx: Ctx, req: dict) -> dict:
    sheet, box = ctx.grid(req.get("range") or {})
    sheet.merges = [m for m in sheet.merges
                    if not (box.r0 <= m["startRowIndex"] and m["endRowIndex"] <= box.r1
                            and box.c0 <= m["startColumnIndex"] and m["endColumnIndex"] <= box.c1)]
    return {}


def auto_resize_dimensions(ctx: Ctx, req: dict) -> dict:
    sheet, d, start, end = ctx.dim(req.get("dimensions") or {})
    for i in range(start, end):
        texts = [cells.formatted(c) or "" for (r, cc), c in sheet.cells.items() if (cc if d == "COLUMNS" else r) == i]
        longest = max((len(t) for t in texts), default=0)
        size = max(DEFAULT_MIN[d], 7 * longest + 10) if longest else DEFAULT_MIN[d]
        sheet.meta[d].setdefault(i, {})["pixelSize"] = size
    return {}


DEFAULT_MIN = {"ROWS": 21, "COLUMNS": 100}


def update_borders(ctx: Ctx, req: dict) -> dict:
    sheet, box = ctx.grid(req.get("range") or {})
    for r, c in cells_in(box):
        borders = {}
        if r == box.r0 and req.get("top"):
            borders["top"] = req["top"]
        if r == box.r1 - 1 and req.get("bottom"):
            borders["bottom"] = req["bottom"]
        if c == box.c0 and req.get("left"):
            borders["left"] = req["left"]
        if c == box.c1 - 1 and req.get("right"):
            borders["right"] = req["right"]
        if borders:
            cur = sheet.cells.setdefault((r, c), {})
            cur.setdefault("userEnteredFormat", {}).setdefault("borders", {}).update(borders)
    return {}


def _paste(ctx: Ctx, src_sheet: Sheet, src: Rect, dst_sheet: Sheet, r0: int, c0: int, cut: bool,
           rows: int | None = None, cols: int | None = None) -> None:
    block = {(r - src.r0, c - src.c0): copy.deepcopy(src_sheet.cells.get((r, c))) for r, c in cells_in(src)}
    if cut:
        for r, c in cells_in(src):
            src_sheet.cells.pop((r, c), None)
    h, w = src.r1 - src.r0, src.c1 - src.c0
    for i in range(rows or h):
        for j in range(cols or w):
            cell = block.get((i % h, j % w))
            if cell:
                dst_sheet.cells[(r0 + i, c0 + j)] = copy.deepcopy(cell)
            else:
                dst_sheet.cells.pop((r0 + i, c0 + j), None)


def copy_paste(ctx: Ctx, req: dict) -> dict:
    s_sheet, s_box = ctx.grid(req.get("source") or {})
    d_sheet, d_box = ctx.grid(req.get("destination") or {})
    _paste(ctx, s_sheet, s_box, d_sheet, d_box.r0, d_box.c0, False,
           max(d_box.r1 - d_box.r0, s_box.r1 - s_box.r0), max(d_box.c1 - d_box.c0, s_box.c1 - s_box.c0))
    return {}


def cut_paste(ctx: Ctx, req: dict) -> dict:
    s_sheet, s_box = ctx.grid(req.get("source") or {})
    dest = req.get("destination") or {}
    _paste(ctx, s_sheet, s_box, ctx.sheet(dest.get("sheetId")), dest.get("rowIndex") or 0,
           dest.get("columnIndex") or 0, True)
    return {}


def sort_range(ctx: Ctx, req: dict) -> dict:
    sheet, box = ctx.grid(req.get("range") or {})
    rows = [{c - box.c0: sheet.cells.get((r, c)) for c in range(box.c0, box.c1)} for r in range(box.r0, box.r1)]

    def key_for(spec):
        idx = (spec.get("dimensionIndex") or 0) - box.c0

        def k(row):
            v = cells.effective(row.get(idx) or {}) or {}
            if "numberValue" in v:
                return (0, v["numberValue"], "")
            if "stringValue" in v:
                return (1, 0, v["stringValue"].lower())
            if "boolValue" in v:
                return (2, int(v["boolValue"]), "")
            return (3, 0, "")
        return k

    for spec in reversed(req.get("sortSpecs") or []):
        rows.sort(key=key_for(spec), reverse=spec.get("sortOrder") == "DESCENDING")
    for i, row in enumerate(rows):
        for j, cell in row.items():
            if cell:
                sheet.cells[(box.r0 + i, box.c0 + j)] = cell
            else:
                sheet.cells.pop((box.r0 + i, box.c0 + j), None)
    return {}
