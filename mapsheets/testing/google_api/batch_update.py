"""spreadsheets.batchUpdate: dispatch per request kind, replies in Google's shape."""
from __future__ import annotations

import copy

from . import colors, fieldmask
from .batch_cells import (
    append_cells,
    auto_resize_dimensions,
    copy_paste,
    cut_paste,
    merge_cells,
    repeat_cell,
    set_data_validation,
    sort_range,
    unmerge_cells,
    update_borders,
    update_cells,
)
from .batch_common import Ctx, prune
from .errors import ApiError, bad_request
from .model import Sheet, Spreadsheet, box_from_grid_range, grid_range_json


def add_sheet(ctx: Ctx, req: dict) -> dict:
    props = req.get("properties") or {}
    sheet = ctx.ss.add_sheet(props, props.get("index"))
    return {"addSheet": {"properties": copy.deepcopy(sheet.props)}}


def delete_sheet(ctx: Ctx, req: dict) -> dict:
    sheet = ctx.sheet(req.get("sheetId"))
    if len(ctx.ss.sheets) == 1:
        raise ctx.fail("You can't remove all the sheets in a document.")
    ctx.ss.sheets.remove(sheet)
    ctx.ss.reindex()
    return {}


def update_sheet_properties(ctx: Ctx, req: dict) -> dict:
    props = req.get("properties") or {}
    sheet = ctx.sheet(props.get("sheetId"))
    mask = req.get("fields") or ""
    new = copy.deepcopy(sheet.props)
    fieldmask.copy_fields(new, colors.normalise(props), mask, skip=("sheetId",))
    colors.sync_pair(new, "tabColor", mask)
    if new.get("hidden") and all(s.props.get("hidden") or s is sheet for s in ctx.ss.sheets):
        raise ctx.fail("You can't hide all the sheets in a document.")
    other = ctx.ss.sheet_by_title(new.get("title", ""), exact=False)
    if other is not None and other is not sheet:
        raise ctx.fail(f'A sheet with the name "{new["title"]}" already exists. Please enter another name.')
    if not new.get("hidden"):
        new.pop("hidden", None)
    gp = new.get("gridProperties", {})
    for k in [k for k, v in gp.items() if v in (0, False) and k not in ("rowCount", "columnCount")]:
        gp.pop(k)
    sheet.props.clear()
    sheet.props.update(new)
    sheet.cells = {k: v for k, v in sheet.cells.items() if k[0] < sheet.rows and k[1] < sheet.cols}
    if "index" in props and "index" in mask.replace("*", "index"):
        ctx.ss.sheets.remove(sheet)
        ctx.ss.sheets.insert(min(props["index"], len(ctx.ss.sheets)), sheet)
    ctx.ss.reindex()
    return {}


def update_spreadsheet_properties(ctx: Ctx, req: dict) -> dict:
    fieldmask.copy_fields(ctx.ss.props, req.get("properties") or {}, req.get("fields") or "")
    return {}


def add_conditional_format_rule(ctx: Ctx, req: dict) -> dict:
    rule = copy.deepcopy(req.get("rule") or {})
    ranges = rule.get("ranges") or [{}]
    sheet = ctx.sheet(ranges[0].get("sheetId"))
    rule["ranges"] = [grid_range_json(sheet.id, box_from_grid_range(g)) for g in ranges]
    idx = req.get("index") or 0
    sheet.conditional_formats.insert(idx, rule)
    return {}


def add_protected_range(ctx: Ctx, req: dict) -> dict:
    pr = copy.deepcopy(req.get("protectedRange") or {})
    sheet, box = ctx.grid(pr.get("range") or {})
    pr["protectedRangeId"] = pr.get("protectedRangeId") or ctx.ss.rng.randrange(1, 2**31 - 1)
    pr["range"] = grid_range_json(sheet.id, box_from_grid_range(pr.get("range") or {}))
    pr["requestingUserCanEdit"] = True
    reply = prune({"protectedRangeId": pr["protectedRangeId"], **pr})
    reply.setdefault("editors", {})
    stored = copy.deepcopy(reply)
    users = stored["editors"].setdefault("users", [])
    if ctx.user_email not in users:  # the requesting user always stays an editor
        users.insert(0, ctx.user_email)
    sheet.protected.append(stored)
    return {"addProtectedRange": {"protectedRange": reply}}


def delete_protected_range(ctx: Ctx, req: dict) -> dict:
    pid = req.get("protectedRangeId")
    for sheet in ctx.ss.sheets:
        for pr in sheet.protected:
            if pr["protectedRangeId"] == pid:
                sheet.protected.remove(pr)
                return {}
    raise ctx.fail(f"No protected range with id: {pid}")


def update_dimension_properties(ctx: Ctx, req: dict) -> dict:
    sheet, d, start, end = ctx.dim(req.get("range") or {})
    for i in range(start, end):
        meta = sheet.meta[d].setdefault(i, {})
        fieldmask.copy_fields(meta, req.get("properties") or {}, req.get("fields") or "")
    return {}


def _shift(sheet: Sheet, d: str, at: int, n: int) -> None:
    """Insert (n>0) or delete (n<0) rows/columns at index `at`."""
    axis = 0 if d == "ROWS" else 1
    moved = {}
    for key, cell in sheet.cells.items():
        i = key[axis]
        if n < 0 and at <= i < at - n:
            continue
        if i >= at:
            key = (key[0] + n, key[1]) if axis == 0 else (key[0], key[1] + n)
        moved[key] = cell
    sheet.cells = moved
    sheet.meta[d] = {(i + n if i >= at else i): m for i, m in sheet.meta[d].items()
                     if not (n < 0 and at <= i < at - n)}
    lo, hi = ("startRowIndex", "endRowIndex") if axis == 0 else ("startColumnIndex", "endColumnIndex")
    for m in sheet.merges:
        if m[lo] >= at:
            m[lo] = max(at, m[lo] + n)
        if m[hi] > at:
            m[hi] = max(at, m[hi] + n)
    sheet.merges = [m for m in sheet.merges if m[hi] > m[lo]]
    count = "rowCount" if axis == 0 else "columnCount"
    sheet.grid[count] = sheet.grid[count] + n


def insert_dimension(ctx: Ctx, req: dict) -> dict:
    rng = req.get("range") or {}
    sheet = ctx.sheet(rng.get("sheetId"))
    start, end = rng.get("startIndex") or 0, rng.get("endIndex") or 0
    _shift(sheet, rng.get("dimension", "ROWS"), start, end - start)
    return {}


def delete_dimension(ctx: Ctx, req: dict) -> dict:
    sheet, d, start, end = ctx.dim(req.get("range") or {})
    if end - start >= (sheet.rows if d == "ROWS" else sheet.cols):
        raise ctx.fail("You can't delete all the rows on the sheet." if d == "ROWS"
                       else "You can't delete all the columns on the sheet.")
    _shift(sheet, d, start, start - end)
    return {}


def add_named_range(ctx: Ctx, req: dict) -> dict:
    nr = copy.deepcopy(req.get("namedRange") or {})
    if ctx.ss.named(nr.get("name", "")):
        raise ctx.fail(f"Named range with name \"{nr.get('name')}\" already exists.")
    sheet = ctx.sheet((nr.get("range") or {}).get("sheetId"))
    nr["namedRangeId"] = nr.get("namedRangeId") or str(ctx.ss.rng.randrange(1, 2**31 - 1))
    nr["range"] = grid_range_json(sheet.id, box_from_grid_range(nr.get("range") or {}))
    nr = {"namedRangeId": nr["namedRangeId"], "name": nr.get("name"), "range": nr["range"]}
    ctx.ss.named_ranges.append(nr)
    return {"addNamedRange": {"namedRange": copy.deepcopy(nr)}}


def _named_by_id(ctx: Ctx, nid) -> dict:
    for nr in ctx.ss.named_ranges:
        if nr["namedRangeId"] == nid:
            return nr
    raise ctx.fail(f"No named range with id: {nid}")


def delete_named_range(ctx: Ctx, req: dict) -> dict:
    ctx.ss.named_ranges.remove(_named_by_id(ctx, req.get("namedRangeId")))
    return {}


def update_named_range(ctx: Ctx, req: dict) -> dict:
    given = req.get("namedRange") or {}
    nr = _named_by_id(ctx, given.get("namedRangeId"))
    if not req.get("fields"):
        raise ctx.fail("At least one field must be updated, but none are specified.")
    fieldmask.copy_fields(nr, given, req["fields"], skip=("namedRangeId",))
    if "range" in nr:
        nr["range"] = grid_range_json(nr["range"].get("sheetId", 0), box_from_grid_range(nr["range"]))
    return {}


def create_developer_metadata(ctx: Ctx, req: dict) -> dict:
    """Spreadsheet-level metadata only. Its ID is unique in the spreadsheet: a second create with
    the same ID fails the whole batch (what makes a write conditional)."""
    given = copy.deepcopy(req.get("developerMetadata") or {})
    if not given.get("metadataKey"):
        raise ctx.fail("Developer metadata must always have a key specified.")
    if given.get("visibility") not in ("DOCUMENT", "PROJECT"):
        raise ctx.fail("Developer metadata must always have a visibility specified.")
    if (given.get("location") or {}) != {"spreadsheet": True}:
        raise ctx.fail("The test double only holds developer metadata on the spreadsheet.")
    mid = given.get("metadataId") or ctx.ss.rng.randrange(1, 2**31 - 1)
    if not isinstance(mid, int) or mid <= 0:
        raise ctx.fail("Developer metadata ID must be positive.")
    if mid in ctx.ss.developer_metadata:
        raise ctx.fail(f"Developer metadata with ID {mid} already exists.")
    stored = prune({"metadataId": mid, "metadataKey": given["metadataKey"],
                     "metadataValue": given.get("metadataValue"),
                     "location": {"locationType": "SPREADSHEET", "spreadsheet": True},
                     "visibility": given["visibility"]})
    ctx.ss.developer_metadata[mid] = stored
    return {"createDeveloperMetadata": {"developerMetadata": copy.deepcopy(stored)}}


def set_basic_filter(ctx: Ctx, req: dict) -> dict:
    flt = copy.deepcopy(req.get("filter") or {})
    sheet, box = ctx.grid(flt.get("range") or {})
    flt["range"] = grid_range_json(0, box)
    sheet.basic_filter = flt
    return {}


def clear_basic_filter(ctx: Ctx, req: dict) -> dict:
    ctx.sheet(req.get("sheetId")).basic_filter = None
    return {}


def duplicate_sheet(ctx: Ctx, req: dict) -> dict:
    src = ctx.sheet(req.get("sourceSheetId"))
    props = copy.deepcopy(src.props)
    props["sheetId"] = req.get("newSheetId")
    props["title"] = req.get("newSheetName") or f"Copy of {src.title}"
    idx = req.get("insertSheetIndex")
    new = ctx.ss.add_sheet(props, src.props["index"] + 1 if idx is None else idx)
    new.cells = copy.deepcopy(src.cells)
    new.merges = copy.deepcopy(src.merges)
    new.meta = copy.deepcopy(src.meta)
    return {"duplicateSheet": {"properties": copy.deepcopy(new.props)}}


HANDLERS = {
    "addSheet": add_sheet, "deleteSheet": delete_sheet, "updateSheetProperties": update_sheet_properties,
    "updateSpreadsheetProperties": update_spreadsheet_properties, "updateCells": update_cells,
    "appendCells": append_cells, "repeatCell": repeat_cell, "setDataValidation": set_data_validation,
    "addConditionalFormatRule": add_conditional_format_rule, "addProtectedRange": add_protected_range,
    "deleteProtectedRange": delete_protected_range, "updateDimensionProperties": update_dimension_properties,
    "insertDimension": insert_dimension, "deleteDimension": delete_dimension,
    "addNamedRange": add_named_range, "deleteNamedRange": delete_named_range,
    "updateNamedRange": update_named_range, "mergeCells": merge_cells, "unmergeCells": unmerge_cells,
    "autoResizeDimensions": auto_resize_dimensions, "updateBorders": update_borders,
    "setBasicFilter": set_basic_filter, "clearBasicFilter": clear_basic_filter,
    "duplicateSheet": duplicate_sheet, "copyPaste": copy_paste, "cutPaste": cut_paste,
    "sortRange": sort_range, "createDeveloperMetadata": create_developer_metadata,
}


def run(ss: Spreadsheet, body: dict, user_email: str) -> dict:
    """Apply all requests atomically: on any error the spreadsheet is left unchanged."""
    requests = body.get("requests") or []
    backup = copy.deepcopy((ss.props, ss.sheets, ss.named_ranges, ss.developer_metadata))
    ctx = Ctx(ss, user_email)
    replies = []
    try:
        for i, req in enumerate(requests):
            kinds = [k for k, v in req.items() if v is not None]
            if len(kinds) != 1:
                raise bad_request(f"Invalid requests[{i}]: No request set." if not kinds else
                                  f"Invalid requests[{i}]: Only one request kind may be set.")
            ctx.index, ctx.kind = i, kinds[0]
            handler = HANDLERS.get(kinds[0])
            if handler is None:
                raise bad_request(f"Invalid requests[{i}].{kinds[0]}: This request is not supported by the "
                                  "test double.", )
            replies.append(handler(ctx, req[kinds[0]]))
    except ApiError:
        ss.props, ss.sheets, ss.named_ranges, ss.developer_metadata = backup
        raise
    out: dict = {"spreadsheetId": ss.id, "replies": replies}
    if body.get("includeSpreadsheetInResponse"):
        out["updatedSpreadsheet"] = ss.to_json(body.get("responseRanges"), bool(body.get("responseIncludeGridData")))
    return out
