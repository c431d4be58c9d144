"""Cells every mapsheets write also sets, so the sheet never tells an old story. Pure.

Rows typed without an ID get the ID they were given on read written in (so renaming the step later
keeps it), and every signature's Status is judged again against the plan as it is now.
"""

from __future__ import annotations

from typing import Any

from mapsheets.core.model import Plan
from mapsheets.core.parse import ParsedPlan, TableLocation

Cells = dict[tuple[int, int], Any]


def signature_statuses(plan: Plan, signoff: TableLocation | None) -> Cells:
    """Sign-off Status cells: "valid" or "stale" for each signature row read."""
    if signoff is None or "status" not in signoff.columns:
        return {}
    col = signoff.columns["status"]
    return {(r, col): plan.signature_status(s) for r, s in zip(signoff.rows, plan.signatures)}


def upkeep_cells(plan: Plan, *, tab: str, id_column: int | None, missing_ids: dict[int, str],
                 signoff: TableLocation | None) -> dict[str, Cells]:
    """Tab -> cells to set alongside whatever a write is for (tabs with nothing to set left out)."""
    out: dict[str, Cells] = {}
    if id_column is not None and missing_ids:
        out[tab] = {(row, id_column): sid for row, sid in missing_ids.items()}
    statuses = signature_statuses(plan, signoff)
    if statuses:
        out[signoff.tab] = statuses
    return out


def parsed_upkeep(parsed: ParsedPlan) -> dict[str, Cells]:
    loc = parsed.location
    return upkeep_cells(parsed.plan, tab=loc.tab, id_column=loc.columns.get("ID"),
                        missing_ids=loc.missing_ids, signoff=parsed.signoff)


def changed_only(cells_by_tab: dict[str, Cells], grid: dict[str, list[list[Any]]]) -> dict[str, Cells]:
    """The cells whose value differs from what ``grid`` holds: a write sets nothing it need not."""
    out: dict[str, Cells] = {}
    for tab, cells in cells_by_tab.items():
        rows = grid.get(tab, [])
        kept = {(r, c): v for (r, c), v in cells.items()
                if (rows[r][c] if r < len(rows) and c < len(rows[r]) else None) != v}
        if kept:
            out[tab] = kept
    return out
