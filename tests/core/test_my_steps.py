"""Whose steps come first (core/my_steps.py): theirs by email or by their Team name, soonest first."""

from __future__ import annotations

from datetime import date

from mapsheets.core.model import Plan, Stakeholder, Step
from mapsheets.core.my_steps import NEXT_CAP, owns, step_lists, step_view


def _plan() -> Plan:
    steps = [
        Step("S-0001", "Theirs, by name", phase="A", owners=["Jane Doe"], due=date(2027, 1, 10)),
        Step("S-0002", "Someone else's", phase="A", owners=["Sam Rivera"], due=date(2027, 1, 5)),
        Step("S-0003", "Theirs, by email", phase="B", owners=["JANE@acme.example"], due=date(2027, 1, 3)),
        Step("S-0004", "Theirs, done", phase="B", owners=["Jane Doe"], status="done", due=date(2027, 1, 1)),
        Step("S-0005", "Theirs, no date", phase="B", owners=["Sam", "Jane  Doe <jane@acme.example>"]),
        Step("S-0006", "A namesake's", phase="B", owners=["Jane Doe-Smith"], due=date(2027, 1, 2)),
    ]
    team = [Stakeholder("Jane Doe", "jane@acme.example", "buyer")]
    return Plan(kind="mutual", title="t", buyer="Acme", seller="Globex", steps=steps, stakeholders=team)


def test_their_open_steps_first_by_email_or_team_name_then_the_rest_soonest_first():
    plan = _plan()
    lists = step_lists(plan, "jane@acme.example", "Jane Doe")
    assert [s.id for s in lists.mine] == ["S-0003", "S-0001", "S-0005"]
    assert [s.id for s in lists.next] == ["S-0006", "S-0002"] and lists.more == 0
    # Without a Team name (not on the Team tab) only the email finds them.
    assert [s.id for s in step_lists(plan, "jane@acme.example").mine] == ["S-0003", "S-0005"]
    assert not owns(plan.steps[0], "", "")


def test_the_rest_is_capped_and_counted():
    plan = _plan()
    plan.steps += [Step(f"S-1{i:03d}", f"Other {i}", owners=["Sam"]) for i in range(NEXT_CAP + 3)]
    lists = step_lists(plan, "jane@acme.example", "Jane Doe")
    assert len(lists.next) == NEXT_CAP and lists.more == 5


def test_a_step_as_shown_names_owners_by_team_name_and_its_phase_count():
    plan = _plan()
    view = step_view(plan, plan.steps[2])
    assert view == {"id": "S-0003", "title": "Theirs, by email", "phase": "B", "status": "not started",
                    "due": "2027-01-03", "owners": ["Jane Doe"], "band": "1/4 done"}
