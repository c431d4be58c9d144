"""What the sheet shows beside the steps, derived from the plan (pure): phase bands with their
progress, the summary lines at the top, and the timeline rows the Timeline tab and the picture share.

None of it is read back: every mapsheets write sets it again from the plan as read (core/upkeep.py).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta

from mapsheets.core.dates import NO_HOLIDAYS
from mapsheets.core.model import Plan, Signature, Step
from mapsheets.core.schedule import project
from mapsheets.core.text import business_days

# A phase band's text starts with this mark: how the parser tells a band from a step.
PHASE_MARK = "▸"
NO_PHASE = "(no phase)"
_BAND_START = re.compile(r"\s*" + PHASE_MARK + r"\s*")
_BAND_COUNT = re.compile(r"·\s*\d+\s*/\s*\d+\s+done\s*")  # "· 3/5 done" after the phase
# Summary lines under the title: label -> what they show. Display only, never parsed into the plan.
OWNERS_LABEL, SIGNATURES_LABEL, PROGRESS_LABEL = "Plan owners", "Signatures", "Progress"
SUMMARY_LABELS = (OWNERS_LABEL, SIGNATURES_LABEL, PROGRESS_LABEL)
MAX_WEEKS = 104


def summary_labels(plan: Plan) -> tuple[str, ...]:
    """The summary lines a plan shows: a closing plan is the seller's own, nobody signs it."""
    return tuple(label for label in SUMMARY_LABELS if plan.kind != "closing" or label != SIGNATURES_LABEL)
  # a timeline longer than two years is cut at its end


def phases(plan: Plan) -> list[tuple[str, list[Step]]]:
    """Steps grouped by phase, phases in the order they first appear."""
    groups: dict[str, list[Step]] = {}
    for step in plan.steps:
        groups.setdefault(step.phase, []).append(step)
    return list(groups.items())


def phase_runs(plan: Plan) -> list[tuple[str, list[Step]]]:
    """Consecutive steps of one phase, in plan order: a band heads each run (steps never move)."""
    runs: list[tuple[str, list[Step]]] = []
    for step in plan.steps:
        if not runs or runs[-1][0] != step.phase:
            runs.append((step.phase, []))
        runs[-1][1].append(step)
    return runs


def phase_progress(steps: list[Step]) -> tuple[int, int]:
    """(done, steps that count): n/a steps count for nothing."""
    counted = [s for s in steps if s.status != "n/a"]
    return sum(s.status == "done" for s in counted), len(counted)


def band_text(phase: str, steps: list[Step]) -> str:
    done, total = phase_progress(steps)
    return f"{PHASE_MARK} {phase or NO_PHASE}  ·  {done}/{total} done"


def phase_band_texts(plan: Plan) -> dict[str, str]:
    """Each phase's band text, its progress counted once per phase (not once per band: a plan
    whose phases alternate has thousands of bands)."""
    return {phase: band_text(phase, steps) for phase, steps in phases(plan)}


def band_phase(value: object) -> str | None:
    """The phase a band cell names, or None when the cell is not a band."""
    if not isinstance(value, str):
        return None
    start = _BAND_START.match(value)
    if not start:
        return None
    # Anchored patterns and a split at the last "·": linear in the cell's length (issue 17).
    rest = value[start.end():]
    head, dot, count = rest.rpartition("·")
    name = head.rstrip() if dot and _BAND_COUNT.fullmatch(dot + count) else rest.rstrip()
    if "\n" in name:
        return None  # a band is one line
    return "" if name == NO_PHASE else name


def band_texts(plan: Plan, bands: dict[int, tuple[int, str]]) -> dict[tuple[int, int], str]:
    """Cell -> the text each band found in the sheet should show now (``bands``: row -> (column, phase))."""
    texts = phase_band_texts(plan)
    return {(row, col): texts.get(phase) or band_text(phase, []) for row, (col, phase) in bands.items()}


def owners_text(plan: Plan) -> str:
    seller = plan.seller_lead or "—"
    buyer = plan.buyer_lead or "—"
    return f"{plan.seller or 'Seller'}: {seller}   ·   {plan.buyer or 'Buyer'}: {buyer}"


def signatures_text(plan: Plan, signatures: list[Signature] | None = None) -> str:
    signatures = plan.signatures if signatures is None else signatures
    if not signatures:
        return "not signed yet"
    def who(status: str, own: bool = True) -> list[str]:
        return [s.name or s.email for s in signatures if plan.signature_status(s) == status and s.own == own]

    parts = []
    if valid := who("valid"):
        parts.append("signed by " + ", ".join(valid))
    if behalf := [s.by_line() for s in signatures if plan.signature_status(s) == "valid" and not s.own]:
        parts.append("; ".join(behalf))  # never counted as the person's own signature
    if stale := who("stale") + who("stale", own=False):
        parts.append("stale (the plan changed since): " + ", ".join(stale))
    if unverified := who("unverified") + who("unverified", own=False):
        parts.append("unverified (no valid seal): " + ", ".join(unverified))
    return "; ".join(parts)


def is_overdue(step: Step, today: date) -> bool:
    return step.is_open and step.due is not None and step.due < today


def progress_text(plan: Plan, today: date, projected: date | None, slip: int | None) -> str:
    """"12 of 25 done · 2 overdue · projected close 2025-06-30 vs target 2025-06-15 (3 business days late)"."""
    done, total = phase_progress(plan.steps)
    overdue = sum(is_overdue(s, today) for s in plan.steps)
    parts = [f"{done} of {total} done", f"{overdue} overdue"]
    if projected or plan.target_close:
        close = f"projected close {projected or '—'} vs target {plan.target_close or '—'}"
        if slip is not None:
            close += (f" ({business_days(slip)} late)" if slip > 0
                      else " (on target)")  # the close only: health is core.health's word
        parts.append(close)
    parts.append(f"as of {today}")
    return "  ·  ".join(parts)


def summary_values(plan: Plan, today: date | None, days_off: Collection[date] = NO_HOLIDAYS,
                   signatures: list[Signature] | None = None) -> dict[str, str | None]:
    """Summary label -> its text now (no progress line without a today to judge it by)."""
    progress = None
    if today is not None:
        projection = project(plan, today, days_off)
        progress = progress_text(plan, today, projection.close, projection.slip)
    return {OWNERS_LABEL: owners_text(plan), SIGNATURES_LABEL: signatures_text(plan, signatures),
            PROGRESS_LABEL: progress}


@dataclass(frozen=True)
class TimelineRow:
    """One step on the timeline: planned span, actual span once done, whether it is overdue."""

    phase: str
    id: str
    title: str
    status: str
    start: date | None  # planned start: its dependencies' latest due, else the plan's start
    due: date | None
    done_on: date | None
    overdue: bool


def timeline_rows(plan: Plan, today: date | None = None) -> list[TimelineRow]:
    """Steps in phase order with their planned spans; a step without a due date has no bar.
    Without ``today`` nothing is overdue."""
    by_id = {s.id: s for s in plan.steps}
    out = []
    for _phase, steps in phase_runs(plan):
        for step in steps:
            start = max((due for due in (by_id[d].due for d in step.depends_on if d in by_id) if due), default=None)
            start = start or plan.start_date or step.due
            if start and step.due and start > step.due:
                start = step.due
            out.append(TimelineRow(phase=step.phase, id=step.id, title=step.title, status=step.status,
                                   start=start if step.due else None, due=step.due, done_on=step.done_on,
                                   overdue=today is not None and is_overdue(step, today)))
    return out


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def timeline_weeks(plan: Plan, rows: list[TimelineRow] | None = None) -> list[date]:
    """The Monday of every week from the plan's start to its go-live (or the last date it names)."""
    rows = rows if rows is not None else timeline_rows(plan)
    days = [d for r in rows for d in (r.start, r.due, r.done_on) if d]
    days += [d for d in (plan.start_date, plan.target_close, plan.go_live) if d]
    if not days:
        return []
    first = monday(plan.start_date or min(days))
    last = max(days)
    count = min(MAX_WEEKS, (last - first).days // 7 + 1)
    return [first + timedelta(weeks=i) for i in range(count)]


@dataclass(frozen=True)
class TimelineChart:
    """Everything the timeline picture draws, worked out here so the drawing only draws."""

    title: str
    today: date
    rows: list[TimelineRow]
    target_close: date | None
    go_live: date | None
    first: date  # the axis, Monday to Monday
    last: date


def timeline_chart(plan: Plan, today: date) -> TimelineChart:
    rows = timeline_rows(plan, today)
    weeks = timeline_weeks(plan, rows) or [monday(today)]
    last = max([weeks[-1] + timedelta(weeks=1)] + [today + timedelta(days=3)])
    return TimelineChart(title=plan.title, today=today, rows=rows, target_close=plan.target_close,
                         go_live=plan.go_live, first=min(weeks[0], monday(today)), last=last)
