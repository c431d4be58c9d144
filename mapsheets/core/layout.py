"""Plan -> WorkbookSpec: the backend-neutral shape of a MAP workbook (tabs, cells, formatting).

Adapters turn a WorkbookSpec into an .xlsx or a Google Sheet; parse.py reads grids back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from mapsheets.core.model import OVERVIEW_FIELDS, ROLES, SIDES, STATUSES, Plan, Signature, Stakeholder, Step
from mapsheets.core.qualify import MEDDPICC, QUALIFICATION_HEADING
from mapsheets.errors import UsageError

PLAN_TAB, TEAM_TAB, SIGNOFF_TAB, CHANGES_TAB = "Plan", "Team", "Sign-off", "Changes"
# Rows the dropdowns and conditional formats cover, so rows people add by hand get them too.
TABLE_ROWS = 1000
DATE_FORMAT = "yyyy-mm-dd"
# Characters one cell holds (Excel's limit; openpyxl cuts longer text silently).
CELL_TEXT_LIMIT = 32_767
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
)
STEP_HEADERS = tuple(label for _f, label, _w in STEP_COLUMNS)
# A closing plan's steps are the seller's own unless this column says "shared" (`convert` carries those).
VISIBILITY = "Visibility"
VISIBILITIES = ("internal", "shared")
# Link rows: written empty only in the plan of this kind (a closing plan waits for its MAP's address).
LINK_ROWS = {"closing_plan": "", "mutual_plan": "closing"}
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
    style: str  # "muted" (done, greyed) or "alert" (overdue, red)


@dataclass
class SheetSpec:
    title: str
    rows: list[list[Any]]
    header_row: int | None = None
    frozen_rows: int = 0
    widths: list[int] = field(default_factory=list)
    column_formats: dict[int, str] = field(default_factory=dict)  # applied below header_row
    validations: list[Validation] = field(default_factory=list)
    conditional: list[ConditionalFormat] = field(default_factory=list)
    protected: bool = False
    heading_rows: tuple[int, ...] = ()
    label_column: int | None = None  # overview labels, shown bold


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


def check_cell_text(fields: dict[str, Any], field: str | None = None) -> None:
    """Refuse text longer than a cell holds, naming the field, rather than have it cut on write.
    Keys are field names ("notes", "depends_on"); ``field`` tags the error instead when given."""
    for name, value in fields.items():
        if isinstance(value, str) and len(value) > CELL_TEXT_LIMIT:
            raise UsageError(f"{name.replace('_', ' ')} is {len(value):,} characters long; "
                             f"a cell holds at most {CELL_TEXT_LIMIT:,}", field=field or name)


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
        if attr == "title" or (attr in LINK_ROWS and not getattr(plan, attr) and LINK_ROWS[attr] != plan.kind):
            continue
        rows.append([None, label, _cell(getattr(plan, attr))])
    if plan.kind == "closing" or any(plan.qualification.values()):
        rows.append([None, QUALIFICATION_HEADING])
        rows.extend([None, label, _cell(plan.qualification.get(key, ""))] for key, label in MEDDPICC)
    return rows


def plan_sheet(plan: Plan) -> SheetSpec:
    headers = step_columns(plan)
    rows = overview_rows(plan) + [[]]
    header_row = len(rows)
    rows.append(list(headers))
    rows.extend(step_cells(s, headers) for s in plan.steps)
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
        conditional=[
            ConditionalFormat(first, last, len(headers), f'=OR(${status}{r}="done",${status}{r}="n/a")', "muted"),
            ConditionalFormat(
                first, last, len(headers),
                f'=AND(ISNUMBER(${due}{r}),${due}{r}<TODAY(),${status}{r}<>"done",${status}{r}<>"n/a")', "alert"),
        ],
        heading_rows=(0,), label_column=1,
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
            plan.signature_status(signature)]


def signoff_sheet(plan: Plan) -> SheetSpec:
    rows: list[list[Any]] = [[label for _a, label, _w in SIGNOFF_COLUMNS]]
    rows.extend(signature_cells(s, plan) for s in plan.signatures)
    return SheetSpec(
        title=SIGNOFF_TAB, rows=rows, header_row=0, frozen_rows=1, widths=[w for *_x, w in SIGNOFF_COLUMNS],
        column_formats={3: DATETIME_FORMAT}, protected=True,
    )


def workbook_spec(plan: Plan) -> WorkbookSpec:
    return WorkbookSpec(title=plan.title, sheets=[plan_sheet(plan), team_sheet(plan.stakeholders), signoff_sheet(plan)])


def cell_format(value: Any) -> str | None:
    """Number format a written value needs so it shows as a date, not a serial number."""
    if isinstance(value, datetime):
        return DATETIME_FORMAT
    if isinstance(value, date):
        return DATE_FORMAT
    return None
