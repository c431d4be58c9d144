"""The forecast's simulation (issue 24) against a history whose truth is known.

Synthetic deals: each phase's business days are log-normal with known parameters; a plan's
phases run one after the other. The ground truth of P(close by target) for such a plan is the
share of a million direct draws whose phases fit before the target."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import pytest

from mapsheets.analysis.forecast import forecast, plan_seed
from mapsheets.core.model import Plan, Step

# Phase → (mu, sigma) of log business days: medians of about 8, 12 and 5 days.
PHASES = {"Discovery": (np.log(8), 0.35), "Validation": (np.log(12), 0.45), "Legal": (np.log(5), 0.6)}
START = date(2027, 1, 4)  # a Monday


def history(deals: int, seed: int = 1) -> dict[str, list[float]]:
    rng = np.random.default_rng(seed)
    return {p: list(np.ceil(rng.lognormal(mu, sigma, deals))) for p, (mu, sigma) in PHASES.items()}


def weekdays_after(day: date, n: int) -> date:
    while n > 0:
        day += timedelta(1)
        n -= day.weekday() < 5
    return day


def plan(target_days: int, *, planned: tuple[int, ...] = (8, 12, 5), today: date = START,
         done: int = 0) -> Plan:
    """Two chained steps per phase, the phases one after another, the last step closes; the first
    ``done`` steps are done on their due dates."""
    steps, due, previous = [], START, None
    for i, (phase, days) in enumerate(zip(PHASES, planned, strict=True)):
        for half in (0, 1):
            due = weekdays_after(due, days // 2 if half == 0 else days - days // 2)
            key = f"S-{i}{half}"
            steps.append(Step(id=key, title=f"{phase} {half}", phase=phase, due=due,
                              depends_on=[previous] if previous else []))
            previous = key
    for step in steps[:done]:
        step.status, step.done_on = "done", step.due
    return Plan(kind="mutual", title="MAP: Acme × Globex", buyer="Acme", seller="Globex", start_date=START,
                target_close=weekdays_after(START, target_days), close_step=previous or "", steps=steps)


def truth(target_days: int, draws: int = 1_000_000) -> float:
    rng = np.random.default_rng(99)
    total = sum(np.ceil(rng.lognormal(mu, sigma, draws)) for mu, sigma in PHASES.values())
    return float(np.mean(total <= target_days))


@pytest.mark.parametrize("target_days", [22, 27, 33])
def test_the_chance_is_within_two_points_of_the_truth(target_days: int) -> None:
    result = forecast(plan(target_days), history(3000), START)
    assert result.chance is not None
    assert abs(result.chance - truth(target_days)) < 0.02, (result.chance, truth(target_days))
    assert result.p50 is not None and result.p90 is not None and result.p50 <= result.p90
    assert result.deals == 3000


def test_p50_and_p90_are_the_quantiles_of_the_close() -> None:
    rng = np.random.default_rng(99)
    total = sum(np.ceil(rng.lognormal(mu, sigma, 1_000_000)) for mu, sigma in PHASES.values())
    result = forecast(plan(27), history(3000), START)
    p50, p90 = np.quantile(total, [0.5, 0.9])
    assert abs(np.busday_count(START, result.p50) - p50) <= 1
    assert abs(np.busday_count(START, result.p90) - p90) <= 1


def test_a_phase_that_has_run_long_lowers_the_chance() -> None:
    past = history(3000)
    entered = weekdays_after(START, 8)  # Discovery done on time; Validation (median 12 days) begins
    late = weekdays_after(entered, 20)  # longer than nine past deals in ten spent in Validation
    just_entering = forecast(plan(45, done=2), past, entered)
    running_long = forecast(plan(45, done=2), past, late)
    assert just_entering.chance is not None and running_long.chance is not None
    assert running_long.chance < just_entering.chance - 0.2, (just_entering, running_long)
    # The conditioning itself: a phase 20 days in is not "nearly done" because most deals took 12.
    unconditioned = forecast(plan(45, done=2), past, late, condition=False)
    assert unconditioned.chance is not None
    assert running_long.chance < unconditioned.chance - 0.05, (running_long, unconditioned)
    assert running_long.p50 is not None and unconditioned.p50 is not None
    assert running_long.p50 > unconditioned.p50


def test_the_same_plan_and_history_give_the_same_figures() -> None:
    past, p = history(500), plan(27)
    assert forecast(p, past, START) == forecast(p, past, START)
    assert plan_seed(p) == plan_seed(plan(27))
    other = forecast(p, past, START, seed=12345)
    first = forecast(p, past, START)
    assert other.chance is not None and first.chance is not None
    # Another seed moves the chance only by sampling error (10,000 draws: sd about 0.5 points).
    assert abs(other.chance - first.chance) < 0.025


def test_fewer_than_twenty_past_deals_gives_no_percentage() -> None:
    past = history(500)
    past["Legal"] = past["Legal"][:19]
    result = forecast(plan(27), past, START)
    assert result.chance is None and result.p50 is None
    assert result.reason == "fewer than 20 past deals for Legal (19)"
    assert "%" not in result.sentence() and "fewer than 20 past deals for Legal" in result.sentence()


def test_a_phase_the_plan_has_done_needs_no_history() -> None:
    past = history(500)
    del past["Discovery"]
    result = forecast(plan(27, done=2, today=weekdays_after(START, 8)), past, weekdays_after(START, 8))
    assert result.chance is not None


def test_the_riskiest_phase_is_the_widest_one() -> None:
    result = forecast(plan(27), history(3000), START)
    assert result.risk_phase == "Validation"


def test_the_sentence_says_it_as_the_issue_does() -> None:
    result = forecast(plan(27), history(3000), START)
    text = result.sentence()
    assert text.startswith(f"Chance to close by {result.target}: ")
    assert "(P50)" in text and "at worst one time in ten (P90)" in text and text.endswith("from 3000 past deals")


def test_a_plan_without_a_close_step_says_so() -> None:
    result = forecast(replace(plan(27), close_step=""), history(100), START)
    assert result.chance is None and "close step" in result.reason


def test_the_chance_to_close_counts_the_deals_lost_on_the_way() -> None:
    past = history(3000)
    timing = forecast(plan(45), past, START)
    won = forecast(plan(45), past, START, lost_after={"Discovery": 0.1, "Validation": 0.2, "Legal": 0.05})
    assert timing.chance is not None and won.chance is not None
    assert won.chance == pytest.approx(timing.chance * 0.9 * 0.8 * 0.95)
    assert won.p50 == timing.p50  # the dates are those of the deals that close
    # A phase already done no longer risks the deal.
    later = weekdays_after(START, 8)
    done = forecast(plan(45, done=2), past, later, lost_after={"Discovery": 0.5})
    again = forecast(plan(45, done=2), past, later)
    assert done.chance == again.chance
