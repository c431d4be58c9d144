"""Plan -> WorkbookSpec: the backend-neutral shape of a MAP workbook (tabs, cells, formatting).

Adapters turn a WorkbookSpec into an .xlsx or a Google Sheet; parse.py reads grids back.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from mapsheets.core import look
from mapsheets.core.model import OVERVIEW_FIELDS, ROLES, SIDES, STATUSES, Plan, Signature, Stakeholder, Step
from mapsheets.core.qualify import MEDDPICC, QUALIFICATION_HEADING
from mapsheets.core.text_gate import CELL_TEXT_LIMIT, admit_all  # noqa: F401  (CELL_TEXT_LIMIT: its old home)
from mapsheets.core.words import status_spellings

PLAN_TAB, TEAM_TAB, SIGNOFF_TAB, CHANGES_TAB = "Plan", "Team", "Sign-off", "Changes"
TIMELINE_TAB = "Timeline"
# What only mapsheets reads (how to read the sheet, links, internal notes) lives on this hidden tab,
# out of the buyer's sight, label in column A and value in B: the same reader finds it on both backends.
MACHINE_TAB = "_mapsheets"
MACHINE_FIELDS = ("kind", "template", "close_step", "date_order", "closing_plan", "mutual_plan", "outcome_reason")
MACHINE_NOTE = "Read by mapsheets, not meant for people: edit with care"
# Rows the dropdowns and conditional formats cover, so rows people add by hand get them too.
TABLE_ROWS = 1000
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"

# Step field -> header label, in default column order; widths in characters.
STEP_COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("id", "ID", 9),
    ("phase", "Phase", 24),
    ("title", "Step", 46),
    ("side", "Side", 9),
    ("owners", "Owners", 30),
    ("due", "Due", 12),
    ("status", "Status", 13),
    ("done_on", "Done on", 12),
    ("depends_on", "Depends on", 16),
    ("notes", "Notes", 40),
)
TEAM_COLUMNS = (("name", "Name", 26), ("email", "Email", 32), ("side", "Side", 10), ("role", "Role", 20))
SIGNOFF_COLUMNS = (
    ("name", "Name", 26), ("email", "Email", 32), ("side", "Side", 10),
    ("signed_at", "Signed at", 18), ("fingerprint", "Fingerprint", 20), ("status", "Status", 10),
    ("method", "Method", 18), ("recorded_by", "Recorded by", 26), ("seal", "Seal", 30),
)
STEP_HEADERS = tuple(label for _f, label, _w in STEP_COLUMNS)
# A closing plan's steps are the seller's own unless this column says "shared" (`convert` carries those).
VISIBILITY = "Visibility"
VISIBILITIES = ("internal", "shared")
DEFAULT_WIDTH = 16


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


# One palette for both backends: style -> (background, text colour, bold); hex RGB, None = unchanged.
STYLES: dict[str, tuple[str | None, str | None, bool]] = {
    "chip done": ("C6EFCE", "006100", True),
    "chip in progress": ("DDEBF7", "1F4E79", True),
    "chip blocked": ("FFE699", "7F6000", True),
    "chip overdue": ("FFC7CE", "9C0006", True),
    "bar planned": ("8EA9DB", None, False),
    "bar done": ("70AD47", None, False),
    "bar overdue": ("E06666", None, False),
    "today": ("FFD966", "000000", True),
    "band": ("D9E1F2", "1F3864", True),
}


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


def step_columns(plan: Plan) -> list[str]:
    """Header labels in the order to write: the sheet's own order, missing standard ones appended."""
    found = list(plan.step_columns)
    return found + [h for h in STEP_HEADERS if h not in found]


def check_cell_text(fields: dict[str, Any], field: str | None = None,
                    on_warning: Callable[[str], None] | None = None) -> dict[str, Any]:
    """The fields as they may enter cells (core/text_gate.py): text that is not text or longer than
    a cell holds refused naming the field, never cut; control characters removed with a warning.
    Keys are field names ("notes", "depends_on"); ``field`` tags the error instead when given."""
    return admit_all(fields, on_warning, field=field)


def step_cells(step: Step, headers: list[str]) -> list[Any]:
    """One steps-table row; cells we could not understand go back exactly as they were."""
    by_label = {label: attr for attr, label, _w in STEP_COLUMNS}
    row: list[Any] = []
    for header in headers:
        if header in step.unparsed:
            row.append(step.unparsed[header])
        elif header in by_label:
            row.append(_cell(getattr(step, by_label[header])))
        else:
            row.append(step.extra.get(header))
    return row


def _cell(value: Any) -> Any:
    if isinstance(value, list):
        return ", ".join(value) if value else None
    if value == "":
        return None
    return value


def overview_rows(plan: Plan) -> list[list[Any]]:
    """Title heading, then one label/value row per overview field (labels in column B)."""
    rows: list[list[Any]] = [[plan.title]]
    for attr, label, _typ in OVERVIEW_FIELDS:
        if attr == "title" or attr in MACHINE_FIELDS:
            continue
        rows.append([None, label, _cell(getattr(plan, attr))])
    if plan.kind == "closing" or any(plan.qualification.values()):
        rows.append([None, QUALIFICATION_HEADING])
        rows.extend([None, label, _cell(plan.qualification.get(key, ""))] for key, label in MEDDPICC)
    return rows


def summary_rows(plan: Plan, today: date | None, days_off: Collection[date] = ()) -> list[list[Any]]:
    """Under the title: the plan owners, the signatures' state, the progress line (display only)."""
    values = look.summary_values(plan, today, days_off)
    return [[None, label, values[label]] for label in look.summary_labels(plan)]


def machine_sheet(plan: Plan) -> SheetSpec:
    """The hidden tab: a row for every machine field, empty ones too (so a link has its place)."""
    labels = {attr: label for attr, label, _t in OVERVIEW_FIELDS}
    rows: list[list[Any]] = [[MACHINE_NOTE]]
    rows.extend([labels[attr], _cell(getattr(plan, attr))] for attr in MACHINE_FIELDS)
    return SheetSpec(title=MACHINE_TAB, rows=rows, widths=[16, 60], hidden=True, wrap_body=False)


def step_rows(plan: Plan, headers: list[str]) -> tuple[list[list[Any]], list[int]]:
    """The steps in plan order, a band row heading each run of one phase (with the whole phase's
    progress); returns rows and the bands' indexes."""
    rows: list[list[Any]] = []
    bands: list[int] = []
    texts = look.phase_band_texts(plan)
    for phase, steps in look.phase_runs(plan):
        bands.append(len(rows))
        rows.append([texts[phase]])
        rows.extend(step_cells(s, headers) for s in steps)
    return rows, bands


def band_format(first: int, last: int, columns: int, mark_column: int = 0) -> ConditionalFormat:
    """Phase bands coloured by what they hold, not where they were written: rows move."""
    a = column_letter(mark_column)
    return ConditionalFormat(first, last, columns, f'=LEFT(${a}{first + 1},1)="{look.PHASE_MARK}"', "band")


def status_is(cell: str, *statuses: str) -> str:
    """A sheet formula true when ``cell`` holds any spelling the reader takes for one of ``statuses``
    ("Complete", "✅" and "done" alike), so the colours never disagree with `show`."""
    words = [w for status in statuses for w in status_spellings(status)]
    return "OR(" + ",".join(f'LOWER(TRIM({cell}))="{w}"' for w in words) + ")"


def status_chips(first: int, last: int, status_col: int, due_col: int) -> list[ConditionalFormat]:
    """The Status cell as a coloured chip; overdue first, since it is judged on top of the status."""
    s, d, r = column_letter(status_col), column_letter(due_col), first + 1
    cell = f"${s}{r}"
    open_ = f'OR({cell}="",{status_is(cell, "not started", "in progress", "blocked")})'
    chip = [("chip overdue", f"=AND(ISNUMBER(${d}{r}),${d}{r}<TODAY(),{open_})")]
    chip += [(f"chip {status}", f"={status_is(cell, status)}") for status in ("done", "in progress", "blocked")]
    return [ConditionalFormat(first, last, status_col + 1, formula, style, first_column=status_col)
            for style, formula in chip]


def plan_sheet(plan: Plan, today: date | None = None, days_off: Collection[date] = ()) -> SheetSpec:
    headers = step_columns(plan)
    overview = overview_rows(plan)
    rows = overview[:1] + summary_rows(plan, today, days_off) + overview[1:] + [[]]
    header_row = len(rows)
    rows.append(list(headers))
    body, bands = step_rows(plan, headers)
    rows.extend(body)
    col = {h: i for i, h in enumerate(headers)}
    widths = {label: w for _a, label, w in STEP_COLUMNS}
    first, last = header_row + 1, header_row + TABLE_ROWS
    status, due = column_letter(col["Status"]), column_letter(col["Due"])
    r = first + 1  # formulas are written for the first data row, 1-based
    return SheetSpec(
        title=PLAN_TAB, rows=rows, header_row=header_row, frozen_rows=header_row + 1,
        widths=[widths.get(h, DEFAULT_WIDTH) for h in headers],
        column_formats={col["Due"]: DATE_FORMAT, col["Done on"]: DATE_FORMAT},
        validations=[
            Validation(col["Side"], first, last, SIDES),
            Validation(col["Status"], first, last, STATUSES),
            *([Validation(col[VISIBILITY], first, last, VISIBILITIES)] if VISIBILITY in col else []),
        ],
        # Chips first: LibreOffice applies only the first conditional range that covers a cell.
        conditional=status_chips(first, last, col["Status"], col["Due"]) + [band_format(first, last, len(headers)),
            ConditionalFormat(first, last, len(headers), f'={status_is(f"${status}{r}", "done", "n/a")}', "muted"),
            ConditionalFormat(
                first, last, len(headers),
                f'=AND(ISNUMBER(${due}{r}),${due}{r}<TODAY(),NOT({status_is(f"${status}{r}", "done", "n/a")}))',
                "alert"),
        ],
        heading_rows=(0,), label_column=1, band_rows=tuple(header_row + 1 + b for b in bands),
        print_setup=PrintSetup(title_rows=(header_row, header_row), header=plan.title),
    )


def team_sheet(stakeholders: list[Stakeholder]) -> SheetSpec:
    rows: list[list[Any]] = [[label for _a, label, _w in TEAM_COLUMNS]]
    rows.extend([s.name, _cell(s.email), s.side, _cell(s.role)] for s in stakeholders)
    return SheetSpec(
        title=TEAM_TAB, rows=rows, header_row=0, frozen_rows=1, widths=[w for *_x, w in TEAM_COLUMNS],
        validations=[Validation(2, 1, TABLE_ROWS, ("buyer", "seller")), Validation(3, 1, TABLE_ROWS, ROLES)],
    )


def signature_cells(signature: Signature, plan: Plan) -> list[Any]:
    """One Sign-off row; its Status judged against ``plan`` as it is now."""
    return [signature.name, signature.email, signature.side, signature.signed_at, signature.fingerprint,
            plan.signature_status(signature), signature.method, signature.recorded_by, signature.seal]


def signoff_sheet(plan: Plan) -> SheetSpec:
    rows: list[list[Any]] = [[label for _a, label, _w in SIGNOFF_COLUMNS]]
    rows.extend(signature_cells(s, plan) for s in plan.signatures)
    return SheetSpec(
        title=SIGNOFF_TAB, rows=rows, header_row=0, frozen_rows=1, widths=[w for *_x, w in SIGNOFF_COLUMNS],
        column_formats={3: DATETIME_FORMAT}, protected=True,
    )


def workbook_spec(plan: Plan, today: date | None = None, days_off: Collection[date] = ()) -> WorkbookSpec:
    """The whole workbook; ``today`` dates the progress line (None: no progress line yet)."""
    from mapsheets.core.timeline import timeline_sheet

    sheets = [plan_sheet(plan, today, days_off), team_sheet(plan.stakeholders), signoff_sheet(plan)]
    sheets.append(timeline_sheet(plan))
    sheets.append(machine_sheet(plan))
    return WorkbookSpec(title=plan.title, sheets=sheets)


def cell_format(value: Any) -> str | None:
    """Number format a written value needs so it shows as a date, not a serial number."""
    if isinstance(value, datetime):
        return DATETIME_FORMAT
    if isinstance(value, date):
        return DATE_FORMAT
    return None
