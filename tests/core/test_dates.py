"""Business-day arithmetic and lenient date reading."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from mapsheets.core.dates import (
    add_business_days,
    business_days_between,
    from_serial,
    parse_date,
    parse_datetime,
    to_serial,
)

FRI, SAT, SUN, MON = date(2027, 1, 8), date(2027, 1, 9), date(2027, 1, 10), date(2027, 1, 11)


@pytest.mark.parametrize(("start", "n", "expected"), [
    (MON, 1, date(2027, 1, 12)),
    (MON, 4, date(2027, 1, 15)),
    (FRI, 1, MON),                       # over the weekend
    (FRI, 5, date(2027, 1, 15)),
    (MON, 10, date(2027, 1, 25)),        # whole weeks
    (MON, 12, date(2027, 1, 27)),
    (SAT, 1, MON),
    (SUN, 1, MON),
    (SAT, 0, MON),                       # 0 rolls a weekend forward
    (FRI, 0, FRI),
    (MON, -1, date(2027, 1, 8)),         # negative goes back over the weekend
    (MON, -5, date(2027, 1, 4)),
    (MON, -11, date(2026, 12, 25)),
    (SUN, -1, FRI),
])
def test_add_business_days(start, n, expected):
    assert add_business_days(start, n) == expected


def test_add_business_days_skips_holidays_both_ways():
    holidays = {date(2027, 1, 12), date(2027, 1, 13)}
    assert add_business_days(MON, 1, holidays) == date(2027, 1, 14)
    assert add_business_days(MON, 6, holidays) == date(2027, 1, 21)
    assert add_business_days(date(2027, 1, 14), -1, holidays) == MON
    assert add_business_days(date(2027, 1, 12), 0, holidays) == date(2027, 1, 14)


def test_add_business_days_matches_day_by_day_walk():
    day = date(2027, 1, 1)
    for n in range(-40, 41):
        walked, remaining, step = day, abs(n), 1 if n > 0 else -1
        while remaining:
            walked = date.fromordinal(walked.toordinal() + step)
            if walked.weekday() < 5:
                remaining -= 1
        assert add_business_days(day, n) == (walked if n else day), n


@pytest.mark.parametrize(("start", "end", "expected"), [
    (MON, MON, 0),
    (FRI, MON, 1),
    (FRI, SAT, 0),
    (MON, date(2027, 1, 15), 4),
    (MON, date(2027, 1, 18), 5),
    (MON, date(2027, 2, 8), 20),
    (MON, FRI, -1),
    (date(2027, 1, 18), MON, -5),
])
def test_business_days_between(start, end, expected):
    assert business_days_between(start, end) == expected


def test_business_days_between_inverts_add():
    for n in range(-30, 31):
        assert business_days_between(MON, add_business_days(MON, n)) == n


def test_business_days_between_with_holidays():
    holidays = {date(2027, 1, 12), date(2027, 1, 16), date(2027, 1, 11)}  # Tue, a Saturday, start day
    assert business_days_between(MON, date(2027, 1, 15), holidays) == 3
    assert business_days_between(date(2027, 1, 15), MON, holidays) == -3


@pytest.mark.parametrize(("text", "expected"), [
    (46461, date(2027, 3, 15)),
    (46461.75, date(2027, 3, 15)),
    ("46461", date(2027, 3, 15)),
    ("2027-03-15", date(2027, 3, 15)),
    ("2027-3-5", date(2027, 3, 5)),
    ("2027-03-15T10:30:00", date(2027, 3, 15)),
    ("  2027-03-15 ", date(2027, 3, 15)),
    ("3/15/2027", date(2027, 3, 15)),
    ("03/04/2027", date(2027, 3, 4)),    # ambiguous: US order
    ("15/3/2027", date(2027, 3, 15)),    # first number cannot be a month
    ("3/15/27", date(2027, 3, 15)),
    ("15.03.2027", date(2027, 3, 15)),
    ("15 Mar 2027", date(2027, 3, 15)),
    ("15 March 2027", date(2027, 3, 15)),
    ("15-Mar-2027", date(2027, 3, 15)),
    ("Mar 15, 2027", date(2027, 3, 15)),
    ("March 15 2027", date(2027, 3, 15)),
    ("mar 15th, 2027", date(2027, 3, 15)),
    (date(2027, 3, 15), date(2027, 3, 15)),
    (datetime(2027, 3, 15, 9, 0), date(2027, 3, 15)),
])
def test_parse_date_accepts(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize("garbage", [
    "next week", "", "   ", "TBD", "2027-02-30", "13/13/2027", "32 Mar 2027", "15 Foo 2027",
    "Mar 15", "15/3", 42, 0, -1, 10**9, True, None, [2027, 3, 15], "=TODAY()",
])
def test_parse_date_rejects_garbage(garbage):
    assert parse_date(garbage) is None


def test_serials_round_trip():
    for day in (date(1970, 1, 1), date(2000, 2, 29), date(2027, 3, 15), date(2100, 12, 31)):
        assert from_serial(to_serial(day)) == day
    assert to_serial(date(2027, 3, 15)) == 46461


def test_parse_datetime():
    assert parse_datetime("2027-03-15T10:30:00") == datetime(2027, 3, 15, 10, 30)
    assert parse_datetime(46461.5) == datetime(2027, 3, 15, 12, 0)
    assert parse_datetime("15 Mar 2027") == datetime(2027, 3, 15)
    assert parse_datetime("soon") is None


def test_whole_weeks_from_a_weekend_land_on_a_weekday():
    from datetime import date

    from mapsheets.core.dates import add_business_days

    saturday = date(2027, 1, 2)
    assert add_business_days(saturday, 10) == date(2027, 1, 15)
    assert add_business_days(saturday, -10) == date(2026, 12, 21)
    for n in range(-30, 31):
        assert add_business_days(saturday, n).weekday() < 5


def test_a_serial_date_reads_in_the_same_years_as_a_typed_one():
    """Typed dates may fall in 1950–2200; a serial of 2200 was refused (the bound was 31 Dec 2199)."""
    from mapsheets.core.dates import parse_date, to_serial

    assert parse_date(float(to_serial(date(2200, 6, 1)))) == parse_date("2200-06-01") == date(2200, 6, 1)
    assert parse_date(float(to_serial(date(1950, 1, 1)))) == date(1950, 1, 1)
    assert parse_date(float(to_serial(date(2201, 1, 1)))) is None and parse_date(18263.0) is None
