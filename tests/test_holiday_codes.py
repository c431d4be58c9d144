"""A holiday calendar given as an option is a country code: `--holidays USA` is refused with the code
meant, not taken as a calendar named USA whose dates read day first."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from mapsheets.cli import cli
from mapsheets.errors import UsageError


@pytest.mark.parametrize("given, meant", [("USA", "US"), ("uk", "GB"), ("DEU-BY", "DE-BY")])
def test_new_refuses_a_holiday_code_that_is_not_a_country_in_one_line(tmp_path, given, meant):
    out = tmp_path / "plan.xlsx"
    result = CliRunner().invoke(cli, ["new", "-t", "enterprise-map", "--buyer", "Initech", "--seller", "Globex",
                                      "--close-date", "2027-03-31", "--start-date", "2026-12-01", "--as-of",
                                      "2026-12-01", "--holidays", given, "-o", str(out), "--no-watch"])
    assert result.exit_code == 1 and result.output.count("\n") == 1, result.output
    assert f"--holidays: holiday calendar {given!r} is not a country code: did you mean {meant}?" in result.output
    assert not out.exists()


def test_country_codes_pass_in_capitals_and_unknown_ones_are_named():
    from mapsheets.service.calendars import calendar_code

    assert [calendar_code(c) for c in ("us", " DE-by ", "", None)] == ["US", "DE-BY", "", ""]
    with pytest.raises(UsageError, match="'XX' is not known"):
        calendar_code("XX")


def test_a_us_calendar_reads_dates_month_first(tmp_path):
    out = tmp_path / "plan.xlsx"
    result = CliRunner().invoke(cli, ["new", "-t", "enterprise-map", "--buyer", "Initech", "--seller", "Globex",
                                      "--close-date", "2027-03-31", "--start-date", "2026-12-01", "--as-of",
                                      "2026-12-01", "--holidays", "us", "-o", str(out), "--no-watch"])
    assert result.exit_code == 0, result.output
    assert "Holidays: US (" in result.output and "read MDY" in result.output
