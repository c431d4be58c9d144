"""A plan's date order: how dates typed as text are read, and a warning naming the cell when a
typed date is ambiguous or impossible in it."""

from __future__ import annotations

import random
from datetime import date, datetime

import openpyxl
import pytest
from plan_cells import edit_steps, step_cell

from mapsheets import service
from mapsheets.adapters.xlsx import write_workbook
from mapsheets.core.dates import date_order_for, read_date
from mapsheets.core.layout import workbook_spec

START = date(2026, 12, 1)


@pytest.mark.parametrize(("order", "typed", "expected", "doubt"), [
    ("MDY", "02/05/2027", date(2027, 2, 5), "could be 5 February 2027 or 2 May 2027"),
    ("DMY", "02/05/2027", date(2027, 5, 2), "could be 2 May 2027 or 5 February 2027"),
    ("DMY", "13/05/2027", date(2027, 5, 13), ""),
    ("MDY", "13/05/2027", None, "not a date in the plan's date order MDY (13 May 2027 would be DMY)"),
    ("DMY", "5/13/27", None, "not a date in the plan's date order DMY"),
    ("MDY", "05/05/2027", date(2027, 5, 5), ""),  # both readings are the same day
    ("", "02/05/2027", date(2027, 2, 5), "read as 5 February 2027 (month first"),
    ("", "13/05/2027", date(2027, 5, 13), ""),
    ("YMD", "2027/05/02", date(2027, 5, 2), ""),
    ("MDY", "2027-05-02", date(2027, 5, 2), ""),  # ISO text is never ambiguous
    ("DMY", datetime(2027, 2, 5, 0, 0), date(2027, 2, 5), ""),  # nor a real date cell
    ("DMY", 46423, date(2027, 2, 5), ""),
])
def test_read_date_in_the_plans_order(order, typed, expected, doubt):
    day, note = read_date(typed, order)
    assert day == expected
    assert (doubt in note) if doubt else note == ""


@pytest.mark.parametrize(("calendar", "order"), [
    ("US", "MDY"), ("us-ca", "MDY"), ("GB", "DMY"), ("DE-BY", "DMY"), ("JP", "YMD"), ("HU", "YMD"),
    ("CN", "YMD"), ("", ""),
])
def test_date_order_defaults_from_the_calendars_country(calendar, order):
    assert date_order_for(calendar) == order
    plan, _fit = service.build_plan(service.get_template("midmarket-map"), buyer="A", seller="B", start=START,
                                    holidays=calendar)
    assert plan.date_order == order
    other, _fit = service.build_plan(service.get_template("midmarket-map"), buyer="A", seller="B", start=START,
                                     holidays=calendar, date_order="dmy")
    assert other.date_order == "DMY"


def _plan_file(tmp_path, **kw):
    plan, _fit = service.build_plan(service.get_template("enterprise-map"), buyer="Acme", seller="Globex",
                                    start=START, rng=random.Random(5), **kw)
    path = tmp_path / "plan.xlsx"
    write_workbook(path, workbook_spec(plan))
    return path, plan


def test_one_sheet_with_both_kinds_of_dates_warns_instead_of_guessing(tmp_path):
    path, plan = _plan_file(tmp_path, holidays="US")  # MDY
    edit_steps(path, {(1, "Due"): "02/05/2027", (2, "Due"): "13/05/2027", (3, "Due"): "2027-05-13",
                      (4, "Due"): datetime(2027, 5, 2)})
    view = service.read_plan(str(path), today=START)
    assert view.plan.date_order == "MDY"
    steps = view.plan.steps
    assert steps[1].due == date(2027, 2, 5)
    assert steps[2].due is None and steps[2].unparsed["Due"] == "13/05/2027"  # kept as typed
    assert (steps[3].due, steps[4].due) == (date(2027, 5, 13), date(2027, 5, 2))
    assert [(w.cell, w.message) for w in view.warnings] == [
        (f"Plan!{step_cell(path, 1, 'Due')}", '"02/05/2027" could be 5 February 2027 or 2 May 2027: read as '
                                              "5 February 2027 (the plan's date order is MDY); "
                                              "type 2027-02-05 to be sure"),
        (f"Plan!{step_cell(path, 2, 'Due')}", "\"13/05/2027\" is not a date in the plan's date order MDY "
                                              "(13 May 2027 would be DMY)"),
    ]


def test_date_order_row_is_kept_on_the_hidden_tab_and_can_be_changed_by_hand(tmp_path):
    # Issue 18: a row only mapsheets reads, out of the buyer's overview (it was a visible Plan row).
    path, plan = _plan_file(tmp_path, holidays="GB")
    edit_steps(path, {(1, "Due"): "02/05/2027"})
    book = openpyxl.load_workbook(path)
    assert not any(r[1].value == "Date order" for r in book["Plan"].iter_rows())
    row = next(r for r in book["_mapsheets"].iter_rows() if r[0].value == "Date order")
    assert row[1].value == "DMY"
    view = service.read_plan(str(path), today=START)
    assert view.plan.steps[1].due == date(2027, 5, 2)
    assert [w.cell for w in view.warnings] == [f"Plan!{step_cell(path, 1, 'Due')}"]

    row[1].value = "mm/dd/yyyy"
    book.save(path)
    assert service.read_plan(str(path), today=START).plan.steps[1].due == date(2027, 2, 5)

    row[1].value = "European"
    book.save(path)
    view = service.read_plan(str(path), today=START)
    assert (view.warnings[0].cell, view.warnings[0].message) == (
        f"_mapsheets!B{row[1].row}",
        '"European" is not a date order (MDY, DMY or YMD): dates typed as text are read month first')
    assert view.plan.date_order == "European"  # kept as typed


def test_a_sheet_without_a_date_order_reads_as_before_but_says_when_it_guessed(tmp_path):
    path, plan = _plan_file(tmp_path)
    book = openpyxl.load_workbook(path)
    assert next(r for r in book["_mapsheets"].iter_rows() if r[0].value == "Date order")[1].value is None
    edit_steps(path, {(1, "Due"): "02/05/2027", (2, "Due"): "13/05/2027"})
    view = service.read_plan(str(path), today=START)
    assert (view.plan.steps[1].due, view.plan.steps[2].due) == (date(2027, 2, 5), date(2027, 5, 13))
    assert [w.cell for w in view.warnings] == [f"Plan!{step_cell(path, 1, 'Due')}"]
    assert "set the plan's Date order (the hidden _mapsheets tab)" in view.warnings[0].message  # issue 18


def test_the_date_order_is_not_part_of_what_is_signed():
    plan, _fit = service.build_plan(service.get_template("midmarket-map"), buyer="A", seller="B", start=START,
                                    holidays="GB")
    before = plan.fingerprint()
    plan.date_order = "MDY"
    assert plan.fingerprint() == before
    assert plan.to_dict()["date_order"] == "MDY"
    assert plan.from_dict(plan.to_dict()).date_order == "MDY"
