"""Holiday calendars: a plan names one (US, GB, DE-BY, ...) and business days skip its holidays.

The ``holidays`` package knows the calendars; the core only ever sees a set of dates.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from datetime import date
from functools import lru_cache

from mapsheets.adapters import holiday_cache
from mapsheets.core.model import Plan
from mapsheets.errors import UsageError


@lru_cache(maxsize=64)
def _dates(code: str, years: tuple[int, ...]) -> frozenset[date]:
    code = code.strip().upper()
    folder, version = holiday_cache.cache_dir(os.environ), holiday_cache.package_version()
    cached = holiday_cache.read(folder, code, years, version)
    if cached is not None:
        return cached
    import holidays

    country, _sep, subdiv = code.partition("-")
    try:
        calendar = holidays.country_holidays(country, subdiv=subdiv or None, years=years)
    except NotImplementedError:
        raise _unknown(code) from None
    days = frozenset(calendar)
    holiday_cache.write(folder, code, years, version, days)
    return days


def _unknown(code: str | None, field: str | None = None) -> UsageError:
    return UsageError(f"holiday calendar {code!r} is not known (use a country code such as US, GB "
                      "or DE, optionally with a region: DE-BY, US-CA)", field=field)


def calendar_code(code: str | None) -> str:
    """A holiday calendar given as an option, checked and in capitals (``de-by`` → ``DE-BY``). A code
    the ``holidays`` package takes as another name of a country (``USA``, ``UK``) is refused with
    the two-letter code meant: the plan names its calendar one way, and that way decides how its
    dates are read (``US`` month first)."""
    text = (code or "").strip().upper()
    if not text:
        return ""
    import holidays

    country, sep, subdiv = text.partition("-")
    try:
        calendar = holidays.country_holidays(country, subdiv=subdiv or None, years=())
    except NotImplementedError:
        raise _unknown(code, "holidays") from None
    if calendar.country != country:
        raise UsageError(f"holiday calendar {code!r} is not a country code: did you mean "
                         f"{calendar.country}{sep}{subdiv}?", field="holidays")
    return text


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
    return holiday_dates(plan.calendar, plan_years(plan, today))


def holiday_name(code: str, day: date) -> str | None:
    """What ``day`` is called in calendar ``code`` ("Martin Luther King Jr. Day"); None if not a holiday."""
    if not code or not code.strip() or day not in holiday_dates(code, [day.year]):
        return None
    import holidays

    country, _sep, subdiv = code.strip().upper().partition("-")
    return holidays.country_holidays(country, subdiv=subdiv or None, years=day.year).get(day)


_LOCALE_COUNTRY = re.compile(r"^[A-Za-z]{2,3}_([A-Za-z]{2})(?:[.@]|$)")


def locale_calendar(environ: Mapping[str, str]) -> tuple[str, str]:
    """The holiday calendar of the user's locale, and the locale setting it was told from.

    The locale is the first of LC_ALL, LC_TIME and LANG that is set (as POSIX resolves it):
    ``en_US.UTF-8`` gives US, ``de_DE`` DE; ``C``, ``POSIX`` or a country the ``holidays`` package
    does not know give "" (weekends only).
    """
    setting = next((environ[n].strip() for n in ("LC_ALL", "LC_TIME", "LANG") if environ.get(n, "").strip()), "")
    found = _LOCALE_COUNTRY.match(setting)
    if not found:
        return "", setting
    import holidays

    country = found[1].upper()
    return (country if country in holidays.list_supported_countries() else ""), setting


def days_off_or_weekends(plan: Plan, today: date | None = None) -> frozenset[date]:
    """The plan's holidays; none when its calendar is one we do not know (weekends only)."""
    try:
        return plan_holidays(plan, today)
    except UsageError:
        return frozenset()


def looks(parsed, today: date | None = None, signatures=None):
    """What a write refreshes beside its own cells (bands, summary lines, Timeline), judged ``today``."""
    from datetime import date as _date

    from mapsheets.core.people import placeholder_renames
    from mapsheets.core.upkeep import parsed_looks
    from mapsheets.service.roles import placeholders

    today = today or _date.today()
    return parsed_looks(parsed, today, days_off_or_weekends(parsed.plan, today), signatures,
                        renames=placeholder_renames(parsed.plan, placeholders(parsed.plan)))
