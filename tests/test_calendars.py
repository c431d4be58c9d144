"""The plan's calendar: the default from the user's locale, and dates given by hand against it."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from mapsheets.cli import cli
from mapsheets.service.calendars import locale_calendar

NEW = ["new", "-t", "midmarket-map", "--buyer", "Acme", "--seller", "Globex", "--start-date", "2026-12-01",
       "--close-date", "2027-03-31"]


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def invoke(*args, env=None):
        return runner.invoke(cli, list(args), env=env, catch_exceptions=False)
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
