"""A corpus of hand-edited workbooks: written by the real xlsx adapter, edited with openpyxl the
way a person would, read back through the service."""

from __future__ import annotations

import re
import zipfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from mapsheets import service
from mapsheets.adapters import xlsx_read
from mapsheets.adapters.xlsx import read_grid, read_grid_openpyxl, write_workbook
from mapsheets.core.layout import column_letter, workbook_spec
from mapsheets.core.parse import parse_plan
from mapsheets.errors import PlanFileError

TODAY = date(2026, 12, 1)


def typed(grid):
    """A grid with each value's type beside it: 12500 is not 12500.0, a date not a datetime."""
    return {tab: [[(type(v).__name__, v) for v in row] for row in rows] for tab, rows in grid.items()}


def same_parse(a, b) -> None:
    try:
        pa = parse_plan(a)
    except PlanFileError as exc:
        with pytest.raises(PlanFileError, match=re.escape(str(exc))):
            parse_plan(b)
        return
    pb = parse_plan(b)
    assert pa.plan.to_dict() == pb.plan.to_dict()
    assert pa == pb


@pytest.fixture(autouse=True)
def both_readers_agree(monkeypatch):
    """The contract: every read in this corpus, by the calamine reader mapsheets uses, equals the
    openpyxl reader's, cell for cell and type for type, and so does the parse."""
    calamine = xlsx_read.read_grid
    compared = []

    def read_grid(path, data=None):
        grid = calamine(path, data=data)
        reference = read_grid_openpyxl(path, data=data)
        assert typed(grid) == typed(reference)
        same_parse(grid, reference)
        compared.append(path)
        return grid

    monkeypatch.setattr(xlsx_read, "read_grid", read_grid)
    yield
    assert compared, "no read went through the contract"


class Sheet:
    """The Plan tab of a workbook on disk, opened the way a person's spreadsheet app would."""

    def __init__(self, path: Path, tab: str = "Plan"):
        self.path = path
        self.wb = openpyxl.load_workbook(path)
        self.ws = self.wb[tab]
        self.header = next(r for r in range(1, self.ws.max_row + 1)
                           if self.ws.cell(r, 1).value == "ID" and self.ws.cell(r, 3).value == "Step")
        self.cols = {self.ws.cell(self.header, c).value: c for c in range(1, self.ws.max_column + 1)
                     if self.ws.cell(self.header, c).value}

    def row_of(self, step_id: str) -> int:
        col = self.cols["ID"]
        return next(r for r in range(self.header + 1, self.ws.max_row + 1) if self.ws.cell(r, col).value == step_id)

    def cell(self, row: int, label: str):
        return self.ws.cell(row, self.cols[label])

    def last_row(self) -> int:
        return max(r for r in range(self.header, self.ws.max_row + 1)
                   if any(self.ws.cell(r, c).value not in (None, "") for c in range(1, self.ws.max_column + 1)))

    def append(self, **values) -> int:
        row = self.last_row() + 1
        for label, value in values.items():
            self.ws.cell(row, self.cols[label], value)
        return row

    def save(self) -> None:
        self.wb.save(self.path)


CONTRACT = ("id", "phase", "title", "side", "owners", "due", "status", "done_on", "depends_on", "notes")


def fields(steps) -> list[dict]:
    """The standard columns of each step (extra columns are checked on their own)."""
    return [{k: s.to_dict()[k] for k in CONTRACT} for s in steps]


def read(path: Path):
    return service.read_plan(str(path), today=TODAY)


def add_step(path: Path, **kw):
    kw.setdefault("title", "Security questionnaire")
    return service.add_step(str(path), today=TODAY, **kw)


def steps_by_title(view):
    return {s.title: s for s in view.plan.steps}


def cells_of(path: Path, tab: str = "Plan") -> dict[str, object]:
    ws = openpyxl.load_workbook(path)[tab]
    return {c.coordinate: c.value for row in ws.iter_rows() for c in row if c.value is not None}


def test_untouched_file_reads_back_without_warnings(plan_file, plan):
    view = read(plan_file)
    assert view.warnings == []
    assert view.plan.to_dict() == plan.to_dict()


def test_reordered_columns(plan_file, plan):
    sheet = Sheet(plan_file)
    order = ["Step", "Status", "Due", "ID", "Owners", "Notes", "Side", "Depends on", "Done on", "Phase"]
    first, last = sheet.header, sheet.last_row()
    table = [[sheet.ws.cell(r, sheet.cols[h]).value for h in order] for r in range(first, last + 1)]
    for r, values in enumerate(table, start=first):
        for c, value in enumerate(values, start=1):
            sheet.ws.cell(r, c).value = value
    sheet.save()

    view = read(plan_file)
    assert view.warnings == []
    assert view.plan.step_columns == order
    assert fields(view.plan.steps) == fields(plan.steps)

    step = add_step(plan_file, side="buyer", owners=["sec@acme.example"], due=date(2027, 1, 20), phase="Security",
                    new_phase=True)
    ws = openpyxl.load_workbook(plan_file)["Plan"]
    new_row = [ws.cell(last + 1, c).value for c in range(1, 11)]
    assert new_row[:5] == ["Security questionnaire", "not started", datetime(2027, 1, 20), step.id, "sec@acme.example"]
    assert new_row[6] == "buyer" and new_row[9] == "Security"
    assert fields([read(plan_file).plan.step(step.id)]) == fields([step])


def test_extra_columns_are_kept_and_untouched_by_add_step(plan_file, plan):
    sheet = Sheet(plan_file)
    rows = [sheet.row_of(s.id) for s in plan.steps]
    sheet.ws.insert_cols(sheet.cols["Side"])  # a column typed in the middle of the table
    sheet.ws.cell(sheet.header, sheet.cols["Side"], "Risk")
    sheet.ws.cell(rows[1], sheet.cols["Side"], "high")
    budget = len(sheet.cols) + 2
    sheet.ws.cell(sheet.header, budget, "Budget")
    sheet.ws.cell(sheet.header, budget + 1, "Next call")
    sheet.ws.cell(rows[0], budget, 12500)
    sheet.ws.cell(rows[2], budget, "TBC by finance")
    sheet.ws.cell(rows[2], budget + 1, datetime(2027, 1, 5))
    sheet.save()
    before = cells_of(plan_file)

    view = read(plan_file)
    assert view.warnings == []
    assert view.plan.step_columns == ["ID", "Phase", "Step", "Risk", "Side", "Owners", "Due", "Status", "Done on",
                                      "Depends on", "Notes", "Budget", "Next call"]
    # Standard fields unchanged; the extra columns are checked one by one below.
    assert fields(view.plan.steps) == fields(plan.steps)
    assert view.plan.steps[0].extra == {"Risk": None, "Budget": 12500, "Next call": None}
    assert view.plan.steps[1].extra["Risk"] == "high"
    assert view.plan.steps[2].extra == {"Risk": None, "Budget": "TBC by finance", "Next call": datetime(2027, 1, 5)}

    step = add_step(plan_file, side="buyer", owners=["sec@acme.example"])
    after = cells_of(plan_file)
    # The summary lines under the title follow every write (the progress line counts the new step).
    location = parse_plan(read_grid(plan_file)).location
    derived = {f"{column_letter(c)}{r + 1}" for r, c in location.summary_at.values()}
    before, after = ({k: v for k, v in cells.items() if k not in derived} for cells in (before, after))
    added = {k: v for k, v in after.items() if k not in before}
    assert {re.sub(r"\d", "", k): v for k, v in added.items() if v != "not started"} == {
        "A": step.id, "C": "Security questionnaire", "E": "buyer", "F": "sec@acme.example"}
    assert {int(re.sub(r"\D", "", k)) for k in added} == {rows[-1] + 1}
    assert {k: after[k] for k in before} == before

    # A full rewrite of the parsed plan keeps the extra columns, in place.
    copy = plan_file.with_name("copy.xlsx")
    write_workbook(copy, workbook_spec(read(plan_file).plan))
    again = read(copy)
    assert again.warnings == []
    assert again.plan.step_columns == view.plan.step_columns
    assert again.plan.steps[1].extra["Risk"] == "high"
    assert again.plan.steps[2].extra == {"Risk": None, "Budget": "TBC by finance", "Next call": datetime(2027, 1, 5)}
    assert again.plan.step(step.id).title == "Security questionnaire"


def test_a_cleared_status_header_is_a_warning_not_a_plan_of_unstarted_steps(plan_file, plan):
    sheet = Sheet(plan_file)
    sheet.ws.cell(sheet.header, sheet.cols["Status"]).value = None
    sheet.save()
    view = read(plan_file)
    assert [(w.cell, w.message) for w in view.warnings] == [
        (f"Plan!A{sheet.header}", "the steps table has no Status column: every step reads as not started")]


def test_blank_and_inserted_rows(plan_file, plan):
    sheet = Sheet(plan_file)
    third = sheet.row_of(plan.steps[2].id)
    sheet.ws.insert_rows(third)           # an empty row in the middle of the table
    sheet.ws.insert_rows(third)           # and one the person types a step into
    sheet.ws.cell(third, sheet.cols["Step"], "Reference call with an existing customer")
    sheet.ws.cell(third, sheet.cols["Side"], "Seller")
    sheet.ws.cell(third, sheet.cols["Due"], datetime(2026, 12, 18))
    sheet.ws.cell(third, sheet.cols["Depends on"], plan.steps[1].id)
    sheet.save()

    view = read(plan_file)
    assert view.warnings == []
    titles = [s.title for s in view.plan.steps]
    assert titles[:4] == [plan.steps[0].title, plan.steps[1].title,
                          "Reference call with an existing customer", plan.steps[2].title]
    assert len(view.plan.steps) == len(plan.steps) + 1
    inserted = view.plan.steps[2]
    assert inserted.side == "seller" and inserted.due == date(2026, 12, 18)
    assert inserted.depends_on == [plan.steps[1].id]
    assert fields(s for s in view.plan.steps if s is not inserted) == fields(plan.steps)

    step = add_step(plan_file)
    ws = openpyxl.load_workbook(plan_file)["Plan"]
    last = Sheet(plan_file).last_row()
    assert ws.cell(last, 1).value == step.id and ws.cell(last - 1, 1).value == plan.steps[-1].id
    assert [s.title for s in read(plan_file).plan.steps][:-1] == titles


def test_rows_without_an_id_get_a_stable_one_written_by_add_step(plan_file, plan):
    sheet = Sheet(plan_file)
    r1 = sheet.append(Step="Pricing workshop", Phase="Business case", Side="joint")
    r2 = sheet.append(Step="Reference call", Owners="Dana")
    sheet.save()

    first, second = read(plan_file), read(plan_file)
    ids = [s.id for s in first.plan.steps[-2:]]
    assert ids == [s.id for s in second.plan.steps[-2:]]
    assert all(re.fullmatch(r"S-[0-9A-HJKMNP-TV-Z]{4}", i) for i in ids)
    assert len(set(ids) | {s.id for s in plan.steps}) == len(plan.steps) + 2
    assert first.warnings == []
    assert Sheet(plan_file).cell(r1, "ID").value is None

    add_step(plan_file)
    sheet = Sheet(plan_file)
    assert [sheet.cell(r1, "ID").value, sheet.cell(r2, "ID").value] == ids
    after = read(plan_file)
    assert [s.id for s in after.plan.steps[-3:-1]] == ids
    assert after.parsed.location.missing_ids == {}


@pytest.mark.parametrize(("typed", "number_format"), [
    (46461, "General"),
    (46461, "yyyy-mm-dd"),
    ("2027-03-15", "@"),
    ("3/15/2027", "General"),
    ("15/3/2027", "General"),
    ("15 Mar 2027", "General"),
    ("Mar 15, 2027", "General"),
])
def test_dates_as_people_type_them(plan_file, plan, typed, number_format):
    sheet = Sheet(plan_file)
    row = sheet.row_of(plan.steps[3].id)
    sheet.cell(row, "Due").value = typed
    sheet.cell(row, "Due").number_format = number_format
    sheet.cell(row, "Done on").value = typed
    sheet.cell(row, "Status").value = "done"
    sheet.save()

    view = read(plan_file)
    assert view.warnings == []
    step = view.plan.step(plan.steps[3].id)
    assert step.due == date(2027, 3, 15) and step.done_on == date(2027, 3, 15)


@pytest.mark.parametrize(("typed", "status"), [
    ("Complete", "done"),
    ("DONE", "done"),
    ("✅", "done"),
    ("  done  ", "done"),
    ("WIP", "in progress"),
    ("In Progress", "in progress"),
    ("On hold", "blocked"),
    ("BLOCKED", "blocked"),
    ("N/A", "n/a"),
    ("Not Started", "not started"),
    (None, "not started"),
])
def test_status_synonyms_and_case(plan_file, plan, typed, status):
    sheet = Sheet(plan_file)
    sheet.cell(sheet.row_of(plan.steps[4].id), "Status").value = typed
    sheet.save()
    view = read(plan_file)
    assert view.warnings == []
    assert view.plan.step(plan.steps[4].id).status == status


@pytest.mark.parametrize("typed", [
    "jane@acme.example, bob@globex.example",
    "jane@acme.example;bob@globex.example",
    "jane@acme.example\nbob@globex.example",
    "jane@acme.example ;\n bob@globex.example,",
])
def test_several_owners(plan_file, plan, typed):
    sheet = Sheet(plan_file)
    sheet.cell(sheet.row_of(plan.steps[5].id), "Owners").value = typed
    sheet.save()
    view = read(plan_file)
    assert view.warnings == []
    assert view.plan.step(plan.steps[5].id).owners == ["jane@acme.example", "bob@globex.example"]


def test_unreadable_date_warns_with_the_cell_and_is_never_overwritten(plan_file, plan):
    sheet = Sheet(plan_file)
    row = sheet.row_of(plan.steps[6].id)
    sheet.cell(row, "Due").value = "next week"
    sheet.save()

    view = read(plan_file)
    assert [str(w) for w in view.warnings] == [f'Plan!F{row}: "next week" is not a date']
    assert view.to_dict()["warnings"] == [{"cell": f"Plan!F{row}", "message": '"next week" is not a date'}]
    assert view.plan.step(plan.steps[6].id).due is None

    add_step(plan_file, due=date(2027, 1, 20))
    assert Sheet(plan_file).cell(row, "Due").value == "next week"
    assert [str(w) for w in read(plan_file).warnings] == [f'Plan!F{row}: "next week" is not a date']


def test_unknown_status_warns_and_is_kept(plan_file, plan):
    sheet = Sheet(plan_file)
    row = sheet.row_of(plan.steps[1].id)
    sheet.cell(row, "Status").value = "waiting on Bob?"
    sheet.save()

    view = read(plan_file)
    assert len(view.warnings) == 1
    assert view.warnings[0].cell == f"Plan!G{row}"
    assert view.warnings[0].message.startswith('"waiting on Bob?" is not a status')
    assert view.plan.step(plan.steps[1].id).status == "not started"
    add_step(plan_file)
    assert Sheet(plan_file).cell(row, "Status").value == "waiting on Bob?"


def test_unknown_dependency_warns(plan_file, plan):
    sheet = Sheet(plan_file)
    row = sheet.row_of(plan.steps[2].id)
    sheet.cell(row, "Depends on").value = f"{plan.steps[1].id.lower()}, S-ZZZZ"
    sheet.save()

    view = read(plan_file)
    assert [(w.cell, w.message) for w in view.warnings] == [(f"Plan!I{row}", "unknown step S-ZZZZ in 'Depends on'")]
    assert view.plan.step(plan.steps[2].id).depends_on == [plan.steps[1].id, "S-ZZZZ"]


def test_formula_looking_title_stays_text(plan_file):
    title = '=IMPORTXML("http://x","//a")'
    step = add_step(plan_file, title=title, notes="+cmd|' /C calc'!A0", owners=["@everyone"])

    sheet = Sheet(plan_file)
    row = sheet.row_of(step.id)
    for label in ("Step", "Notes", "Owners"):
        assert sheet.cell(row, label).data_type == "s"
    assert sheet.cell(row, "Step").value == title
    with zipfile.ZipFile(plan_file) as zf:
        names = [n for n in zf.namelist() if n.startswith("xl/worksheets/sheet")]
        assert names and not any(re.search(rb"<(\w+:)?f[ >]", zf.read(n)) for n in names)
    got = read(plan_file).plan.step(step.id)
    assert (got.title, got.notes, got.owners) == (title, "+cmd|' /C calc'!A0", ["@everyone"])


def test_renamed_plan_tab_is_still_found(plan_file, plan):
    wb = openpyxl.load_workbook(plan_file)
    wb["Plan"].title = "Acme MAP"
    wb.move_sheet("Acme MAP", offset=2)
    wb.save(plan_file)

    view = read(plan_file)
    assert view.warnings == []
    assert view.plan.to_dict() == plan.to_dict()
    assert view.parsed.location.tab == "Acme MAP"
    step = add_step(plan_file)
    assert read(plan_file).plan.step(step.id) is not None

    sheet = Sheet(plan_file, "Acme MAP")
    sheet.cell(sheet.row_of(plan.steps[0].id), "Due").value = "soonish"
    sheet.save()
    assert [w.cell for w in read(plan_file).warnings] == [f"'Acme MAP'!F{sheet.row_of(plan.steps[0].id)}"]


def test_workbook_without_steps_table_is_one_line_error(tmp_path):
    path = tmp_path / "notes.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "Notes"
    wb.active.append(["Meeting notes"])
    wb.active.append(["Call Acme", "Tuesday"])
    wb.save(path)
    with pytest.raises(PlanFileError) as err:
        read(path)
    assert "\n" not in str(err.value) and "no steps table" in str(err.value)


def test_a_second_column_with_a_standard_label_is_kept_not_hidden(plan_file, plan):
    sheet = Sheet(plan_file)
    extra = len(sheet.cols) + 1
    sheet.ws.cell(sheet.header, extra, "Notes")
    sheet.ws.cell(sheet.row_of(plan.steps[0].id), extra, "important caveat")
    sheet.save()
    view = read(plan_file)
    assert view.plan.steps[0].extra == {"Notes (2)": "important caveat"}
    assert [w.message for w in view.warnings] == ['second "Notes" column: read as "Notes (2)"']


def test_a_formula_without_a_cached_value_is_a_warning_not_a_blank(plan_file, plan):
    sheet = Sheet(plan_file)
    row = sheet.row_of(plan.steps[0].id)
    sheet.ws.cell(row, sheet.cols["Due"], "=DATE(2030,3,15)")  # openpyxl stores no cached result
    sheet.save()
    view = read(plan_file)
    assert view.plan.steps[0].due is None
    # Issue 17 part 5: "not computed" (no value is known), no longer "is not a date".
    assert [w.message for w in view.warnings] == ['"=DATE(2030,3,15)" is not computed: its formula was saved '
                                                  'without a result (open and save the workbook in Excel '
                                                  'or LibreOffice)']
    add_step(plan_file)
    book = openpyxl.load_workbook(plan_file)
    assert book["Plan"].cell(row, sheet.cols["Due"]).value == "=DATE(2030,3,15)"  # still the formula
