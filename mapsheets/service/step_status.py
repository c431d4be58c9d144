"""A step's status or due date set from the add-on (issue 21 part 2): "My steps" in the sidebar and
the cards. The same rules as an edit of the cell: the Status, Done on, Due and Notes cells change,
with what every write keeps true (band counts, summary lines, each signature's Status), so a
signature goes stale only when a commitment (the due date) changed.

One request scope holding the plan's writer lock: one read that authorizes, one write (under the
file's lock on .xlsx, one batchUpdate on Google), then the audit log with the verified email.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from mapsheets.core.edits import Edit
from mapsheets.core.layout import step_cells
from mapsheets.core.look import phase_progress
from mapsheets.core.model import Plan, Step
from mapsheets.core.my_steps import SETTABLE as SETTABLE  # the add-on's forms offer these
from mapsheets.core.my_steps import my_steps as my_steps
from mapsheets.core.my_steps import step_view
from mapsheets.core.notices import AUDIT_QUEUED, Notice, notice
from mapsheets.core.upkeep import changed_only, parsed_upkeep
from mapsheets.errors import UsageError
from mapsheets.service.addon import Caller, audit, aware, read_now, require_caller, writing
from mapsheets.service.addon_writes import form_text
from mapsheets.service.calendars import looks
from mapsheets.service.workbooks import parse_grid, request_scope

BLOCKED_NOTE = "Blocked"


def _checked(step_id: str, status: str, reason: str, due: date | None, said: list[Notice]) -> tuple[str, str, str]:
    """The form's fields through the text gate, each refused with a one-line error naming it."""
    step_id = form_text(step_id, "step", required=True, limit=40).upper()
    status = form_text(status, "status", limit=40, on_warning=said.append).lower()
    if status and status not in SETTABLE:
        raise UsageError(f"status {status!r} is not one of {', '.join(SETTABLE)}", field="status")
    reason = form_text(reason, "reason", limit=500, on_warning=said.append)
    if not status and due is None:
        raise UsageError("nothing to change: choose a status or a due date", field="status")
    return step_id, status, reason


def _apply(step: Step, status: str, reason: str, due: date | None, today: date, by: str) -> list[str]:
    """Set the step as a person editing its cells would; the step-table headers changed."""
    changed: list[str] = []
    if status and status != step.status:
        done_on = (step.done_on or today) if status == "done" else None
        if done_on != step.done_on:
            step.done_on = done_on
            changed.append("Done on")
        step.status = status
        changed.append("Status")
    if status == "blocked" and reason:
        line = f"{BLOCKED_NOTE} ({today.isoformat()}, {by}): {reason}"
        step.notes = f"{step.notes}\n{line}" if step.notes else line
        changed.append("Notes")
    if due is not None and due != step.due:
        step.due = due
        changed.append("Due")
    for header in changed:  # the value set now replaces what did not parse or was a formula there
        step.unparsed.pop(header, None)
        step.formulas.pop(header, None)
    return changed


def set_step(ref: str, caller: Caller, *, step_id: str, today: date, now: datetime, store: Any, status: str = "",
             reason: str = "", due: date | None = None, credentials: Any = None,
             seller_domains: Sequence[str] = ()) -> dict[str, Any]:
    """Set a step's status (done, in progress, blocked with a reason, not started) and/or move its
    due date; the step as it now reads, the plan's progress and the step's band count, whether the
    plan's signatures are still valid, and what the person should know (a due date on a day off)."""
    from mapsheets.service.audit_log import written_version
    from mapsheets.service.steps import due_on_business_day

    said: list[Notice] = []
    step_id, status, reason = _checked(step_id, status, reason, due, said)
    with request_scope(credentials), writing(ref):
        book, _grid, parsed = read_now(ref)
        require_caller(parsed.plan, caller, seller_domains, "update steps")
        found = parsed.plan.step(step_id)
        if found is None:
            raise UsageError(f"no step {step_id} in this plan", field="step")
        if status == "blocked" and found.status != "blocked" and not reason:
            raise UsageError("say what blocks the step (reason)", field="reason")

        def compute(grid: dict[str, list[list[Any]]]) -> tuple[Edit | None, tuple[Plan, Step, dict[str, Any]]]:
            # On the plan as read under the lock (again if another program saved meanwhile).
            fresh = parse_grid(book, grid)
            plan, loc = fresh.plan, fresh.location
            step = plan.step(step_id)
            if step is None:
                raise UsageError(f"no step {step_id} in this plan any more", field="step")
            was = {"status": step.status, "due": step.due.isoformat() if step.due else None}
            if due is not None and due != step.due:
                _moved, doubt = due_on_business_day(plan, due, False)
                if doubt and doubt not in said:
                    said.append(doubt)
            changed = _apply(step, status, reason, due, today, caller.email)
            missing = [h for h in changed if h not in loc.columns]
            if missing and set(missing) & {"Status", "Due"}:
                raise UsageError(f"{book.ref}: the steps table has no '{missing[0]}' column", field="step")
            row = loc.step_rows[step.id]
            mine = {(row, loc.columns[h]): step_cells(step, [h])[0] for h in changed if h in loc.columns}
            upkeep = changed_only(parsed_upkeep(fresh, looks(fresh, today)), grid)
            cells = {**upkeep.pop(loc.tab, {}), **mine}
            edit = Edit(loc.tab, cells=cells, also=upkeep) if changed else None
            return edit, (plan, step, was)

        plan, step, was = book.modify(compute)
    now_reads = {"status": step.status, "due": step.due.isoformat() if step.due else None}
    detail = {"id": step.id, "title": step.title, **{k: [was[k], now_reads[k]] for k in was if was[k] != now_reads[k]}}
    if status == "blocked":
        detail["reason"] = reason
    queued = audit(store, ref, plan, "step updated", caller, aware(now), {**detail, **written_version(ref)})
    if queued:
        said.append(notice(AUDIT_QUEUED, f"The step is updated in the sheet; {queued}"))
    done, total = phase_progress(plan.steps)
    return {"step": step_view(plan, step), "changed": [k for k in was if was[k] != now_reads[k]],
            "progress": {"done": done, "total": total, "percent": round(100 * done / total) if total else 0},
            "signatures": [plan.signature_status(s) for s in plan.signatures],
            "warnings": said}
