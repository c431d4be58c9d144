"""The backend-neutral shape of a workbook: tabs, cells, dropdowns, conditional formats, print
settings (what core/layout.py and core/timeline.py build and the adapters write)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mapsheets.core import look

DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"


@dataclass(frozen=True)
class Validation:
    """A dropdown on one column from ``first_row`` down to ``last_row`` (0-based, inclusive)."""

    column: int
    first_row: int
    last_row: int
    options: tuple[str, ...]
    strict: bool = False  # hand edits such as "WIP" must stay possible: warn, don't reject


@dataclass(frozen=True)
class ConditionalFormat:
    """Rows ``first_row``..``last_row`` over ``columns`` styled when ``formula`` (for first_row) holds."""

    first_row: int
    last_row: int
    columns: int
    formula: str
    style: str  # "muted" (done, greyed), "alert" (overdue, red), or a name in STYLES
    first_column: int = 0  # columns first_column..columns-1


@dataclass(frozen=True)
class PrintSetup:
    """How a tab prints (.xlsx; Google Sheets keeps print settings out of its API)."""

    landscape: bool = True
    fit_width: bool = True  # one page wide, as many pages tall as it takes
    title_rows: tuple[int, int] | None = None  # 0-based rows repeated at the top of every page
    header: str = ""  # centred at the top of every page
    footer: str = "Page &P of &N"  # Excel's codes: page number, page count


@dataclass
class SheetSpec:
    title: str
    rows: list[list[Any]]
    header_row: int | None = None
    frozen_rows: int = 0
    widths: list[float] = field(default_factory=list)  # in characters
    column_formats: dict[int, str] = field(default_factory=dict)  # applied below header_row
    validations: list[Validation] = field(default_factory=list)
    conditional: list[ConditionalFormat] = field(default_factory=list)
    protected: bool = False
    heading_rows: tuple[int, ...] = ()
    label_column: int | None = None  # overview labels, shown bold
    band_rows: tuple[int, ...] = ()  # phase bands: one text across the row, never wrapped
    wrap_body: bool = True  # body cells wrap (rows grow); off where rows are rewritten and move
    rotated_rows: tuple[int, ...] = ()  # header text turned upright (the Timeline's week dates)
    row_formats: dict[int, str] = field(default_factory=dict)  # number format of whole rows
    print_setup: PrintSetup | None = None
    hidden: bool = False  # a tab people do not see (MACHINE_TAB)


    def record_rows(self) -> list[int]:
        """0-based rows of the table's records (the steps), phase bands left out."""
        if self.header_row is None:
            return []
        return [r for r in range(self.header_row + 1, len(self.rows)) if r not in self.band_rows]


@dataclass
class WorkbookSpec:
    title: str
    sheets: list[SheetSpec]

    def sheet(self, title: str) -> SheetSpec:
        return next(s for s in self.sheets if s.title == title)


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def cell_ref(tab: str, row: int, col: int) -> str:
    """A1 reference for 0-based row/col, e.g. ``Plan!F12``; odd tab names are quoted."""
    name = tab if tab.replace("_", "").isalnum() else "'" + tab.replace("'", "''") + "'"
    return f"{name}!{column_letter(col)}{row + 1}"


def band_format(first: int, last: int, columns: int, mark_column: int = 0) -> ConditionalFormat:
    """Phase bands coloured by what they hold, not where they were written: rows move."""
    a = column_letter(mark_column)
    return ConditionalFormat(first, last, columns, f'=LEFT(${a}{first + 1},1)="{look.PHASE_MARK}"', "band")
