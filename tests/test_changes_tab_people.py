"""Issue 23 part 2: the Changes tab is written for people (headers in words, the change as the digest
words it, dates as dates), its revision cursor small and grey at the end; a tab made before keeps
its own header and its exactly-once logging."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import openpyxl
from digest_helpers import T0
from plan_cells import edit_steps

from mapsheets.adapters.mail import OutboxMailer
from mapsheets.adapters.store import Store
from mapsheets.adapters.xlsx import read_grid
from mapsheets.core.model import Plan
from mapsheets.service import digest

OLD_HEADER = ["When (UTC)", "Who", "What", "Step", "Kind", "Revisions"]


def _run(plan_file: Path, db: str, tmp_path: Path, days: float) -> None:
    digest.run(now=T0 + timedelta(days=days), mailer=OutboxMailer(tmp_path / "outbox"), store_url=db)


def test_the_changes_tab_reads_as_words_with_dates_and_its_cursor_out_of_the_way(
        plan_file: Path, plan: Plan, db: str, tmp_path: Path) -> None:
    digest.watch(str(plan_file), ["ae@globex.example"], now=T0, store_url=db)
    _run(plan_file, db, tmp_path, 0.01)
    due = plan.steps[1].due
    assert due is not None
    edit_steps(plan_file, {(0, "Status"): "Done", (0, "Done on"): datetime(2026, 12, 1),
                           (1, "Due"): datetime.combine(due + timedelta(days=7), datetime.min.time())})
    _run(plan_file, db, tmp_path, 1)
    ws = openpyxl.load_workbook(plan_file)["Changes"]
    rows = list(ws.iter_rows(values_only=True))
    assert list(rows[0]) == ["When", "Who", "What changed", "Before", "After", "mapsheets"]
    # As the digest words it: a Done on filled in with "is now done" is one change, not two.
    assert [r[2] for r in rows[1:]] == [f'"{plan.steps[0].title}" is now done',
                                        f'"{plan.steps[1].title}" slipped 5 business days '
                                        f"({due} → {due + timedelta(days=7)})"]
    assert rows[1][3:5] == (plan.steps[0].status, "done")
    slipped = rows[2]
    assert isinstance(slipped[3], datetime) and slipped[3].date() == due  # a date, not text
    assert ws["A2"].number_format == "yyyy-mm-dd hh:mm" and ws.column_dimensions["A"].width >= 16  # no ###
    assert ws["D3"].number_format.startswith("yyyy-mm-dd")
    assert ws.column_dimensions["F"].width <= 9 and ws["F2"].font.color.rgb.endswith("9E9E9E")
    assert ws["C2"].alignment.wrap_text and ws.column_dimensions["C"].width >= 50
    assert ws.page_setup.fitToWidth == 1 and ws.print_title_rows == "$1:$1"
    assert "Acme Corp" in ws.oddFooter.left.text and ws.page_setup.orientation == "landscape"


def test_a_changes_tab_with_the_old_header_keeps_it_and_logs_exactly_once(
        plan_file: Path, plan: Plan, db: str, tmp_path: Path) -> None:
    digest.watch(str(plan_file), ["ae@globex.example"], now=T0, store_url=db)
    _run(plan_file, db, tmp_path, 0.01)  # the cursor starts here
    edit_steps(plan_file, {(0, "Status"): "Done"})
    # A run killed after writing its rows (old layout, keyed 1→2) but before moving the cursor.
    book = openpyxl.load_workbook(plan_file)
    ws = book.create_sheet("Changes")
    for row in (OLD_HEADER, [datetime(2026, 12, 2, 7), "", f'"{plan.steps[0].title}" is now done',
                             plan.steps[0].id, "step_changed", "1→2"]):
        ws.append(row)
    book.save(plan_file)
    _run(plan_file, db, tmp_path, 1)
    assert read_grid(plan_file)["Changes"][1:] == [[datetime(2026, 12, 2, 7), None,
                                                    f'"{plan.steps[0].title}" is now done', plan.steps[0].id,
                                                    "step_changed", "1→2"]]  # not written twice
    ref = str(plan_file.resolve())
    store = Store(db)
    assert store.sources.logged_revision(ref) == store.revisions.get(ref, "2").id
    edit_steps(plan_file, {(1, "Status"): "blocked"})
    _run(plan_file, db, tmp_path, 2)
    rows = read_grid(plan_file)["Changes"]
    assert rows[0] == OLD_HEADER and len(rows) == 3
    assert rows[2][2:] == [f'"{plan.steps[1].title}" is now blocked (was {plan.steps[1].status})',
                           plan.steps[1].id, "step_changed", "2→3"]


def test_google_makes_the_changes_tab_sized_in_the_one_request(google_env, plan: Plan) -> None:
    from mapsheets.adapters.gsheets import GoogleWorkbook
    from mapsheets.adapters.gsheets_cells import pixels
    from mapsheets.core.changes_log import CHANGES_HEADER, CHANGES_WIDTHS
    from mapsheets.core.layout import workbook_spec

    book = GoogleWorkbook.from_env(None)
    book.create(workbook_spec(plan))
    book.read_grid()
    google_env.reset()
    book.append_rows("Changes", [[datetime(2026, 12, 2, 7), "", "x is now done", "not started", "done", "1→2"],
                                 [datetime(2026, 12, 2, 7), "", "y slipped", date(2027, 1, 5), date(2027, 1, 12),
                                  "1→2"]], header=CHANGES_HEADER)
    assert google_env.stats()["methods"] == {"sheets.spreadsheets.batchUpdate": 1}
    sheet = next(s for s in google_env.spreadsheet(book.sheet_id).sheets if s.title == "Changes")
    assert [sheet.pixel_size("COLUMNS", c) for c in range(6)] == [pixels(CHANGES_WIDTHS[h]) for h in CHANGES_HEADER]
    assert sheet.grid["frozenRowCount"] == 1
    when, before, cursor = sheet.cells[(1, 0)], sheet.cells[(2, 3)], sheet.cells[(1, 5)]
    assert when["userEnteredFormat"]["numberFormat"]["type"] == "DATE_TIME"
    assert before["userEnteredFormat"]["numberFormat"]["type"] == "DATE"
    assert cursor["userEnteredFormat"]["textFormat"]["fontSize"] == 8
    assert sheet.cells[(1, 2)]["userEnteredFormat"]["wrapStrategy"] == "WRAP"
    assert book.read_grid()["Changes"][0] == CHANGES_HEADER
