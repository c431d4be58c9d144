"""Win/loss records of one closed plan from its stored revisions: per step, planned against actual. Pure.

Planned is the due date a step had in the first revision that held it (the plan as agreed, before
any slip); actual is its Done on in the last revision. Slip is counted in business days of the
plan's calendar: positive is late. A step still open at the close slipped until the close when its
planned date had passed by then.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date
from typing import Any

from mapsheets.core.dates import NO_HOLIDAYS, business_days_between
from mapsheets.core.model import Plan
from mapsheets.core.score import execution_score

STEP_COLUMNS = ("plan", "buyer", "outcome", "closed_on", "map_date", "days_map_to_close", "signed",
                "execution_score", "step_id", "phase", "step", "side", "planned", "actual", "status",
                "slip_business_days", "on_time")


def _slip(planned: date | None, actual: date | None, closed: date | None, holidays: Collection[date]) -> int | None:
    if planned is None:
        return None
    end = actual or (closed if closed and closed > planned else None)
    if end is None:
        return None
    if end >= planned:
        return business_days_between(planned, end, holidays)
    return -business_days_between(end, planned, holidays)


def plan_record(name: str, revisions: Sequence[tuple[date, Plan]], holidays: Collection[date] = NO_HOLIDAYS
                ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(one row for the plan, one row per step) from its revisions (taken on, plan), oldest first."""
    first_taken = revisions[0][0]
    last = revisions[-1][1]
    planned: dict[str, date | None] = {}
    for _taken, plan in revisions:
        for step in plan.steps:
            planned.setdefault(step.id, step.due)
    closed = last.closed_on or revisions[-1][0]
    score = execution_score(last, closed, holidays)
    signed = score.signed_sides == 2
    days = (closed - first_taken).days
    buyer_rows = []
    plan_row = {"plan": name, "title": last.title, "buyer": last.buyer, "seller": last.seller,
                "outcome": last.outcome or "open", "closed_on": closed, "map_date": first_taken,
                "days_map_to_close": days, "signed": signed, "signed_sides": score.signed_sides,
                "execution_score": score.score, "steps": len(last.steps),
                "done": sum(s.status == "done" for s in last.steps), "reason": last.outcome_reason,
                "signatures": "; ".join(f"{s.name or s.email} ({s.side}, {last.signature_status(s)}, {s.by_line()})"
                                        for s in last.signatures)}
    rows = []
    for step in last.steps:
        if step.status == "n/a":
            continue
        due = planned.get(step.id, step.due)
        actual = step.done_on if step.status == "done" else None
        slip = _slip(due, actual, closed, holidays)
        on_time = (None if due is None or due > closed and actual is None
                   else (actual is not None and slip is not None and slip <= 0))
        row = {"plan": name, "buyer": last.buyer, "outcome": plan_row["outcome"], "closed_on": closed,
               "map_date": first_taken, "days_map_to_close": days, "signed": signed,
               "execution_score": score.score, "step_id": step.id, "phase": step.phase, "step": step.title,
               "side": step.side, "planned": due, "actual": actual, "status": step.status,
               "slip_business_days": slip, "on_time": on_time}
        rows.append(row)
        if step.side == "buyer" and on_time is not None:
            buyer_rows.append(on_time)
    plan_row["buyer_steps_on_time"] = round(sum(buyer_rows) / len(buyer_rows), 3) if buyer_rows else None
    return plan_row, rows


def phase_times(revisions: Sequence[tuple[date, Plan]], holidays: Collection[date] = NO_HOLIDAYS
                ) -> list[tuple[str, int, bool]]:
    """(phase, business days spent in it, lost right after it) for each phase the closed plan
    finished: a phase runs from the end of the phases before it (the first from the first revision)
    to its last step's Done on. A lost plan's last finished phase is the one it was lost after."""
    last = revisions[-1][1]
    order: list[str] = []
    ends: dict[str, date | None] = {}
    for step in last.steps:
        if step.status == "n/a":
            continue
        if step.phase not in ends:
            order.append(step.phase)
            ends[step.phase] = step.done_on
        done = step.done_on if step.status == "done" else None
        current = ends[step.phase]
        ends[step.phase] = None if done is None or current is None else max(done, current)
    out: list[tuple[str, int, bool]] = []
    begin = revisions[0][0]
    for phase in order:
        end = ends[phase]
        if end is None:
            break  # the deal closed before this phase finished: nothing after it is known
        out.append((phase, business_days_between(begin, end, holidays) if end > begin else 0, False))
        begin = max(begin, end)
    if out and last.outcome == "lost":
        out[-1] = (out[-1][0], out[-1][1], True)
    return out
