"""Business-day arithmetic and the lenient date reading that hand-edited sheets need."""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import date, datetime, timedelta

from mapsheets.core.vocabulary import FIRST_YEAR, LAST_YEAR

NO_HOLIDAYS: frozenset[date] = frozenset()
# Spreadsheet serial day 0 (Google Sheets, Excel's 1900 system after its leap-year bug).
SERIAL_EPOCH = date(1899, 12, 30)


def is_business_day(day: date, holidays: Collection[date] = NO_HOLIDAYS) -> bool:
    return day.weekday() < 5 and day not in holidays


def roll_forward(day: date, holidays: Collection[date] = NO_HOLIDAYS) -> date:
    while not is_business_day(day, holidays):
        day += timedelta(days=1)
    return day


def roll_back(day: date, holidays: Collection[date] = NO_HOLIDAYS) -> date:
    while not is_business_day(day, holidays):
        day -= timedelta(days=1)
    return day


def add_business_days(day: date, n: int, holidays: Collection[date] = NO_HOLIDAYS) -> date:
    """``day`` moved by ``n`` business days (negative goes back); 0 rolls a weekend forward."""
    if n == 0:
        return roll_forward(day, holidays)
    step = 1 if n > 0 else -1
    remaining = abs(n)
    # Whole weeks first so long plans do not walk day by day (from a weekday only: a week on
    # from a Saturday is a Saturday).
    if not holidays and remaining > 5 and is_business_day(day):
        weeks, remaining = divmod(remaining, 5)
        day += timedelta(days=7 * weeks * step)
    while remaining:
        day += timedelta(days=step)
        if is_business_day(day, holidays):
            remaining -= 1
    return day


def business_days_between(start: date, end: date, holidays: Collection[date] = NO_HOLIDAYS) -> int:
    """Business days from ``start`` to ``end``: positive when ``end`` is later, 0 on the same day.

    Counts the business days in (start, end], so Friday→Monday is 1.
    """
    if start == end:
        return 0
    sign = 1 if end > start else -1
    lo, hi = (start, end) if sign > 0 else (end, start)
    days = (hi - lo).days
    weeks, rest = divmod(days, 7)
    count = weeks * 5
    cursor = lo + timedelta(days=weeks * 7)
    for _ in range(rest):
        cursor += timedelta(days=1)
        if cursor.weekday() < 5:
            count += 1
    if holidays:
        count -= sum(1 for h in holidays if lo < h <= hi and h.weekday() < 5)
    return sign * count


_MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)}
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T].*)?$")
_YEAR_FIRST_TEXT = re.compile(r"^(\d{4})[/.](\d{1,2})[/.](\d{1,2})$")
_SLASHED = re.compile(r"^(\d{1,2})[/.](\d{1,2})[/.](\d{2}|\d{4})$")
_DAY_MONTH = re.compile(r"^(\d{1,2})[ -]([A-Za-z]{3,9})\.?,?[ -](\d{4})$")
_MONTH_DAY = re.compile(r"^([A-Za-z]{3,9})\.? (\d{1,2})(?:st|nd|rd|th)?,? (\d{4})$")


def from_serial(serial: float) -> date:
    return SERIAL_EPOCH + timedelta(days=int(serial))


def to_serial(day: date) -> int:
    return (day - SERIAL_EPOCH).days


_FIRST_SERIAL, _LAST_SERIAL = to_serial(date(FIRST_YEAR, 1, 1)), to_serial(date(LAST_YEAR, 12, 31))


def parse_date(value: object) -> date | None:
    """A date from what a person or a spreadsheet put in a cell; None if it is not one.

    Accepts date/datetime objects, serial numbers, ISO text, ``2027/03/15``, ``3/15/2027`` (US order
    unless the first number cannot be a month), ``15 Mar 2027`` and ``Mar 15, 2027``.
    """
    return read_date(value)[0]


def read_date(value: object, order: str = "") -> tuple[date | None, str]:
    """A cell's date read in a plan's date order (MDY, DMY or YMD), and what was doubtful about it.

    Only numbers with the year last (``02/05/2027``) depend on the order. Both readings valid and
    different: read in the plan's order, with a note. Impossible in it (``13/05/2027`` in MDY): None,
    with a note. Without an order (or YMD, where people do not write the year last) month comes first
    unless it cannot, and an ambiguous date still gets a note.
    """
    if not isinstance(value, str) or not (m := _SLASHED.match(value.strip())):
        return _parse_unambiguous(value), ""
    text = value.strip()
    a, b, year = int(m[1]), int(m[2]), int(m[3])
    year += 2000 if year < 100 else 0
    month_first, day_first = _valid(year, a, b), _valid(year, b, a)
    if order in ("MDY", "DMY"):
        chosen, other = (month_first, day_first) if order == "MDY" else (day_first, month_first)
        if chosen is None:
            hint = f" ({_spoken(other)} would be {_other(order)})" if other else ""
            return None, f'"{text}" is not a date in the plan\'s date order {order}{hint}'
        how = f"the plan's date order is {order}"
    else:
        chosen, other = (month_first, day_first) if month_first else (day_first, None)
        how = ("the plan's date order YMD puts the year first, so month first" if order == "YMD"
               else "month first: set the plan's Date order (the hidden _mapsheets tab) to MDY, DMY or YMD")
    if chosen and other and other != chosen:
        return chosen, (f'"{text}" could be {_spoken(chosen)} or {_spoken(other)}: read as {_spoken(chosen)} '
                        f"({how}); type {chosen.isoformat()} to be sure")
    return chosen, ""


def date_order_for(calendar: str) -> str:
    """The order people of a holiday calendar's country write dates in; "" without a calendar."""
    country = calendar.strip().upper().partition("-")[0]
    if not country:
        return ""
    if country in _MONTH_FIRST:
        return "MDY"
    return "YMD" if country in _YEAR_FIRST else "DMY"


def normal_date_order(text: str) -> str | None:
    """``DMY``, ``dmy`` or ``DD/MM/YYYY`` as MDY, DMY or YMD; None if it is not a date order."""
    letters = re.sub(r"[^A-Z]", "", text.upper())
    collapsed = "".join(ch for i, ch in enumerate(letters) if i == 0 or letters[i - 1] != ch)
    return collapsed if collapsed in DATE_ORDERS else None


DATE_ORDERS = ("MDY", "DMY", "YMD")
# The US and the places that follow its usage write month first; these write year first;
# everyone else writes day first.
_MONTH_FIRST = frozenset({"US", "AS", "GU", "MP", "PR", "VI", "UM", "FM", "MH", "PW", "PH"})
_YEAR_FIRST = frozenset({"CN", "JP", "KR", "KP", "TW", "HU", "MN", "LT", "IR", "BT"})
_MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
                "October", "November", "December")


def _valid(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _spoken(day: date) -> str:
    return f"{day.day} {_MONTH_NAMES[day.month - 1]} {day.year}"


def _other(order: str) -> str:
    return "DMY" if order == "MDY" else "MDY"


def _parse_unambiguous(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        # Serials in the years dates may fall in only: small numbers are far more likely typos.
        return from_serial(value) if _FIRST_SERIAL <= value <= _LAST_SERIAL else None
    if not isinstance(value, str):
        return None
    text = value.strip()
    try:
        if m := (_ISO.match(text) or _YEAR_FIRST_TEXT.match(text)):
            return date(int(m[1]), int(m[2]), int(m[3]))
        if m := _DAY_MONTH.match(text):
            return date(int(m[3]), _month(m[2]), int(m[1]))
        if m := _MONTH_DAY.match(text):
            return date(int(m[3]), _month(m[1]), int(m[2]))
        if re.fullmatch(r"\d{5}(\.\d+)?", text):
            return _parse_unambiguous(float(text))
    except (ValueError, KeyError):
        return None
    return None


def _month(name: str) -> int:
    return _MONTHS[name[:3].lower()]


def parse_datetime(value: object) -> datetime | None:
    """A timestamp from a cell (datetime, serial with fraction, or ISO text); None if not one."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        day = parse_date(value)
        return datetime.combine(day, datetime.min.time()) + timedelta(days=value % 1) if day else None
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.strip())
        except ValueError:
            day = parse_date(value)
            return datetime.combine(day, datetime.min.time()) if day else None
    if isinstance(value, date):
        return datetime.combine(value, datetime.min.time())
    return None
