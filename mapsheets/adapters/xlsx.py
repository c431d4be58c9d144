"""Local .xlsx workbooks through openpyxl: the embedded stand-in for a Google Sheet."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from mapsheets.adapters import plan_lock
from mapsheets.adapters.xlsx_format import set_cell as _set
from mapsheets.adapters.xlsx_format import write_sheet as _write_sheet
from mapsheets.adapters.xlsx_limits import check_workbook, check_writable_size
from mapsheets.adapters.xlsx_open import (
    load_openpyxl,
    open_book,
    read_grid_openpyxl,  # noqa: F401  (callers import it from here)
)
from mapsheets.adapters.xlsx_open import load_openpyxl as _openpyxl  # noqa: F401  (its old name, for tests)
from mapsheets.adapters.xlsx_read import refuse_write
from mapsheets.adapters.xlsx_results import formula_results
from mapsheets.adapters.xlsx_save import (  # noqa: F401  (save_atomic: callers import it from here)
    ChangedMeanwhile,
    keep_temporaries_beside_target,
    save_atomic,
)
from mapsheets.core.edits import Edit
from mapsheets.core.layout import MACHINE_TAB, WorkbookSpec, column_letter
from mapsheets.core.text_gate import problem
from mapsheets.errors import AlreadyExists, PlanBusy, PlanFileError, UsageError, file_error


def load(path: Path, *, data_only: bool = True, data: bytes | None = None):
    """The workbook at ``path`` (or its ``data`` already read), checked against the limits first;
    errors name the file."""
    check_workbook(path, data)
    return open_book(path, data_only=data_only, data=data)


def read_grid(path: Path, data: bytes | None = None) -> dict[str, list[list[Any]]]:
    """Every tab's cell values, rows of Python values (dates as datetime), read by python-calamine.

    A formula reads as its cached result. A formula with none (the file was last saved by a program
    that does not calculate, openpyxl included) reads as its text, marked ``UncachedFormula``, so
    the parser warns about the cell instead of finding it silently empty, and the last revision's
    value can stand in for it.
    """
    from mapsheets.adapters import xlsx_read

    return xlsx_read.read_grid(path, data=data)


def write_workbook(path: Path, spec: WorkbookSpec, *, force: bool = False) -> None:
    path = plan_lock.target(path)
    refuse_write(path)
    if path.exists() and not force:
        raise AlreadyExists(f"{path}: already exists (use --force to overwrite)")
    openpyxl = load_openpyxl()
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for sheet in spec.sheets:
        _write_sheet(workbook.create_sheet(sheet.title), sheet)
    if spec.title and (said := problem(spec.title)):  # the text gate's last check, as for cells
        raise PlanFileError(f"{path}: the workbook's title {said}: nothing written")
    workbook.properties.title = spec.title
    if not path.exists():
        save_atomic(workbook, path)
        return
    with plan_lock.locked(path):  # overwriting: not while another command writes it
        save_atomic(workbook, path)


def write_tables(path: Path, tables: Mapping[str, list[list[Any]]]) -> None:
    """A report workbook: one tab per table (first row the header, bold and frozen), saved atomically."""
    openpyxl = load_openpyxl()
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
    given, path = Path(path), plan_lock.target(path)  # a link: the file it points to, under its lock
    refuse_write(path)
    with plan_lock.locked(path):
        for _attempt in range(CHANGED_ATTEMPTS):
            if not force:
                plan_lock.check_not_open(path)
                if given != path:  # Excel opened through the link leaves its owner file beside the link
                    plan_lock.check_not_open(given)
            try:
                data, identity = plan_lock.read_with_identity(path)
            except OSError as exc:
                raise file_error(path, exc, "an .xlsx workbook") from None
            checked = check_workbook(path, data)
            check_writable_size(path, checked)
            workbook = open_book(path, data_only=False, data=data)
            result = change(workbook, data)
            if isinstance(result, Unchanged):  # nothing to write: the file stays as it is
                return result.result
            try:
                results = formula_results(data) if checked.has_formulas else None
                save_atomic(workbook, path, expect=identity, results=results)
                return result
            except ChangedMeanwhile:
                continue
    raise PlanBusy(f"{path}: another program kept saving it while mapsheets wrote "
                   f"({CHANGED_ATTEMPTS} tries); nothing written, try again")


def _set_cells(workbook, path: Path, cells_by_tab: Mapping[str, Mapping[tuple[int, int], Any]]) -> None:
    for tab, cells in cells_by_tab.items():
        if tab == MACHINE_TAB and tab not in workbook.sheetnames:  # a plan made before it: made on first write
            workbook.create_sheet(tab).sheet_state = "hidden"
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


def _can_insert(workbook) -> bool:
    """Rows can go in mid-sheet unless a formula might point below them: openpyxl would not move its
    references (a due date typed "=F27+7" would read another row), so then the step is appended."""
    return not any(cell.data_type == "f" for ws in workbook.worksheets for row in ws.iter_rows() for cell in row)


def _insert_rows(ws, at: int, n: int) -> None:
    """``n`` empty rows before 0-based row ``at``: openpyxl moves the cells; merged ranges and row
    heights below are moved here, as a spreadsheet program would."""
    first = at + 1
    heights = {r: (d.height, d.hidden) for r, d in list(ws.row_dimensions.items()) if r >= first}
    ws.insert_rows(first, n)
    for merged in list(ws.merged_cells.ranges):
        if merged.min_row >= first:
            merged.shift(0, n)
        elif merged.max_row >= first:
            merged.expand(down=n)
    for r in heights:
        ws.row_dimensions[r].height, ws.row_dimensions[r].hidden = None, False
    for r, (height, hidden) in heights.items():
        ws.row_dimensions[r + n].height, ws.row_dimensions[r + n].hidden = height, hidden


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
            if edit.insert_at is not None and edit.tab in workbook.sheetnames and _can_insert(workbook):
                _insert_rows(workbook[edit.tab], edit.insert_at, len(edit.rows))
                placed = edit.inserted()
            else:
                placed = edit.placed()
            _set_cells(workbook, self.path, {**edit.also, edit.tab: placed})
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
        except FileNotFoundError as exc:
            raise file_error(self.path, exc) from None
        return {"modified_ns": stat.st_mtime_ns, "size": stat.st_size}

    def edits(self) -> None:
        """None: a file carries no trustworthy author (whoever saved last on some laptop)."""
        return None

    def worker_ref(self) -> str:
        """The path: an openpyxl load and save is CPU that a worker process can spend for us."""
        return str(self.path)

    def share(self, email: str, role: str = "writer", message: str | None = None) -> None:
        raise UsageError(f"{self.ref}: sharing needs a Google Sheet (a local .xlsx is shared by sending the file)")
