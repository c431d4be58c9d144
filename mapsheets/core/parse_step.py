"""One row of the steps table read into a Step (pure): each cell in the plan's words, what does not
parse kept as typed and said with its cell."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mapsheets.core.cell_input import parse_side, parse_status, split_ids, split_people
from mapsheets.core.cell_input import text as _text
from mapsheets.core.dates import read_date
from mapsheets.core.layout import STEP_COLUMNS, cell_ref
from mapsheets.core.model import Plan, Step, UncachedFormula
from mapsheets.core.parse_tables import ParseWarning

LABEL_OF = {attr: label for attr, label, _w in STEP_COLUMNS}
# A formula cell saved without its result: no value is known, which is neither empty nor a change.
NOT_COMPUTED = ("is not computed: its formula was saved without a result "
                "(open and save the workbook in Excel or LibreOffice)")


def not_computed(raw: Any) -> str:
    return f'"{raw}" {NOT_COMPUTED}'



def read_step(row: list[Any], r: int, tab: str, columns: dict[str, int], plan: Plan,
               warnings: list[ParseWarning]) -> Step:
    def cell(label: str) -> Any:
        c = columns.get(label)
        return row[c] if c is not None and c < len(row) else None

    def warn(label: str, message: str) -> None:
        warnings.append(ParseWarning(cell_ref(tab, r, columns[label]), message))

    step = Step(id=_text(cell("ID")).upper(), title=_text(cell("Step")), phase=_text(cell("Phase")),
                owners=split_people(cell("Owners")), notes=_text(cell("Notes")),
                depends_on=split_ids(cell("Depends on")))
    for label in columns:
        if isinstance(raw := cell(label), UncachedFormula):
            step.formulas[label] = str(raw)
            warn(label, not_computed(raw))
    if not step.title:
        warn("Step", "step has no title") if "Step" in columns else None
    side = parse_side(cell("Side"), plan.buyer, plan.seller)
    if side is None:
        if "Side" not in step.formulas:
            warn("Side", f'"{_text(cell("Side"))}" is not a side (buyer, seller or joint)')
        step.unparsed["Side"] = cell("Side")
    if side == "joint" and _text(cell("Side")) == "" and "Side" in columns and step.id and step.title:
        # A step with an ID was written with a side: a blank one now (cleared, or merged into the
        # Step cell) would silently make a commitment joint. Rows typed by hand have no ID yet.
        warn("Side", "no side given: read as joint (buyer, seller or joint)")
    step.side = side or "joint"
    status = parse_status(cell("Status"))
    if status is None:
        if "Status" not in step.formulas:
            warn("Status", f'"{_text(cell("Status"))}" is not a status (not started, in progress, done, blocked, n/a)')
        step.unparsed["Status"] = cell("Status")
    step.status = status or "not started"
    _read_step_dates(step, cell, warn, plan.date_order)
    known = set(LABEL_OF.values())
    step.extra = {label: row[c] for label, c in columns.items() if label not in known and c < len(row)}
    return step


def _read_step_dates(step: Step, cell: Callable[[str], Any], warn: Callable[[str, str], None],
                     date_order: str) -> None:
    """Due and Done on, read in the plan's date order; what is not a date is kept as typed and said."""
    for label, attr in (("Due", "due"), ("Done on", "done_on")):
        raw = cell(label)
        if _text(raw) == "":
            continue
        if label in step.formulas:
            step.unparsed[label] = raw  # no date known: "not computed", never empty
            continue
        parsed, doubt = read_date(raw, date_order)
        if doubt or parsed is None:
            warn(label, doubt or f'"{_text(raw)}" is not a date')
        if parsed is None:
            step.unparsed[label] = raw
        setattr(step, attr, parsed)


