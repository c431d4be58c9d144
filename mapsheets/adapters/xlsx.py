"""Local .xlsx workbooks through openpyxl: the embedded stand-in for a Google Sheet."""

from __future__ import annotations

import contextvars
import io
import os
import stat
import zipfile
import zlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from mapsheets.adapters import plan_lock
from mapsheets.adapters.xlsx_limits import check_workbook
from mapsheets.adapters.xlsx_read import refuse_write
from mapsheets.adapters.xlsx_results import Results, ResultsZip, formula_results
from mapsheets.core.edits import Edit
from mapsheets.core.layout import STYLES, PrintSetup, SheetSpec, WorkbookSpec, cell_format, column_letter
from mapsheets.errors import AlreadyExists, NotFound, PlanBusy, PlanFileError, UsageError

HEADER_FILL = "1F3864"
MUTED_GREY = "9E9E9E"
ALERT_RED = "F8D7DA"


def _openpyxl():
    import openpyxl  # heavy: only when a workbook is touched

    _keep_temporaries_beside_target()
    return openpyxl


# The workbook being saved: openpyxl's per-sheet temporary files go beside it, not to /tmp.
_SAVING: contextvars.ContextVar[Path | None] = contextvars.ContextVar("mapsheets_saving", default=None)


def _keep_temporaries_beside_target() -> None:
    """openpyxl writes each sheet's XML to a NamedTemporaryFile in the system temp folder, where a
    kill leaves plan data behind: while we save, it goes to a 0600 ``.NAME.<hex>.tmp`` beside the plan."""
    from openpyxl.worksheet import _writer

    if getattr(_writer.create_temporary_file, "mapsheets", False):
        return
    original = _writer.create_temporary_file

    def create_temporary_file(suffix: str = "") -> str:
        target = _SAVING.get()
        if target is None:
            return original(suffix)
        name = str(plan_lock.create_temp(target))
        _writer.ALL_TEMP_FILES.append(name)
        return name

    create_temporary_file.mapsheets = True  # type: ignore[attr-defined]
    _writer.create_temporary_file = create_temporary_file


def load(path: Path, *, data_only: bool = True, data: bytes | None = None):
    """The workbook at ``path`` (or its ``data`` already read), checked against the limits first;
    errors name the file."""
    check_workbook(path, data)
    return _open(path, data_only=data_only, data=data)


def _open(path: Path, *, data_only: bool, data: bytes | None = None):
    """openpyxl's load, its failures as one PlanFileError line; check_workbook must have run."""
    openpyxl = _openpyxl()
    try:
        return openpyxl.load_workbook(io.BytesIO(data) if data is not None else path, data_only=data_only)
    except FileNotFoundError:
        raise NotFound(f"{path}: no such file") from None
    except IsADirectoryError:
        raise PlanFileError(f"{path}: is a folder, not an .xlsx workbook") from None
    except PermissionError:
        raise PlanFileError(f"{path}: permission denied") from None
    except (SyntaxError, zlib.error, EOFError, zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError,
            openpyxl.utils.exceptions.InvalidFileException) as exc:
        # openpyxl re-raises some parse errors as a ValueError "from" the real one: word the real one.
        cause = exc.__cause__ or exc
        if type(cause).__module__.startswith("defusedxml"):  # openpyxl parses through defusedxml
            raise PlanFileError(f"{path}: declares XML entities, which no workbook needs: refusing it") from None
        if isinstance(cause, SyntaxError):  # xml.etree's ParseError, expat's amplification limit among them
            raise PlanFileError(f"{path}: not a readable .xlsx workbook (malformed XML: {cause})") from None
        if isinstance(cause, (zlib.error, EOFError)):
            raise PlanFileError(f"{path}: is damaged: a compressed part cannot be unpacked ({cause})") from None
        raise PlanFileError(f"{path}: not a readable .xlsx workbook ({type(exc).__name__})") from None


def read_grid(path: Path, data: bytes | None = None) -> dict[str, list[list[Any]]]:
    """Every tab's cell values, rows of Python values (dates as datetime), read by python-calamine.

    A formula reads as its cached result. A formula with none (the file was last saved by a program
    that does not calculate, openpyxl included) reads as its text, marked ``UncachedFormula``, so
    the parser warns about the cell instead of finding it silently empty, and the last revision's
    value can stand in for it.
    """
    from mapsheets.adapters import xlsx_read

    return xlsx_read.read_grid(path, data=data)


def read_grid_openpyxl(path: Path, data: bytes | None = None) -> dict[str, list[list[Any]]]:
    """``read_grid`` through openpyxl: the reference the calamine reader must equal (a contract
    test), and the reader of what calamine cannot see (shared formulas without a cached result)."""
    from mapsheets.adapters.xlsx_read import tidy
    from mapsheets.core.model import UncachedFormula

    if data is None:
        plan_lock.clean_stale(Path(path))  # leftovers of a save killed long ago
    checked = check_workbook(path, data)
    workbook = _open(path, data_only=True, data=data)
    grid = {ws.title: [list(row) for row in ws.iter_rows(values_only=True)] for ws in workbook.worksheets}
    if checked.has_formulas:
        formulas = _open(path, data_only=False, data=data)
        for ws in formulas.worksheets:
            rows = grid[ws.title]
            for r, row in enumerate(ws.iter_rows(values_only=True)):
                for c, value in enumerate(row):
                    if isinstance(value, str) and value.startswith("=") and rows[r][c] is None:
                        rows[r][c] = UncachedFormula(value)
    return {tab: tidy(rows) for tab, rows in grid.items()}


def write_workbook(path: Path, spec: WorkbookSpec, *, force: bool = False) -> None:
    path = Path(path)
    refuse_write(path)
    if path.exists() and not force:
        raise AlreadyExists(f"{path}: already exists (use --force to overwrite)")
    openpyxl = _openpyxl()
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for sheet in spec.sheets:
        _write_sheet(workbook.create_sheet(sheet.title), sheet)
    workbook.properties.title = spec.title
    if not path.exists():
        save_atomic(workbook, path)
        return
    with plan_lock.locked(path):  # overwriting: not while another command writes it
        save_atomic(workbook, path)


def write_tables(path: Path, tables: Mapping[str, list[list[Any]]]) -> None:
    """A report workbook: one tab per table (first row the header, bold and frozen), saved atomically."""
    openpyxl = _openpyxl()
    from openpyxl.styles import Font

    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, rows in tables.items():
        ws = workbook.create_sheet(title)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                _set(ws.cell(row=r + 1, column=c + 1), value)
        for cell in ws[1] if rows else ():
            cell.font = Font(bold=True)
        ws.freeze_panes = "A2"
        for c, header in enumerate(rows[0] if rows else []):
            cells = (len(str(row[c])) for row in rows[1:] if c < len(row) and row[c] is not None)
            width = max(len(str(header)), *cells, 0)
            ws.column_dimensions[column_letter(c)].width = min(max(width + 2, 8), 60)
    save_atomic(workbook, Path(path))


# Another program saving between our read and our write: read again and redo, this many times.
CHANGED_ATTEMPTS = 5


class _ChangedMeanwhile(Exception):
    """The file is no longer the version read: the write was not made."""


class Unchanged:
    """What a ``rewrite`` change returns to leave the file untouched, with the result to give back."""

    def __init__(self, result: Any):
        self.result = result


def rewrite(path: Path, change: Callable[[Any, bytes], Any], *, force: bool = False) -> Any:
    """Read, change and save the workbook as one step no other writer can interleave with.

    Under the plan's lock (other mapsheets commands wait); refused while Excel or LibreOffice has
    the file open, unless ``force``; and redone on a fresh read when another program saved the file
    between our read and the rename. ``change(workbook, data)`` edits the workbook loaded from the
    file's bytes ``data`` and returns what ``rewrite`` returns.
    """
    path = Path(path)
    refuse_write(path)
    with plan_lock.locked(path):
        for _attempt in range(CHANGED_ATTEMPTS):
            if not force:
                plan_lock.check_not_open(path)
            try:
                data, identity = plan_lock.read_with_identity(path)
            except FileNotFoundError:
                raise NotFound(f"{path}: no such file") from None
            except OSError as exc:
                raise PlanFileError(f"{path}: cannot read ({exc.strerror or exc})") from None
            workbook = load(path, data_only=False, data=data)
            result = change(workbook, data)
            if isinstance(result, Unchanged):  # nothing to write: the file stays as it is
                return result.result
            try:
                save_atomic(workbook, path, expect=identity, results=formula_results(data))
                return result
            except _ChangedMeanwhile:
                continue
    raise PlanBusy(f"{path}: another program kept saving it while mapsheets wrote "
                   f"({CHANGED_ATTEMPTS} tries); nothing written, try again")


def _set_cells(workbook, path: Path, cells_by_tab: Mapping[str, Mapping[tuple[int, int], Any]]) -> None:
    for tab, cells in cells_by_tab.items():
        if tab not in workbook.sheetnames:
            raise PlanFileError(f"{path}: no tab named {tab!r}")
        ws = workbook[tab]
        for (row, col), value in cells.items():
            _set(ws.cell(row=row + 1, column=col + 1), value)


def update_cells(path: Path, tab: str, cells: Mapping[tuple[int, int], Any],
                 also: Mapping[str, Mapping[tuple[int, int], Any]] | None = None, *, force: bool = False) -> None:
    """Set some cells (0-based row, col) of one tab (and of the tabs in ``also``) in one save,
    leaving every other cell as it was."""
    cells_by_tab = {tab: cells, **{t: c for t, c in (also or {}).items() if t != tab}}
    rewrite(path, lambda workbook, _data: _set_cells(workbook, path, cells_by_tab), force=force)


def save_atomic(workbook, path: Path, *, expect: tuple[int, int, str] | None = None,
                results: dict[str, Results] | None = None) -> None:
    """Write beside the target, then rename: a crash never leaves half a workbook.

    The temporary (and openpyxl's own, per sheet) is 0600 beside the target while it holds plan
    data; the file then keeps the mode it had (a new one gets the umask's). With ``expect`` (what
    ``plan_lock.read_with_identity`` said), the rename only happens if the file is still that
    version. ``results`` (tab title -> formula results the file had, from ``formula_results``)
    are written back beside their formulas. A folder that is missing or not writable is one
    PlanFileError, not a traceback.
    """
    path = Path(path)
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        mode = plan_lock.new_file_mode()
    try:
        tmp = plan_lock.create_temp(path)
    except FileNotFoundError:
        raise PlanFileError(f"{path}: folder {path.parent} does not exist") from None
    except OSError as exc:
        raise PlanFileError(f"{path}: cannot write ({exc.strerror or exc})") from None
    # openpyxl keeps formulas but drops their results: Excel and LibreOffice recompute on open.
    workbook.calculation.fullCalcOnLoad = True
    token = _SAVING.set(path)
    try:
        _save_zip(workbook, tmp, results)
        os.chmod(tmp, mode)
        if expect is not None and not plan_lock.unchanged_since(path, expect):
            raise _ChangedMeanwhile()
        os.replace(tmp, path)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise PlanFileError(f"{path}: cannot write ({exc.strerror or exc})") from None
        raise
    finally:
        _SAVING.reset(token)


def _save_zip(workbook, tmp: Path, results: dict[str, Results] | None = None) -> None:
    """openpyxl's save, but the zip is closed even when a write fails (a full disk): left open,
    its __del__ would retry the write at exit and print a traceback after our one-line error.
    Formulas keep the ``results`` they had (openpyxl alone would write them empty)."""
    from openpyxl.writer.excel import ExcelWriter

    archive: zipfile.ZipFile
    if results:
        archive = ResultsZip(tmp, workbook, results)
    else:
        archive = zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
    try:
        ExcelWriter(workbook, archive).save()
    except BaseException:
        try:
            archive.close()  # sets its file to None even when it fails, so __del__ has nothing left to do
        except (OSError, ValueError):
            pass
        raise


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
            if r - 1 in sheet.band_rows or not sheet.wrap_body:
                continue
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
    _write_looks(ws, sheet)
    for cf in sheet.conditional:
        area = f"{get_column_letter(cf.first_column + 1)}{cf.first_row + 1}:{get_column_letter(cf.columns)}{cf.last_row + 1}"
        if cf.style in STYLES:
            rule = FormulaRule(formula=[cf.formula.lstrip("=")], stopIfTrue=True, **_style(cf.style, differential=True))
        elif cf.style == "muted":
            rule = FormulaRule(formula=[cf.formula.lstrip("=")], font=Font(color=MUTED_GREY), stopIfTrue=True)
        else:
            rule = FormulaRule(formula=[cf.formula.lstrip("=")], fill=PatternFill("solid", bgColor=ALERT_RED),
                               font=Font(color="9C0006"))
        ws.conditional_formatting.add(area, rule)
    if sheet.protected:
        ws.protection.sheet = True
        ws.sheet_properties.tabColor = "808080"
    if sheet.print_setup:
        _print_setup(ws, sheet.print_setup)


def _style(name: str, *, differential: bool = False) -> dict[str, Any]:
    """Font and fill of a palette style; a conditional format's fill takes the colour as bgColor."""
    from openpyxl.styles import Font, PatternFill

    background, colour, bold = STYLES[name]
    out: dict[str, Any] = {"font": Font(color=colour, bold=bold)}
    if background:
        out["fill"] = (PatternFill("solid", bgColor=background) if differential
                       else PatternFill("solid", fgColor=background))
    return out


def _write_looks(ws, sheet: SheetSpec) -> None:
    """Phase bands across the table, upright week dates."""
    from openpyxl.styles import Alignment

    width = max(len(sheet.rows[sheet.header_row]) if sheet.header_row is not None else 1, 1)
    for r in sheet.band_rows:  # coloured by a conditional format (layout.band_format)
        for c in range(width):
            ws.cell(row=r + 1, column=c + 1).alignment = Alignment(wrap_text=False, vertical="center")
    for r in sheet.rotated_rows:
        for c, value in enumerate(sheet.rows[r]):
            if value is not None and not isinstance(value, str):
                ws.cell(row=r + 1, column=c + 1).alignment = Alignment(text_rotation=90, horizontal="center")
        ws.row_dimensions[r + 1].height = 80


def _print_setup(ws, setup: PrintSetup) -> None:
    """Landscape, one page wide, the header row on every page, title and page numbers."""
    from openpyxl.worksheet.properties import PageSetupProperties

    ws.page_setup.orientation = "landscape" if setup.landscape else "portrait"
    if setup.fit_width:
        ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0  # as many pages tall as it takes
    if setup.title_rows:
        first, last = setup.title_rows
        ws.print_title_rows = f"{first + 1}:{last + 1}"
    ws.page_margins.left = ws.page_margins.right = 0.4
    if setup.header:
        ws.oddHeader.center.text = setup.header.replace("&", "&&")
        ws.oddHeader.center.size = 11
    if setup.footer:
        ws.oddFooter.center.text = setup.footer



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
                     also: Mapping[str, Mapping[tuple[int, int], Any]] | None = None, force: bool = False) -> None:
        update_cells(self.path, tab, cells, also, force=force)

    def modify(self, compute: Callable[[dict[str, list[list[Any]]]], tuple[Edit | None, Any]], *,
               force: bool = False, grid: dict[str, list[list[Any]]] | None = None) -> Any:
        """One locked read-modify-write: ``compute(grid)`` gives the edit to make and what to
        return, and runs again on a fresh read if another program saved the file meanwhile. (A
        ``grid`` read earlier is not used: the file is read again under its lock.)"""

        def change(workbook, data: bytes) -> Any:
            edit, result = compute(read_grid(self.path, data=data))
            if edit is None:  # nothing to change (e.g. signed already)
                return Unchanged(result)
            _set_cells(workbook, self.path, {**edit.also, edit.tab: edit.placed()})
            return result

        return rewrite(self.path, change, force=force)

    def append_rows(self, tab: str, rows: list[list[Any]], *, header: list[str],
                    also: Mapping[str, Mapping[tuple[int, int], Any]] | None = None, force: bool = False) -> None:
        """Rows after the tab's last used row; the tab (with ``header``) is made if missing. The
        cells of other tabs in ``also`` are set in the same save."""

        def change(workbook, _data: bytes) -> None:
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

        rewrite(self.path, change, force=force)

    def revision(self) -> dict[str, Any]:
        """What identifies this version of the file, for change detection."""
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            raise NotFound(f"{self.path}: no such file") from None
        return {"modified_ns": stat.st_mtime_ns, "size": stat.st_size}

    def edits(self) -> None:
        """None: a file carries no trustworthy author (whoever saved last on some laptop)."""
        return None

    def share(self, email: str, role: str = "writer", message: str | None = None) -> None:
        raise UsageError(f"{self.ref}: sharing needs a Google Sheet (a local .xlsx is shared by sending the file)")
