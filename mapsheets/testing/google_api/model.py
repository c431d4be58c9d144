"""In-memory workbook model: spreadsheets, sheets, sparse cells, named ranges."""
from __future__ import annotations

import copy
import random

from . import a1, cells
from .a1 import Box, Rect
from .errors import ApiError, bad_request

DEFAULT_FORMAT = {
    "backgroundColor": {"red": 1, "green": 1, "blue": 1},
    "padding": {"top": 2, "right": 3, "bottom": 2, "left": 3},
    "verticalAlignment": "BOTTOM", "wrapStrategy": "OVERFLOW_CELL",
    "textFormat": {"foregroundColor": {}, "fontFamily": "arial,sans,sans-serif", "fontSize": 10,
                   "bold": False, "italic": False, "strikethrough": False, "underline": False,
                   "foregroundColorStyle": {"rgbColor": {}}},
    "backgroundColorStyle": {"rgbColor": {"red": 1, "green": 1, "blue": 1}},
}
_THEME = [("TEXT", {}), ("BACKGROUND", {"red": 1, "green": 1, "blue": 1}),
          ("ACCENT1", {"red": 0.25882354, "green": 0.52156866, "blue": 0.95686275}),
          ("ACCENT2", {"red": 0.91764706, "green": 0.2627451, "blue": 0.20784314}),
          ("ACCENT3", {"red": 0.9843137, "green": 0.7372549, "blue": 0.015686275}),
          ("ACCENT4", {"red": 0.20392157, "green": 0.65882355, "blue": 0.3254902}),
          ("ACCENT5", {"red": 1, "green": 0.42745098, "blue": 0.003921569}),
          ("ACCENT6", {"red": 0.27450982, "green": 0.7411765, "blue": 0.7764706}),
          ("LINK", {"red": 0.06666667, "green": 0.33333334, "blue": 0.8})]
SPREADSHEET_THEME = {"primaryFontFamily": "Arial",
                     "themeColors": [{"colorType": t, "color": {"rgbColor": c}} for t, c in _THEME]}
DEFAULT_PIXEL = {"ROWS": 21, "COLUMNS": 100}


def grid_range_json(sheet_id: int, box: Box) -> dict:
    """GridRange as Google prints it (sheetId 0 is omitted, like proto3 defaults)."""
    out: dict = {} if sheet_id == 0 else {"sheetId": sheet_id}
    for key, val in (("startRowIndex", box.r0), ("endRowIndex", box.r1),
                     ("startColumnIndex", box.c0), ("endColumnIndex", box.c1)):
        if val is not None:
            out[key] = val
    return out


def box_from_grid_range(gr: dict) -> Box:
    return Box(gr.get("startRowIndex"), gr.get("startColumnIndex"),
               gr.get("endRowIndex"), gr.get("endColumnIndex"))


class Sheet:
    """One tab: properties plus sparse cell data keyed by (row, col)."""

    def __init__(self, props: dict):
        self.props = props
        self.cells: dict[tuple[int, int], dict] = {}
        self.merges: list[dict] = []
        self.protected: list[dict] = []
        self.conditional_formats: list[dict] = []
        self.basic_filter: dict | None = None
        self.meta: dict[str, dict[int, dict]] = {"ROWS": {}, "COLUMNS": {}}
        self.extra: dict = {}  # other Sheet fields given at create (bandedRanges, ...)

    @property
    def id(self) -> int:
        return self.props["sheetId"]

    @property
    def title(self) -> str:
        return self.props["title"]

    @property
    def grid(self) -> dict:
        return self.props.setdefault("gridProperties", {"rowCount": 1000, "columnCount": 26})

    @property
    def rows(self) -> int:
        return self.grid.get("rowCount", 0)

    @property
    def cols(self) -> int:
        return self.grid.get("columnCount", 0)

    def full(self) -> Rect:
        return Rect(0, 0, self.rows, self.cols)

    def clamp(self, box: Box) -> Rect:
        b = box.clamp(self.rows, self.cols)
        return Rect(b.r0, b.c0, min(b.r1, self.rows), min(b.c1, self.cols))

    def cell(self, r: int, c: int) -> dict | None:
        return self.cells.get((r, c))

    def put(self, r: int, c: int, fields: dict | None, replace_value: bool = True) -> None:
        """Write CellData fields; an empty dict clears the value but keeps format/note."""
        if fields is None:
            return
        cur = dict(self.cells.get((r, c), {}))
        if replace_value:
            for k in ("userEnteredValue", "effectiveValue", "formattedValue"):
                cur.pop(k, None)
            if "userEnteredFormat" in fields:  # typed dates bring their number format
                fmt = dict(cur.get("userEnteredFormat", {}))
                fmt.update(fields["userEnteredFormat"])
                fields = {**fields, "userEnteredFormat": fmt}
        cur.update(fields)
        if cells.has_content(cur):
            self.cells[(r, c)] = cur
        else:
            self.cells.pop((r, c), None)

    def clear_values(self, box: Rect) -> None:
        for (r, c) in [k for k in self.cells if box.r0 <= k[0] < box.r1 and box.c0 <= k[1] < box.c1]:
            self.put(r, c, {})

    def value_extent(self, box: Rect) -> tuple[int, int]:
        """(rows, cols) inside box up to the last cell holding a value."""
        rmax = cmax = 0
        for (r, c), cell in self.cells.items():
            if box.r0 <= r < box.r1 and box.c0 <= c < box.c1 and cells.has_value(cell):
                rmax, cmax = max(rmax, r - box.r0 + 1), max(cmax, c - box.c0 + 1)
        return rmax, cmax

    def pixel_size(self, dim: str, i: int) -> int:
        return self.meta[dim].get(i, {}).get("pixelSize", DEFAULT_PIXEL[dim])

    def grid_data(self, box: Rect) -> dict:
        """GridData for a clamped box: rowData up to the last non-empty row/cell."""
        out: dict = {}
        if box.r0:
            out["startRow"] = box.r0
        if box.c0:
            out["startColumn"] = box.c0
        rows = []
        last = -1
        for r in range(box.r0, box.r1):
            vals = []
            for c in range(box.c0, box.c1):
                cell = self.cells.get((r, c))
                vals.append(self.render_cell(cell) if cell else {})
            while vals and not vals[-1]:
                vals.pop()
            rows.append({"values": vals} if vals else {})
            if vals:
                last = len(rows) - 1
        if last >= 0:
            out["rowData"] = rows[:last + 1]
        out["rowMetadata"] = [self._dim_meta("ROWS", i) for i in range(box.r0, box.r1)]
        out["columnMetadata"] = [self._dim_meta("COLUMNS", i) for i in range(box.c0, box.c1)]
        return out

    def _dim_meta(self, dim: str, i: int) -> dict:
        m = {"pixelSize": self.pixel_size(dim, i)}
        m.update({k: v for k, v in self.meta[dim].get(i, {}).items() if k != "pixelSize"})
        return m

    @staticmethod
    def render_cell(cell: dict) -> dict:
        out = copy.deepcopy(cell)
        ev = cells.effective(cell)
        if ev is not None:
            out["effectiveValue"] = {k: cells.num(v) if isinstance(v, float) else v for k, v in ev.items()}
            out["formattedValue"] = cells.formatted(cell)
        uev = out.get("userEnteredValue", {})
        if "numberValue" in uev:
            uev["numberValue"] = cells.num(uev["numberValue"])
        return out

    def to_json(self, grid_boxes: list[Box] | None) -> dict:
        out: dict = {"properties": copy.deepcopy(self.props)}
        if grid_boxes is not None:
            out["data"] = [self.grid_data(self.clamp(b)) for b in grid_boxes]
        if self.merges:
            out["merges"] = copy.deepcopy(self.merges)
        if self.conditional_formats:
            out["conditionalFormats"] = copy.deepcopy(self.conditional_formats)
        if self.protected:
            out["protectedRanges"] = copy.deepcopy(self.protected)
        if self.basic_filter:
            out["basicFilter"] = copy.deepcopy(self.basic_filter)
        out.update(copy.deepcopy(self.extra))
        return out


class Spreadsheet:
    """A workbook: properties, ordered sheets, named ranges."""

    def __init__(self, sid: str, title: str, rng: random.Random):
        self.id = sid
        self.rng = rng
        self.props: dict = {"title": title, "locale": "en_US", "autoRecalc": "ON_CHANGE",
                            "timeZone": "Etc/GMT", "defaultFormat": copy.deepcopy(DEFAULT_FORMAT),
                            "spreadsheetTheme": copy.deepcopy(SPREADSHEET_THEME)}
        self.sheets: list[Sheet] = []
        self.named_ranges: list[dict] = []
        self.developer_metadata: dict[int, dict] = {}  # spreadsheet-level only, by metadataId
        self.private = False  # True: every caller gets 403

    def new_sheet_id(self) -> int:
        used = {s.id for s in self.sheets}
        while True:
            sid = self.rng.randrange(1, 2**31 - 1)
            if sid not in used:
                return sid

    def reindex(self) -> None:
        for i, s in enumerate(self.sheets):
            s.props["index"] = i

    def add_sheet(self, props: dict | None = None, index: int | None = None) -> Sheet:
        props = copy.deepcopy(props or {})
        if props.get("sheetId") is None:
            props["sheetId"] = 0 if not self.sheets else self.new_sheet_id()
        elif any(s.id == props["sheetId"] for s in self.sheets):
            raise bad_request(f"Invalid requests[0].addSheet: A sheet with id {props['sheetId']} already exists.")
        if not props.get("title"):
            n = len(self.sheets) + 1
            while any(s.title == f"Sheet{n}" for s in self.sheets):
                n += 1
            props["title"] = f"Sheet{n}"
        elif self.sheet_by_title(props["title"], exact=False):
            raise bad_request(f"Invalid requests[0].addSheet: A sheet with the name \"{props['title']}\" "
                              "already exists. Please enter another name.")
        if props.get("hidden") and self.sheets and all(s.props.get("hidden") for s in self.sheets):
            raise bad_request("Invalid requests[0].addSheet: You can't hide all the sheets in a document.")
        if not props.get("hidden"):  # Google leaves it out unless true
            props.pop("hidden", None)
        props.setdefault("sheetType", "GRID")
        gp = props.setdefault("gridProperties", {})
        gp.setdefault("rowCount", 1000)
        gp.setdefault("columnCount", 26)
        ordered = {k: props.pop(k) for k in ("sheetId", "title", "index", "sheetType", "gridProperties")
                   if k in props}
        ordered.update(props)
        sheet = Sheet(ordered)
        pos = len(self.sheets) if index is None else max(0, min(index, len(self.sheets)))
        self.sheets.insert(pos, sheet)
        self.reindex()
        return sheet

    def sheet_by_title(self, title: str, exact: bool = True) -> Sheet | None:
        for s in self.sheets:
            if s.title == title:
                return s
        if not exact:
            for s in self.sheets:
                if s.title.lower() == title.lower():
                    return s
        return None

    def sheet_by_id(self, sheet_id: int) -> Sheet | None:
        return next((s for s in self.sheets if s.id == sheet_id), None)

    def named(self, name: str) -> dict | None:
        return next((n for n in self.named_ranges if n["name"].lower() == name.lower()), None)

    def _named_box(self, nr: dict, err: ApiError) -> tuple[Sheet, Box]:
        rng = nr["range"]
        sheet = self.sheet_by_id(rng.get("sheetId", 0))
        if sheet is None:  # (its tab deleted)
            raise err
        return sheet, box_from_grid_range(rng)

    def resolve(self, text: str) -> tuple[Sheet, Box]:
        """Resolve A1 text to (sheet, unclamped box); 400 'Unable to parse range' otherwise."""
        err = bad_request(f"Unable to parse range: {text}")
        try:
            title, ref = a1.split_sheet(text)
        except a1.A1Error:
            raise err from None
        if title is None:  # no '!': a tab's title, a range of the first tab, or a named range
            ref = text
            sheet = self.sheet_by_title(ref, exact=False)
            if sheet is not None:
                return sheet, Box()
            if a1.looks_like_ref(ref) and self.sheets:
                return self.sheets[0], a1.parse_ref(ref)
            nr = self.named(ref)
            if nr:
                return self._named_box(nr, err)
            raise err
        sheet = self.sheet_by_title(title, exact=False)
        if sheet is None:
            raise err
        if ref is None:
            return sheet, Box()
        try:
            return sheet, a1.parse_ref(ref)
        except a1.A1Error:
            nr = self.named(ref)
            if nr and nr["range"].get("sheetId", 0) == sheet.id:
                return self._named_box(nr, err)
            raise err from None

    def to_json(self, grid_ranges: list[str] | None = None, include_grid: bool = False) -> dict:
        sheets = []
        if grid_ranges:
            wanted: dict[int, list[Box]] = {}
            for text in grid_ranges:
                sheet, box = self.resolve(text)
                wanted.setdefault(sheet.id, []).append(box)
            for s in self.sheets:
                if s.id in wanted:
                    sheets.append(s.to_json(wanted[s.id] if include_grid else None))
        else:
            sheets = [s.to_json([Box()] if include_grid else None) for s in self.sheets]
        out = {"spreadsheetId": self.id, "properties": copy.deepcopy(self.props), "sheets": sheets}
        if self.named_ranges:
            out["namedRanges"] = copy.deepcopy(self.named_ranges)
        if self.developer_metadata:
            out["developerMetadata"] = copy.deepcopy(list(self.developer_metadata.values()))
        out["spreadsheetUrl"] = f"https://docs.google.com/spreadsheets/d/{self.id}/edit"
        return out
