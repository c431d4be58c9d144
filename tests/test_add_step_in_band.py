"""Issue 18 part 6: a step added to a phase is written inside that phase's band (it went below the
last band, a Proposal step under "▸ Closed won"), on both backends, without breaking what people
added by hand: their columns and notes move with their rows, merged cells and row heights too."""

from __future__ import annotations

from datetime import timedelta

import openpyxl

from mapsheets import service
from mapsheets.adapters.xlsx import read_grid
from mapsheets.core.parse import parse_plan
from tests.conftest import TODAY


def _phase_runs(plan) -> list[str]:
    phases = [s.phase for s in plan.steps]
    return [p for i, p in enumerate(phases) if i == 0 or phases[i - 1] != p]


def test_a_step_goes_inside_its_phase_and_what_people_added_moves_with_its_rows(plan_file, plan):
    later = next(s for s in plan.steps if s.phase == "Procurement")
    parsed = parse_plan(read_grid(plan_file))
    row_of = parsed.location.step_rows
    book = openpyxl.load_workbook(plan_file)
    ws = book["Plan"]
    extra = ws.max_column + 1
    ws.cell(parsed.location.header_row + 1, extra, "Deal desk")  # a column of their own
    ws.cell(row_of[later.id] + 1, extra, "call Priya first")  # its note on a later row
    ws.merge_cells(start_row=row_of[later.id] + 1, start_column=extra, end_row=row_of[later.id] + 1,
                   end_column=extra + 1)
    ws.row_dimensions[row_of[later.id] + 1].height = 42
    book.save(plan_file)

    step = service.add_step(str(plan_file), title="Redline call", phase="legal", today=TODAY,
                            due=TODAY + timedelta(days=30))
    after = parse_plan(read_grid(plan_file))
    legal_steps = [s.title for s in after.plan.steps if s.phase == "Legal"]
    assert legal_steps[-1] == "Redline call" and _phase_runs(after.plan) == _phase_runs(plan)
    moved = after.location.step_rows[later.id]
    assert moved == row_of[later.id] + 1 and after.plan.step(later.id).extra["Deal desk"] == "call Priya first"
    ws = openpyxl.load_workbook(plan_file)["Plan"]
    assert ws.row_dimensions[moved + 1].height == 42
    assert any(r.min_row == moved + 1 and r.min_col == extra for r in ws.merged_cells.ranges)
    legal_band = next(r for r, (_c, p) in after.location.bands.items() if p == "Legal")
    assert legal_band < after.location.step_rows[step.id] < min(r for r in after.location.bands if r > legal_band)
    assert after.warnings == []


def test_a_sheet_with_formulas_gets_the_step_appended_so_no_reference_moves(plan_file, plan):
    """openpyxl would not move a formula's references: with a formula in the sheet the step is
    appended as before, and the formula still reads what it read."""
    parsed = parse_plan(read_grid(plan_file))
    later = next(s for s in plan.steps if s.phase == "Procurement")
    book = openpyxl.load_workbook(plan_file)
    ws = book["Plan"]
    due_col = parsed.location.columns["Due"] + 1
    target = parsed.location.step_rows[later.id] + 1
    ws.cell(target, due_col).value = f"={openpyxl.utils.get_column_letter(due_col)}{target - 1}+7"
    book.save(plan_file)
    before = service.read_plan(str(plan_file), today=TODAY).plan.step(later.id).due
    step = service.add_step(str(plan_file), title="Redline call", phase="Legal", today=TODAY)
    after = parse_plan(read_grid(plan_file))
    assert after.plan.steps[-1].id == step.id  # appended
    assert service.read_plan(str(plan_file), today=TODAY).plan.step(later.id).due == before


def test_on_google_the_step_goes_inside_its_phase_in_one_request(google_env, plan):
    from mapsheets.adapters.gsheets import GoogleWorkbook
    from mapsheets.core.layout import workbook_spec

    book = GoogleWorkbook.from_env(None)
    book.create(workbook_spec(plan, TODAY))
    later = next(s for s in plan.steps if s.phase == "Procurement")
    parsed = parse_plan(book.read_grid())
    extra_col = max(parsed.location.columns.values()) + 1
    book.update_cells("Plan", {(parsed.location.header_row, extra_col): "Deal desk",
                               (parsed.location.step_rows[later.id], extra_col): "call Priya first"})
    before = google_env.stats()["methods"].get("sheets.spreadsheets.batchUpdate", 0)
    service.add_step(book.ref, title="Redline call", phase="Legal", today=TODAY)
    assert google_env.stats()["methods"]["sheets.spreadsheets.batchUpdate"] == before + 1
    after = parse_plan(book.read_grid())
    assert [s.title for s in after.plan.steps if s.phase == "Legal"][-1] == "Redline call"
    assert _phase_runs(after.plan) == _phase_runs(plan)
    assert after.plan.step(later.id).extra["Deal desk"] == "call Priya first"
