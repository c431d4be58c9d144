"""Reading plan workbooks with python-calamine (Rust): values at the speed of the file.

.xlsx/.xlsm, and .ods/.xls (which buyers save from LibreOffice or old Excel: read-only here).
Gives the same grid as the openpyxl reader in ``xlsx_open.read_grid_openpyxl`` (a contract test runs the
hand-edit corpus through both): integers as int, dates as datetime, blanks as None, rows trimmed
after the last value, merged cells blank but their first, and a formula without a cached result as
its text, marked ``UncachedFormula``. calamine sees values only, so that text comes from a scan of
the sheet's XML, done only when the hostile-input check saw a formula.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

from mapsheets.adapters import plan_lock
from mapsheets.adapters.xlsx_limits import check_workbook, column_number, sheet_members
from mapsheets.adapters.xlsx_open import read_grid_openpyxl, tidy
from mapsheets.errors import NotFound, PlanFileError, file_error

Grid = dict[str, list[list[Any]]]
READ_ONLY_SUFFIXES = (".ods", ".xls")


def read_only_suffix(path: Path) -> str | None:
    """The suffix of a workbook mapsheets reads but never writes (.ods, .xls), else None."""
    suffix = Path(path).suffix.lower()
    return suffix if suffix in READ_ONLY_SUFFIXES else None


def refuse_write(path: Path) -> None:
    """One line for a command that would write a .ods or .xls."""
    suffix = read_only_suffix(path)
    if suffix:
        raise PlanFileError(f"{path}: {suffix} is read-only for mapsheets: save it as .xlsx to write")


def read_grid(path: Path, data: bytes | None = None) -> Grid:
    """Every worksheet's values (see the module's docstring); ``data``: the file's bytes when the
    caller already read them (under the plan's lock)."""
    path = Path(path)
    if data is None:
        plan_lock.clean_stale(path)  # leftovers of a save killed long ago
    xls = path.suffix.lower() == ".xls"
    checked = None if xls else check_workbook(path, data)  # before calamine parses a byte of it
    book = _open(path, data)
    from python_calamine import SheetTypeEnum

    grid: Grid = {}
    try:
        for meta in book.sheets_metadata:
            if meta.typ != SheetTypeEnum.WorkSheet:
                continue  # chart sheets hold no cells (openpyxl lists worksheets only)
            sheet = book.get_sheet_by_name(meta.name)
            rows = [[_value(v) for v in row] for row in sheet.to_python(skip_empty_area=False)]
            for (r0, c0), (r1, c1) in sheet.merged_cell_ranges or ():
                for r in range(r0, min(r1, len(rows) - 1) + 1):
                    for c in range(c0, min(c1, len(rows[r]) - 1) + 1):
                        if (r, c) != (r0, c0):
                            rows[r][c] = None  # as in Excel: only the first cell of a merge holds a value
            grid[meta.name] = rows
    except Exception as exc:  # calamine's own errors (CalamineError, XmlError...) share no base
        raise _failure(path, exc) from None
    finally:
        book.close()
    if checked is not None and checked.has_formulas:
        if not _add_uncached_formulas(path, data, grid):  # shared formulas: let openpyxl translate
            return read_grid_openpyxl(path, data=data)
    return {tab: tidy(rows) for tab, rows in grid.items()}


def _value(v: Any) -> Any:
    """calamine's value as openpyxl gives it: whole numbers as int, dates at midnight as datetime."""
    if type(v) is float and v.is_integer():
        return int(v)
    if type(v) is date:
        return datetime(v.year, v.month, v.day)
    return v


def _open(path: Path, data: bytes | None):
    from python_calamine import CalamineWorkbook

    try:
        if data is not None:
            return CalamineWorkbook.from_filelike(io.BytesIO(data))
        return CalamineWorkbook.from_path(str(path))
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        raise file_error(path, exc, "a workbook") from None
    except Exception as exc:  # calamine: CalamineError, ZipError, XmlError, PasswordError...
        if not path.exists():
            raise NotFound(f"{path}: no such file") from None
        if path.is_dir():
            raise PlanFileError(f"{path}: is a folder, not a workbook") from None
        raise _failure(path, exc) from None


def _failure(path: Path, exc: Exception) -> PlanFileError:
    """calamine's error as one line naming the file."""
    reason = " ".join(str(exc).split())[:160] or type(exc).__name__
    if type(exc).__name__ == "PasswordError":
        return PlanFileError(f"{path}: is password-protected: save it without a password")
    if "entity" in reason.lower():  # its XML parser expands no declared entity: a DTD past the quick look
        return PlanFileError(f"{path}: declares XML entities, which no workbook needs: refusing it")
    if type(exc).__name__ == "XmlError":
        reason = f"malformed XML: {reason}"
    return PlanFileError(f"{path}: not a readable {path.suffix or 'workbook'} workbook ({reason})")


_CELL = re.compile(rb"<(?:[\w.-]+:)?c\b([^>]*?)(/>|>(.*?)</(?:[\w.-]+:)?c>)", re.S)
_F = re.compile(rb"<(?:[\w.-]+:)?f\b([^>]*?)(?:/>|>(.*?)</(?:[\w.-]+:)?f>)", re.S)
_V = re.compile(rb"<(?:[\w.-]+:)?v\b[^>]*?(?:/>|>(.*?)</(?:[\w.-]+:)?v>)", re.S)
_R = re.compile(rb"""\br\s*=\s*["']\$?([A-Za-z]{1,3})\$?([0-9]+)["']""")
_T = re.compile(rb"""\bt\s*=\s*["']([^"']*)["']""")
_ENTITY = re.compile(r"&(lt|gt|amp|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);")


def _add_uncached_formulas(path: Path, data: bytes | None, grid: Grid) -> bool:
    """Put each formula that has no cached result into ``grid`` as its text (as openpyxl reads it:
    ``=`` and the formula), and each cached error as its text ("#DIV/0!"). False when one needs
    openpyxl's help: a shared formula's copy, whose text is the first cell's translated, or a cell
    that does not say where it is."""
    from mapsheets.core.model import UncachedFormula

    with zipfile.ZipFile(io.BytesIO(data) if data is not None else path) as archive:
        for tab, member in sheet_members(archive):
            rows = grid.get(tab)
            if rows is None:
                continue
            xml = archive.read(member)
            for cell in _CELL.finditer(xml):
                body = cell.group(3)
                if not body:
                    continue
                type_at = _T.search(cell.group(1))
                cell_type = type_at.group(1) if type_at else b""
                v = _V.search(body)
                if cell_type == b"e" and v is not None and v.group(1):
                    value = _unescape(v.group(1).decode("utf-8"))  # an error result: calamine reads it blank
                else:
                    f = _F.search(body) if b"f" in body else None
                    if f is None or (v is not None and v.group(1)) or cell_type == b"inlineStr":
                        continue  # no formula, or its cached result (which calamine read)
                    kind_at = _T.search(f.group(1))
                    kind = kind_at.group(1) if kind_at else b""
                    if kind in (b"array", b"dataTable"):
                        continue  # openpyxl gives these as objects, not text: the cell reads blank
                    if kind == b"shared" and not f.group(2):
                        return False
                    value = UncachedFormula("=" + _unescape((f.group(2) or b"").decode("utf-8")))
                ref = _R.search(cell.group(1))
                if ref is None:
                    return False
                r, c = int(ref.group(2)) - 1, column_number(ref.group(1)) - 1
                while len(rows) <= r:
                    rows.append([])
                if len(rows[r]) <= c:
                    rows[r].extend([None] * (c + 1 - len(rows[r])))
                if rows[r][c] in (None, ""):
                    rows[r][c] = value
    return True


def _unescape(text: str) -> str:
    named = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}

    def one(m: re.Match) -> str:
        name = m.group(1)
        if name in named:
            return named[name]
        return chr(int(name[2:], 16) if name[1] in "xX" else int(name[1:]))

    return _ENTITY.sub(one, text)

