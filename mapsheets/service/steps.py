"""Adding a step: the plan's phase spelled as the plan spells it, the row inside its phase's band,
the due date on a business day (or said), every cell a write keeps true refreshed in the same write."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

from mapsheets.core.cell_input import match_phase
from mapsheets.core.dates import is_business_day, roll_forward
from mapsheets.core.edits import Edit
from mapsheets.core.layout import check_cell_text, step_cells, step_columns
from mapsheets.core.model import SIDES, STATUSES, Plan, Step, new_step_id
from mapsheets.core.notices import DUE_BEFORE_DEPENDENCY, DUE_MOVED, DUE_NOT_BUSINESS_DAY, Notice, notice, teller
from mapsheets.core.people import link_owner
from mapsheets.core.upkeep import changed_only, parsed_upkeep
from mapsheets.errors import UsageError
from mapsheets.service.calendars import days_off_or_weekends, holiday_name, looks
from mapsheets.service.workbooks import open_workbook, parse_grid


def add_step(ref: str, *, title: str, today: date, side: str = "joint", owners: Sequence[str] = (),
             due: date | None = None, phase: str = "", depends_on: Sequence[str] = (), notes: str = "",
             status: str = "not started", snap: bool = False, new_phase: bool = False,
             on_warning: Callable[[str], None] | None = None, force: bool = False,
             on_notice: Callable[[Notice], None] | None = None) -> Step:
    """Append one step to the plan's steps table; no other row is touched.

    ``phase`` is one of the plan's phases, matched ignoring case; a phase the plan does not have
    yet is refused (with the nearest one suggested) unless ``new_phase``.

    A ``due`` on a weekend or a holiday of the plan's calendar is kept with a warning to
    ``on_warning``, or with ``snap`` moved to the next business day. ``force`` writes a local plan
    even while Excel or LibreOffice has it open. ``on_notice``, given, hears each warning as a
    Notice (a code and its values) instead.
    """
    tell = teller(on_warning, on_notice)
    title, phase, notes, owners = _checked(title, side, status, phase, notes, owners, tell)
    book = open_workbook(ref)

    warned: list[Notice] = []  # compute may run again on a fresh read: say it once

    def compute(grid) -> tuple[Edit, Step]:
        # Runs on the grid as read under the plan's lock: again if another program saved meanwhile.
        parsed = parse_grid(book, grid)
        plan = parsed.plan
        deps = [d.strip().upper() for d in depends_on if d.strip()]
        missing = [d for d in deps if d not in plan.step_ids]
        if missing:
            raise UsageError(f"depends on {missing[0]}: no such step in {book.ref}", field="depends_on")
        step_phase = _phase_of(plan, phase.strip(), new_phase)
        step_due = due
        if due is not None:
            step_due, doubts = _due_of(plan, due, snap, deps)
            for said in doubts:
                if said not in warned:
                    warned.append(said)
                    tell(said)
        step = Step(id=new_step_id(plan.step_ids), title=title.strip(), phase=step_phase, side=side,
                    owners=[link_owner(o.strip(), plan.stakeholders) for o in owners if o.strip()], due=step_due,
                    status=status,
                    done_on=today if status == "done" else None, depends_on=deps, notes=notes.strip())
        loc = parsed.location
        headers = step_columns(plan)
        if "Step" not in loc.columns:
            raise UsageError(f"{book.ref}: the steps table has no 'Step' column")
        # Only the columns the sheet has: a missing column is not silently recreated mid-sheet.
        row = {loc.columns[h]: v for h, v in zip(headers, step_cells(step, headers), strict=True)
               if h in loc.columns}
        # Rows that had no ID get the one they were given on read, so it stays stable; and every
        # signature's Status is judged again against the plan with the new step, in the same write.
        at = _inside_its_phase(plan, loc, step_phase)
        plan.steps.insert(at[1] if at else len(plan.steps), step)
        upkeep = changed_only(parsed_upkeep(parsed, looks(parsed, today)), grid)
        edit = Edit(loc.tab, cells=upkeep.pop(loc.tab, {}), rows=[row], next_row=loc.next_row,
                    header_row=loc.header_row, also=upkeep, insert_at=at[0] if at else None)
        return edit, step

    return book.modify(compute, force=force)


def _checked(title: str, side: str, status: str, phase: str, notes: str, owners: Sequence[str],
             tell: Callable[[Notice], None]) -> tuple[str, str, str, list[str]]:
    """The new step's fields checked and through the text gate: title, phase, notes, owners."""
    if not title.strip():
        raise UsageError("title must not be empty", field="title")
    if side not in SIDES:
        raise UsageError(f"side {side!r} is not one of {', '.join(SIDES)}", field="side")
    if status not in STATUSES:
        raise UsageError(f"status {status!r} is not one of {', '.join(STATUSES)}", field="status")
    title, phase, notes = check_cell_text({"title": title.strip(), "phase": phase.strip(), "notes": notes.strip()},
                                          on_notice=tell).values()
    kept = [check_cell_text({"owners": o.strip()}, on_notice=tell)["owners"] for o in owners if o.strip()]
    check_cell_text({"owners": ", ".join(kept)})
    if not title.strip():  # nothing left once what a cell cannot hold was removed
        raise UsageError("title must not be empty", field="title")
    return title, phase, notes, kept


def _due_of(plan: Plan, due: date, snap: bool, deps: list[str]) -> tuple[date, list[Notice]]:
    """The due date as kept (or snapped), and what to say: a day off, a date before a dependency's."""
    step_due, doubt = due_on_business_day(plan, due, snap)
    said = [doubt] if doubt is not None else []
    dues = {i: found.due for i in deps if (found := plan.step(i)) is not None and found.due is not None}
    later = max(dues.values(), default=None)
    if later is not None and step_due < later:
        first = next(i for i, d in dues.items() if d == later)
        said.append(notice(DUE_BEFORE_DEPENDENCY, f"due {step_due} is before {first}'s due date {later}, which it "
                           "depends on", due=step_due, step=first, step_due=later))
    return step_due, said


def _inside_its_phase(plan: Plan, loc, phase: str) -> tuple[int, int] | None:
    """(sheet row, plan index) right after the last step of ``phase``, where a new step of it goes;
    None when that is the end of the table anyway (or the phase is new): the step is appended."""
    mine = [i for i, s in enumerate(plan.steps) if s.phase == phase and s.id in loc.step_rows]
    if not phase or not mine:
        return None
    row = max(loc.step_rows[plan.steps[i].id] for i in mine) + 1
    return (row, max(mine) + 1) if row < loc.next_row else None


def _phase_of(plan: Plan, typed: str, new_phase: bool) -> str:
    """The plan's own spelling of ``typed``: a typo never starts a phase of its own."""
    phases = list(dict.fromkeys(s.phase for s in plan.steps if s.phase))
    if not typed or not phases:
        return typed
    found, near = match_phase(typed, phases)
    if found is not None or new_phase:
        return found or typed
    hint = f': did you mean "{near}"?' if near else f" ({', '.join(phases)})."
    raise UsageError(f'phase "{typed}" is not one of the plan\'s phases{hint} To start a new one, ask for a new '
                     "phase (new phase)", field="phase", also=("new_phase",))


def due_on_business_day(plan: Plan, due: date, snap: bool) -> tuple[date, Notice | None]:
    """``due``, moved to the next business day with ``snap``, and what to say if it is a day off."""
    days_off = days_off_or_weekends(plan, due)
    name = holiday_name(plan.calendar, due) if days_off else None  # none: weekends only, or an unknown calendar
    if is_business_day(due, days_off):
        return due, None
    day = f"{name} ({plan.calendar})" if name else f"a {due:%A}"
    after = roll_forward(due, days_off)
    if snap:
        return after, notice(DUE_MOVED, f"due {due} is {day}: moved to the next business day, {after}",
                             due=due, day=day, next=after)
    return due, notice(DUE_NOT_BUSINESS_DAY, f"due {due} is {day}, not a business day: kept as given (snap moves "
                       f"it to {after})", due=due, day=day, next=after)
