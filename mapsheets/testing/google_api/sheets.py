"""spreadsheets.create and spreadsheets.get."""
from __future__ import annotations

import copy

from . import fieldmask
from .errors import bad_request
from .model import Spreadsheet, box_from_grid_range, grid_range_json
from .state import State

_SHEET_EXTRA = ("bandedRanges", "filterViews", "charts", "rowGroups", "columnGroups", "slicers", "tables")


def _load_grid(sheet, data: dict) -> None:
    r0, c0 = data.get("startRow") or 0, data.get("startColumn") or 0
    for i, row in enumerate(data.get("rowData") or []):
        for j, cell in enumerate((row or {}).get("values") or []):
            if cell:
                if r0 + i >= sheet.rows:
                    sheet.grid["rowCount"] = r0 + i + 1
                if c0 + j >= sheet.cols:
                    sheet.grid["columnCount"] = c0 + j + 1
                clean = {k: v for k, v in cell.items() if k not in ("effectiveValue", "formattedValue",
                                                                    "effectiveFormat")}
                sheet.cells[(r0 + i, c0 + j)] = copy.deepcopy(clean)
    for dim, key, start in (("ROWS", "rowMetadata", r0), ("COLUMNS", "columnMetadata", c0)):
        for k, meta in enumerate(data.get(key) or []):
            if meta:
                sheet.meta[dim][start + k] = copy.deepcopy(meta)


def create(state: State, body: dict, user: str) -> dict:
    props = body.get("properties") or {}
    ss = state.create_spreadsheet(props.get("title") or "Untitled spreadsheet", user)
    for key, val in props.items():
        if val is not None:
            ss.props[key] = copy.deepcopy(val)
    for spec in body.get("sheets") or [{}]:
        sheet = ss.add_sheet(spec.get("properties") or {})
        for data in spec.get("data") or []:
            _load_grid(sheet, data)
        sheet.merges = [grid_range_json(0, box_from_grid_range(m)) for m in spec.get("merges") or []]
        sheet.conditional_formats = copy.deepcopy(spec.get("conditionalFormats") or [])
        for pr in spec.get("protectedRanges") or []:
            pr = copy.deepcopy(pr)
            pr.setdefault("protectedRangeId", state.rng.randrange(1, 2**31 - 1))
            pr["range"] = grid_range_json(sheet.id, box_from_grid_range(pr.get("range") or {}))
            pr["requestingUserCanEdit"] = True
            sheet.protected.append(pr)
        if spec.get("basicFilter"):
            sheet.basic_filter = copy.deepcopy(spec["basicFilter"])
        sheet.extra = {k: copy.deepcopy(spec[k]) for k in _SHEET_EXTRA if spec.get(k)}
    if all(s.props.get("hidden") for s in ss.sheets):
        raise bad_request("Invalid spreadsheet: You can't hide all the sheets in a document.")
    for nr in body.get("namedRanges") or []:
        if not nr.get("name"):
            raise bad_request("Invalid namedRanges: name is required.")
        where = nr.get("range") or {}
        ss.named_ranges.append({"namedRangeId": nr.get("namedRangeId") or str(state.rng.randrange(1, 2**31 - 1)),
                                "name": nr["name"],
                                "range": grid_range_json(where.get("sheetId", 0), box_from_grid_range(where))})
    state.files[ss.id]["name"] = ss.props["title"]
    return ss.to_json()


def wants_grid(params: dict) -> bool:
    if params.get("includeGridData"):
        return True
    tree = fieldmask.parse(params.get("fields") or "")
    return "data" in tree.get("sheets", {}) or "*" in tree or "*" in tree.get("sheets", {"": 1})


def get(ss: Spreadsheet, params: dict) -> dict:
    return ss.to_json(params.get("ranges") or None, wants_grid(params))


def trim_grid(result: dict) -> dict:
    """After a field mask, drop trailing empty cells/rows as Google computes extents on masked data."""
    for sheet in result.get("sheets") or []:
        for data in sheet.get("data") or []:
            rows = data.get("rowData")
            if rows is None:
                continue
            for row in rows:
                vals = row.get("values")
                if vals is not None:
                    while vals and not vals[-1]:
                        vals.pop()
                    if not vals:
                        row.pop("values")
            while rows and not rows[-1]:
                rows.pop()
            if not rows:
                data.pop("rowData")
    return result
