"""The add-on's service answers carry data, and addon_server words them (issue 19, part 3): a
warning is a code with its values, not a command-line sentence the add-on rewrites with a regex."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from addon_server import shown
from mapsheets.core.notices import CHARACTERS_REMOVED, DUE_NOT_BUSINESS_DAY, notice
from mapsheets.errors import UsageError
from mapsheets.service import addon, addon_writes

TODAY = date(2026, 12, 1)
NOW = datetime(2026, 12, 1, 9, tzinfo=timezone.utc)
AE = addon.Caller("sam@globex.example", "Sam Seller")


def test_a_weekend_due_date_is_a_notice_with_its_days(plan_file, db):
    step, said = addon_writes.add_step(str(plan_file), AE, title="Board\x07 review", due=date(2027, 1, 16),
                                       today=TODAY, now=NOW, store=addon.open_store(db))
    assert step.due == date(2027, 1, 16)
    by_code = {n.code: dict(n.values) for n in said}
    assert by_code[DUE_NOT_BUSINESS_DAY] == {"due": "2027-01-16", "day": "a Saturday", "next": "2027-01-18"}
    assert by_code[CHARACTERS_REMOVED]["field"] == "title"
    # The command line's wording stays the notice's text; the sidebar says the next day as a fact.
    due = next(n for n in said if n.code == DUE_NOT_BUSINESS_DAY)
    assert "snap moves it to 2027-01-18" in str(due)
    assert shown.word(due) == ("Due 2027-01-16 is a Saturday, not a business day: kept as given "
                               "(the next business day is 2027-01-18)")


def test_the_sidebar_words_a_notice_from_its_values_not_its_text():
    said = notice(DUE_NOT_BUSINESS_DAY, "worded for another surface", due="2027-12-25",
                  day="Christmas Day (US)", next="2027-12-27")
    assert shown.word(said) == ("Due 2027-12-25 is Christmas Day (US), not a business day: kept as given "
                                "(the next business day is 2027-12-27)")
    assert shown.word(notice("something_new", "a notice without its own words")) == "A notice without its own words"


def test_generate_refuses_an_unknown_calendar_naming_its_field(tmp_path, db):
    with pytest.raises(UsageError) as refused:
        addon_writes.generate(str(tmp_path / "p.xlsx"), AE, template="enterprise-map", buyer="Acme", seller="Globex",
                              holidays="ZZ", today=TODAY, now=NOW, store=addon.open_store(db))
    assert refused.value.field == "holidays" and not (tmp_path / "p.xlsx").exists()


def test_the_sidebar_json_is_made_by_the_surface_from_dataclasses(plan_file, db):
    seen = addon.summary(str(plan_file), AE, today=TODAY, now=NOW, store=addon.open_store(db))
    assert isinstance(seen, addon.Glance) and seen.view is not None and seen.since.first_look
    data = shown.glance(seen)
    assert data["plan"]["title"] == seen.view.plan.title and data["me"]["on_plan"] is True
    assert data["changes"] == {"first_look": True, "since": None, "changes": [], "text": [], "summary": {}}
