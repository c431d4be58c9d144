"""The semantic plan diff over realistic edits of a real enterprise MAP."""

from __future__ import annotations

import copy
import json
from datetime import date, datetime

import openpyxl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mapsheets.adapters.xlsx import read_grid
from mapsheets.core.dates import add_business_days
from mapsheets.core.diff import Change, diff, summary
from mapsheets.core.model import ID_ALPHABET, STATUSES, Plan, Signature, Stakeholder, Step
from mapsheets.core.parse import parse_plan

FIXTURE_OK = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def keys(changes: list[Change]) -> set[tuple]:
    return {(c.kind, c.step_id, c.field) for c in changes}


def step_titled(plan: Plan, words: str) -> Step:
    return next(s for s in plan.steps if words in s.title)


def edited(plan: Plan) -> Plan:
    return copy.deepcopy(plan)


def test_identical_plans_have_no_changes(plan):
    assert diff(plan, plan) == []
    assert diff(plan, edited(plan)) == []
    assert summary([])["total"] == 0


def test_status_change_is_one_change_in_the_plans_words(plan):
    new = edited(plan)
    step_titled(new, "Legal terms agreed").status = "done"
    [change] = diff(plan, new)
    assert (change.kind, change.field, change.old, change.new) == ("step_changed", "status", "not started", "done")
    assert change.describe() == '"Legal terms agreed" is now done'
    step_titled(new, "MSA and DPA").status = "blocked"
    blocked = [c for c in diff(plan, new) if c.new == "blocked"]
    assert blocked[0].severity == "high"
    assert blocked[0].describe() == '"MSA and DPA redlines" is now blocked (was not started)'


def with_due(plan: Plan, words: str, due: date) -> Plan:
    """A copy of ``plan`` with one step due on a known day (the fixture's schedule may change)."""
    out = edited(plan)
    step_titled(out, words).due = due
    return out


def test_due_pushed_across_a_weekend_counts_business_days(plan):
    old = with_due(plan, "Security and architecture review", date(2027, 1, 5))  # a Tuesday
    new = with_due(old, "Security and architecture review", date(2027, 1, 12))  # 7 calendar days later
    [change] = diff(old, new)
    assert change.slip_days == 5
    assert change.severity == "high"
    assert change.describe() == '"Security and architecture review" slipped 5 business days (2027-01-05 → 2027-01-12)'
    old = with_due(plan, "Tailored demo", date(2027, 1, 8))  # Friday
    new = with_due(old, "Tailored demo", date(2027, 1, 11))  # the Monday after
    [change] = diff(old, new)
    assert change.slip_days == 1 and change.severity == "normal"
    assert change.describe().startswith('"Tailored demo to the evaluation team" slipped 1 business day (')


def test_the_close_step_slipping_one_business_day_is_high_severity(plan):
    close = plan.step(plan.close_step)
    old = with_due(plan, close.title, date(2027, 3, 26))  # a Friday
    [change] = diff(old, with_due(old, close.title, date(2027, 3, 29)))  # the Monday after
    assert (change.step_id, change.field, change.slip_days, change.severity) == (close.id, "due", 1, "high")
    [pulled_in] = diff(old, with_due(old, close.title, date(2027, 3, 25)))
    assert (pulled_in.slip_days, pulled_in.severity) == (-1, "normal")  # earlier is good news
    other = next(s for s in plan.steps if s.id != close.id).title
    old = with_due(plan, other, date(2027, 3, 26))
    [change] = diff(old, with_due(old, other, date(2027, 3, 29)))
    assert (change.slip_days, change.severity) == (1, "normal")  # any other step: high from 5 days


def test_due_pulled_in_is_negative_and_holidays_count(plan):
    old = with_due(plan, "Proposal and order form", date(2027, 1, 21))  # Thursday
    new = with_due(old, "Proposal and order form", date(2027, 1, 18))  # the Monday before
    [change] = diff(old, new)
    assert change.slip_days == -3 and change.severity == "normal"
    assert change.describe() == '"Proposal and order form sent" was pulled in 3 business days (2027-01-21 → 2027-01-18)'
    [with_holiday] = diff(old, new, holidays={date(2027, 1, 19)})
    assert with_holiday.slip_days == -2
    step_titled(new, "Proposal and order form").due = None
    [cleared] = diff(old, new)
    assert cleared.slip_days is None and "no longer has a due date" in cleared.describe()


def test_owners_added_and_removed_are_named(plan):
    new = edited(plan)
    step = step_titled(new, "Security and architecture review")
    step.owners = ["bob@acme"]
    old_step = step_titled(plan, "Security and architecture review")
    [change] = diff(plan, new)
    assert change.field == "owners" and change.new == ("bob@acme",)
    assert change.describe() == f'Owner of {step.id} "{step.title}" changed: Acme Corp Security Lead → bob@acme'
    step.owners = old_step.owners + ["ann@acme", "cy@acme"]
    assert diff(plan, new)[0].describe().endswith("changed: added ann@acme, cy@acme")
    step.owners = list(reversed(step.owners))  # order of names alone is not a change of owners
    step.owners = [o for o in step.owners if o not in ("ann@acme", "cy@acme")]
    assert diff(plan, new) == []


def test_steps_inserted_and_deleted(plan):
    new = edited(plan)
    gone = new.steps.pop(4)
    fresh = Step(id="S-ZZZ9", title="Reference call with an existing customer", phase="Solution validation",
                 side="buyer", owners=["Acme Corp Champion"], due=date(2027, 1, 6))
    new.steps.insert(2, fresh)
    changes = diff(plan, new)
    assert keys(changes) == {("step_added", "S-ZZZ9", None), ("step_removed", gone.id, None)}
    added = next(c for c in changes if c.kind == "step_added")
    assert added.new["due"] == "2027-01-06"
    assert added.describe() == 'Step added: S-ZZZ9 "Reference call with an existing customer" (due 2027-01-06)'
    assert [c.kind for c in changes] == ["step_added", "step_removed"]  # in sheet order


def test_removing_the_close_step_is_high_severity(plan):
    new = edited(plan)
    new.steps = [s for s in new.steps if s.id != plan.close_step]
    [change] = diff(plan, new)
    assert change.kind == "step_removed" and change.severity == "high"


def test_one_row_moved_reports_one_move_and_no_content_change(plan):
    new = edited(plan)
    moved = new.steps.pop(12)
    new.steps.insert(1, moved)
    [change] = diff(plan, new)
    assert (change.kind, change.step_id, change.old, change.new) == ("step_moved", moved.id, 13, 2)
    assert change.severity == "low"
    backwards = edited(plan)
    backwards.steps.reverse()
    changes = diff(plan, backwards)
    assert {c.kind for c in changes} == {"step_moved"}
    assert len(changes) == len(plan.steps) - 1


def test_deleted_id_is_matched_by_content(plan):
    new = edited(plan)
    step = step_titled(new, "Economic buyer meeting")
    old_id = step.id
    step.id = "S-0000"  # what the parser derives for a row whose ID cell is empty
    new.steps.insert(0, new.steps.pop(0))
    [change] = diff(plan, new)
    assert (change.kind, change.step_id, change.field, change.old, change.new) \
        == ("step_changed", "S-0000", "id", old_id, "S-0000")


def test_retyped_id_with_edited_title_reports_exactly_those(plan):
    new = edited(plan)
    step = step_titled(new, "Security and architecture review")
    old_id = step.id
    step.id = "S-SEC1"
    step.title = "Security & architecture review (InfoSec)"
    step.status = "in progress"
    changes = diff(plan, new)
    assert keys(changes) == {("step_changed", "S-SEC1", f) for f in ("id", "title", "status")}
    assert [c.field for c in changes] == ["id", "title", "status"]
    assert changes[0].old == old_id


def test_dependents_updated_to_a_retyped_id_are_not_changes(plan):
    new = edited(plan)
    step = step_titled(new, "Legal terms agreed")
    old_id, step.id = step.id, "S-LGL1"
    for s in new.steps:
        s.depends_on = ["S-LGL1" if d == old_id else d for d in s.depends_on]
    assert keys(diff(plan, new)) == {("step_changed", "S-LGL1", "id")}


def test_unrelated_steps_are_not_matched_by_content(plan):
    new = edited(plan)
    gone = new.steps.pop(3)
    new.steps.insert(3, Step(id="S-NEW1", title="Pricing workshop", phase="Commercials", owners=["Someone"]))
    assert keys(diff(plan, new)) == {("step_removed", gone.id, None), ("step_added", "S-NEW1", None)}


def test_extra_columns_are_compared(plan):
    old, new = edited(plan), edited(plan)
    old.steps[0].extra = {"Budget": None}
    new.steps[0].extra = {"Budget": 12000}
    [change] = diff(old, new)
    assert change.field == "extra:Budget" and change.new == 12000
    assert change.describe() == f'Budget of {new.steps[0].id} "{new.steps[0].title}" changed: (empty) → 12000'


def test_an_unparsable_cell_is_shown_as_typed(plan):
    new = edited(plan)
    new.steps[0].unparsed["Status"] = "waiting on legal??"
    [change] = diff(plan, new)
    assert (change.field, change.old, change.new) == ("status", "not started", "waiting on legal??")


def test_overview_and_team_changes(plan):
    new = edited(plan)
    new.target_close = date(2027, 4, 14)
    assert plan.target_close < new.target_close
    new.stakeholders[3].email = "champ@acme.example"  # matched by name, then gets an email
    new.stakeholders[0].role = "Sales manager"
    new.stakeholders.append(Stakeholder("Jane Doe", "jane@acme.example", "buyer", "Legal"))
    del new.stakeholders[7]
    changes = diff(plan, new)
    assert keys(changes) == {
        ("overview_changed", None, "target_close"), ("stakeholder_changed", None, "email"),
        ("stakeholder_changed", None, "role"), ("stakeholder_added", None, None), ("stakeholder_removed", None, None),
    }
    assert changes[0].describe() == f"Target close changed: {plan.target_close} → 2027-04-14"
    assert changes[0].severity == "high"
    assert "Jane Doe (buyer) joined the team" in [c.describe() for c in changes]


def test_signature_staleness(plan):
    signed = edited(plan)
    signed.signatures = [Signature("Jane Doe", "jane@acme", "buyer", datetime(2026, 12, 2, 9, 0), plan.fingerprint())]
    assert diff(signed, edited(signed)) == []
    changed = edited(signed)
    changed.steps[0].title += " (revised)"  # a commitment: status and notes are progress
    stale = [c for c in diff(signed, changed) if c.kind == "signature_stale"]
    assert len(stale) == 1 and stale[0].severity == "high"
    assert stale[0].describe() == "Buyer's signature (Jane Doe) is stale: the plan changed after signing"
    changed_again = edited(changed)
    changed_again.steps[1].owners = ["Someone else"]
    assert "signature_stale" not in {c.kind for c in diff(changed, changed_again)}  # already stale
    resigned = edited(changed)
    resigned.signatures = [Signature("Jane Doe", "jane@acme", "buyer", datetime(2026, 12, 3), changed.fingerprint())]
    assert keys(diff(changed, resigned)) == {("signature_added", None, "fingerprint")}
    late = edited(changed)
    late.signatures.append(Signature("Sam Seller", "sam@globex", "seller", datetime(2026, 12, 3), "0123456789abcdef"))
    assert [c.kind for c in diff(changed, late)] == ["signature_added", "signature_stale"]
    assert [c.kind for c in diff(signed, plan)] == ["signature_removed"]


def test_json_and_summary(plan):
    new = edited(plan)
    new.steps[2].due = add_business_days(new.steps[2].due, 4)
    new.steps[5].due = add_business_days(new.steps[5].due, -2)
    new.steps.pop(8)
    changes = diff(plan, new)
    data = json.loads(json.dumps([c.to_dict() for c in changes]))
    assert data[0]["old"] == plan.steps[2].due.isoformat() and data[0]["slip_days"] == 4
    removed = next(d for d in data if d["kind"] == "step_removed")
    assert "slip_days" not in removed and removed["old"]["id"] == plan.steps[8].id
    counts = summary(changes)
    assert counts["step_changed"] == 2 and counts["step_removed"] == 1 and counts["slipped_days_total"] == 4


def test_order_is_steps_then_overview_team_signatures(plan):
    old = edited(plan)
    old.signatures = [Signature("Jane Doe", "jane@acme", "buyer", None, plan.fingerprint())]
    new = edited(old)
    new.signatures[0] = Signature("Jane Doe", "jane@acme", "buyer", None, plan.fingerprint())
    new.stakeholders[0].role = "CSM"
    new.buyer_lead = "Jane Doe"
    new.steps[9].notes = "waiting on redlines"
    new.steps[1].status = "done"
    kinds = [(c.kind, c.step_id) for c in diff(old, new)]
    assert kinds == [("step_changed", plan.steps[1].id), ("step_changed", plan.steps[9].id),
                     ("overview_changed", None), ("stakeholder_changed", None), ("signature_stale", None)]


# --- through a real workbook -------------------------------------------------------------------

def _header_row(ws) -> int:
    return next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "ID")


def test_columns_reordered_in_the_workbook_are_no_change(plan_file):
    before = parse_plan(read_grid(plan_file)).plan
    wb = openpyxl.load_workbook(plan_file)
    ws = wb["Plan"]
    top = _header_row(ws)
    width = len([c for c in ws[top] if c.value])
    order = [3, 1, 10, 6, 2, 4, 9, 5, 7, 8]  # 1-based source column for each target column
    table = [[ws.cell(r, c).value for c in range(1, width + 1)] for r in range(top, ws.max_row + 1)]
    for n, row in enumerate(table):
        for target, source in enumerate(order, start=1):
            ws.cell(top + n, target).value = row[source - 1]
    wb.save(plan_file)
    after = parse_plan(read_grid(plan_file)).plan
    assert after.step_columns[:3] == ["Step", "ID", "Notes"]
    assert diff(before, after) == []


def test_id_cell_deleted_in_the_workbook(plan_file):
    read = parse_plan(read_grid(plan_file))
    before, rows = read.plan, read.location.step_rows  # phase bands sit between steps: ask the parser
    wb = openpyxl.load_workbook(plan_file)
    ws = wb["Plan"]
    row = rows[before.steps[6].id] + 1
    old_id = ws.cell(row, 1).value
    ws.cell(row, 1).value = None
    ws.cell(rows[before.steps[7].id] + 1, 7).value = "WIP"
    wb.save(plan_file)
    parsed = parse_plan(read_grid(plan_file))
    new_id = parsed.location.missing_ids[row - 1]
    changes = diff(before, parsed.plan)
    assert keys(changes) == {("step_changed", new_id, "id"), ("step_changed", before.steps[7].id, "status")}
    assert changes[0].old == old_id


# --- properties ---------------------------------------------------------------------------------

_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20)
_steps = st.lists(st.builds(
    Step, id=st.text(ID_ALPHABET, min_size=4, max_size=4).map(lambda s: "S-" + s), title=_text, phase=_text,
    owners=st.lists(_text, max_size=3), due=st.none() | st.dates(), status=st.sampled_from(STATUSES), notes=_text,
), max_size=30)


@given(steps=_steps, title=_text)
@settings(max_examples=200, deadline=None)
def test_property_a_plan_never_differs_from_itself(steps, title):
    a = Plan(kind="mutual", title=title, buyer="Acme", seller="Globex", steps=steps)
    assert diff(a, a) == []
    assert diff(a, copy.deepcopy(a)) == []


@given(data=st.data())
@FIXTURE_OK
def test_property_random_edit_script_yields_exactly_those_edits(plan, data):
    new = edited(plan)
    ops = data.draw(st.sets(st.sampled_from(["status", "due", "owner", "retype", "remove", "swap", "add"]), min_size=1))
    victims = iter(data.draw(st.permutations([s.id for s in new.steps])))
    by_id = {s.id: s for s in new.steps}
    expected: set[tuple] = set()
    slips: dict[str, int] = {}
    if "status" in ops:
        step = by_id[next(victims)]
        step.status = data.draw(st.sampled_from([s for s in STATUSES if s != step.status]))
        expected.add(("step_changed", step.id, "status"))
    if "due" in ops:
        step = by_id[next(victims)]
        k = data.draw(st.integers(-15, 15).filter(bool))
        assert step.due.weekday() < 5
        step.due = add_business_days(step.due, k)
        expected.add(("step_changed", step.id, "due"))
        slips[step.id] = k
    if "owner" in ops:
        step = by_id[next(victims)]
        step.owners.append("pat.quinn@acme.example")
        expected.add(("step_changed", step.id, "owners"))
    if "retype" in ops:
        step = by_id[next(victims)]
        step.id = data.draw(st.text(ID_ALPHABET, min_size=4, max_size=4).map(lambda s: "S-" + s)
                            .filter(lambda i: i not in by_id))
        expected.add(("step_changed", step.id, "id"))
    if "remove" in ops:
        gone = by_id[next(victims)]
        new.steps.remove(gone)
        expected.add(("step_removed", gone.id, None))  # victims are distinct: it had no other edit
    swapped: set[str] = set()
    if "swap" in ops:
        k = data.draw(st.integers(0, len(new.steps) - 2))
        new.steps[k], new.steps[k + 1] = new.steps[k + 1], new.steps[k]
        swapped = {new.steps[k].id, new.steps[k + 1].id}
    if "add" in ops:
        at = data.draw(st.integers(0, len(new.steps)))
        new.steps.insert(at, Step(id="S-ADD1", title="Quarterly business review booked", phase="Expansion",
                                  owners=["someone.new@acme.example"], due=date(2027, 3, 10)))
        expected.add(("step_added", "S-ADD1", None))
    changes = diff(plan, new)
    moves = [c for c in changes if c.kind == "step_moved"]
    assert keys(changes) - keys(moves) == expected
    assert len(moves) == (1 if swapped else 0)
    assert all(c.step_id in swapped for c in moves)
    for c in changes:
        if c.field == "due" and c.step_id in slips:
            assert c.slip_days == slips[c.step_id]


def test_restore_ids_gives_an_emptied_id_back_only_when_it_is_free(plan):
    from mapsheets.core.diff import restore_ids
    from mapsheets.core.model import Plan

    new = Plan.from_dict(plan.to_dict())
    lost = new.steps[1].id
    new.steps[1].id = "S-MADE"  # what the parser gives a row whose ID cell is empty
    assert restore_ids(plan, new, {"S-MADE"}) == {"S-MADE": lost}
    assert new.steps[1].id == lost and diff(plan, new) == []
    clash = Plan.from_dict(plan.to_dict())
    clash.steps[1].id, clash.steps[3].id = "S-MADE", lost  # someone typed the old ID on another row
    assert restore_ids(plan, clash, {"S-MADE"}) == {}
