"""Plan -> WorkbookSpec: the backend-neutral shape of a MAP workbook (tabs, cells, formatting).

Adapters turn a WorkbookSpec into an .xlsx or a Google Sheet; parse.py reads grids back.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import date, datetime
from typing import Any

from mapsheets.core import look
from mapsheets.core.cell_input import status_spellings
from mapsheets.core.model import OVERVIEW_FIELDS, ROLES, SIDES, STATUSES, Plan, Signature, Stakeholder, Step
from mapsheets.core.notices import Notice
from mapsheets.core.qualify import MEDDPICC, QUALIFICATION_HEADING

# Their old home: callers import them from here too (explicit re-exports).
from mapsheets.core.sheet_spec import DATE_FORMAT as DATE_FORMAT
from mapsheets.core.sheet_spec import DATETIME_FORMAT as DATETIME_FORMAT
from mapsheets.core.sheet_spec import ConditionalFormat as ConditionalFormat
from mapsheets.core.sheet_spec import PrintSetup as PrintSetup
from mapsheets.core.sheet_spec import SheetSpec as SheetSpec
from mapsheets.core.sheet_spec import Validation as Validation
from mapsheets.core.sheet_spec import WorkbookSpec as WorkbookSpec
from mapsheets.core.sheet_spec import band_format as band_format
from mapsheets.core.sheet_spec import cell_ref as cell_ref
from mapsheets.core.sheet_spec import column_letter as column_letter
from mapsheets.core.text_gate import CELL_TEXT_LIMIT, admit_all  # noqa: F401  (CELL_TEXT_LIMIT: its old home)
from mapsheets.core.timeline import TIMELINE_TAB as TIMELINE_TAB  # its old home
from mapsheets.core.timeline import timeline_sheet
from mapsheets.core.vocabulary import PERSON_SIDES

PLAN_TAB, TEAM_TAB, SIGNOFF_TAB, CHANGES_TAB = "Plan", "Team", "Sign-off", "Changes"
# What only mapsheets reads (how to read the sheet, links, internal notes) lives on this hidden tab,
# out of the buyer's sight, label in column A and value in B: the same reader finds it on both backends.
MACHINE_TAB = "_mapsheets"
MACHINE_FIELDS = ("kind", "template", "close_step", "date_order", "closing_plan", "mutual_plan", "outcome_reason")
MACHINE_NOTE = "Read by mapsheets, not meant for people: edit with care"
# Rows the dropdowns and conditional formats cover, so rows people add by hand get them too.
TABLE_ROWS = 1000

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
# The rest of the palette, hex RGB: the header row, done rows greyed, overdue rows, a protected tab.
HEADER_BACKGROUND, HEADER_TEXT = "1F3864", "FFFFFF"
MUTED_TEXT = "9E9E9E"
ALERT_BACKGROUND, ALERT_TEXT = "F8D7DA", "9C0006"
PROTECTED_TAB = "808080"


def step_columns(plan: Plan) -> list[str]:
    """Header labels in the order to write: the sheet's own order, missing standard ones appended."""
    found = list(plan.step_columns)
    return found + [h for h in STEP_HEADERS if h not in found]


def check_cell_text(fields: dict[str, Any], field: str | None = None,
                    on_warning: Callable[[str], None] | None = None, *,
                    on_notice: Callable[[Notice], None] | None = None) -> dict[str, Any]:
    """The fields as they may enter cells (core/text_gate.py): text that is not text or longer than
    a cell holds refused naming the field, never cut; control characters removed with a warning.
    Keys are field names ("notes", "depends_on"); ``field`` tags the error instead when given."""
    return admit_all(fields, on_warning, field=field, on_notice=on_notice)


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
        validations=[Validation(2, 1, TABLE_ROWS, PERSON_SIDES), Validation(3, 1, TABLE_ROWS, ROLES)],
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
