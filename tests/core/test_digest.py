"""Digest content: what a recipient is told about a plan, built from real diffs of small plans."""

from __future__ import annotations

import copy
import json
from datetime import date, datetime

import pytest

from mapsheets.core.diff import diff
from mapsheets.core.digest import GROUPS, build_digest, change_key
from mapsheets.core.model import Plan, Signature, Stakeholder, Step

TODAY = date(2027, 1, 13)  # a Wednesday
URL = "https://docs.google.com/spreadsheets/d/abc"


def small_plan() -> Plan:
    """Four steps in a chain; the close step is due on the target close."""
    steps = [
        Step("S-0001", "Discovery call", phase="Discovery", owners=["Ann (Globex)"], due=date(2027, 1, 18)),
        Step("S-0002", "Security review", phase="Security", side="buyer", owners=["Bo (Acme)"],
             due=date(2027, 1, 25), depends_on=["S-0001"]),
        Step("S-0003", "Legal terms agreed", phase="Legal", owners=["Cy (Acme)", "Ann (Globex)"],
             due=date(2027, 2, 1), depends_on=["S-0002"]),
        Step("S-0004", "Contract signed", phase="Signature", owners=["Di (Acme)"], due=date(2027, 2, 5),
             depends_on=["S-0003"]),
    ]
    return Plan(kind="mutual", title="Mutual Action Plan: Acme Corp × Globex", buyer="Acme Corp",
                seller="Globex", target_close=date(2027, 2, 5), close_step="S-0004", steps=steps,
                stakeholders=[Stakeholder("Bo (Acme)", "bo@acme.test", "buyer", "Security")])


def digest_of(old: Plan, new: Plan, **kw):
    kw.setdefault("previous_close", None)
    return build_digest(plan=new, changes=diff(old, new), today=kw.pop("today", TODAY), plan_url=URL, **kw)


def test_quiet_plan_is_on_track_and_not_worth_sending():
    plan = small_plan()
    d = digest_of(plan, plan)
    assert (d.health, d.health_reason) == ("on track", "Nothing overdue")
    assert d.groups == () and d.overdue == () and d.change_count == 0
    assert not d.is_worth_sending
    assert d.subject == "[MAP] Acme Corp × Globex: no changes · on track"
    assert [s.id for s in d.due_soon] == ["S-0001"]  # due Mon 18th: within 7 days of Wed 13th


def test_changes_are_grouped_by_kind_in_the_plans_words_with_who():
    old = small_plan()
    new = copy.deepcopy(old)
    new.steps[0].status = "done"
    new.steps[1].due = date(2027, 2, 1)  # Mon 25 Jan -> Mon 1 Feb: 5 business days later
    new.steps[2].owners = ["Cy (Acme)", "Ed (Globex)"]
    new.steps.append(Step("S-0005", "Kickoff", owners=["Ann (Globex)"], due=date(2027, 2, 10)))
    new.steps[3].notes = "wet ink"
    new.target_close = date(2027, 2, 12)
    new.stakeholders.append(Stakeholder("Fay", "fay@acme.test", "buyer", "Legal"))
    new.signatures.append(Signature("Bo (Acme)", "bo@acme.test", "buyer", datetime(2027, 1, 12, 9), "0" * 16))
    actors = {"S-0001": "Ann", "step_changed:S-0002:due": "Bo", "*": "Drive user"}
    d = digest_of(old, new, actors=actors)

    by_key = {g.key: g for g in d.groups}
    assert [g.key for g in d.groups] == [k for k, _h in GROUPS if k in by_key]  # in the reader's order
    assert set(by_key) == {"steps", "status", "due", "owners", "signoff", "overview", "team", "other"}
    assert by_key["due"].heading == "Due dates moved"
    [due] = by_key["due"].items
    assert (due.slip_days, due.severity, due.who) == (5, "high", "Bo")
    assert due.text == '"Security review" slipped 5 business days (2027-01-25 → 2027-02-01)'
    [status] = by_key["status"].items
    assert (status.text, status.who) == ('"Discovery call" is now done', "Ann")  # by step ID
    assert by_key["owners"].items[0].text == 'Owner of S-0003 "Legal terms agreed" changed: Ann (Globex) → Ed (Globex)'
    assert by_key["steps"].items[0].text == "Step added: S-0005 \"Kickoff\" (due 2027-02-10)"
    assert by_key["overview"].items[0].text == "Target close changed: 2027-02-05 → 2027-02-12"
    assert by_key["team"].items[0].who == "Drive user"  # the catch-all
    assert {i.kind for i in by_key["signoff"].items} == {"signature_added", "signature_stale"}
    assert d.change_count == sum(len(g.items) for g in d.groups) == len(diff(old, new))
    assert d.stats["due"] == 1 and d.stats["steps"] == 1
    assert d.is_worth_sending
    assert d.subject == f"[MAP] Acme Corp × Globex: {d.change_count} changes · on track"
    json.dumps(d.to_dict())  # JSON-able all the way down


def test_done_on_set_with_done_is_folded_into_the_status_change():
    old = small_plan()
    new = copy.deepcopy(old)
    new.steps[0].status, new.steps[0].done_on = "done", date(2027, 1, 12)
    new.steps[1].done_on = date(2027, 1, 11)  # a date alone is still news
    d = digest_of(old, new)
    assert [(g.key, [i.text for i in g.items]) for g in d.groups] == [
        ("status", ['"Discovery call" is now done']),
        ("other", ['"Security review" done on 2027-01-11'])]
    assert d.change_count == 2 and len(diff(old, new)) == 3


def test_change_key_names_kind_subject_and_field():
    old = small_plan()
    new = copy.deepcopy(old)
    new.steps[1].due = date(2027, 1, 26)
    new.target_close = date(2027, 2, 8)
    new.stakeholders[0].role = "CISO"
    assert [change_key(c) for c in diff(old, new)] == [
        "step_changed:S-0002:due", "overview_changed::target_close", "stakeholder_changed:Bo (Acme):role"]


def test_without_actors_nobody_is_named():
    old = small_plan()
    new = copy.deepcopy(old)
    new.steps[0].status = "in progress"
    assert digest_of(old, new).groups[0].items[0].who is None


@pytest.mark.parametrize("today, state, reason", [
    (date(2027, 1, 18), "on track", "Nothing overdue"),  # due today is not late
    (date(2027, 1, 19), "at risk", "1 step overdue by 1 business day"),
    (date(2027, 1, 26), "at risk", "1 step overdue by 6 business days"),
    (date(2027, 1, 27), "stalled", "1 step overdue by 7 business days"),
])
def test_health_follows_the_most_overdue_step(today, state, reason):
    plan = small_plan()
    plan.steps[1].due = date(2027, 3, 1)  # only S-0001 (due Mon 18 Jan) can be late
    plan.steps[2].due = plan.steps[3].due = plan.target_close = date(2027, 3, 2)  # so no projected slip
    d = digest_of(plan, plan, today=today)
    assert (d.health, d.health_reason) == (state, reason)
    assert len(d.overdue) == (state != "on track")
    assert d.is_worth_sending == (state != "on track")  # overdue alone is worth an email


def test_overdue_lines_carry_owners_and_days_most_late_first():
    plan = small_plan()
    d = digest_of(plan, plan, today=date(2027, 1, 27))
    assert [(s.id, s.days_overdue, s.owners) for s in d.overdue] == [
        ("S-0001", 7, ("Ann (Globex)",)), ("S-0002", 2, ("Bo (Acme)",))]
    assert d.health_reason == "2 steps overdue, up to 7 business days"
    assert d.subject == "[MAP] Acme Corp × Globex: 2 overdue · stalled"
    assert [s.id for s in d.due_soon] == ["S-0003"]  # S-0004 (5 Feb) is 9 days out


def test_stalled_threshold_is_configurable():
    plan = small_plan()
    late = date(2027, 1, 21)  # S-0001 three business days late
    assert digest_of(plan, plan, today=late).health == "at risk"
    assert digest_of(plan, plan, today=late, stalled_after_days=3).health == "stalled"


def test_no_update_for_too_long_is_stalled_even_with_nothing_overdue():
    plan = small_plan()
    fresh = digest_of(plan, plan, stale_update_days=14, last_update=date(2027, 1, 1))
    assert fresh.health == "on track"  # 12 days quiet
    quiet = digest_of(plan, plan, stale_update_days=14, last_update=date(2026, 12, 30))
    assert (quiet.health, quiet.health_reason) == ("stalled", "No update for 14 days")
    assert digest_of(plan, plan, stale_update_days=14).health == "on track"  # unknown last update


def test_projected_close_against_target_and_since_last_digest():
    old = small_plan()
    new = copy.deepcopy(old)
    new.steps[2].due = date(2027, 2, 10)  # Legal slips Mon 1 Feb -> Wed 10 Feb: the close waits for it
    d = digest_of(old, new, previous_close=date(2027, 2, 5))
    assert (d.close.projected, d.close.target) == (date(2027, 2, 10), date(2027, 2, 5))
    assert d.close.slip_days == 3  # business days late against target (Fri -> Wed)
    assert d.close.moved_days == 3  # and later than the last digest said
    assert digest_of(old, new, previous_close=date(2027, 2, 15)).close.moved_days == -3
    assert digest_of(old, new, previous_close=None).close.moved_days is None
    assert digest_of(old, old, previous_close=date(2027, 2, 5)).close.moved_days == 0
    assert d.to_dict()["close"] == {"projected": "2027-02-10", "target": "2027-02-05", "slip_days": 3,
                                    "previous": "2027-02-05", "moved_days": 3}


def test_subject_is_one_short_line_whatever_the_sheet_says():
    plan = small_plan()
    plan.buyer = "Acme\r\nBcc: victim@example.com " + "x" * 300
    d = digest_of(plan, plan)
    assert "\n" not in d.subject and "\r" not in d.subject
    assert len(d.subject) <= 140 and d.subject.endswith(": no changes · on track")
    plan.buyer = ""
    assert digest_of(plan, plan).subject.startswith("[MAP] Mutual Action Plan: Acme Corp × Globex:")


_STATUSES = ["not started", "in progress", "blocked", "done", "n/a"]


@pytest.mark.parametrize("today", [date(2027, 1, 13), date(2027, 1, 19), date(2027, 1, 26), date(2027, 2, 8)])
@pytest.mark.parametrize("statuses", [(a, b, c, d) for a in _STATUSES for b in ("done", "blocked", "n/a")
                                      for c in ("not started", "n/a") for d in ("in progress", "done")])
def test_nothing_to_tell_says_what_the_built_digest_would(today, statuses):
    """The digest run skips building a digest on nothing_to_tell: it must agree with is_worth_sending."""
    from mapsheets.core.digest import nothing_to_tell

    plan = small_plan()
    for step, status in zip(plan.steps, statuses, strict=True):
        step.status = status
    built = build_digest(plan=plan, changes=[], today=today, plan_url=URL, previous_close=None)
    assert nothing_to_tell(plan, [], today) == (not built.is_worth_sending)
    changed = copy.deepcopy(plan)
    changed.steps[0].title = "Discovery call, moved"
    assert not nothing_to_tell(changed, diff(plan, changed), today)
    assert not nothing_to_tell(plan, [], today, closing_notice=True)
