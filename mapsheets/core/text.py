"""Small text helpers every part of the package shares: folding, ISO dates, counts, JSON values. Pure.

One copy each: a title folded one way in the diff and another in the grid diff would match rows
differently, and "1 business days" in one surface and "1 business day" in another reads as a bug.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any


def fold(text: Any) -> str:
    """Text as people compare it: runs of white space one space, case folded (``None`` is "")."""
    return " ".join(str(text or "").split()).casefold()


def iso(day: date | None) -> str | None:
    """A date (or datetime) as ISO text; None stays None."""
    return day.isoformat() if day else None


def plural(n: float, word: str) -> str:
    """``1 plan``, ``2 plans``: a count as people say it (regular plurals only)."""
    return f"{n} {word}" + ("" if n == 1 else "s")


def business_days(n: float) -> str:
    """``1 business day``, ``3 business days``, ``2.5 business days``: a median keeps one decimal."""
    shown = round(float(n), 1)
    return plural(int(shown) if shown == int(shown) else shown, "business day")


def to_json(value: Any) -> Any:
    """A value as JSON keeps it: dates as ISO text, lists and dicts value by value, the rest as text."""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def jsonable(value: Any) -> Any:
    """A cell value as JSON keeps it, so a live cell and a stored one compare equal: dates as ISO
    text, whole floats as ints, blanks as None."""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and not value.strip():
        return None
    return value
