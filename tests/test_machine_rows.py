"""Issue 18, part 2: what the buyer sees. Rows only mapsheets reads (kind, template, close step, date
order, the links between a deal's plans, the outcome's reason) live on a hidden tab on both backends;
old plans with them in the overview read the same and have them moved on their next write."""

from __future__ import annotations

from datetime import date

import openpyxl
import pytest

from mapsheets import service
from mapsheets.adapters.xlsx import read_grid
from mapsheets.core.layout import MACHINE_FIELDS, MACHINE_TAB
from mapsheets.core.model import OVERVIEW_FIELDS
from mapsheets.core.score import execution_score
from mapsheets.service.lifecycle_close import close_plan
from mapsheets.service.workbooks import open_workbook

TODAY = date(2026, 12, 1)
CLOSE = date(2027, 3, 31)
LABELS = {attr: label for attr, label, _t in OVERVIEW_FIELDS}
MACHINE_LABELS = {LABELS[a] for a in MACHINE_FIELDS}  # Kind, Template, Close step, Date order, ...


def _overview_labels(rows) -> set[str]:
    header = next(r for r, row in enumerate(rows) if "Step" in row and "ID" in row)
    return {str(v) for row in rows[:header] for v in row if isinstance(v, str)}


def _hidden_values(rows) -> dict[str, object]:
    return {row[0]: (row[1] if len(row) > 1 else None) for row in rows if row and row[0] in MACHINE_LABELS}


def _new(path, kind="enterprise-map", **kw):
    return service.new_plan(kind, str(path) if path else None, buyer="Acme Corp", seller="Globex", today=TODAY,
                            close=CLOSE, holidays="US", **kw)


@pytest.mark.parametrize("template", ["enterprise-map", "closing-plan"])
def test_a_new_xlsx_plan_shows_no_machine_row_and_keeps_them_on_a_hidden_tab(tmp_path, template):
    path = tmp_path / "plan.xlsx"
    _new(path, template)
    grid = read_grid(path)
    assert not _overview_labels(grid["Plan"]) & (MACHINE_LABELS | {"Outcome reason"})
    assert openpyxl.load_workbook(path)[MACHINE_TAB].sheet_state == "hidden"
    hidden = _hidden_values(grid[MACHINE_TAB])
    assert set(hidden) == MACHINE_LABELS
    plan = service.read_plan(str(path), today=TODAY).plan
    assert (hidden["Kind"], hidden["Template"], hidden["Close step"]) == (plan.kind, template, plan.close_step)
    assert plan.kind == ("closing" if template == "closing-plan" else "mutual") and plan.close_step


def test_a_new_google_plan_shows_no_machine_row_and_its_tab_is_hidden(google_env):
    made = _new(None, google=True)
    sheet_id = made.location.rstrip("/").split("/d/")[1].split("/")[0]
    grid = open_workbook(made.location).read_grid()
    assert not _overview_labels(grid["Plan"]) & MACHINE_LABELS
    hidden = {s.title: s.props.get("hidden") for s in google_env.spreadsheet(sheet_id).sheets}
    assert hidden == {"Plan": None, "Team": None, "Sign-off": None, "Timeline": None, MACHINE_TAB: True}
    plan = service.read_plan(made.location, today=TODAY).plan
    assert plan.kind == "mutual" and plan.template == "enterprise-map" and plan.close_step
    assert _hidden_values(grid[MACHINE_TAB])["Close step"] == plan.close_step


# --- plans made before the hidden tab ------------------------------------------------------------------

OLD_ROWS = {"kind": "mutual", "template": "enterprise-map", "date_order": "DMY",
            "closing_plan": "Initech closing plan", "outcome_reason": "champion moved teams"}


def _make_old(path) -> tuple[list[tuple[int, int]], dict[str, str]]:
    """The layout of a plan made before the hidden tab: machine rows in the overview (label in B,
    value in C, above the blank row before the steps table) and no hidden tab."""
    wb = openpyxl.load_workbook(path)
    close_step = next(r[1].value for r in wb[MACHINE_TAB].iter_rows() if r[0].value == "Close step")
    del wb[MACHINE_TAB]
    ws = wb["Plan"]
    at = next(r for r in range(1, 40) if ws.cell(r, 2).value == "Closed on") + 1
    values = {**OLD_ROWS, "close_step": close_step}
    ws.insert_rows(at, len(values))
    for i, (attr, value) in enumerate(values.items()):
        ws.cell(at + i, 2, LABELS[attr])
        ws.cell(at + i, 3, value)
    ws.cell(at, 5, "kept: a note typed beside the rows")  # hand-typed on a machine row: must survive
    wb.save(path)
    return [(at - 1 + i, c) for i in range(len(values)) for c in (1, 2)], values


def test_an_old_plan_with_visible_machine_rows_reads_the_same_and_one_write_moves_them(tmp_path):
    path = tmp_path / "old.xlsx"
    _new(path)
    cells, values = _make_old(path)
    before = service.read_plan(str(path), today=TODAY)
    assert {a: getattr(before.plan, a) for a in values} == values  # read from the overview
    assert not before.warnings
    assert MACHINE_LABELS - {"Mutual plan"} <= _overview_labels(read_grid(path)["Plan"])

    step = service.add_step(str(path), title="Reference call", today=TODAY, phase="Discovery")
    grid = read_grid(path)
    assert not _overview_labels(grid["Plan"]) & MACHINE_LABELS  # gone from what the buyer sees
    assert all(grid["Plan"][r][c] is None for r, c in cells)  # cleared in place, no row deleted
    assert grid["Plan"][cells[0][0]][4] == "kept: a note typed beside the rows"
    assert openpyxl.load_workbook(path)[MACHINE_TAB].sheet_state == "hidden"
    hidden = _hidden_values(grid[MACHINE_TAB])
    assert {a: hidden[LABELS[a]] for a in values} == values  # nothing lost
    after = service.read_plan(str(path), today=TODAY)
    discovery = sum(s.phase == "Discovery" for s in before.plan.steps)  # the step goes inside its phase
    ids = [s.id for s in before.plan.steps]
    assert [s.id for s in after.plan.steps] == ids[:discovery] + [step.id] + ids[discovery:]
    after.plan.steps = [s for s in after.plan.steps if s.id != step.id]
    assert after.plan.to_dict() == before.plan.to_dict()
    assert not after.warnings


def test_an_old_google_plan_has_its_machine_rows_moved_to_a_hidden_tab_on_the_next_write(google_env):
    made = _new(None, google=True)
    sheet_id = made.location.rstrip("/").split("/d/")[1].split("/")[0]
    book = open_workbook(made.location)
    grid = book.read_grid()
    at = next(r for r, row in enumerate(grid["Plan"]) if len(row) > 1 and row[1] == "Closed on") + 1
    close_step = _hidden_values(grid[MACHINE_TAB])["Close step"]
    ids = {s.title: s.props["sheetId"] for s in google_env.spreadsheet(sheet_id).sheets}
    values = {**OLD_ROWS, "close_step": close_step}
    book._call("post", f"https://sheets.googleapis.com/v4/spreadsheets/{sheet_id}:batchUpdate", json={"requests": [
        {"deleteSheet": {"sheetId": ids[MACHINE_TAB]}},
        {"insertDimension": {"range": {"sheetId": ids["Plan"], "dimension": "ROWS", "startIndex": at,
                                       "endIndex": at + len(values)}}},
        {"updateCells": {"start": {"sheetId": ids["Plan"], "rowIndex": at, "columnIndex": 1},
                         "fields": "userEnteredValue",
                         "rows": [{"values": [{"userEnteredValue": {"stringValue": LABELS[a]}},
                                              {"userEnteredValue": {"stringValue": v}}]} for a, v in values.items()]}},
    ]})
    before = service.read_plan(made.location, today=TODAY).plan
    assert {a: getattr(before, a) for a in values} == values

    service.add_step(made.location, title="Reference call", today=TODAY, phase="Discovery")
    grid = open_workbook(made.location).read_grid()
    assert not _overview_labels(grid["Plan"]) & MACHINE_LABELS
    assert {a: _hidden_values(grid[MACHINE_TAB])[LABELS[a]] for a in values} == values
    assert next(s for s in google_env.spreadsheet(sheet_id).sheets if s.title == MACHINE_TAB).props["hidden"]
    after = service.read_plan(made.location, today=TODAY).plan
    assert {a: getattr(after, a) for a in values} == values


def test_close_writes_the_reason_on_the_hidden_tab_not_in_the_overview(tmp_path):
    path = tmp_path / "map.xlsx"
    _new(path)
    close_plan(str(path), outcome="lost", reason="Lost to X on price", today=TODAY,
                       now=service_now())
    grid = read_grid(path)
    assert not any("Lost to X" in str(v) for row in grid["Plan"] for v in row)
    assert _hidden_values(grid[MACHINE_TAB])["Outcome reason"] == "Lost to X on price"
    assert service.read_plan(str(path), today=TODAY).plan.outcome_reason == "Lost to X on price"


def service_now():
    from datetime import datetime, timezone

    return datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)


# --- a closing plan speaks of the seller's own work -------------------------------------------------------

def test_a_closing_plans_score_line_names_seller_side_measures_only(tmp_path):
    path = tmp_path / "closing.xlsx"
    _new(path, "closing-plan")
    view = service.read_plan(str(path), today=TODAY)
    line = view.score.describe()
    assert "buyer" not in line and "signed" not in line, line
    assert line.startswith(f"{view.score.score}/100 (progress ") and "on time" in line
    assert view.score.to_dict()["buyer_participation"] is None and view.score.to_dict()["signed_sides"] is None
    assert "Signatures" not in _overview_labels(read_grid(path)["Plan"])  # nobody signs a closing plan
    mutual = service.read_plan(str(_new(tmp_path / "map.xlsx").location), today=TODAY)
    assert "buyer steps on time" in mutual.score.describe() and "signed 0/2" in mutual.score.describe()


def test_a_closing_plans_score_weighs_progress_and_on_time_alone():
    from mapsheets.core.model import Plan, Step

    steps = [Step(id="S-1", title="a", status="done", due=date(2026, 11, 1), done_on=date(2026, 11, 1)),
             Step(id="S-2", title="b", side="buyer", due=date(2026, 11, 2))]
    closing = Plan(kind="closing", title="c", buyer="Acme", seller="Globex", steps=steps)
    score = execution_score(closing, TODAY)
    # progress 1/2, on time 1/2 (S-2 overdue): (0.35 × 0.5 + 0.25 × 0.5) / 0.6 = 50
    assert score.score == 50 and score.describe() == "50/100 (progress 50%, on time 50%)"


def test_the_buyer_gets_a_workbook_whose_pages_name_no_machine_row(tmp_path):
    """The whole converted MAP as LibreOffice prints it (hidden tabs are not printed): written to
    test-output/look/buyer-map.pdf and -1.png for a person to look at."""
    import subprocess
    from datetime import datetime, timezone

    from test_convert import EB, QUALIFIED, _fill
    from test_look import OUT, _soffice, render

    from mapsheets.service.convert import convert

    _soffice()
    closing = tmp_path / "initech-closing.xlsx"
    service.new_plan("closing-plan", str(closing), buyer="Acme Corp", seller="Globex", today=TODAY, close=CLOSE,
                     holidays="US", roles={"ae": "Sam Seller <sam@globex.example>"})
    _fill(closing, {**QUALIFIED, "Economic buyer": EB})
    out = tmp_path / "buyer-map.xlsx"
    convert(str(closing), str(out), today=TODAY, now=datetime(2026, 12, 1, 9, tzinfo=timezone.utc))
    OUT.mkdir(parents=True, exist_ok=True)
    pdf = render(out, OUT, tmp_path / "lo", first_page=True)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "Mutual Action Plan" in text and "Target close" in text  # the overview is there
    lines = [line.split() for line in text.splitlines()]
    for label in MACHINE_LABELS:  # no line starts with a machine row's label
        assert not any(words[:len(label.split())] == label.split() for words in lines), label
    assert "enterprise-map" not in text and "closing-plan" not in text and "Read by mapsheets" not in text
    print(f"\nbuyer's MAP: {pdf} and {OUT / 'buyer-map-1.png'}")


def test_the_hidden_tab_is_the_plans_own_not_a_tab_people_added_for_the_grid_diff(tmp_path):
    from mapsheets.service.revisions import read_snapshot

    path = tmp_path / "map.xlsx"
    _new(path)
    snap, _source = read_snapshot(str(path))
    assert MACHINE_TAB not in snap.tabs  # its fields are the plan's, diffed as such, never as cells
