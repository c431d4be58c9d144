"""The holiday cache: `show` of a plan with a calendar does not load the country calendar again,
gives the same dates as the calendar, and a bad cache never makes a read fail."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from mapsheets.adapters import holiday_cache
from mapsheets.service import calendars

YEARS = (2026, 2027, 2028)

# Runs `show` in a fresh process and says whether the holidays package was imported.
SHOW_AND_TELL = """
import sys
from mapsheets.cli import cli
try:
    cli.main(["show", sys.argv[1]], standalone_mode=False)
finally:  # the command may end with SystemExit(0)
    print("IMPORTED" if "holidays" in sys.modules else "NOT IMPORTED", file=sys.stderr)
"""


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("MAPSHEETS_CACHE_DIR", str(folder))
    calendars._dates.cache_clear()
    yield folder
    calendars._dates.cache_clear()


def _computed(code: str, years: tuple[int, ...]) -> frozenset[date]:
    import holidays

    return frozenset(holidays.country_holidays(code, years=years))


def test_cached_dates_are_the_calendars_dates(cache: Path) -> None:
    first = calendars.holiday_dates("US", YEARS)
    calendars._dates.cache_clear()
    second = calendars.holiday_dates("US", YEARS)  # from disk this time
    assert first == second == _computed("US", YEARS)
    assert date(2027, 7, 5) in second  # Independence Day observed on a Monday
    assert len(list((cache / "holidays").glob("*.json"))) == 1


def test_show_with_a_calendar_does_not_load_the_calendar_once_cached(cache: Path, tmp_path: Path) -> None:
    plan = tmp_path / "plan.xlsx"
    env = {**os.environ, "MAPSHEETS_CACHE_DIR": str(cache)}
    subprocess.run([sys.executable, "-m", "mapsheets.cli", "new", "-t", "enterprise-map", "--buyer", "Acme",
                    "--seller", "Globex", "--holidays", "US", "--start-date", "2027-01-04", "-o", str(plan)],
                   check=True, capture_output=True, env=env)
    runs = [subprocess.run([sys.executable, "-c", SHOW_AND_TELL, str(plan)], capture_output=True, text=True,
                           env=env, check=True) for _ in range(2)]
    assert runs[1].stderr.strip().endswith("NOT IMPORTED"), (runs[1].stderr, runs[1].stdout[-300:])
    assert runs[0].stdout == runs[1].stdout  # the same plan, the same business days


def test_a_new_package_version_is_another_entry(cache: Path) -> None:
    days = frozenset({date(2027, 1, 1)})
    holiday_cache.write(cache, "US", YEARS, "holidays-0.1.dist-info", days)
    assert holiday_cache.read(cache, "US", YEARS, "holidays-0.1.dist-info") == days
    assert holiday_cache.read(cache, "US", YEARS, "holidays-0.2.dist-info") is None
    assert holiday_cache.read(cache, "US", (2027,), "holidays-0.1.dist-info") is None
    assert holiday_cache.read(cache, "GB", YEARS, "holidays-0.1.dist-info") is None


def test_the_version_is_the_installed_packages(cache: Path) -> None:
    from importlib.metadata import version

    assert holiday_cache.package_version() == f"holidays-{version('holidays')}.dist-info"


@pytest.mark.parametrize("content", ["", "{not json", '{"key": "other", "dates": []}', '{"key": 1}', "[]",
                                     '{"dates": ["2027-13-01"]}'])
def test_a_damaged_entry_is_recomputed(cache: Path, content: str) -> None:
    calendars.holiday_dates("US", YEARS)
    (entry,) = (cache / "holidays").glob("*.json")
    key = json.loads(entry.read_text())["key"]
    entry.write_text(content.replace('"dates": ["2027', f'"key": {json.dumps(key)}, "dates": ["2027'))
    calendars._dates.cache_clear()
    assert calendars.holiday_dates("US", YEARS) == _computed("US", YEARS)


def test_a_cache_folder_that_cannot_be_written_never_fails_a_read(cache: Path) -> None:
    cache.parent.mkdir(exist_ok=True)
    cache.write_text("a file where the folder should be")
    assert calendars.holiday_dates("US", YEARS) == _computed("US", YEARS)


def test_an_unknown_calendar_is_still_refused(cache: Path) -> None:
    from mapsheets.errors import UsageError

    with pytest.raises(UsageError, match="not known"):
        calendars.holiday_dates("XX", YEARS)
