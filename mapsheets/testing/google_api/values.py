"""spreadsheets.values.*: get, batchGet, update, batchUpdate, append, clear, batchClear."""
from __future__ import annotations

from typing import Any

from . import a1, cells
from .a1 import Box, Rect
from .errors import bad_request
from .model import Sheet, Spreadsheet


def _matrix(sheet: Sheet, box: Rect, major: str, vr: str, dr: str) -> list[list]:
    """Rendered values, trailing empties trimmed, inner empties as ''."""
    outer = range(box.r0, box.r1) if major != "COLUMNS" else range(box.c0, box.c1)
    inner = range(box.c0, box.c1) if major != "COLUMNS" else range(box.r0, box.r1)
    out: list[list] = []
    for i in outer:
        line = []
        for j in inner:
            r, c = (i, j) if major != "COLUMNS" else (j, i)
            line.append(cells.render(sheet.cell(r, c), vr, dr))
        while line and line[-1] is None:
            line.pop()
        out.append(["" if v is None else v for v in line])
    while out and not out[-1]:
        out.pop()
    return out


def value_range(ss: Spreadsheet, text: str, major: str = "ROWS", vr: str = "FORMATTED_VALUE",
                dr: str = "SERIAL_NUMBER") -> dict:
    sheet, box = ss.resolve(text)
    cb = sheet.clamp(box)
    out: dict[str, Any] = {"range": a1.format_range(sheet.title, cb), "majorDimension": major or "ROWS"}
    vals = _matrix(sheet, cb, major, vr, dr)
    if vals:
        out["values"] = vals
    return out


def get(ss: Spreadsheet, rng: str, p: dict) -> dict:
    return value_range(ss, rng, p.get("majorDimension", "ROWS"), p.get("valueRenderOption", "FORMATTED_VALUE"),
                       p.get("dateTimeRenderOption", "SERIAL_NUMBER"))


def batch_get(ss: Spreadsheet, p: dict) -> dict:
    out: dict = {"spreadsheetId": ss.id}
    ranges = p.get("ranges") or []
    if ranges:
        out["valueRanges"] = [get(ss, r, p) for r in ranges]
    return out


def _require_input_option(p: dict) -> bool:
    opt = p.get("valueInputOption")
    if not opt or opt == "INPUT_VALUE_OPTION_UNSPECIFIED":
        raise bad_request("'valueInputOption' is required but not specified")
    return opt == "USER_ENTERED"


def _rows_of(body: dict) -> list[list]:
    vals = body.get("values") or []
    if body.get("majorDimension") == "COLUMNS":
        width = max((len(v) for v in vals), default=0)
        vals = [[col[i] if i < len(col) else None for col in vals] for i in range(width)]
    return vals


def _write(ss: Spreadsheet, sheet: Sheet, r0: int, c0: int, rows: list[list], user_entered: bool,
           limit: Box | None, shown: str, p: dict) -> dict:
    height = len(rows)
    width = max((len(r) for r in rows), default=0)
    if limit is not None:
        if limit.r1 is not None and r0 + height > limit.r1:
            raise bad_request(f"Requested writing within range [{shown}], but tried writing to row [{r0 + height}]")
        if limit.c1 is not None and c0 + width > limit.c1:
            raise bad_request(f"Requested writing within range [{shown}], but tried writing to column "
                              f"[{a1.index_to_col(c0 + width - 1)}]")
    if height and width and (r0 + height > sheet.rows or c0 + width > sheet.cols):
        bad = a1.format_range(sheet.title, Rect(r0 + height - 1, c0 + width - 1, r0 + height, c0 + width))
        raise bad_request(f"Range ({bad.split('!')[0]}!{bad.split('!')[1]}) exceeds grid limits. "
                          f"Max rows: {sheet.rows}, max columns: {sheet.cols}")
    written: set[tuple[int, int]] = set()
    for i, row in enumerate(rows):
        for j, v in enumerate(row):
            if v is None:  # nulls are skipped and not counted
                continue
            if isinstance(v, (dict, list)):
                raise bad_request(f"Invalid values[{i}][{j}]: " + ("struct_value" if isinstance(v, dict)
                                                                     else "list_value") + " {\n}\n")
            sheet.put(r0 + i, c0 + j, cells.parse_input(v, user_entered))
            written.add((r0 + i, c0 + j))
    out: dict = {"spreadsheetId": ss.id}
    if height and width:
        box = Rect(r0, c0, r0 + height, c0 + width)
        out["updatedRange"] = a1.format_range(sheet.title, box)
        if written:
            out.update({"updatedRows": len({r for r, _ in written}), "updatedColumns": len({c for _, c in written}),
                        "updatedCells": len(written)})
        if p.get("includeValuesInResponse"):
            out["updatedData"] = value_range(ss, out["updatedRange"], "ROWS",
                                             p.get("responseValueRenderOption", "FORMATTED_VALUE"),
                                             p.get("responseDateTimeRenderOption", "SERIAL_NUMBER"))
    return out


def update(ss: Spreadsheet, rng: str, p: dict, body: dict) -> dict:
    user_entered = _require_input_option(p)
    sheet, box = ss.resolve(rng)
    if body.get("range"):
        bsheet, bbox = ss.resolve(body["range"])
        if bsheet is not sheet or sheet.clamp(bbox) != sheet.clamp(box):
            raise bad_request(f"Requested range [{rng}] is not the same as the range in the body "
                              f"[{body['range']}].")
    shown = rng
    single = box.r1 == (box.r0 or 0) + 1 and box.c1 == (box.c0 or 0) + 1
    bounded = None if (box.r1 is None and box.c1 is None) or single else box
    return _write(ss, sheet, box.r0 or 0, box.c0 or 0, _rows_of(body), user_entered, bounded, shown, p)


def batch_update(ss: Spreadsheet, p: dict, body: dict) -> dict:
    params = {**p, **{k: body[k] for k in ("valueInputOption", "includeValuesInResponse",
                                           "responseValueRenderOption", "responseDateTimeRenderOption")
                      if k in body}}
    _require_input_option(params)
    responses = [update(ss, vr.get("range", ""), params, {**vr, "range": None}) for vr in body.get("data") or []]
    out: dict = {"spreadsheetId": ss.id}
    if responses:
        # Google counts distinct rows/columns over all ranges, cells in total
        boxes = [(r["updatedRange"].rsplit("!", 1)[0], _clamped(ss, r["updatedRange"])) for r in responses
                 if "updatedRange" in r]
        out["totalUpdatedRows"] = len({(t, i) for t, b in boxes for i in range(b.r0, b.r1)})
        out["totalUpdatedColumns"] = len({(t, i) for t, b in boxes for i in range(b.c0, b.c1)})
        out["totalUpdatedCells"] = sum(r.get("updatedCells", 0) for r in responses)
        out["totalUpdatedSheets"] = len({r["updatedRange"].rsplit("!", 1)[0] for r in responses
                                         if "updatedRange" in r})
        out["responses"] = responses
    return out


def _clamped(ss: Spreadsheet, text: str) -> Rect:
    sheet, box = ss.resolve(text)
    return sheet.clamp(box)


def find_table(sheet: Sheet, box: Rect) -> Rect | None:
    """Google's append 'table': the contiguous block around the last value inside box."""
    filled = {k for k, c in sheet.cells.items()
              if cells.has_value(c) and box.r0 <= k[0] < box.r1 and box.c0 <= k[1] < box.c1}
    if not filled:
        return None
    r, c = max(filled)
    t = Rect(r, c, r + 1, c + 1)
    while True:
        grown = [k for k in filled if t.r0 - 1 <= k[0] <= t.r1 and t.c0 - 1 <= k[1] <= t.c1]
        nt = Rect(min([t.r0] + [k[0] for k in grown]), min([t.c0] + [k[1] for k in grown]),
                 max([t.r1] + [k[0] + 1 for k in grown]), max([t.c1] + [k[1] + 1 for k in grown]))
        if nt == t:
            return t
        t = nt


def shift_rows(sheet: Sheet, at: int, n: int) -> None:
    sheet.cells = {((r + n if r >= at else r), c): v for (r, c), v in sheet.cells.items()}
    sheet.grid["rowCount"] = sheet.rows + n


def append(ss: Spreadsheet, rng: str, p: dict, body: dict) -> dict:
    user_entered = _require_input_option(p)
    sheet, box = ss.resolve(rng)
    cb = sheet.clamp(box)
    table = find_table(sheet, cb)
    rows = _rows_of(body)
    r0, c0 = (table.r1, table.c0) if table else (cb.r0, cb.c0)
    height = len(rows)
    width = max((len(r) for r in rows), default=0)
    if p.get("insertDataOption") == "INSERT_ROWS" and height:
        shift_rows(sheet, r0, height)
    elif r0 + height > sheet.rows:
        sheet.grid["rowCount"] = r0 + height
    if c0 + width > sheet.cols:
        sheet.grid["columnCount"] = c0 + width
    out: dict = {"spreadsheetId": ss.id}
    if table:
        out["tableRange"] = a1.format_range(sheet.title, table)
    out["updates"] = _write(ss, sheet, r0, c0, rows, user_entered, None, "", p)
    return out


def clear(ss: Spreadsheet, rng: str) -> str:
    sheet, box = ss.resolve(rng)
    cb = sheet.clamp(box)
    sheet.clear_values(cb)
    return a1.format_range(sheet.title, cb)


def batch_clear(ss: Spreadsheet, body: dict) -> dict:
    out: dict = {"spreadsheetId": ss.id}
    cleared = [clear(ss, r) for r in body.get("ranges") or []]
    if cleared:
        out["clearedRanges"] = cleared
    return out
