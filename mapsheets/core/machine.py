"""The hidden tab of machine fields (layout.MACHINE_TAB): read, written, and moved there. Pure.

Kind, template, close step, date order, the links between a deal's two plans and the outcome's
reason are read by mapsheets, not by the buyer. A plan made before the tab has them as visible
overview rows: they are read there and, on the next write, their label and value cells are cleared
(rows are never deleted: people may have put things beside them) and the hidden tab filled.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mapsheets.core.cell_input import norm, text
from mapsheets.core.labels import OVERVIEW_LABEL
from mapsheets.core.layout import MACHINE_FIELDS, MACHINE_NOTE, MACHINE_TAB, cell_ref
from mapsheets.core.model import Plan

if TYPE_CHECKING:
    from mapsheets.core.parse import Grid, PlanLocation

Cells = dict[tuple[int, int], Any]


@dataclass(frozen=True)
class MachineLocation:
    """The hidden tab as found: field -> its value's cell (row, col), and the first free row."""

    tab: str
    at: dict[str, tuple[int, int]]
    next_row: int

    def ref(self, attr: str) -> str:
        return cell_ref(self.tab, *self.at[attr])


def read_machine(plan: Plan, grid: Grid) -> MachineLocation | None:
    """The machine fields from the hidden tab (label in column A, value in B), when there is one."""
    tab = next((t for t in grid if norm(t) == norm(MACHINE_TAB)), None)
    if tab is None:
        return None
    labels = {norm(OVERVIEW_LABEL[attr]): attr for attr in MACHINE_FIELDS}
    at: dict[str, tuple[int, int]] = {}
    last = -1
    for r, row in enumerate(grid[tab]):
        if any(text(v) for v in row):
            last = r
        attr = labels.get(norm(row[0])) if row else None
        if attr and attr not in at:
            at[attr] = (r, 1)
            setattr(plan, attr, text(row[1]) if len(row) > 1 else "")
    return MachineLocation(tab=tab, at=at, next_row=last + 1)


def _places(loc: PlanLocation) -> tuple[str, Cells, dict[str, tuple[int, int]]]:
    """The hidden tab's name, the cells making it (or adding the rows it lacks, always in one order,
    so two writes agree), and where each field's value goes."""
    machine = loc.machine
    tab, at = (machine.tab, dict(machine.at)) if machine else (MACHINE_TAB, {})
    row = machine.next_row if machine else 1
    cells: Cells = {} if machine else {(0, 0): MACHINE_NOTE}
    for attr in MACHINE_FIELDS:
        if attr not in at:
            at[attr] = (row, 1)
            cells[(row, 0)] = OVERVIEW_LABEL[attr]
            row += 1
    return tab, cells, at


def field_cells(loc: PlanLocation, values: dict[str, Any]) -> dict[str, Cells]:
    """Tab -> cells writing overview ``values``: machine fields on the hidden tab (made, or a row
    added, when missing), the others in their overview cell (callers check the row exists)."""
    machine = [a for a in MACHINE_FIELDS if a in values]
    out: dict[str, Cells] = {}
    if machine:
        tab, cells, at = _places(loc)
        cells.update({at[a]: values[a] or None for a in machine})
        out[tab] = cells
    visible = {loc.overview_at[a]: v or None for a, v in values.items() if a not in MACHINE_FIELDS}
    if visible:
        out[loc.tab] = visible
    return out


def moved_cells(plan: Plan, loc: PlanLocation) -> dict[str, Cells]:
    """Machine rows still in the overview: their label and value cells cleared, every machine field
    on the hidden tab (nothing when none is left to move)."""
    shown = [a for a in MACHINE_FIELDS if a in loc.overview_at]
    if not shown:
        return {}
    out = field_cells(loc, {a: getattr(plan, a) for a in MACHINE_FIELDS})
    cleared = {at: None for a in shown for at in (loc.overview_labels.get(a), loc.overview_at[a]) if at}
    out.setdefault(loc.tab, {}).update(cleared)
    return out
