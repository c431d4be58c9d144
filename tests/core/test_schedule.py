"""Scheduling along dependencies, fit against the target close, and projection of a live plan."""

from __future__ import annotations

from datetime import date

import pytest

from mapsheets.core.model import Plan, Step
from mapsheets.core.schedule import Task, fit, project, schedule_backward, schedule_forward, topological
from mapsheets.errors import ScheduleError

MON = date(2027, 1, 4)

# a -> b -> d, a -> c -> d, d -> e (after the close)
TASKS = [
    Task("a", 2),
    Task("b", 3, ("a",)),
    Task("c", 5, ("a",)),
    Task("d", 1, ("b", "c")),
    Task("e", 4, ("d",)),
]


def test_forward_follows_dependencies_in_business_days():
    due = schedule_forward(TASKS, MON)
    assert due == {
        "a": date(2027, 1, 6),
        "b": date(2027, 1, 11),   # Wed + 3 business days over the weekend
        "c": date(2027, 1, 13),
        "d": date(2027, 1, 14),   # waits for the later of b and c
        "e": date(2027, 1, 20),
    }


def test_forward_from_a_weekend_starts_monday():
    assert schedule_forward([Task("a", 1)], date(2027, 1, 2)) == {"a": date(2027, 1, 5)}


def test_forward_order_of_tasks_does_not_matter():
    assert schedule_forward(list(reversed(TASKS)), MON) == schedule_forward(TASKS, MON)


def test_backward_lands_close_step_on_close_date():
    close = date(2027, 2, 26)  # a Friday
    due = schedule_backward(TASKS, close, close_key="d")
    assert due["d"] == close
    assert due["b"] == date(2027, 2, 25) and due["c"] == date(2027, 2, 25)
    assert due["a"] == date(2027, 2, 18)   # c needs 5 days after a: the longer branch wins
    assert due["e"] == date(2027, 3, 4)    # after the close, laid forward from it


def test_backward_from_a_weekend_rolls_back():
    due = schedule_backward([Task("a", 1), Task("b", 1, ("a",))], date(2027, 2, 28))
    assert due == {"a": date(2027, 2, 25), "b": date(2027, 2, 26)}


def test_fit_with_slack():
    due = schedule_forward(TASKS, MON)
    result = fit(TASKS, due, MON, date(2027, 1, 21), close_key="d")
    assert result.finish == date(2027, 1, 14)
    assert result.slack == 5 and result.fits is True
    assert result.start == MON


def test_fit_misses_by_business_days():
    due = schedule_forward(TASKS, MON)
    result = fit(TASKS, due, MON, date(2027, 1, 11), close_key="d")
    assert result.slack == -3 and result.fits is False


def test_fit_without_target():
    due = schedule_forward(TASKS, MON)
    result = fit(TASKS, due, MON, None)
    assert result.slack is None and result.fits is None
    assert result.finish == date(2027, 1, 20)  # no close step: the last task


def test_backward_that_would_start_in_the_past_does_not_fit():
    close = date(2027, 1, 8)
    due = schedule_backward(TASKS, close, close_key="d")
    result = fit(TASKS, due, MON, close, close_key="d")
    assert result.start < MON
    assert result.slack == -4 and result.fits is False


def test_cycle_raises_naming_the_cycle():
    tasks = [Task("a", 1), Task("b", 1, ("a", "d")), Task("c", 1, ("b",)), Task("d", 1, ("c",))]
    with pytest.raises(ScheduleError) as err:
        schedule_forward(tasks, MON)
    message = str(err.value)
    assert message.startswith("dependency cycle: ")
    chain = message.removeprefix("dependency cycle: ").split(" -> ")
    assert chain[0] == chain[-1] and set(chain) == {"b", "c", "d"}
    assert "a" not in chain


def test_self_dependency_and_unknown_dependencies_are_ignored():
    assert topological(["a", "b"], {"a": ["a"], "b": ["zz", "a"]}) == ["a", "b"]


def test_non_strict_topological_keeps_cycle_members():
    assert topological(["a", "b", "c"], {"a": ["b"], "b": ["a"]}, strict=False) == ["c", "a", "b"]


# --- projection -----------------------------------------------------------------------------

def _plan(*steps: Step, close_step: str = "", target: date | None = date(2027, 1, 29)) -> Plan:
    return Plan(kind="mutual", title="t", buyer="b", seller="s", target_close=target,
                close_step=close_step, steps=list(steps))


def test_project_on_time_plan_closes_on_due_dates():
    plan = _plan(Step("A", "a", due=date(2027, 1, 8)), Step("B", "b", due=date(2027, 1, 15), depends_on=["A"]),
                 close_step="B")
    proj = project(plan, today=MON)
    assert proj.finish == {"A": date(2027, 1, 8), "B": date(2027, 1, 15)}
    assert proj.close == date(2027, 1, 15)
    assert proj.slip == -10


def test_project_overdue_step_pushes_dependents():
    plan = _plan(
        Step("A", "a", due=date(2027, 1, 6)),
        Step("B", "b", due=date(2027, 1, 8), depends_on=["A"]),    # 2 business days after A
        Step("C", "c", due=date(2027, 1, 29), depends_on=["B"]),
        close_step="C")
    proj = project(plan, today=date(2027, 1, 13))  # A is a week late
    assert proj.finish["A"] == date(2027, 1, 13)
    assert proj.finish["B"] == date(2027, 1, 15)   # keeps its 2-day gap after A
    assert proj.finish["C"] == date(2027, 2, 5)    # 15-day gap after B kept too
    assert proj.close == date(2027, 2, 5)
    assert proj.slip == 5


def test_project_done_steps_use_done_on():
    plan = _plan(
        Step("A", "a", due=date(2027, 1, 6), status="done", done_on=date(2027, 1, 5)),
        Step("B", "b", due=date(2027, 1, 8), depends_on=["A"]),
        close_step="B")
    proj = project(plan, today=date(2027, 1, 7))
    assert proj.finish == {"A": date(2027, 1, 5), "B": date(2027, 1, 8)}
    assert proj.close == date(2027, 1, 8)


def test_project_done_late_pushes_dependents():
    plan = _plan(
        Step("A", "a", due=date(2027, 1, 6), status="done", done_on=date(2027, 1, 12)),
        Step("B", "b", due=date(2027, 1, 8), depends_on=["A"]),
        close_step="B")
    assert project(plan, today=date(2027, 1, 12)).finish["B"] == date(2027, 1, 14)


def test_project_na_steps_pass_through_and_take_no_time():
    def plan_with(status: str) -> Plan:
        return _plan(
            Step("A", "a", due=date(2027, 1, 6)),
            Step("N", "maybe", due=date(2027, 1, 11), status=status, depends_on=["A"]),  # 3 days after A
            Step("B", "b", due=date(2027, 1, 12), depends_on=["N"]),                    # 1 day after N
            close_step="B")
    today = date(2027, 1, 13)  # A is a week late
    skipped = project(plan_with("n/a"), today=today)
    assert skipped.finish["N"] == date(2027, 1, 13)    # passes A's finish through
    assert skipped.finish["B"] == date(2027, 1, 14)
    kept = project(plan_with("not started"), today=today)
    assert kept.finish["N"] == date(2027, 1, 18)
    assert kept.finish["B"] == date(2027, 1, 19)


def test_project_na_without_dependencies_has_no_finish():
    plan = _plan(Step("N", "skipped", due=date(2027, 1, 5), status="n/a"), Step("B", "b", due=date(2027, 1, 8)))
    proj = project(plan, today=date(2027, 1, 7))
    assert "N" not in proj.finish and proj.close == date(2027, 1, 8)


def test_project_close_step_ignores_later_kickoff():
    plan = _plan(
        Step("S", "sign", due=date(2027, 1, 15)),
        Step("K", "kickoff", due=date(2027, 2, 26), depends_on=["S"]),
        close_step="S")
    proj = project(plan, today=MON)
    assert proj.close == date(2027, 1, 15)
    assert proj.finish["K"] == date(2027, 2, 26)


def test_project_without_close_step_uses_latest_finish():
    plan = _plan(Step("S", "sign", due=date(2027, 1, 15)), Step("K", "kickoff", due=date(2027, 2, 26)))
    assert project(plan, today=MON).close == date(2027, 2, 26)


def test_project_undated_plan_falls_back_to_target():
    plan = _plan(Step("A", "a"), Step("B", "b", depends_on=["A"]))
    proj = project(plan, today=MON)
    assert proj.finish == {} and proj.close == date(2027, 1, 29) and proj.slip == 0


def test_project_survives_hand_made_cycle():
    plan = _plan(Step("A", "a", due=date(2027, 1, 8), depends_on=["B"]),
                 Step("B", "b", due=date(2027, 1, 11), depends_on=["A"]))
    assert project(plan, today=MON).close is not None


def test_backward_side_branch_finishes_before_the_next_stage_not_on_the_close():
    # s1 -> main -> n1 -> close, s1 -> side (nothing waits for side); stages one, one, two, three.
    tasks = [Task("s1", 2, (), "one"), Task("main", 3, ("s1",), "one"), Task("side", 2, ("s1",), "one"),
             Task("n1", 4, ("main",), "two"), Task("close", 2, ("n1",), "three")]
    close = date(2027, 2, 26)
    due = schedule_backward(tasks, close, close_key="close", stages=["one", "two", "three"])
    assert due["close"] == close
    n1_begins = date(2027, 2, 18)  # n1 due Wed 24th, 4 business days of work
    assert due["n1"] == date(2027, 2, 24) and due["side"] == due["main"] == n1_begins
    assert due["s1"] == date(2027, 2, 15)  # main needs 3 days after s1, side 2: the longer wins


def test_backward_side_branch_in_the_last_stage_ends_before_the_close_step():
    tasks = [Task("a", 2, (), "one"), Task("close", 0, ("a",), "one"), Task("note", 1, ("a",), "one")]
    due = schedule_backward(tasks, date(2027, 2, 26), close_key="close")
    assert due["close"] == date(2027, 2, 26) and due["note"] == date(2027, 2, 25)
