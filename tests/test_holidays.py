"""Holiday calendars: a plan that names one schedules, projects and counts slips around it."""

from __future__ import annotations

import random
from datetime import date

import openpyxl
import pytest

from mapsheets import service
from mapsheets.adapters.xlsx import write_workbook
from mapsheets.core.diff import diff
from mapsheets.core.layout import workbook_spec
from mapsheets.errors import UsageError
from mapsheets.service.calendars import holiday_dates

START, CLOSE = date(2026, 12, 1), date(2027, 3, 31)


def build(holidays=""):
    return service.build_plan(service.get_template("enterprise-map"), buyer="Acme", seller="Globex", start=START,
                              close=CLOSE, holidays=holidays, rng=random.Random(3))


def test_no_due_date_falls_on_a_holiday_and_the_plan_is_longer_for_them():
    plain, plain_fit = build()
    us, us_fit = build("us")
    days_off = holiday_dates("US", [2026, 2027])
    assert {date(2026, 12, 25), date(2027, 1, 1)} <= days_off
    assert not [s.due for s in us.steps if s.due in days_off]
    assert [s.due for s in us.steps] != [s.due for s in plain.steps]
    assert us.holidays == "US" and us_fit.finish > plain_fit.finish


def test_the_calendar_is_kept_in_the_sheet_and_used_when_read(tmp_path):
    for calendar, days_late in (("US", 1), ("", 2)):
        plan, _fit = build(calendar)
        plan.steps[0].due = date(2026, 12, 24)
        path = tmp_path / f"plan{calendar}.xlsx"
        write_workbook(path, workbook_spec(plan))
        # Due Thu 24 Dec; on Mon 28 Dec it is 1 business day late in the US (Christmas Day is off).
        view = service.read_plan(str(path), today=date(2026, 12, 28))
        assert view.plan.holidays == calendar
        assert dict((s.id, d) for s, d in view.health.overdue)[plan.steps[0].id] == days_late


def test_slips_are_counted_in_business_days_of_the_calendar():
    old, _fit = build("US")
    new = old.from_dict(old.to_dict())
    new.steps[0].due = date(2026, 12, 31)
    old.steps[0].due = date(2026, 12, 24)
    [change] = diff(old, new, holiday_dates("US", [2026, 2027]))
    assert change.slip_days == 4  # 28, 29, 30, 31 Dec: the 25th is a holiday


def test_unknown_calendars_are_refused_on_new_and_warned_about_when_typed(tmp_path):
    with pytest.raises(UsageError, match="holiday calendar 'Mars' is not known"):
        build("Mars")
    plan, _fit = build()
    path = tmp_path / "plan.xlsx"
    write_workbook(path, workbook_spec(plan))
    book = openpyxl.load_workbook(path)
    row = next(r for r in book["Plan"].iter_rows() if r[1].value == "Holidays")
    row[2].value = "Narnia"
    book.save(path)
    view = service.read_plan(str(path), today=START)
    assert [(w.cell, w.message.split(":")[0]) for w in view.warnings] == [
        (f"Plan!C{row[2].row}", "holiday calendar 'Narnia' is not known (use a country code such as US, GB or DE, "
                                "optionally with a region")]
