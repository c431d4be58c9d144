"""Grid -> Plan: the reader that survives people editing the sheet by hand.

Tables are found by their header labels, not fixed cells. Whatever cannot be understood becomes a
warning naming the cell and is kept verbatim so a rewrite never loses it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from mapsheets.core.cell_input import STEP_HEADER_SYNONYMS as _STEP_HEADER_SYNONYMS
from mapsheets.core.cell_input import (
    derived_step_id,
    parse_outcome,
)
from mapsheets.core.cell_input import (
    norm as _norm,
)
from mapsheets.core.cell_input import split_ids as split_ids  # read here, used by callers
from mapsheets.core.cell_input import split_people as split_people
from mapsheets.core.cell_input import (
    text as _text,
)
from mapsheets.core.dates import normal_date_order, read_date
from mapsheets.core.layout import (
    PLAN_TAB,
    TIMELINE_TAB,
    cell_ref,
)
from mapsheets.core.look import SUMMARY_LABELS, band_phase
from mapsheets.core.machine import MachineLocation, read_machine
from mapsheets.core.model import (
    OVERVIEW_FIELDS,
    Plan,
    UncachedFormula,
)
from mapsheets.core.parse_step import LABEL_OF, read_step
from mapsheets.core.parse_step import NOT_COMPUTED as NOT_COMPUTED  # its old home
from mapsheets.core.parse_step import not_computed as not_computed
from mapsheets.core.parse_tables import ParseWarning as ParseWarning  # what callers import from here
from mapsheets.core.parse_tables import (
    TableLocation as TableLocation,
)
from mapsheets.core.parse_tables import (
    Warning as Warning,
)
from mapsheets.core.parse_tables import (
    find_header,
    find_tab,
    read_signoff,
    read_team,
    team_warnings,
)
from mapsheets.core.people import follow_team
from mapsheets.core.qualify import SYNONYMS as QUALIFICATION_LABELS
from mapsheets.core.schedule import topological
from mapsheets.core.text_gate import clean_grid
from mapsheets.errors import NoPlan, ScheduleError

Grid = dict[str, list[list[Any]]]


@dataclass
class PlanLocation:
    """Where the steps table is, so writers can append or fill cells without a rewrite."""

    tab: str
    header_row: int
    columns: dict[str, int]  # standard or extra header label -> 0-based column
    next_row: int  # first row after the last non-empty table row
    step_rows: dict[str, int] = field(default_factory=dict)  # step id -> row
    overview_cells: dict[str, str] = field(default_factory=dict)  # overview field -> its value's cell
    overview_at: dict[str, tuple[int, int]] = field(default_factory=dict)  # the same, as (row, col)
    missing_ids: dict[int, str] = field(default_factory=dict)  # row -> id given on read
    bands: dict[int, tuple[int, str]] = field(default_factory=dict)  # phase band rows: row -> (column, phase)
    summary_at: dict[str, tuple[int, int]] = field(default_factory=dict)  # summary label -> its value's cell
    overview_labels: dict[str, tuple[int, int]] = field(default_factory=dict)  # overview field -> its label's cell
    machine: MachineLocation | None = None  # the hidden tab of machine fields, when the workbook has one


@dataclass
class ParsedPlan:
    plan: Plan
    warnings: list[ParseWarning]
    location: PlanLocation
    signoff: TableLocation | None = None
    team: TableLocation | None = None
    timeline: TimelineLocation | None = None


@dataclass(frozen=True)
class TimelineLocation:
    """The Timeline tab: never read into the plan, only found so a write can redraw it."""

    tab: str
    filled: frozenset[tuple[int, int]]  # its non-empty cells, to clear what the plan no longer has


def parse_plan(grid: Grid) -> ParsedPlan:
    """The plan a grid holds; text no cell may hold (a lone surrogate, a control character) is
    made fit in ``grid`` itself first, with a warning naming the cell (core/text_gate.py)."""
    read_fixes = [ParseWarning(cell_ref(t, r, c), what) for t, r, c, what in clean_grid(grid)]
    parsed = _parse_plan(grid)
    parsed.warnings[:0] = read_fixes
    return parsed


def _parse_plan(grid: Grid) -> ParsedPlan:
    tab, header_row, colmap = _find_steps_table(grid)
    rows = grid[tab]
    warnings: list[Warning] = []
    plan = Plan(kind="mutual", title="", buyer="", seller="")
    machine = read_machine(plan, grid)
    labels_at: dict[str, tuple[int, int]] = {}
    overview_at = _read_overview(plan, rows[:header_row], tab, warnings, labels_at, machine)
    overview_cells = {attr: cell_ref(tab, r, c) for attr, (r, c) in overview_at.items()}
    if machine is not None:  # where mapsheets reads the field from: its visible row only while not yet moved
        overview_cells.update({attr: machine.ref(attr) for attr in machine.at if attr not in overview_at})

    columns = _step_columns(rows[header_row], colmap, tab, header_row, warnings)
    plan.step_columns = list(columns)
    location = PlanLocation(tab=tab, header_row=header_row, columns=columns, next_row=header_row + 1,
                            overview_cells=overview_cells, overview_at=overview_at, overview_labels=labels_at,
                            machine=machine)
    _read_steps(rows, plan, location, warnings)

    _cycle_warnings(plan, location, warnings)
    plan.stakeholders, team = read_team(grid, warnings)
    team_warnings(grid, team, warnings)
    follow_team(plan)
    plan.signatures, signoff = read_signoff(grid, warnings)
    location.summary_at = _summary_cells(rows[:header_row])
    return ParsedPlan(plan=plan, warnings=warnings, location=location, signoff=signoff, team=team,
                      timeline=_find_timeline(grid, tab))


def _find_steps_table(grid: Grid) -> tuple[str, int, dict[int, str]]:
    """The tab with the steps table, its header row, and column -> field; NoPlan when none has one."""
    tab = find_tab(grid, PLAN_TAB)
    located = find_header(grid[tab], _STEP_HEADER_SYNONYMS, {"title"}) if tab else None
    if located is None:
        # The Plan tab may have been renamed: any tab with a steps table will do.
        for other in grid:
            if _norm(other) == _norm(TIMELINE_TAB):
                continue
            located = find_header(grid[other], _STEP_HEADER_SYNONYMS, {"title"})
            if located:
                tab = other
                break
    if located is None or tab is None:
        raise NoPlan("no steps table found: expected a 'Plan' tab with a header row "
                            "containing at least 'Step' (and 'ID', 'Due', 'Status', ...)")
    return tab, *located


def _step_columns(header_cells: list[Any], colmap: dict[int, str], tab: str, header_row: int,
                  warnings: list[Warning]) -> dict[str, int]:
    """Column label -> column of the steps table, in the sheet's order (a known field under its own
    label); a second column of one label is kept as "Notes (2)", and a missing key column is said."""
    columns: dict[str, int] = {}
    seen_fields: set[str] = set()
    for c, value in enumerate(header_cells):
        if _text(value) == "":
            continue
        field_name = colmap.get(c)
        if field_name and field_name not in seen_fields:
            seen_fields.add(field_name)
            label = LABEL_OF[field_name]
        else:
            label = _text(value)
        if label in columns:  # a second "Notes" column is kept as an extra, never hidden
            base, n = label, 2
            while f"{base} ({n})" in columns:
                n += 1
            label = f"{base} ({n})"
            warnings.append(ParseWarning(cell_ref(tab, header_row, c), f'second "{base}" column: read as "{label}"'))
        columns[label] = c
    for label, meaning in (("Status", "every step reads as not started"), ("Due", "no step has a due date"),
                           ("Side", "every step reads as joint")):
        if label not in columns:  # a header cleared or renamed by hand: say so, never guess silently
            warnings.append(ParseWarning(cell_ref(tab, header_row, 0),
                                    f"the steps table has no {label} column: {meaning}"))
    return columns


def _read_steps(rows: list[list[Any]], plan: Plan, location: PlanLocation, warnings: list[Warning]) -> None:
    """The steps below the header into ``plan`` (IDs given where missing or taken twice), phase bands
    and step rows into ``location``; a dependency on no step is said."""
    tab, header_row, columns = location.tab, location.header_row, location.columns
    taken = {_text(row[columns["ID"]]).upper() for row in rows[header_row + 1:]
             if "ID" in columns and columns["ID"] < len(row)} - {""}
    for r in range(header_row + 1, len(rows)):
        row = rows[r]
        if not any(_text(v) for v in row):
            continue
        location.next_row = r + 1
        band = _band(row)
        if band is not None:  # a phase's heading, written by mapsheets: not a step
            location.bands[r] = band
            continue
        step = read_step(row, r, tab, columns, plan, warnings)
        if not step.id:
            step.id = derived_step_id(f"{step.phase}|{step.title}", taken)
            location.missing_ids[r] = step.id
        elif step.id in location.step_rows:
            warnings.append(ParseWarning(cell_ref(tab, r, columns["ID"]), f"duplicate ID {step.id}: given a new one"))
            step.unparsed.pop("ID", None)
            step.id = derived_step_id(f"{step.phase}|{step.title}|{r}", taken)
            location.missing_ids[r] = step.id
        taken.add(step.id)
        location.step_rows[step.id] = r
        plan.steps.append(step)

    ids = plan.step_ids
    for step in plan.steps:
        for dep in step.depends_on:
            if dep not in ids:
                r = location.step_rows[step.id]
                warnings.append(ParseWarning(cell_ref(tab, r, columns["Depends on"]),
                                             f"unknown step {dep} in 'Depends on'"))


def _cycle_warnings(plan: Plan, location: PlanLocation, warnings: list[ParseWarning]) -> None:
    """Steps that wait for each other can never be scheduled in order: name the cycle."""
    deps = {s.id: s.depends_on for s in plan.steps}
    column = location.columns.get("Depends on", 0)
    for step in plan.steps:
        if step.id in step.depends_on:
            warnings.append(ParseWarning(cell_ref(location.tab, location.step_rows[step.id], column),
                                    f"{step.id} depends on itself: it is scheduled as if it did not"))
    try:
        topological(deps, deps)
    except ScheduleError as exc:
        loop = str(exc).removeprefix("dependency cycle: ").split(" -> ")
        warnings.append(ParseWarning(cell_ref(location.tab, location.step_rows[loop[0]], column),
                                f"circular dependency {' → '.join(loop)}: these steps wait for each other, "
                                "so their dates cannot follow one another"))


def _band(row: list[Any]) -> tuple[int, str] | None:
    """(column, phase) of a band row: its one non-empty cell starts with the band mark."""
    filled = [(c, v) for c, v in enumerate(row) if _text(v)]
    if len(filled) != 1:
        return None
    phase = band_phase(filled[0][1])
    return None if phase is None else (filled[0][0], phase)


def _summary_cells(rows: list[list[Any]]) -> dict[str, tuple[int, int]]:
    """Where the summary lines' values are (label in one cell, value in the next)."""
    wanted = {_norm(label): label for label in SUMMARY_LABELS}
    found: dict[str, tuple[int, int]] = {}
    for r, row in enumerate(rows):  # labels where the layout puts them, column B
        label = wanted.get(_norm(row[1])) if len(row) > 1 else None
        if label and label not in found:
            found[label] = (r, 2)
    return found


def _find_timeline(grid: Grid, plan_tab: str) -> TimelineLocation | None:
    tab = find_tab(grid, TIMELINE_TAB)
    if tab is None or tab == plan_tab:
        return None
    filled = frozenset((r, c) for r, row in enumerate(grid[tab]) for c, v in enumerate(row) if _text(v))
    return TimelineLocation(tab=tab, filled=filled)


def _read_overview(plan: Plan, rows: list[list[Any]], tab: str, warnings: list[ParseWarning],
                   labels_at: dict[str, tuple[int, int]] | None = None,
                   machine: MachineLocation | None = None) -> dict[str, tuple[int, int]]:
    """Fill the plan's overview fields; returns field -> the cell (row, col) its value is in (and
    fills ``labels_at`` with its label's). A machine field still in the overview (a plan made before
    the hidden tab) is read there, unless it is empty and the hidden tab has it."""
    labels = {_norm(label): (attr, typ) for attr, label, typ in OVERVIEW_FIELDS}
    labels.update({"title": ("title", str), "customer": ("buyer", str), "vendor": ("seller", str),
                   "target close date": ("target_close", date), "close date": ("target_close", date),
                   "go live": ("go_live", date), "problem": ("problem", str), "solution": ("solution", str),
                   "holiday calendar": ("calendar", str), "date format": ("date_order", str)})
    heading: str | None = None
    cells: dict[str, tuple[int, int]] = {}
    typed_dates: list[tuple[str, str, Any]] = []  # read once the date order is known
    for r, row in enumerate(rows):
        filled = [(c, v) for c, v in enumerate(row) if _text(v)]
        if not filled:
            continue
        c, first = filled[0]
        key = _norm(first)
        if heading is None and r == 0 and len(filled) == 1 and c == 0:
            heading = _text(first)  # the title in A1, even a title such as "Plan"
        elif key in labels:
            attr, typ = labels[key]
            value = filled[1] if len(filled) > 1 else (c + 1, None)
            cells[attr] = (r, value[0])
            if labels_at is not None:
                labels_at[attr] = (r, c)
            if isinstance(value[1], UncachedFormula):
                plan.formulas[attr] = str(value[1])
                warnings.append(ParseWarning(cell_ref(tab, r, value[0]), not_computed(value[1])))
                if typ is not str:
                    continue
            if typ is str and not (machine and attr in machine.at and not _text(value[1])):
                setattr(plan, attr, _text(value[1]))
            elif _text(value[1]):
                typed_dates.append((attr, cell_ref(tab, r, value[0]), value[1]))
        elif key in QUALIFICATION_LABELS:  # a MEDDPICC row: any order, any may be missing
            value = filled[1] if len(filled) > 1 else (c + 1, None)
            if not plan.qualification.get(QUALIFICATION_LABELS[key]):  # a blank second row loses nothing
                plan.qualification[QUALIFICATION_LABELS[key]] = _text(value[1])
        elif heading is None and len(filled) == 1:
            heading = _text(first)
    _settle_overview(plan, tab, cells, typed_dates, heading, machine, warnings)
    return cells


def _settle_overview(plan: Plan, tab: str, cells: dict[str, tuple[int, int]], typed_dates: list[tuple[str, str, Any]],
                     heading: str | None, machine: MachineLocation | None, warnings: list[Warning]) -> None:
    """What the overview's values mean together: the date order the dates typed as text are read
    in, the title from the heading where none is given, the outcome and the kind."""
    if plan.date_order:
        order = normal_date_order(plan.date_order)
        if order is None:
            where = (cell_ref(tab, *cells["date_order"]) if "date_order" in cells or machine is None
                     else machine.ref("date_order"))
            warnings.append(ParseWarning(where,
                                    f'"{plan.date_order}" is not a date order (MDY, DMY or '
                                    "YMD): dates typed as text are read month first"))
        plan.date_order = order or plan.date_order
    for attr, ref, raw in typed_dates:
        parsed, doubt = read_date(raw, plan.date_order)
        if doubt or parsed is None:
            warnings.append(ParseWarning(ref, doubt or f'"{_text(raw)}" is not a date'))
        setattr(plan, attr, parsed)
    if not plan.title and heading:
        plan.title = heading
    if plan.outcome:
        outcome = parse_outcome(plan.outcome)
        if outcome is None:
            warnings.append(ParseWarning(cell_ref(tab, *cells["outcome"]),
                                    f'"{plan.outcome}" is not an outcome (won or lost): the deal reads as open'))
        plan.outcome = outcome or ""
    if plan.kind not in ("closing", "mutual"):
        plan.kind = "closing" if "closing" in _norm(plan.kind) else "mutual"
