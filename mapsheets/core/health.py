"""Plan health: which steps are late, how late, and whether the deal is on track."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta

from mapsheets.core.dates import NO_HOLIDAYS, business_days_between
from mapsheets.core.model import Plan, Step

AT_RISK, STALLED, ON_TRACK = "at risk", "stalled", "on track"
STALLED_AFTER_DAYS = 7


@dataclass(frozen=True)
class Health:
    state: str  # on track | at risk | stalled
    done: int
    total: int  # steps that count: all but n/a
    overdue: list[tuple[Step, int]]  # (step, business days overdue), most overdue first
    due_soon: list[Step]  # open, due within the next ``soon_days`` calendar days
    blocked: list[Step]

    @property
    def progress(self) -> float:
        return self.done / self.total if self.total else 0.0


def overdue_days(step: Step, today: date, holidays: Collection[date] = NO_HOLIDAYS) -> int:
    """Business days a step is past due (0 if not overdue, done or undated)."""
    if not step.is_open or step.due is None or step.due >= today:
        return 0
    return max(1, business_days_between(step.due, today, holidays))


def assess(plan: Plan, today: date, *, soon_days: int = 7, holidays: Collection[date] = NO_HOLIDAYS) -> Health:
    counted = [s for s in plan.steps if s.status != "n/a"]
    late = [(s, overdue_days(s, today, holidays)) for s in counted]
    overdue = sorted(((s, d) for s, d in late if d), key=lambda pair: -pair[1])
    horizon = today + timedelta(days=soon_days)
    due_soon = sorted((s for s in counted if s.is_open and s.due and today <= s.due <= horizon), key=lambda s: s.due)
    worst = overdue[0][1] if overdue else 0
    state = STALLED if worst >= STALLED_AFTER_DAYS else AT_RISK if worst else ON_TRACK
    return Health(state=state, done=sum(s.status == "done" for s in counted), total=len(counted),
                  overdue=overdue, due_soon=due_soon, blocked=[s for s in counted if s.status == "blocked"])
