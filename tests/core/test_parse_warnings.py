"""Issue 18: hand edits that change what a plan means get a warning naming the cell, never silence."""

from __future__ import annotations

import openpyxl
from click.testing import CliRunner

from mapsheets.cli import cli
from mapsheets.service import read_plan
from tests.conftest import TODAY
from tests.plan_cells import edit_steps, step_cell


def _messages(path) -> list[str]:
    return [str(w) for w in read_plan(str(path), today=TODAY).warnings]


def test_a_circular_dependency_is_named_with_its_cell(plan_file, plan):
    a, b = plan.steps[1].id, plan.steps[2].id
    edit_steps(plan_file, {(1, "Depends on"): b, (2, "Depends on"): a})
    found = [m for m in _messages(plan_file) if "circular" in m]
    assert len(found) == 1, _messages(plan_file)
    cycle = found[0]
    assert f"{a} → {b} → {a}" in cycle or f"{b} → {a} → {b}" in cycle
    first = a if cycle.index(a) < cycle.index(b) else b
    index = 1 if first == a else 2
    assert cycle.startswith(f"Plan!{step_cell(plan_file, index, 'Depends on')}:")


def test_a_step_depending_on_itself_is_named(plan_file, plan):
    me = plan.steps[3].id
    edit_steps(plan_file, {(3, "Depends on"): me})
    assert any(f"{me} depends on itself" in m for m in _messages(plan_file))


def test_a_side_merged_into_the_step_cell_is_a_warning_not_a_silent_joint_step(plan_file, plan):
    index = next(i for i, s in enumerate(plan.steps) if s.side == "buyer")
    side = step_cell(plan_file, index, "Side")
    title = step_cell(plan_file, index, "Step")
    book = openpyxl.load_workbook(plan_file)
    book["Plan"].merge_cells(f"{title}:{side}")  # Step, Owners… Side: the Side cell's value is dropped
    book.save(plan_file)
    view = read_plan(str(plan_file), today=TODAY)
    assert view.plan.steps[index].side == "joint"
    assert f"Plan!{side}: no side given: read as joint (buyer, seller or joint)" in [str(w) for w in view.warnings]


def test_a_row_typed_by_hand_without_id_or_side_is_not_warned(plan_file):
    book = openpyxl.load_workbook(plan_file)
    ws = book["Plan"]
    header = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "ID")
    cols = {ws.cell(header, c).value: c for c in range(1, ws.max_column + 1)}
    ws.cell(ws.max_row + 1, cols["Step"], "Reference call")
    book.save(plan_file)
    assert not [m for m in _messages(plan_file) if "no side" in m]


def test_a_deleted_team_tab_is_a_warning(plan_file):
    book = openpyxl.load_workbook(plan_file)
    del book["Team"]
    book.save(plan_file)
    assert "Team: the Team tab is gone: owners are matched to people by email only" in _messages(plan_file)


def test_a_cleared_team_tab_is_a_warning_in_show_and_json(plan_file):
    book = openpyxl.load_workbook(plan_file)
    ws = book["Team"]
    for row in ws.iter_rows():
        for cell in row:
            cell.value = None
    book.save(plan_file)
    message = "Team!A1: the Team tab has no Name and Email header row: owners are matched to people by email only"
    assert message in _messages(plan_file)
    shown = CliRunner().invoke(cli, ["show", str(plan_file), "--as-of", TODAY.isoformat()])
    assert "the Team tab has no Name and Email header row" in shown.output
    as_json = CliRunner().invoke(cli, ["show", str(plan_file), "--json", "--as-of", TODAY.isoformat()])
    assert '"cell": "Team!A1"' in as_json.output
