"""Local .xlsx workbooks through openpyxl: the embedded stand-in for a Google Sheet."""

from __future__ import annotations

import os
import secrets
import stat
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mapsheets.core.layout import SheetSpec, WorkbookSpec, cell_format
from mapsheets.errors import AlreadyExists, NotFound, PlanFileError

HEADER_FILL = "1F3864"
MUTED_GREY = "9E9E9E"
ALERT_RED = "F8D7DA"


def _openpyxl():
    import openpyxl  # heavy: only when a workbook is touched

    return openpyxl


def load(path: Path, *, data_only: bool = True):
    openpyxl = _openpyxl()
    try:
        return openpyxl.load_workbook(path, data_only=data_only)
    except FileNotFoundError:
        raise NotFound(f"{path}: no such file") from None
    except IsADirectoryError:
        raise PlanFileError(f"{path}: is a folder, not an .xlsx workbook") from None
    except PermissionError:
        raise PlanFileError(f"{path}: permission denied") from None
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError,
            openpyxl.utils.exceptions.InvalidFileException) as exc:
        raise PlanFileError(f"{path}: not a readable .xlsx workbook ({type(exc).__name__})") from None


def read_grid(path: Path) -> dict[str, list[list[Any]]]:
    """Every tab's cell values, rows of Python values (dates as datetime).

    A formula reads as its cached result. A formula with none (the file was last saved by a program
    that does not calculate, openpyxl included) reads as its text, so the parser warns about the
    cell instead of finding it silently empty.
    """
    workbook = load(path)
    grid = {ws.title: [list(row) for row in ws.iter_rows(values_only=True)] for ws in workbook.worksheets}
    if _has_formulas(path):
        formulas = load(path, data_only=False)
        for ws in formulas.worksheets:
            rows = grid[ws.title]
            for r, row in enumerate(ws.iter_rows(values_only=True)):
                for c, value in enumerate(row):
                    if isinstance(value, str) and value.startswith("=") and rows[r][c] is None:
                        rows[r][c] = value
    return grid


def _has_formulas(path: Path) -> bool:
    """Whether any sheet holds a formula: a look at the XML, far cheaper than a second full load."""
    try:
        with zipfile.ZipFile(path) as archive:
            return any(b"<f>" in archive.read(n) or b"<f " in archive.read(n)
                       for n in archive.namelist() if n.startswith("xl/worksheets/sheet"))
    except (OSError, zipfile.BadZipFile):
        return False


def write_workbook(path: Path, spec: WorkbookSpec, *, force: bool = False) -> None:
    if path.exists() and not force:
        raise AlreadyExists(f"{path}: already exists (use --force to overwrite)")
    openpyxl = _openpyxl()
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for sheet in spec.sheets:
        _write_sheet(workbook.create_sheet(sheet.title), sheet)
    workbook.properties.title = spec.title
    save_atomic(workbook, path)


def update_cells(path: Path, tab: str, cells: Mapping[tuple[int, int], Any],
                 also: Mapping[str, Mapping[tuple[int, int], Any]] | None = None) -> None:
    """Set some cells (0-based row, col) of one tab (and of the tabs in ``also``) in one save,
    leaving every other cell as it was."""
    workbook = load(path, data_only=False)
    _set_cells(workbook, path, {tab: cells, **{t: c for t, c in (also or {}).items() if t != tab}})
    save_atomic(workbook, path)


def _set_cells(workbook, path: Path, cells_by_tab: Mapping[str, Mapping[tuple[int, int], Any]]) -> None:
    for tab, cells in cells_by_tab.items():
        if tab not in workbook.sheetnames:
            raise PlanFileError(f"{path}: no tab named {tab!r}")
        ws = workbook[tab]
        for (row, col), value in cells.items():
            _set(ws.cell(row=row + 1, column=col + 1), value)


def save_atomic(workbook, path: Path) -> None:
    """Write beside the target, then rename: a crash never leaves half a workbook.

    The file keeps the mode it had (a new one gets the umask's, as any saved file would), and a
    folder that is missing or not writable is one PlanFileError, not a traceback.
    """
    path = Path(path)
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        mode = None
    try:
        tmp = _create_temp(path)
    except FileNotFoundError:
        raise PlanFileError(f"{path}: folder {path.parent} does not exist") from None
    except OSError as exc:
        raise PlanFileError(f"{path}: cannot write ({exc.strerror or exc})") from None
    try:
        if mode is not None:
            os.chmod(tmp, mode)
        workbook.save(tmp)
        os.replace(tmp, path)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise PlanFileError(f"{path}: cannot write ({exc.strerror or exc})") from None
        raise


def _create_temp(path: Path) -> Path:
    """An empty new file beside ``path``, created with 0666 so the umask applies (not mkstemp's 0600)."""
    for _ in range(100):
        tmp = path.parent / f".{path.name}.{secrets.token_hex(4)}.tmp"
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            return tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name beside {path}")


def _set(cell, value: Any) -> None:
    if value == "":
        value = None
    cell.value = value
    if isinstance(value, str):
        # Text people typed ("=IMPORTXML(...)", "+cmd") stays text, never a formula.
        cell.data_type = "s"
    fmt = cell_format(value)
    if fmt:
        cell.number_format = fmt


def _lines(value: Any, width: int) -> int:
    """Lines a wrapped cell needs at a column width (in characters), roughly."""
    if not isinstance(value, str) or not value:
        return 1
    return sum(max(1, -(-len(part) // max(width - 1, 1))) for part in value.split("\n"))


def _write_sheet(ws, sheet: SheetSpec) -> None:
    from openpyxl.formatting.rule import FormulaRule
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    for r, row in enumerate(sheet.rows):
        for c, value in enumerate(row):
            if value is not None:
                _set(ws.cell(row=r + 1, column=c + 1), value)
    for c, width in enumerate(sheet.widths):
        ws.column_dimensions[get_column_letter(c + 1)].width = width
    for r in sheet.heading_rows:
        ws.cell(row=r + 1, column=1).font = Font(bold=True, size=16)
    if sheet.label_column is not None:
        for r in range(len(sheet.rows)):
            if sheet.header_row is None or r < sheet.header_row:
                ws.cell(row=r + 1, column=sheet.label_column + 1).font = Font(bold=True)
    if sheet.header_row is not None:
        header = sheet.rows[sheet.header_row]
        for c in range(len(header)):
            cell = ws.cell(row=sheet.header_row + 1, column=c + 1)
            cell.font = Font(bold=True, color="FFFFFF")
            cell.fill = PatternFill("solid", fgColor=HEADER_FILL)
        first_body = sheet.header_row + 2
        for c, fmt in sheet.column_formats.items():
            for r in range(first_body, max(first_body, len(sheet.rows) + 1) + 1):
                ws.cell(row=r, column=c + 1).number_format = fmt
        wrap = Alignment(wrap_text=True, vertical="top")
        for r in range(first_body, len(sheet.rows) + 1):
            for c in range(len(header)):
                ws.cell(row=r, column=c + 1).alignment = wrap
            # LibreOffice does not grow rows for wrapped text on open: give them their height.
            lines = max((_lines(ws.cell(row=r, column=c + 1).value, sheet.widths[c] if c < len(sheet.widths) else 16)
                         for c in range(len(header))), default=1)
            if lines > 1:
                ws.row_dimensions[r].height = 15 * lines
    if sheet.label_column is not None:
        left = Alignment(horizontal="left", vertical="top", wrap_text=False)
        for r in range(len(sheet.rows)):
            if sheet.header_row is None or r < sheet.header_row:
                ws.cell(row=r + 1, column=sheet.label_column + 2).alignment = left
    if sheet.frozen_rows:
        ws.freeze_panes = ws.cell(row=sheet.frozen_rows + 1, column=1)
    for v in sheet.validations:
        dv = DataValidation(type="list", formula1='"' + ",".join(v.options) + '"', allow_blank=True,
                            showErrorMessage=v.strict, showDropDown=False)
        col = get_column_letter(v.column + 1)
        dv.add(f"{col}{v.first_row + 1}:{col}{v.last_row + 1}")
        ws.add_data_validation(dv)
    for cf in sheet.conditional:
        area = f"A{cf.first_row + 1}:{get_column_letter(cf.columns)}{cf.last_row + 1}"
        if cf.style == "muted":
            rule = FormulaRule(formula=[cf.formula.lstrip("=")], font=Font(color=MUTED_GREY), stopIfTrue=True)
        else:
            rule = FormulaRule(formula=[cf.formula.lstrip("=")], fill=PatternFill("solid", bgColor=ALERT_RED),
                               font=Font(color="9C0006"))
        ws.conditional_formatting.add(area, rule)
    if sheet.protected:
        ws.protection.sheet = True
        ws.sheet_properties.tabColor = "808080"



class XlsxWorkbook:
    """A plan workbook on local disk; same operations as the Google backend."""

    kind = "xlsx"

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.ref = str(self.path)

    def read_grid(self) -> dict[str, list[list[Any]]]:
        return read_grid(self.path)

    def create(self, spec: WorkbookSpec, *, force: bool = False) -> str:
        write_workbook(self.path, spec, force=force)
        return str(self.path)

    def update_cells(self, tab: str, cells: Mapping[tuple[int, int], Any], *,
                     also: Mapping[str, Mapping[tuple[int, int], Any]] | None = None) -> None:
        update_cells(self.path, tab, cells, also)

    def append_rows(self, tab: str, rows: list[list[Any]], *, header: list[str],
                    also: Mapping[str, Mapping[tuple[int, int], Any]] | None = None) -> None:
        """Rows after the tab's last used row; the tab (with ``header``) is made if missing. The
        cells of other tabs in ``also`` are set in the same save."""
        workbook = load(self.path, data_only=False)
        _set_cells(workbook, self.path, {t: c for t, c in (also or {}).items() if c and t != tab})
        if tab not in workbook.sheetnames:
            ws = workbook.create_sheet(tab)
            for c, label in enumerate(header):
                _set(ws.cell(row=1, column=c + 1), label)
            ws.freeze_panes = "A2"
        ws = workbook[tab]
        last = max((cell.row for row in ws.iter_rows() for cell in row if cell.value is not None), default=0)
        for i, row in enumerate(rows):
            for c, value in enumerate(row):
                _set(ws.cell(row=last + 1 + i, column=c + 1), value)
        save_atomic(workbook, self.path)

    def revision(self) -> dict[str, Any]:
        """What identifies this version of the file, for change detection."""
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            raise NotFound(f"{self.path}: no such file") from None
        return {"modified_ns": stat.st_mtime_ns, "size": stat.st_size}
