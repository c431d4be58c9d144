"""Scheduling as `new` does it: side branches, what it says about the close, the computed start."""

from __future__ import annotations

import json
from datetime import date

from click.testing import CliRunner

from mapsheets import service
from mapsheets.cli import cli


def test_backward_closing_plan_keeps_side_branches_off_the_signature_day():
    plan, fit = service.build_plan(service.get_template("closing-plan"), buyer="Acme", seller="Globex",
                                   start=date(2027, 6, 1), close=date(2027, 12, 25), backward=True, holidays="US")
    by_title = {s.title: s for s in plan.steps}
    close = plan.step(plan.close_step)
    side = by_title["Competitive position and traps set"]
    proposal_stage = [s for s in plan.steps if s.phase == "Proposal"]
    assert close.due == date(2027, 12, 23)  # Fri 24th is the observed Christmas holiday, 25th a Saturday
    assert side.due < close.due
    # Done by the time the Proposal stage starts, like the Develop step the proposal waits for.
    assert side.due <= min(s.due for s in proposal_stage)
    assert side.due == by_title["Demo and technical validation"].due
    # The sheet starts on the first step's start, not on the day it was made.
    assert plan.start_date == fit.start == date(2027, 10, 14)


def test_new_says_where_the_close_step_really_lands(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    result = runner.invoke(cli, ["new", "-t", "closing-plan", "--buyer", "Acme", "--seller", "Globex",
                                 "--close-date", "2027-12-25", "--backward", "--holidays", "US",
                                 "--start-date", "2027-06-01", "--as-of", "2027-06-01", "-o", "plan.xlsx"],
                          catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    assert "Lands exactly" not in result.stdout
    assert ("The close step is due 2027-12-23, the last business day before the target close 2027-12-25."
            in result.stdout)
    assert result.stdout.startswith("Created plan.xlsx: 11 steps, 2027-10-14 → 2027-12-23")
    data = json.loads(runner.invoke(cli, ["show", "plan.xlsx", "--json", "--as-of", "2027-06-01"]).stdout)
    assert data["start_date"] == "2027-10-14"

    exact = runner.invoke(cli, ["new", "-t", "closing-plan", "--buyer", "Acme", "--seller", "Globex",
                                "--close-date", "2027-12-21", "--backward", "--holidays", "US",
                                "--start-date", "2027-06-01", "--as-of", "2027-06-01", "-o", "exact.xlsx"],
                         catch_exceptions=False)
    assert "Lands exactly on the target close 2027-12-21." in exact.stdout
