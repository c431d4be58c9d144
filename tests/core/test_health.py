"""The one health rule: overdue steps and projected slip together, at the 0/1 and 6/7 business-day edges."""

from __future__ import annotations

import json
from datetime import date

import pytest
from click.testing import CliRunner

from mapsheets.core.dates import add_business_days
from mapsheets.core.digest import build_digest
from mapsheets.core.health import assess, grade
from mapsheets.core.model import Plan, Step

TODAY = date(2027, 1, 13)  # a Wednesday
TARGET = date(2027, 2, 5)


def plan_with(*, overdue: int = 0, slip: int = 0) -> Plan:
    """A close step due ``slip`` business days after the target and a step ``overdue`` business days late."""
    first_due = add_business_days(TODAY, -overdue) if overdue else add_business_days(TODAY, 2)
    steps = [Step("S-0001", "Discovery call", due=first_due),
             Step("S-0002", "Contract signed", due=add_business_days(TARGET, slip))]  # no dependency
    return Plan(kind="mutual", title="t", buyer="Acme", seller="Globex", target_close=TARGET,
                close_step="S-0002", steps=steps)


@pytest.mark.parametrize("days, state", [(0, "on track"), (1, "at risk"), (6, "at risk"), (7, "stalled")])
def test_grade_edges_for_overdue_and_for_slip(days, state):
    assert grade(days, None) == state
    assert grade(0, days) == state
    assert grade(days, -3) == state  # ahead of target does not excuse a late step


@pytest.mark.parametrize("days, state", [(0, "on track"), (1, "at risk"), (6, "at risk"), (7, "stalled")])
def test_assess_edges_overdue(days, state):
    health = assess(plan_with(overdue=days), TODAY)
    assert (health.state, [d for _s, d in health.overdue]) == (state, [days] if days else [])


@pytest.mark.parametrize("days, state", [(0, "on track"), (1, "at risk"), (6, "at risk"), (7, "stalled")])
def test_projected_close_after_target_is_not_on_track_with_nothing_overdue(days, state):
    health = assess(plan_with(slip=days), TODAY)
    assert health.overdue == [] and health.slip == days
    assert health.state == state
    if days:
        assert health.reason == f"Projected close {days} business day{'s' if days > 1 else ''} after target"


@pytest.mark.parametrize("days", [0, 1, 6, 7])
def test_digest_show_and_json_agree(days, tmp_path):
    from mapsheets.adapters.xlsx import write_workbook
    from mapsheets.cli import cli
    from mapsheets.core.layout import workbook_spec

    plan = plan_with(slip=days)
    digest = build_digest(plan=plan, changes=[], today=TODAY, plan_url="", previous_close=None)
    path = tmp_path / "p.xlsx"
    write_workbook(path, workbook_spec(plan))
    runner = CliRunner()
    shown = runner.invoke(cli, ["show", str(path), "--as-of", TODAY.isoformat()])
    as_json = json.loads(runner.invoke(cli, ["show", str(path), "--json", "--as-of", TODAY.isoformat()]).output)
    assert shown.exit_code == 0, shown.output
    assert digest.health == as_json["health"] == assess(plan, TODAY).state
    assert f"· {digest.health}" in shown.output


def test_a_blocked_step_makes_the_plan_at_risk_in_every_surface(tmp_path):
    """Seen: "on track (1 blocked)" for a plan whose proposal step was blocked, nothing late yet."""
    from mapsheets.adapters.xlsx import write_workbook
    from mapsheets.cli import cli
    from mapsheets.core.layout import workbook_spec
    from mapsheets.core.look import summary_values
    from mapsheets.emails import render_digest

    plan = plan_with()
    plan.steps[1].title, plan.steps[1].status = "Proposal", "blocked"
    assert grade(0, None, blocked=1) == "at risk" and grade(7, None, blocked=1) == "stalled"
    health = assess(plan, TODAY)
    assert (health.state, health.reason) == ("at risk", "1 step blocked")
    digest = build_digest(plan=plan, changes=[], today=TODAY, plan_url="", previous_close=None)
    html, text = render_digest(digest)
    assert digest.subject.endswith("· at risk") and "At risk" in html and "On track" not in html
    path = tmp_path / "p.xlsx"
    write_workbook(path, workbook_spec(plan))
    runner = CliRunner()
    shown = runner.invoke(cli, ["show", str(path), "--as-of", TODAY.isoformat()]).output
    as_json = json.loads(runner.invoke(cli, ["show", str(path), "--json", "--as-of", TODAY.isoformat()]).output)
    assert "blocked 1 · at risk (1 step blocked)" in shown and "on track" not in shown
    assert (as_json["health"], as_json["health_reason"]) == ("at risk", "1 step blocked")
    assert "on track" not in " ".join(v or "" for v in summary_values(plan, TODAY).values())  # the sheet's rows


def test_an_n_a_step_counts_in_neither_done_nor_total():
    """Progress everywhere it is counted (health, the summary line and phase bands, the score):
    one done of three that count, the n/a step (done or not) left out of both numbers."""
    from mapsheets.core.look import band_text, progress_text
    from mapsheets.core.score import execution_score

    steps = [Step("S-0001", "Discovery call", phase="Evaluate", status="done", done_on=date(2027, 1, 4),
                  due=date(2027, 1, 5)),
             Step("S-0002", "Security review", phase="Evaluate", status="n/a", done_on=date(2027, 1, 6)),
             Step("S-0003", "Legal review", phase="Evaluate", status="in progress", due=add_business_days(TODAY, 3)),
             Step("S-0004", "Contract signed", phase="Evaluate", due=TARGET)]
    plan = Plan(kind="mutual", title="t", buyer="Acme", seller="Globex", target_close=TARGET,
                close_step="S-0004", steps=steps)
    health = assess(plan, TODAY)
    assert (health.done, health.total) == (1, 3) and health.progress == pytest.approx(1 / 3)
    assert progress_text(plan, TODAY, None, None).startswith("1 of 3 done")
    assert band_text("Evaluate", steps).endswith("1/3 done")
    assert execution_score(plan, TODAY).progress == pytest.approx(1 / 3)
    assert build_digest(plan=plan, changes=[], today=TODAY, plan_url="", previous_close=None).to_dict()[
        "progress"] == {"done": 1, "total": 3}
