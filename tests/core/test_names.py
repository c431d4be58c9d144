"""Names that say what they hold: a plan's calendar is a code, its JSON and diffs keep their words."""

from __future__ import annotations

import dataclasses

import pytest

from mapsheets.core import diff as diff_module
from mapsheets.core import parse
from mapsheets.core.diff import CHANGE_KINDS, diff
from mapsheets.core.model import KINDS, Plan
from mapsheets.core.vocabulary import PLAN_KINDS


def _plan(**kw: str) -> Plan:
    return Plan(kind="mutual", title="Acme", buyer="Acme", seller="Globex", **kw)


def test_a_plans_calendar_is_a_code_and_holidays_its_read_only_old_name() -> None:
    plan = _plan(calendar="US")
    assert plan.calendar == "US" and plan.holidays == "US"
    with pytest.raises(AttributeError):
        plan.holidays = "GB"  # type: ignore[misc]


def test_json_fingerprints_and_diffs_keep_the_word_holidays() -> None:
    plan = _plan(calendar="US")
    plan.formulas["calendar"] = '=IF(TRUE, "US")'
    data = plan.to_dict()
    assert data["holidays"] == "US" and "calendar" not in data and data["formulas"] == {"holidays": '=IF(TRUE, "US")'}
    again = Plan.from_dict(data)
    assert again.calendar == "US" and again.formulas == {"calendar": '=IF(TRUE, "US")'}
    assert again.fingerprint() == plan.fingerprint() and again.legacy_fingerprint() == plan.legacy_fingerprint()
    [change] = diff(plan, dataclasses.replace(plan, calendar="GB", formulas=dict(plan.formulas)))
    assert change.field == "holidays" and change.describe() == "Holidays changed: US → GB"


def test_the_old_names_still_answer() -> None:
    assert parse.Warning is parse.ParseWarning
    assert diff_module.KINDS is CHANGE_KINDS and KINDS is PLAN_KINDS
