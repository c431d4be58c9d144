"""Opening an .xlsx with openpyxl, and its reader: the reference the calamine reader
(xlsx_read.py) must equal, and the reader of what calamine cannot see. Both readers give the grid
``tidy`` shapes."""

from __future__ import annotations

import io
import sys
import threading
import zipfile
import zlib
from pathlib import Path
from typing import Any

from mapsheets.adapters import plan_lock
from mapsheets.adapters.xlsx_limits import check_workbook
from mapsheets.adapters.xlsx_save import keep_temporaries_beside_target
from mapsheets.core.model import UncachedFormula
from mapsheets.errors import PlanFileError, file_error


def load_openpyxl() -> Any:
    """openpyxl, imported on first use (heavy), numpy left out of it."""
    if "openpyxl" not in sys.modules and "numpy" not in sys.modules and threading.active_count() == 1:
        # openpyxl imports numpy, where installed, only to accept numpy numbers as cell values: we
        # never give it any, and that import was a sixth of `mapsheets new`. numpy stays importable
        # afterwards; only a lone thread may hide it, so no other thread's `import numpy` sees it hidden.
        sys.modules["numpy"] = None  # type: ignore[assignment]  # `import numpy` raises ImportError
        try:
            import openpyxl
        finally:
            del sys.modules["numpy"]
    import openpyxl  # heavy: only when a workbook is touched

    keep_temporaries_beside_target()
    return openpyxl


def open_book(path: Path, *, data_only: bool, data: bytes | None = None):
    """openpyxl's load, its failures as one PlanFileError line; check_workbook must have run."""
    openpyxl = load_openpyxl()
    try:
        # rich_text: a cell with a bold or coloured word in it is saved back as it was, not flattened.
        return openpyxl.load_workbook(io.BytesIO(data) if data is not None else path, data_only=data_only,
                                      rich_text=not data_only)
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        raise file_error(path, exc, "an .xlsx workbook") from None
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


def read_grid_openpyxl(path: Path, data: bytes | None = None) -> dict[str, list[list[Any]]]:
    """``read_grid`` through openpyxl: the reference the calamine reader must equal (a contract
    test), and the reader of what calamine cannot see (shared formulas without a cached result)."""
    if data is None:
        plan_lock.clean_stale(Path(path))  # leftovers of a save killed long ago
    checked = check_workbook(path, data)
    workbook = open_book(path, data_only=True, data=data)
    from openpyxl.utils.escape import unescape  # "_x0041_" is "A", as calamine reads it

    grid = {ws.title: [[unescape(v) if isinstance(v, str) else v for v in row]
                       for row in ws.iter_rows(values_only=True)] for ws in workbook.worksheets}
    if checked.has_formulas:
        formulas = open_book(path, data_only=False, data=data)
        for ws in formulas.worksheets:
            rows = grid[ws.title]
            for r, row in enumerate(ws.iter_rows(values_only=True)):
                for c, value in enumerate(row):
                    if isinstance(value, str) and value.startswith("=") and rows[r][c] is None:
                        rows[r][c] = UncachedFormula(value)
    return {tab: tidy(rows) for tab, rows in grid.items()}


def tidy(rows: list[list[Any]]) -> list[list[Any]]:
    """Blank strings as None; rows after the last value dropped, columns after the last value too."""
    rows = [[None if v == "" else v for v in row] for row in rows]
    while rows and all(v is None for v in rows[-1]):
        rows.pop()
    width = max((max((i + 1 for i, v in enumerate(row) if v is not None), default=0) for row in rows), default=0)
    return [row[:width] + [None] * (width - len(row)) for row in rows]
