"""Cells every mapsheets write also sets, so the sheet never tells an old story. Pure.

Rows typed without an ID get the ID they were given on read written in (so renaming the step later
keeps it), every signature's Status is judged again against the plan as it is now, and machine rows
still in the overview move to the hidden tab (core/machine.py). With a
``today``, what the sheet shows about the plan follows it too: each phase band's progress, the
summary lines under the title, and the Timeline tab.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from mapsheets.core import look
from mapsheets.core.machine import moved_cells
from mapsheets.core.model import Plan, Signature
from mapsheets.core.parse import ParsedPlan, PlanLocation, TimelineLocation
from mapsheets.core.parse_tables import TableLocation

Cells = dict[tuple[int, int], Any]


def signature_statuses(plan: Plan, signoff: TableLocation | None) -> Cells:
    """Sign-off Status cells: "valid" or "stale" for each signature row read."""
    if signoff is None or "status" not in signoff.columns:
        return {}
    col = signoff.columns["status"]
    return {(r, col): plan.signature_status(s) for r, s in zip(signoff.rows, plan.signatures, strict=False)}


@dataclass(frozen=True)
class Looks:
    """Where a plan shows what it derives (as the parser found it), and the day to judge it by."""

    today: date
    days_off: Collection[date] = ()
    bands: dict[int, tuple[int, str]] = field(default_factory=dict)  # band row -> (column, phase)
    summary_at: dict[str, tuple[int, int]] = field(default_factory=dict)
    timeline: TimelineLocation | None = None
    signatures: list[Signature] | None = None  # the plan's, plus one this write adds
    renames: dict[str, str] = field(default_factory=dict)  # owner key of a renamed placeholder -> who now


def look_cells(plan: Plan, tab: str, looks: Looks) -> dict[str, Cells]:
    """Band texts, summary lines and the Timeline tab as the plan now has them."""
    from mapsheets.core.timeline import drawn_before, timeline_cells

    cells: Cells = dict(look.band_texts(plan, looks.bands))
    values = look.summary_values(plan, looks.today, looks.days_off, looks.signatures)
    cells.update({at: values[label] for label, at in looks.summary_at.items()})
    out = {tab: cells} if cells else {}
    if looks.timeline is not None:
        drawn = timeline_cells(plan)
        drawn.update({at: None for at in drawn_before(looks.timeline.filled) if at not in drawn})
        out[looks.timeline.tab] = drawn
    return out


def upkeep_cells(plan: Plan, *, tab: str, id_column: int | None, missing_ids: dict[int, str],
                 signoff: TableLocation | None, looks: Looks | None = None,
                 location: PlanLocation | None = None) -> dict[str, Cells]:
    """Tab -> cells to set alongside whatever a write is for (tabs with nothing to set left out)."""
    out: dict[str, Cells] = look_cells(plan, tab, looks) if looks is not None else {}
    for moved_tab, cells in (moved_cells(plan, location) if location is not None else {}).items():
        out.setdefault(moved_tab, {}).update(cells)
    if id_column is not None and missing_ids:
        out.setdefault(tab, {}).update({(row, id_column): sid for row, sid in missing_ids.items()})
    statuses = signature_statuses(plan, signoff)
    if statuses and signoff is not None:
        out.setdefault(signoff.tab, {}).update(statuses)
    return out


def parsed_looks(parsed: ParsedPlan, today: date, days_off: Collection[date] = (),
                 signatures: list[Signature] | None = None, renames: dict[str, str] | None = None) -> Looks:
    loc = parsed.location
    return Looks(today=today, days_off=days_off, bands=dict(loc.bands), summary_at=dict(loc.summary_at),
                 timeline=parsed.timeline, signatures=signatures, renames=dict(renames or {}))


def parsed_upkeep(parsed: ParsedPlan, looks: Looks | None = None) -> dict[str, Cells]:
    loc = parsed.location
    renamed = renamed_owner_cells(parsed, looks.renames) if looks is not None and looks.renames else {}
    out = upkeep_cells(parsed.plan, tab=loc.tab, id_column=loc.columns.get("ID"),
                       missing_ids=loc.missing_ids, signoff=parsed.signoff, looks=looks, location=loc)
    if renamed:
        out.setdefault(loc.tab, {}).update(renamed)
    return out


def renamed_owner_cells(parsed: ParsedPlan, renames: dict[str, str]) -> Cells:
    """Owners and plan-owner cells still naming a placeholder whose Team row a person renamed: they
    name the person now (and so does ``parsed.plan``)."""
    from mapsheets.core.people import owner_key

    plan, loc = parsed.plan, parsed.location
    cells: Cells = {}
    for step in plan.steps:
        owners = [renames.get(owner_key(o), o) for o in step.owners]
        if owners != step.owners and "Owners" in loc.columns:
            step.owners = owners
            cells[(loc.step_rows[step.id], loc.columns["Owners"])] = ", ".join(owners)
    for attr in ("seller_lead", "buyer_lead"):
        now = renames.get(owner_key(getattr(plan, attr) or ""))
        if now and attr in loc.overview_at:
            setattr(plan, attr, now)
            cells[loc.overview_at[attr]] = now
    return cells


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
