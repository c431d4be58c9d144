"""Plan health: which steps are late, how late, and whether the deal is on track.

One rule, used by ``show``, ``show --json``, the digest and the add-on (``grade``):
the deal is as late as its most overdue open step or its projected close past the target,
whichever is later, counted in business days:
  - on track: nothing late (0 business days);
  - at risk: late by 1 to 6 business days;
  - stalled: late by 7 business days or more, or no update for ``stale_after_days``.
A blocked open step makes the plan at least at risk: nothing is late yet, but something cannot move.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta

from mapsheets.core.dates import NO_HOLIDAYS, business_days_between
from mapsheets.core.model import Plan, Step
from mapsheets.core.schedule import project
from mapsheets.core.text import plural

AT_RISK, STALLED, ON_TRACK = "at risk", "stalled", "on track"
AT_RISK_AFTER_DAYS = 1
STALLED_AFTER_DAYS = 7


@dataclass(frozen=True)
class Health:
    state: str  # on track | at risk | stalled
    done: int
    total: int  # steps that count: all but n/a
    overdue: list[tuple[Step, int]]  # (step, business days overdue), most overdue first
    due_soon: list[Step]  # open, due within the next ``soon_days`` calendar days
    blocked: list[Step]
    slip: int | None = None  # projected close vs target, business days; positive = late
    quiet_days: int | None = None  # days without an update, when that made the plan stalled
    reason: str = ""  # the state in words: "1 step overdue by 2 business days; ..."

    @property
    def progress(self) -> float:
        return self.done / self.total if self.total else 0.0


def overdue_days(step: Step, today: date, holidays: Collection[date] = NO_HOLIDAYS) -> int:
    """Business days a step is past due (0 if not overdue, done or undated)."""
    if not step.is_open or step.due is None or step.due >= today:
        return 0
    return max(1, business_days_between(step.due, today, holidays))


def grade(worst_overdue: int, slip: int | None, *, quiet: bool = False, blocked: int = 0,
          stalled_after_days: int = STALLED_AFTER_DAYS) -> str:
    """The health rule (module docstring): overdue steps, projected slip and blocked steps together."""
    late = max(worst_overdue, slip or 0)
    if quiet or late >= stalled_after_days:
        return STALLED
    return AT_RISK if late >= AT_RISK_AFTER_DAYS or blocked else ON_TRACK


def assess(plan: Plan, today: date, *, soon_days: int = 7, holidays: Collection[date] = NO_HOLIDAYS,
           stalled_after_days: int = STALLED_AFTER_DAYS, stale_after_days: int | None = None,
           last_update: date | None = None) -> Health:
    """The plan's health as of ``today``.

    ``stale_after_days``: calendar days without any update (``last_update``) after which the plan
    counts as stalled even with nothing late; ignored when either is None.
    """
    counted = [s for s in plan.steps if s.status != "n/a"]
    late = [(s, overdue_days(s, today, holidays)) for s in counted]
    overdue = sorted(((s, d) for s, d in late if d), key=lambda pair: -pair[1])
    horizon = today + timedelta(days=soon_days)
    due_soon = sorted((s for s in counted if s.is_open and s.due and today <= s.due <= horizon),
                      key=lambda s: s.due or today)
    worst = overdue[0][1] if overdue else 0
    slip = project(plan, today, holidays).slip
    quiet = None
    if stale_after_days is not None and last_update is not None and (today - last_update).days >= stale_after_days:
        quiet = (today - last_update).days
    blocked = [s for s in counted if s.status == "blocked"]
    return Health(state=grade(worst, slip, quiet=quiet is not None, blocked=len(blocked),
                              stalled_after_days=stalled_after_days),
                  done=sum(s.status == "done" for s in counted), total=len(counted), overdue=overdue,
                  due_soon=due_soon, blocked=blocked, slip=slip, quiet_days=quiet,
                  reason=_reason(len(overdue), worst, slip, quiet, len(blocked)))


def _reason(overdue: int, worst: int, slip: int | None, quiet: int | None, blocked: int) -> str:
    parts = []
    if overdue:
        late = plural(worst, "business day")
        parts.append(f"1 step overdue by {late}" if overdue == 1 else f"{overdue} steps overdue, up to {late}")
    if slip and slip >= AT_RISK_AFTER_DAYS and slip > worst:  # only when the close, not a step, is the news
        parts.append(f"projected close {plural(slip, 'business day')} after target")
    if quiet is not None:
        parts.append(f"no update for {plural(quiet, 'day')}")
    if blocked:
        parts.append(f"{plural(blocked, 'step')} blocked")
    if not parts:
        return "Nothing overdue"
    text = "; ".join(parts)
    return text[0].upper() + text[1:]
