"""Business-day scheduling along dependencies, and the projected close of a live plan."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from mapsheets.core.dates import (
    NO_HOLIDAYS,
    add_business_days,
    business_days_between,
    roll_back,
    roll_forward,
)
from mapsheets.core.model import Plan
from mapsheets.errors import ScheduleError


@dataclass(frozen=True)
class Task:
    """One thing to schedule: ``days`` business days of work after all of ``depends_on``."""

    key: str
    days: int
    depends_on: tuple[str, ...] = ()
    stage: str = ""


@dataclass(frozen=True)
class Fit:
    """How a schedule sits against the target close: ``slack`` > 0 spare, < 0 misses by."""

    start: date
    finish: date
    target_close: date | None
    slack: int | None

    @property
    def fits(self) -> bool | None:
        return None if self.slack is None else self.slack >= 0


def topological(keys: Iterable[str], deps: Mapping[str, Iterable[str]], *, strict: bool = True) -> list[str]:
    """Keys ordered so each comes after its dependencies, stable in the given order.

    Unknown dependencies are ignored. A cycle raises ScheduleError when ``strict``; otherwise
    the cycle's members follow in their given order (a hand-edited sheet must still read).
    """
    order = list(keys)
    known = set(order)
    pending = {k: {d for d in deps.get(k, ()) if d in known and d != k} for k in order}
    done: list[str] = []
    placed: set[str] = set()
    while len(done) < len(order):
        ready = [k for k in order if k not in placed and pending[k] <= placed]
        if not ready:
            stuck = [k for k in order if k not in placed]
            if strict:
                raise ScheduleError("dependency cycle: " + " -> ".join(_cycle(stuck, pending)))
            ready = [stuck[0]]
        for k in ready:
            placed.add(k)
            done.append(k)
    return done


def _cycle(stuck: list[str], pending: Mapping[str, set[str]]) -> list[str]:
    path, node = [], stuck[0]
    while node not in path:
        path.append(node)
        node = next(d for d in pending[node] if d in stuck)
    return path[path.index(node):] + [node]


def schedule_forward(tasks: list[Task], start: date, holidays: Collection[date] = NO_HOLIDAYS) -> dict[str, date]:
    """Due date of each task, laid forward from ``start``."""
    by_key = {t.key: t for t in tasks}
    start = roll_forward(start, holidays)
    due: dict[str, date] = {}
    for key in topological(by_key, {k: t.depends_on for k, t in by_key.items()}):
        task = by_key[key]
        begin = max([start] + [due[d] for d in task.depends_on if d in due])
        due[key] = add_business_days(begin, task.days, holidays)
    return due


def descendants(tasks: list[Task], key: str) -> set[str]:
    """Every task that waits, directly or not, for ``key``."""
    found: set[str] = set()
    changed = True
    while changed:
        changed = False
        for t in tasks:
            if t.key not in found and any(d == key or d in found for d in t.depends_on):
                found.add(t.key)
                changed = True
    return found


def schedule_backward(tasks: list[Task], close: date, holidays: Collection[date] = NO_HOLIDAYS,
                      close_key: str | None = None, stages: Sequence[str] = ()) -> dict[str, date]:
    """Due date of each task, laid back from ``close`` so the close step lands on it.

    A side branch (a step nothing waits for, other than the close step) finishes before the
    stage that follows its own begins, and always before the close step: it must not land on
    the signature day. ``stages`` gives the stage order (default: as the tasks first name them).
    Steps after the close step (kickoff, onboarding) are laid forward from the close.
    """
    after = descendants(tasks, close_key) if close_key else set()
    before = [t for t in tasks if t.key not in after]
    by_key = {t.key: t for t in tasks}
    dependents: dict[str, list[str]] = {t.key: [] for t in before}
    for t in before:
        for d in t.depends_on:
            if d in dependents:
                dependents[d].append(t.key)
    side = _side_branch_successors(before, dependents, close_key, stages)
    deps = {k: list(t.depends_on) for k, t in by_key.items()}
    for leaf, successors in side.items():
        for s in successors:
            deps[s].append(leaf)
    try:
        order = topological(by_key, deps)
    except ScheduleError:  # stages ordered against the dependencies: side branches take the close
        side = {}
        order = topological(by_key, {k: t.depends_on for k, t in by_key.items()})
    close = roll_back(close, holidays)
    due: dict[str, date] = {}
    for key in reversed(order):
        if key in after:
            continue
        latest = [add_business_days(due[c], -by_key[c].days, holidays) for c in dependents[key] + side.get(key, [])]
        due[key] = min(latest) if latest else close
        if key in side and close_key in due and due[key] >= due[close_key]:
            due[key] = add_business_days(due[close_key], -1, holidays)
    for key in order:
        if key in after:
            task = by_key[key]
            due[key] = add_business_days(max(due[d] for d in task.depends_on if d in due), task.days, holidays)
    return due


def _side_branch_successors(before: list[Task], dependents: Mapping[str, list[str]], close_key: str | None,
                            stages: Sequence[str]) -> dict[str, list[str]]:
    """Per side branch (nothing waits for it, not the close step): the steps it must finish before.

    Those are the steps of the next stage that has any (none it waits for itself), and the close step.
    """
    order = list(dict.fromkeys([*stages, *(t.stage for t in before)]))
    ancestors = _ancestors(before)
    out: dict[str, list[str]] = {}
    for t in before:
        if dependents[t.key] or t.key == close_key:
            continue
        later = order[order.index(t.stage) + 1:] if t.stage in order else []
        successors: list[str] = []
        for stage in later:
            successors = [s.key for s in before if s.stage == stage and s.key not in ancestors[t.key]
                          and s.key != t.key]
            if successors:
                break
        if close_key is not None and close_key in dependents and close_key not in ancestors[t.key] \
                and close_key not in successors:
            successors.append(close_key)  # whatever the stages say, before the signature
        if successors:
            out[t.key] = successors
    return out


def _ancestors(tasks: list[Task]) -> dict[str, set[str]]:
    """Per task, every task it waits for, directly or not."""
    deps = {t.key: set(t.depends_on) for t in tasks}
    found: dict[str, set[str]] = {}

    def walk(key: str, seen: frozenset[str]) -> set[str]:
        if key not in found:
            out: set[str] = set()
            for d in deps.get(key, ()):
                if d in deps and d not in seen:
                    out |= {d} | walk(d, seen | {key})
            found[key] = out
        return found[key]

    for t in tasks:
        walk(t.key, frozenset())
    return found


def fit(tasks: list[Task], due: Mapping[str, date], start: date, target_close: date | None,
        holidays: Collection[date] = NO_HOLIDAYS, close_key: str | None = None) -> Fit:
    """Where a schedule starts and closes, and its slack against the target close."""
    begin = min((add_business_days(due[t.key], -t.days, holidays) for t in tasks), default=start)
    finish = due[close_key] if close_key is not None and close_key in due else max(due.values(), default=start)
    start = roll_forward(start, holidays)
    slack: int | None = None
    if target_close is not None:
        slack = business_days_between(finish, target_close, holidays)
        if begin < start:  # a backward plan that would have had to start in the past
            slack = min(slack, business_days_between(start, begin, holidays))
    return Fit(start=begin, finish=finish, target_close=target_close, slack=slack)


@dataclass(frozen=True)
class Projection:
    """The plan's likely finish from what is left: per step, and the close."""

    finish: dict[str, date]
    close: date | None
    target_close: date | None
    slip: int | None  # business days past target close (negative = ahead)


def project(plan: Plan, today: date, holidays: Collection[date] = NO_HOLIDAYS) -> Projection:
    """Projected finish of each step and of the plan, given what is done and what is late.

    A step that is not done finishes no earlier than its due date, today if it is overdue,
    and its planned gap after its dependencies if they slipped.
    """
    today = roll_forward(today, holidays)
    steps = {s.id: s for s in plan.steps}
    deps = {s.id: [d for d in s.depends_on if d in steps] for s in plan.steps}
    finish: dict[str, date] = {}
    for key in topological(steps, deps, strict=False):
        step = steps[key]
        dep_finish = max((finish[d] for d in deps[key] if d in finish), default=None)
        if step.status == "n/a":
            if dep_finish:
                finish[key] = dep_finish
            continue
        if step.status == "done":
            when = step.done_on or step.due
            if when:
                finish[key] = when
            continue
        if step.due is None:
            if dep_finish:
                finish[key] = dep_finish
            continue
        candidates = [step.due, today]
        if dep_finish:
            planned_dep = max((due for due in (steps[d].due for d in deps[key]) if due), default=None)
            gap = max(0, business_days_between(planned_dep, step.due, holidays)) if planned_dep else 0
            candidates.append(add_business_days(dep_finish, gap, holidays))
        finish[key] = max(candidates)
    # The deal closes with its close step; kickoff steps after it do not move the close.
    close = finish.get(plan.close_step) or max(finish.values(), default=plan.target_close)
    slip = None
    if close and plan.target_close:
        slip = business_days_between(plan.target_close, close, holidays)
    return Projection(finish=finish, close=close, target_close=plan.target_close, slip=slip)
