"""The plan's calendar: the default from the user's locale, and dates given by hand against it."""

from __future__ import annotations

import json

import pytest
from cli_helpers import invoke_cli

from mapsheets.service.calendars import locale_calendar

NEW = ["new", "-t", "midmarket-map", "--buyer", "Acme", "--seller", "Globex", "--start-date", "2026-12-01",
       "--close-date", "2027-03-31"]


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    def invoke(*args, env=None):
        return invoke_cli(*args, env=env, catch_exceptions=False)
    return invoke


@pytest.mark.parametrize(("environ", "calendar"), [
    ({"LANG": "en_US.UTF-8"}, "US"),
    ({"LANG": "de_DE"}, "DE"),
    ({"LANG": "en_GB.UTF-8", "LC_TIME": "fr_FR@euro"}, "FR"),  # LC_TIME decides dates
    ({"LANG": "en_US.UTF-8", "LC_ALL": "C"}, ""),  # LC_ALL overrides both
    ({"LANG": "C.UTF-8"}, ""),
    ({"LANG": "POSIX"}, ""),
    ({"LANG": "en"}, ""),  # a language without a country
    ({}, ""),
])
def test_locale_calendar(environ, calendar):
    assert locale_calendar(environ)[0] == calendar


def _plan(run, name):
    return json.loads(run("show", name, "--json").stdout)


def test_new_takes_the_calendar_of_the_locale_and_says_so(run):
    result = run(*NEW, "-o", "us.xlsx", env={"LANG": "en_US.UTF-8"})
    assert result.exit_code == 0, result.stderr
    assert "Holidays: US (from your locale en_US.UTF-8; --holidays CODE or --holidays none to change)." in result.stdout
    assert "Dates typed as text read MDY" in result.stdout
    us = _plan(run, "us.xlsx")
    assert (us["holidays"], us["date_order"]) == ("US", "MDY")

    german = run(*NEW, "-o", "de.xlsx", env={"LANG": "de_DE.UTF-8"})
    assert "Holidays: DE (from your locale de_DE.UTF-8" in german.stdout
    assert (_plan(run, "de.xlsx")["holidays"], _plan(run, "de.xlsx")["date_order"]) == ("DE", "DMY")

    plain = run(*NEW, "-o", "c.xlsx", env={"LANG": "C.UTF-8"})
    assert ("Holidays: none, weekends only (your locale C.UTF-8 names no country; --holidays US, GB, DE-BY, ... "
            "to skip public holidays).") in plain.stdout
    assert _plan(run, "c.xlsx")["holidays"] == ""
    # Christmas Day and New Year's Day are off in the US: the locale's plan is laid out around them.
    assert [s["due"] for s in us["steps"]] != [s["due"] for s in _plan(run, "c.xlsx")["steps"]]

    chosen = run(*NEW, "-o", "none.xlsx", "--holidays", "none", "--date-order", "ymd", env={"LANG": "en_US.UTF-8"})
    assert "Holidays: none, weekends only (--holidays none;" in chosen.stdout
    assert (_plan(run, "none.xlsx")["holidays"], _plan(run, "none.xlsx")["date_order"]) == ("", "YMD")


def _step(run, name, step_id):
    return next(s for s in _plan(run, name)["steps"] if s["id"] == step_id)


def test_add_step_due_on_a_holiday_or_weekend_is_a_warning_or_snapped(run):
    run(*NEW, "-o", "us.xlsx", "--holidays", "US")
    kept = run("add-step", "us.xlsx", "--title", "Board meeting", "--due", "2027-01-18")
    assert kept.exit_code == 0
    assert kept.stderr == ("warning: --due 2027-01-18 is Martin Luther King Jr. Day (US), not a business day: "
                           "kept as given (--snap moves it to 2027-01-19)\n")
    assert _step(run, "us.xlsx", kept.stdout.split()[1].rstrip(":"))["due"] == "2027-01-18"

    snapped = run("add-step", "us.xlsx", "--title", "Board meeting", "--due", "2027-01-18", "--snap")
    assert snapped.stderr == ("warning: --due 2027-01-18 is Martin Luther King Jr. Day (US): "
                              "moved to the next business day, 2027-01-19\n")
    assert _step(run, "us.xlsx", snapped.stdout.split()[1].rstrip(":"))["due"] == "2027-01-19"

    weekend = run("add-step", "us.xlsx", "--title", "Offsite", "--due", "2027-01-16", "--snap")
    assert weekend.stderr.startswith("warning: --due 2027-01-16 is a Saturday: "
                                     "moved to the next business day, 2027-01-19")

    plain = run("add-step", "us.xlsx", "--title", "Call", "--due", "2027-01-20", "--snap")
    assert plain.stderr == "" and _step(run, "us.xlsx", plain.stdout.split()[1].rstrip(":"))["due"] == "2027-01-20"


def test_decimal_durations_are_rounded_up_and_said_once(run, tmp_path):
    (tmp_path / "crm.csv").write_text("stage,days\nlegal,7.5\nvalidation,9.2\ndiscovery,5\n", "utf-8")
    (tmp_path / "whole.csv").write_text("stage,days\nlegal,8\nvalidation,10\ndiscovery,5\n", "utf-8")
    crm = run(*NEW, "-o", "crm.xlsx", "--durations", "crm.csv")
    whole = run(*NEW, "-o", "whole.xlsx", "--durations", "whole.csv")
    assert crm.exit_code == whole.exit_code == 0, crm.stderr
    notes = [line for line in crm.stdout.splitlines() if line.startswith("note:")]
    assert notes == ["note: crm.csv: durations rounded up to whole business days: "
                     "Legal & procurement 7.5 → 8, Solution validation 9.2 → 10"]
    assert "note:" not in whole.stdout
    assert [s["due"] for s in _plan(run, "crm.xlsx")["steps"]] == [s["due"] for s in _plan(run, "whole.xlsx")["steps"]]


def test_add_step_due_before_a_step_it_depends_on_is_a_warning(run):
    run(*NEW, "-o", "dep.xlsx", "--holidays", "none")
    steps = _plan(run, "dep.xlsx")["steps"]
    late = max((s for s in steps if s["due"]), key=lambda s: s["due"])
    added = run("add-step", "dep.xlsx", "--title", "Sign early", "--due", "2026-12-01", "--depends-on", late["id"])
    assert added.exit_code == 0
    assert added.stderr == (f"warning: --due 2026-12-01 is before {late['id']}'s due date {late['due']}, "
                            "which it depends on\n")
    fine = run("add-step", "dep.xlsx", "--title", "After it", "--due", "2030-01-02", "--depends-on", late["id"])
    assert fine.exit_code == 0 and fine.stderr == ""
