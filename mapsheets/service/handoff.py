"""`mapsheets handoff`: the onboarding hand-off of a plan, as a Markdown file or a Handoff tab."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from mapsheets.core import handoff as core
from mapsheets.core.edits import Edit
from mapsheets.core.layout import cell_ref, check_cell_text
from mapsheets.core.upkeep import parsed_upkeep
from mapsheets.errors import MapsheetsError, UsageError, file_error
from mapsheets.service.calendars import days_off_or_weekends
from mapsheets.service.workbooks import google_id, open_workbook, parse_grid, read_parsed

HANDOFF_TAB = "Handoff"


@dataclass
class HandoffResult:
    """The hand-off built from a plan, and where it was written (a Markdown file, the Handoff tab)."""

    handoff: core.Handoff
    output: Path | None = None
    tab: bool = False


def handoff(ref: str, *, today: date, output: Path | None = None, tab: bool = False,
            force: bool = False) -> HandoffResult:
    """Write the hand-off of ``ref`` to ``output`` (Markdown, atomically) and/or a Handoff tab in the plan."""
    if output is None and not tab:
        raise UsageError("say where the hand-off goes: -o handoff.md, --tab, or both")
    if output is not None and not Path(output).parent.is_dir():
        raise UsageError(f"-o {output}: folder {Path(output).parent} does not exist")
    book = open_workbook(ref)
    _grid, parsed = read_parsed(book)
    days_off = days_off_or_weekends(parsed.plan, today)
    result = HandoffResult(core.build(parsed.plan, today, days_off, _qualification(parsed.plan, book.ref)),
                           output=output, tab=tab)
    if tab:
        _write_tab(book, result.handoff.rows, force=force)
    if output is not None:
        from mapsheets.adapters.files import write_text_atomic

        try:
            write_text_atomic(Path(output), core.markdown(result.handoff))
        except OSError as exc:
            raise file_error(output, exc, "a hand-off", writing=True, error=UsageError, shown=f"-o {output}") from None
    return result


def _qualification(plan, ref: str) -> dict[str, str] | None:
    """The MEDDPICC rows: the plan's own, else (a MAP) its closing plan's, where the seller keeps
    them. A closing plan that cannot be read leaves the block "not written down", not the hand-off."""
    if any(str(v or "").strip() for v in plan.qualification.values()) or plan.kind != "mutual":
        return None
    try:
        closing_ref = closing_plan_of(plan, ref)
        if closing_ref is None:
            return None
        _grid, closing = read_parsed(open_workbook(closing_ref))
    except MapsheetsError:
        return None
    return closing.plan.qualification


def closing_plan_of(plan, ref: str) -> str | None:
    """Where a MAP's closing plan is: its Google Sheet, or for a local file (which the MAP names by
    title only, never by a path the buyer would see) the one `convert` recorded in the audit log."""
    if google_id(plan.closing_plan or ""):
        return plan.closing_plan
    from mapsheets.adapters.store import open_store
    from mapsheets.service.convert import CONVERTED
    from mapsheets.service.revisions import canonical_ref

    me = canonical_ref(ref)
    made = [e for e in open_store().audit.events() if e.kind == CONVERTED and (e.detail or {}).get("mutual_plan") == me]
    return made[-1].ref if made else None


def _write_tab(book, rows, *, force: bool) -> None:
    """The Handoff tab holds ``rows`` and nothing else: made when missing, else rewritten in place
    (old cells past the new rows emptied), in one locked write with the upkeep every write does."""
    check_cell_text({cell_ref(HANDOFF_TAB, r, c): v for r, row in enumerate(rows) for c, v in enumerate(row)})

    def compute(grid):
        parsed = parse_grid(book, grid)
        upkeep = parsed_upkeep(parsed)
        old = grid.get(HANDOFF_TAB, [])
        cells = {(r, c): None for r, row in enumerate(old) for c, v in enumerate(row) if v is not None}
        cells.update({(r, c): v for r, row in enumerate(rows) for c, v in enumerate(row)})
        return Edit(tab=HANDOFF_TAB, cells=cells, also=upkeep), None

    if HANDOFF_TAB in book.read_grid():
        book.modify(compute, force=force)
    else:
        # A new tab: only the Sign-off Status from this read goes with it (the Plan tab's rows may
        # move before the write, and "valid" is never written from a read that may be old).
        _grid, parsed = read_parsed(book)
        statuses = {tab: {at: v for at, v in cells.items() if v == "stale"}
                    for tab, cells in parsed_upkeep(parsed).items() if tab != parsed.location.tab}
        book.append_rows(HANDOFF_TAB, rows[1:], header=rows[0], also={t: c for t, c in statuses.items() if c},
                         force=force)
