"""The .xlsx a person opens: formatting really in the file, and writes that are atomic."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from datetime import date, datetime

import openpyxl
import pytest
from openpyxl.utils import get_column_letter

from mapsheets import service
from mapsheets.adapters.xlsx import read_grid, update_cells, write_workbook
from mapsheets.core.layout import STEP_HEADERS, workbook_spec
from mapsheets.core.model import Signature
from mapsheets.core.parse import parse_plan
from mapsheets.errors import AlreadyExists, PlanFileError


@pytest.fixture
def book(plan_file):
    return openpyxl.load_workbook(plan_file)


def _header_row(ws) -> int:
    return next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "ID" and ws.cell(r, 3).value == "Step")


def _step_rows(path, plan) -> list[int]:
    """1-based rows of the plan's steps, found by the parser (phase bands sit between them)."""
    location = parse_plan(read_grid(path)).location
    return [location.step_rows[s.id] + 1 for s in plan.steps]


def _validations(ws) -> dict[str, str]:
    """sqref -> list formula of each dropdown."""
    return {str(dv.sqref): dv.formula1 for dv in ws.data_validations.dataValidation}


def test_tabs_and_headers(book):
    assert book.sheetnames == ["Plan", "Team", "Sign-off", "Timeline", "_mapsheets"]  # issue 18: + the hidden tab
    assert [ws.sheet_state for ws in book.worksheets] == ["visible"] * 4 + ["hidden"]
    plan = book["Plan"]
    header = _header_row(plan)
    assert [plan.cell(header, c).value for c in range(1, 11)] == list(STEP_HEADERS)
    assert [c.value for c in book["Team"][1]] == ["Name", "Email", "Side", "Role"]
    assert [c.value for c in book["Sign-off"][1]] == ["Name", "Email", "Side", "Signed at", "Fingerprint", "Status",
                                                      "Method", "Recorded by", "Seal"]


def test_bold_header_and_frozen_panes_below_it(book, plan_file, plan):
    ws = book["Plan"]
    header = _header_row(ws)
    assert all(ws.cell(header, c).font.b for c in range(1, 11))
    assert not ws.cell(_step_rows(plan_file, plan)[0], 3).font.b
    plan = ws
    assert plan.freeze_panes == f"A{header + 1}"
    assert plan["A1"].font.b and plan["A1"].font.sz >= 14       # the title
    for tab in ("Team", "Sign-off"):
        assert book[tab].freeze_panes == "A2"
        assert all(c.font.b for c in book[tab][1] if c.value)


def test_due_and_done_dates_have_date_formats(book, plan, plan_file):
    ws = book["Plan"]
    header = _header_row(ws)
    due, done = STEP_HEADERS.index("Due") + 1, STEP_HEADERS.index("Done on") + 1
    for r in _step_rows(plan_file, plan):
        cell = ws.cell(r, due)
        assert isinstance(cell.value, datetime) and cell.is_date
        assert cell.number_format == "yyyy-mm-dd"
        assert ws.cell(r, done).number_format == "yyyy-mm-dd"
    start = next(r for r in range(1, header) if ws.cell(r, 2).value == "Start date")
    assert ws.cell(start, 3).is_date and ws.cell(start, 3).number_format == "yyyy-mm-dd"


def test_status_and_side_dropdowns(book):
    ws = book["Plan"]
    header = _header_row(ws)
    first, last = header + 1, header + 1000
    side = get_column_letter(STEP_HEADERS.index("Side") + 1)
    status = get_column_letter(STEP_HEADERS.index("Status") + 1)
    dropdowns = _validations(ws)
    assert dropdowns == {
        f"{side}{first}:{side}{last}": '"buyer,seller,joint"',
        f"{status}{first}:{status}{last}": '"not started,in progress,done,blocked,n/a"',
    }
    for dv in ws.data_validations.dataValidation:
        assert dv.type == "list" and dv.allow_blank
    team = _validations(book["Team"])
    assert team["C2:C1001"] == '"buyer,seller"'
    assert "Economic buyer" in team["D2:D1001"] and "Champion" in team["D2:D1001"]


def test_two_conditional_formats_done_greyed_overdue_red(book):
    ws = book["Plan"]
    header = _header_row(ws)
    every = [(str(cf.sqref), rule) for cf in ws.conditional_formatting for rule in cf.rules]
    chips = [(sqref, rule) for sqref, rule in every if sqref == f"G{header + 1}:G{header + 1000}"]
    assert len(chips) == 4  # the Status chips (tested in test_look.py)
    rules = [pair for pair in every if pair not in chips and "▸" not in pair[1].formula[0]]  # not the bands
    assert len(rules) == 2
    area = f"A{header + 1}:J{header + 1000}"
    assert all(sqref == area for sqref, _r in rules)
    muted = next(r for _s, r in rules if "TODAY()" not in r.formula[0])
    alert = next(r for _s, r in rules if "TODAY()" in r.formula[0])
    # Every spelling read as done or n/a greys the row (issue 18), "done" and "n/a" among them.
    cell = f"LOWER(TRIM($G{header + 1}))"
    assert muted.formula[0].startswith("OR(") and all(f'{cell}="{w}"' in muted.formula[0]
                                                      for w in ("done", "n/a", "complete", "cancelled"))
    assert muted.dxf.font.color.rgb.endswith("9E9E9E")
    assert f"$F{header + 1}<TODAY()" in alert.formula[0]
    assert alert.dxf.fill.bgColor.rgb.endswith("F8D7DA")


def test_sign_off_is_protected_and_others_are_not(book):
    assert book["Sign-off"].protection.sheet is True
    assert not book["Plan"].protection.sheet and not book["Team"].protection.sheet


def test_column_widths(book):
    ws = book["Plan"]
    widths = {c: ws.column_dimensions[c].width for c in "ABCDEFGHIJ"}
    assert widths["A"] == 9 and widths["C"] == 46 and widths["J"] == 40
    assert all(8 <= w <= 60 for w in widths.values())
    assert book["Team"].column_dimensions["B"].width == 32
    assert book["Sign-off"].column_dimensions["D"].width == 18


def test_signature_timestamps_are_datetimes(tmp_path, plan):
    plan.signatures = [Signature("Jane", "jane@acme.example", "buyer", datetime(2027, 3, 1, 14, 5), "0" * 16)]
    path = tmp_path / "signed.xlsx"
    write_workbook(path, workbook_spec(plan))
    cell = openpyxl.load_workbook(path)["Sign-off"]["D2"]
    assert cell.value == datetime(2027, 3, 1, 14, 5) and cell.number_format == "yyyy-mm-dd hh:mm"
    assert openpyxl.load_workbook(path)["Sign-off"]["F2"].value == "stale"


def test_update_cells_touches_only_those_cells(plan_file):
    def filled(grid):
        return {(tab, r, c): v for tab, rows in grid.items() for r, row in enumerate(rows)
                for c, v in enumerate(row) if v is not None}

    before = filled(read_grid(plan_file))
    update_cells(plan_file, "Plan", {(40, 2): "A new step", (40, 5): date(2027, 2, 1)})
    assert filled(read_grid(plan_file)) == {**before, ("Plan", 40, 2): "A new step",
                                            ("Plan", 40, 5): datetime(2027, 2, 1)}
    assert openpyxl.load_workbook(plan_file)["Plan"].cell(41, 6).number_format == "yyyy-mm-dd"
    with pytest.raises(PlanFileError, match="no tab named 'Nope'"):
        update_cells(plan_file, "Nope", {(0, 0): "x"})


def test_refuses_to_overwrite_without_force(plan_file, plan):
    before = plan_file.read_bytes()
    with pytest.raises(AlreadyExists):
        write_workbook(plan_file, workbook_spec(plan))
    assert plan_file.read_bytes() == before


# --- atomic writes ------------------------------------------------------------------------------

def _crash_midway(monkeypatch, exc: BaseException):
    """openpyxl's save writes part of the file, then the 'disk' fails."""
    from openpyxl.writer.excel import ExcelWriter

    def save(self):
        self._archive.writestr("half", b"half a workbook")
        raise exc
    monkeypatch.setattr(ExcelWriter, "save", save)


@pytest.mark.parametrize("exc", [OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_crash_during_rewrite_leaves_original_intact(monkeypatch, plan_file, plan, exc):
    before = plan_file.read_bytes()
    _crash_midway(monkeypatch, exc)
    expected = PlanFileError if isinstance(exc, OSError) else KeyboardInterrupt
    with pytest.raises(expected):
        write_workbook(plan_file, workbook_spec(plan), force=True)
    with pytest.raises(expected):
        update_cells(plan_file, "Plan", {(40, 2): "A new step"})
    with pytest.raises(expected):
        service.add_step(str(plan_file), title="x", today=plan.start_date)
    assert plan_file.read_bytes() == before
    # No temporary left; the writers' lock file stays (removing it would let two writers in).
    assert sorted(p.name for p in plan_file.parent.iterdir()) == [f".{plan_file.name}.lock", plan_file.name]
    monkeypatch.undo()
    assert service.read_plan(str(plan_file), today=plan.start_date).plan.to_dict() == plan.to_dict()


def test_crash_during_create_leaves_nothing(monkeypatch, tmp_path, plan):
    _crash_midway(monkeypatch, OSError(28, "No space left on device"))
    with pytest.raises(PlanFileError) as err:
        write_workbook(tmp_path / "new.xlsx", workbook_spec(plan))
    assert str(err.value) == f"{tmp_path / 'new.xlsx'}: cannot write (No space left on device)"
    assert list(tmp_path.iterdir()) == []


def test_missing_folder_is_one_error(tmp_path, plan):
    with pytest.raises(PlanFileError) as err:
        write_workbook(tmp_path / "nope" / "new.xlsx", workbook_spec(plan))
    assert str(err.value) == f"{tmp_path / 'nope' / 'new.xlsx'}: folder {tmp_path / 'nope'} does not exist"


def test_file_mode_follows_umask_and_is_kept_on_rewrite(tmp_path, plan):
    old = os.umask(0o022)
    try:
        path = tmp_path / "shared.xlsx"
        write_workbook(path, workbook_spec(plan))
        assert stat.S_IMODE(path.stat().st_mode) == 0o644
        os.chmod(path, 0o640)
        update_cells(path, "Plan", {(40, 2): "x"})
        assert stat.S_IMODE(path.stat().st_mode) == 0o640
    finally:
        os.umask(old)


def test_rich_text_a_person_typed_survives_a_mapsheets_write(plan_file):
    """A note with one bold red word keeps its formatting when mapsheets appends a step."""
    import openpyxl
    from openpyxl.cell.rich_text import CellRichText, TextBlock
    from openpyxl.cell.text import InlineFont

    from mapsheets import service

    book = openpyxl.load_workbook(plan_file, rich_text=True)
    book["Team"]["F1"] = CellRichText(["Do ", TextBlock(InlineFont(b=True, color="FFFF0000"), "NOT"), " share"])
    book.save(plan_file)
    service.add_step(str(plan_file), title="Legal review", today=date(2026, 12, 1))
    kept = openpyxl.load_workbook(plan_file, rich_text=True)["Team"]["F1"].value
    assert isinstance(kept, CellRichText) and str(kept) == "Do NOT share"
    assert any(isinstance(part, TextBlock) and part.font.b for part in kept)


def test_openpyxl_is_loaded_without_numpy_and_numpy_stays_importable(tmp_path):
    """A lone-threaded command skips the numpy import openpyxl would make; numpy is importable
    afterwards, and a numpy number (a pandas result) still lands in a cell as its value."""
    code = f"""
import sys
from pathlib import Path
from mapsheets.adapters import xlsx
xlsx._openpyxl()
assert "openpyxl" in sys.modules and "numpy" not in sys.modules, sorted(m for m in sys.modules if "numpy" in m)
import numpy
from mapsheets.adapters.xlsx import XlsxWorkbook, read_grid, write_workbook
from mapsheets.core.layout import SheetSpec, WorkbookSpec
path = Path({str(tmp_path / "n.xlsx")!r})
write_workbook(path, WorkbookSpec(title="t", sheets=[SheetSpec(title="T", rows=[["n"]])]))
XlsxWorkbook(path).append_rows("T", [[numpy.int64(7), numpy.float64(2.5)]], header=["n"])
print(read_grid(path)["T"][1])
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[7, 2.5]"
