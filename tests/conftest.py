"""Shared fixtures: a fixed 'today', a freshly built plan, a plan workbook on disk."""

from __future__ import annotations

import os
import random
from datetime import date
from pathlib import Path

import pytest
from hypothesis import settings as _hypothesis_settings

from mapsheets.adapters.xlsx import write_workbook
from mapsheets.core.layout import workbook_spec
from mapsheets.service import build_plan, get_template

TODAY = date(2026, 12, 1)


@pytest.fixture
def today() -> date:
    return TODAY


@pytest.fixture
def plan():
    """An enterprise MAP for Acme Corp × Globex, deterministic IDs, Dec 2026 → Mar 2027."""
    built, _fit = build_plan(get_template("enterprise-map"), buyer="Acme Corp", seller="Globex",
                             start=TODAY, close=date(2027, 3, 31), rng=random.Random(7))
    # Only people on the plan may sign (issue 20): the tests' buyer and seller are its two owners.
    built.seller_lead, built.buyer_lead = "Sam Seller <sam@globex.example>", "Jane Doe <jane@acme.example>"
    return built


@pytest.fixture
def plan_file(tmp_path: Path, plan) -> Path:
    path = tmp_path / "acme-map.xlsx"
    write_workbook(path, workbook_spec(plan))
    return path


@pytest.fixture
def db(tmp_path) -> str:
    """A fresh SQLite state store for one test."""
    return f"sqlite:///{tmp_path / 'state.db'}"


@pytest.fixture(scope="session")
def google_api():
    """The Sheets v4 / Drive v3 test double, over real HTTP on 127.0.0.1."""
    from mapsheets.testing.google_api import GoogleApiDouble

    with GoogleApiDouble() as double:
        yield double


@pytest.fixture
def google_env(google_api, monkeypatch):
    """Point mapsheets at the double the way a user would: environment variables."""
    monkeypatch.setenv("MAPSHEETS_GOOGLE_API_ROOT", google_api.root)
    monkeypatch.setenv("MAPSHEETS_GOOGLE_TOKEN", "test-token-not-secret")
    google_api.reset()
    return google_api


@pytest.fixture(autouse=True)
def _private_state(tmp_path_factory, monkeypatch):
    """No test touches the user's own state store or outbox."""
    home = tmp_path_factory.mktemp("state")
    monkeypatch.setenv("MAPSHEETS_DB", f"sqlite:///{home / 'state.db'}")
    monkeypatch.setenv("MAPSHEETS_OUTBOX", str(home / "outbox"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home))
    monkeypatch.setenv("MAPSHEETS_CACHE_DIR", str(home / "cache"))  # holiday dates, forecasts: per test
    monkeypatch.setenv("MAPSHEETS_TZ", "UTC")
    # The default holiday calendar follows the locale: no country unless a test sets one.
    for name in ("LC_ALL", "LC_TIME", "MAPSHEETS_HOLIDAYS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")



# Property tests: 2,000 examples where CI=true (the text round trip must see that many), fewer locally.
# A test's own @settings(max_examples=...) still wins.
_hypothesis_settings.register_profile("ci", max_examples=2000, deadline=None, print_blob=True)
_hypothesis_settings.register_profile("dev", max_examples=150, deadline=None)
_hypothesis_settings.load_profile("ci" if os.environ.get("CI", "").lower() == "true" else "dev")
