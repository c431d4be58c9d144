"""Reading a Google Workspace add-on event object (the JSON Google POSTs): the open spreadsheet, the
user's tokens, form inputs and the user's time zone. Pure functions over the parsed JSON; anything
missing reads as None or empty, never a crash (the caller asks the user for it).

    {"commonEventObject": {"hostApp": "SHEETS", "platform": "WEB", "userLocale": "en",
                           "timeZone": {"id": "America/New_York", "offset": -18000000},
                           "formInputs": {"title": {"stringInputs": {"value": ["Kickoff"]}},
                                          "due": {"dateInput": {"msSinceEpoch": "1768435200000"}}},
                           "parameters": {"page": "1"}},
     "authorizationEventObject": {"systemIdToken": "...", "userIdToken": "...", "userOAuthToken": "..."},
     "sheets": {"id": "1AbC...", "title": "Acme deal", "addonHasFileScopePermission": true}}
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import Any

from mapsheets.core.vocabulary import SHEET_ID, YEARS, in_years
from mapsheets.errors import UsageError


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def common(event: dict[str, Any]) -> dict[str, Any]:
    return _obj(event.get("commonEventObject"))


def parameters(event: dict[str, Any]) -> dict[str, str]:
    """The clicked button's action parameters."""
    return {str(k): str(v) for k, v in _obj(common(event).get("parameters")).items()}


def sheet_id(event: dict[str, Any]) -> str | None:
    """The open spreadsheet's ID, or None until the user grants this file (drive.file) to the add-on."""
    sheets = _obj(event.get("sheets"))
    if sheets.get("addonHasFileScopePermission") is False:
        return None
    found = sheets.get("id")
    return found if isinstance(found, str) and SHEET_ID.match(found) else None


def _auth(event: dict[str, Any], name: str) -> str | None:
    token = _obj(event.get("authorizationEventObject")).get(name)
    return token.strip() if isinstance(token, str) and token.strip() else None


def user_id_token(event: dict[str, Any]) -> str | None:
    """Who the user is (needs the userinfo.email scope)."""
    return _auth(event, "userIdToken")


def user_oauth_token(event: dict[str, Any]) -> str | None:
    """The user's access token: reaches the spreadsheet for this request only, never kept."""
    return _auth(event, "userOAuthToken")


def user_tz(event: dict[str, Any]) -> tzinfo:
    """The user's time zone: its IANA id, else its offset (milliseconds), else UTC."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    zone = _obj(common(event).get("timeZone"))
    name = zone.get("id")
    if isinstance(name, str) and name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    try:
        return timezone(timedelta(milliseconds=int(zone.get("offset") or 0)))
    except (TypeError, ValueError, OverflowError):
        return timezone.utc


def _input(event: dict[str, Any], name: str) -> dict[str, Any]:
    return _obj(_obj(common(event).get("formInputs")).get(name))


def form_values(event: dict[str, Any], name: str) -> list[str]:
    """A text input's or selection's values (several for multi-select)."""
    values = _obj(_input(event, name).get("stringInputs")).get("value")
    return [str(v) for v in values] if isinstance(values, list) else []


def form_text(event: dict[str, Any], name: str) -> str:
    values = form_values(event, name)
    return values[0] if values else ""


def form_date(event: dict[str, Any], name: str) -> date | None:
    """A date picker's day, in the user's time zone (Google sends milliseconds since the epoch)."""
    picked = _input(event, name)
    ms = _obj(picked.get("dateInput") or picked.get("dateTimeInput")).get("msSinceEpoch")
    if ms in (None, ""):
        return None
    try:
        when = datetime.fromtimestamp(int(ms) / 1000, tz=timezone.utc)
    except (TypeError, ValueError, OverflowError, OSError):
        raise UsageError(f"{name.replace('_', ' ')}: {ms!r} is not a date", field=name) from None
    day = when.astimezone(user_tz(event)).date()
    if not in_years(day.year):
        raise UsageError(f"{name.replace('_', ' ')}: {day} is outside the years {YEARS}", field=name)
    return day


def date_ms(day: date, tz: tzinfo) -> str:
    """Midnight of ``day`` in ``tz`` as Google's valueMsEpoch (an int64 as a string)."""
    return str(int(datetime.combine(day, time(0), tzinfo=tz).timestamp() * 1000))


def today(event: dict[str, Any]) -> date:
    return datetime.now(user_tz(event)).date()


__all__ = ["common", "date_ms", "form_date", "form_text", "form_values", "parameters", "sheet_id", "today",
           "user_id_token", "user_oauth_token", "user_tz"]
