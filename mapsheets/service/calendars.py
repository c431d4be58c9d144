"""Holiday calendars: a plan names one (US, GB, DE-BY, ...) and business days skip its holidays.

The ``holidays`` package knows the calendars; the core only ever sees a set of dates.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from functools import lru_cache

from mapsheets.core.model import Plan
from mapsheets.errors import UsageError


@lru_cache(maxsize=64)
def _dates(code: str, years: tuple[int, ...]) -> frozenset[date]:
    import holidays

    country, _sep, subdiv = code.strip().upper().partition("-")
    try:
        calendar = holidays.country_holidays(country, subdiv=subdiv or None, years=years)
    except NotImplementedError:
        raise UsageError(f"holiday calendar {code!r} is not known (use a country code such as US, GB "
                         "or DE, optionally with a region: DE-BY, US-CA)") from None
    return frozenset(calendar)


def holiday_dates(code: str, years: Iterable[int]) -> frozenset[date]:
    """The holidays of calendar ``code`` in ``years``; none for an empty code."""
    if not code or not code.strip():
        return frozenset()
    return _dates(code, tuple(sorted(set(years))))


def plan_years(plan: Plan, today: date | None = None) -> range:
    """Every year a plan's dates (and their slips) can fall in."""
    days = [d for d in (plan.start_date, plan.target_close, plan.go_live, today) if d]
    days += [d for s in plan.steps for d in (s.due, s.done_on) if d]
    if not days:
        return range(0)
    return range(min(days).year - 1, max(days).year + 3)


def plan_holidays(plan: Plan, today: date | None = None) -> frozenset[date]:
    return holiday_dates(plan.holidays, plan_years(plan, today))
