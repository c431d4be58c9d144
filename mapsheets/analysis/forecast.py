"""The chance a plan closes by its target date, simulated from how long each phase took in past deals.

Pure computation (numpy) on the plan; ``today`` and the holiday dates are arguments.

The method, in the words of the README:
- each phase the plan still has work in draws, per simulation, how many business days it takes from
  the deals that finished it before (one past deal's time in that phase, chosen at random);
- a phase already running for ``k`` business days draws only from deals that spent at least ``k``
  there: a phase that has run long is more likely to run longer;
- the draw stretches or shrinks the phase's open steps in proportion (a phase planned for 10 days
  that draws 15 makes each of its steps half as long again), and the steps are laid out along the
  plan's dependencies, done steps where they finished and nothing before today;
- the close of a simulation is the finish of the close step; P(close by target) is the share of
  simulations that close on or before the target, P50 and P90 the median and the 90th percentile.
Phases are independent of each other given the plan's dependencies, and the history is taken to be
representative of this deal: both are assumptions, and the backtest says how well they hold.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from mapsheets.core.chance import Forecast as Forecast  # its home is numpy-free: `show` reads a kept one
from mapsheets.core.model import Plan, Step
from mapsheets.core.schedule import topological

SIMULATIONS = 10_000
MIN_DEALS = 20  # fewer past deals for a phase the plan needs: no percentage
_EPOCH = np.datetime64("2000-01-03", "D")  # a Monday: business-day numbers count from here


class _Calendar:
    """Business-day numbers for dates, with the plan's holidays (numpy's busday functions)."""

    def __init__(self, holidays: Collection[date]):
        self.holidays = np.array(sorted(holidays), dtype="datetime64[D]")

    def index(self, day: date) -> int:
        rolled = np.busday_offset(np.datetime64(day, "D"), 0, roll="forward", holidays=self.holidays)
        return int(np.busday_count(_EPOCH, rolled, holidays=self.holidays))

    def dates(self, indexes: np.ndarray) -> np.ndarray:
        return np.busday_offset(_EPOCH, indexes.astype(np.int64), roll="forward", holidays=self.holidays)

    def day(self, index: float) -> date:
        found: date = self.dates(np.array([int(np.ceil(index))]))[0].astype(object)
        return found


@dataclass
class _Layout:
    """The plan's open work in business-day numbers, ready to simulate."""

    order: list[str]
    deps: dict[str, list[str]]
    done_at: dict[str, float]  # done steps: where they finished
    gap: dict[str, float]  # open steps: planned business days after their dependencies (or the start)
    phase_of: dict[str, str]
    span: dict[str, float]  # per phase with open work: its planned business days
    elapsed: dict[str, float]  # per phase: business days it has run by today (0: not started)
    start: float
    today: float
    close: str


def forecast(plan: Plan, history: Mapping[str, Sequence[float]], today: date,
             holidays: Collection[date] = (), *, simulations: int = SIMULATIONS, seed: int | None = None,
             min_deals: int = MIN_DEALS, condition: bool = True,
             lost_after: Mapping[str, float] | None = None) -> Forecast:
    """Simulate the rest of ``plan`` from ``history`` (phase name → business days each past deal spent
    in it) and say how likely it is to close by its target close. ``lost_after`` (phase → share of
    past deals lost after it) makes that the chance to close won: the chance of getting through
    every phase still open, times the chance of doing it in time. ``condition=False`` draws a
    running phase from every past deal, as if it had just begun (the backtest's comparison)."""
    cal = _Calendar(holidays)
    layout = _layout(plan, today, cal)
    if layout is None:
        return Forecast(plan.target_close, None, None, None, 0, None, "the plan has no dated close step")
    needed = sorted(set(layout.span))
    short = [(p, len(history.get(p, ()))) for p in needed if len(history.get(p, ())) < min_deals]
    if short:
        listed = ", ".join(f"{p} ({n})" for p, n in short)
        return Forecast(plan.target_close, None, None, None, min((n for _p, n in short), default=0), None,
                        f"fewer than {min_deals} past deals for {listed}")
    rng = np.random.default_rng(plan_seed(plan) if seed is None else seed)
    ratio = {p: _draw(np.asarray(history[p], dtype=float), layout.elapsed[p] if condition else 0.0,
                      layout.span[p], simulations, rng) for p in needed}
    close = _simulate(layout, ratio, simulations)
    target = plan.target_close
    survive = float(np.prod([1.0 - (lost_after or {}).get(p, 0.0) for p in needed]))
    chance = survive * float(np.mean(close <= cal.index(target))) if target else None
    p50, p90 = np.quantile(close, [0.5, 0.9])
    deals = min(len(history[p]) for p in needed) if needed else 0
    return Forecast(target, chance, cal.day(p50), cal.day(p90), deals,
                    _risk_phase(layout, ratio, close, p90), simulations=simulations)


def plan_seed(plan: Plan) -> int:
    """The same plan, the same draws: a seed from what identifies it, not from the clock."""
    key = "\x1f".join([plan.title, plan.buyer, plan.seller, *(s.id for s in plan.steps)])
    return int.from_bytes(hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()[:8], "big")


def _layout(plan: Plan, today: date, cal: _Calendar) -> _Layout | None:
    steps = {s.id: s for s in plan.steps if s.status != "n/a"}
    close = plan.close_step if plan.close_step in steps else ""
    if not close or steps[close].due is None and steps[close].status != "done":
        return None
    deps = {k: [d for d in s.depends_on if d in steps] for k, s in steps.items()}
    order = topological(steps, deps, strict=False)
    start = cal.index(plan.start_date) if plan.start_date else min(
        (cal.index(s.due) for s in steps.values() if s.due), default=cal.index(today))
    now = cal.index(today)
    planned = {k: float(cal.index(s.due)) if s.due else None for k, s in steps.items()}
    done_at: dict[str, float] = {}
    gap: dict[str, float] = {}
    for key in order:
        step = steps[key]
        if step.status == "done":
            when = step.done_on or step.due
            done_at[key] = float(cal.index(when)) if when else float(now)
            continue
        before = [p for d in deps[key] if (p := planned[d]) is not None]
        begin = max(before, default=float(start))
        own = planned[key]
        gap[key] = max(0.0, (own if own is not None else begin) - begin)
    span, elapsed = _phases(steps, deps, planned, gap, done_at, float(start), float(now))
    return _Layout(order, deps, done_at, gap, {k: s.phase for k, s in steps.items()}, span, elapsed,
                   float(start), float(now), close)


def _phases(steps: Mapping[str, Step], deps: Mapping[str, list[str]], planned: Mapping[str, float | None],
            gap: Mapping[str, float], done_at: Mapping[str, float], start: float,
            now: float) -> tuple[dict[str, float], dict[str, float]]:
    """Per phase with open work: its planned span, and how long it has run by today."""
    members: dict[str, list[str]] = {}
    for key, step in steps.items():
        members.setdefault(step.phase, []).append(key)
    span: dict[str, float] = {}
    elapsed: dict[str, float] = {}
    for phase, keys in members.items():
        if not any(k in gap for k in keys):
            continue
        # The phase begins where its first steps may: after what they wait for outside it.
        begins = [max((_or(planned[d], start) for d in deps[k]), default=start)
                  for k in keys if not any(d in keys for d in deps[k])]
        ends = [p for k in keys if (p := planned[k]) is not None]
        span[phase] = max(1.0, max(ends, default=start) - min(begins, default=start))
        finished = [done_at[k] for k in keys if k in done_at]
        # A phase has begun when one of its steps is done or its first open step's dependencies are.
        ready = [max((done_at[d] for d in deps[k] if d in done_at), default=start)
                 for k in keys if k in gap and all(d in done_at for d in deps[k])]
        began = min([*finished, *ready], default=None) if finished or ready else None
        elapsed[phase] = max(0.0, now - began) if began is not None and began <= now else 0.0
    return span, elapsed


def _or(value: float | None, default: float) -> float:
    return default if value is None else value


def _draw(past: np.ndarray, elapsed: float, span: float, n: int, rng: np.random.Generator) -> np.ndarray:
    """Per simulation, how much longer (or shorter) than planned the phase runs: a past deal's time
    in it over the planned span, drawn from deals that spent at least what this one has so far."""
    pool = past[past >= elapsed] if elapsed > 0 else past
    if len(pool) == 0:  # longer than any past deal: it runs at least as long as the longest
        pool = np.array([max(float(past.max()), elapsed)])
    return rng.choice(pool, size=n) / span


def _simulate(layout: _Layout, ratio: Mapping[str, np.ndarray], n: int) -> np.ndarray:
    finish: dict[str, np.ndarray] = {}
    for key in layout.order:
        if key in layout.done_at:
            finish[key] = np.full(n, layout.done_at[key])
            continue
        after = [finish[d] for d in layout.deps[key] if d in finish]
        begin = np.maximum.reduce(after) if after else np.full(n, layout.start)
        stretch = ratio.get(layout.phase_of[key])
        length = layout.gap[key] * stretch if stretch is not None else np.full(n, layout.gap[key])
        finish[key] = np.maximum(begin + length, layout.today)
    return finish[layout.close]


def _risk_phase(layout: _Layout, ratio: Mapping[str, np.ndarray], close: np.ndarray, p90: float) -> str | None:
    """The phase whose overrun explains most of the gap between the plan and its P90, in the worst
    tenth of simulations."""
    worst = close >= p90
    overrun = {p: float(np.mean((r[worst] - 1.0) * layout.span[p])) for p, r in ratio.items()}
    positive = {p: v for p, v in overrun.items() if v > 0}
    return max(positive, key=lambda p: positive[p]) if positive else None
