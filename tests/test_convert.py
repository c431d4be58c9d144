"""`mapsheets convert`: a qualified closing plan gives the buyer's MAP; internal steps never reach it."""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from mapsheets import service
from mapsheets.cli import cli
from mapsheets.core.dates import business_days_between
from mapsheets.service.convert import convert
from mapsheets.service.digest import watching
from mapsheets.service.revisions import audit
from mapsheets.service.workbooks import open_workbook

TODAY = date(2026, 12, 1)
CLOSE = date(2027, 3, 31)
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
CHAMPION, EB = "Jane Doe <jane@acme.example>", "Carla Diaz <cfo@acme.example>"
CARRIED = ("Phase", "Step", "Side", "Owners", "Due", "Status", "Done on", "Notes")


def _fill(path: Path, block: dict[str, str], *, shared_extra: str | None = None) -> None:
    """What the AE types: the Qualification block, progress on the demo, one more step marked shared."""
    wb = openpyxl.load_workbook(path)
    ws = wb["Plan"]
    labels = {ws.cell(r, 2).value: r for r in range(1, 45) if isinstance(ws.cell(r, 2).value, str)}
    for label, value in block.items():
        ws.cell(labels[label], 3).value = value
    header = next(r for r in range(1, 60) if ws.cell(r, 1).value == "ID")
    cols = {ws.cell(header, c).value: c for c in range(1, 20) if ws.cell(header, c).value}
    for r in range(header + 1, ws.max_row + 1):
        title = ws.cell(r, cols["Step"]).value
        if title == "Demo and technical validation":
            ws.cell(r, cols["Status"]).value = "WIP"
            ws.cell(r, cols["Notes"]).value = "Demo held 12/3 with IT; second session asked  (two spaces)"
            ws.cell(r, cols["Owners"]).value = "Sam SE <sam@globex.example>; Ana"
        if shared_extra and title == shared_extra:
            ws.cell(r, cols["Visibility"]).value = "Shared"
            ws.cell(r, cols["Status"]).value = "✅"
            ws.cell(r, cols["Done on"]).value = datetime(2026, 12, 4)
    wb.save(path)


QUALIFIED = {"Identified pain": "Month-end close takes 12 days", "Metrics": "Close in 5 days; 2 FTE saved",
             "Champion": CHAMPION, "Competition": "Incumbent spreadsheet + Vendor X"}


@pytest.fixture
def closing(tmp_path) -> Path:
    path = tmp_path / "closing.xlsx"
    service.new_plan("closing-plan", str(path), buyer="Acme Corp", seller="Globex", today=TODAY, close=CLOSE,
                     holidays="", roles={"ae": "Sam Seller <sam@globex.example>"})
    return path


def _cells(path: Path) -> dict[tuple[str, str], object]:
    wb = openpyxl.load_workbook(path)
    return {(ws.title, c.coordinate): c.value for ws in wb for row in ws.iter_rows() for c in row
            if c.value is not None}


def _rows_by_id(path: Path) -> dict[str, dict[str, object]]:
    ws = openpyxl.load_workbook(path)["Plan"]
    header = next(r for r in range(1, 60) if ws.cell(r, 1).value == "ID")
    cols = {ws.cell(header, c).value: c for c in range(1, 20) if ws.cell(header, c).value}
    return {ws.cell(r, 1).value: {h: ws.cell(r, c).value for h, c in cols.items()}
            for r in range(header + 1, ws.max_row + 1) if ws.cell(r, 1).value}


def test_the_map_has_no_internal_step_and_every_shared_step_cell_for_cell(closing, tmp_path):
    _fill(closing, QUALIFIED, shared_extra="Meet the economic buyer")
    before = _cells(closing)
    closing_view = service.read_plan(str(closing), today=TODAY)
    internal = {s.id for s in closing_view.plan.steps
                if s.title not in ("Demo and technical validation", "Proposal and business case delivered",
                                   "Meet the economic buyer")}
    shared = {s.id for s in closing_view.plan.steps} - internal
    out = tmp_path / "acme-map.xlsx"

    result = CliRunner().invoke(cli, ["convert", str(closing), "--economic-buyer", EB, "-o", str(out),
                                      "--as-of", TODAY.isoformat()])
    assert result.exit_code == 0, result.output
    assert "3 shared steps carried over" in result.output and "8 internal left out" in result.output
    assert "Qualification still missing: decision criteria, decision process, paper process." in result.output

    mutual = service.read_plan(str(out), today=TODAY)
    assert mutual.warnings == []
    ids = {s.id for s in mutual.plan.steps}
    assert not ids & internal, "an internal step reached the MAP"
    assert not {s.title for s in mutual.plan.steps} & {s.title for s in closing_view.plan.steps if s.id in internal}
    assert shared <= ids
    old_rows, new_rows = _rows_by_id(closing), _rows_by_id(out)
    for sid in shared:  # the same cells, typed values and all ("WIP", "✅", the notes' double space)
        # Issue 18: each carried step goes into a phase of the MAP; an open one is scheduled forward.
        done = old_rows[sid]["Status"] == "✅"
        same = [h for h in CARRIED if h != "Phase" and (h != "Due" or done) and (h != "Status" or not done)]
        assert {h: new_rows[sid][h] for h in same} == {h: old_rows[sid][h] for h in same}, sid
        if done:  # a symbol the print fonts lack is written as the word it means
            assert new_rows[sid]["Status"] == "done"
        assert new_rows[sid]["Phase"] in {s.name for s in service.get_template("enterprise-map").stages}
    assert new_rows[next(iter(s for s in shared if old_rows[s]["Status"] == "WIP"))]["Status"] == "WIP"
    # "Proposal" depended on an internal step: the MAP names none of them.
    assert all(d in ids for s in mutual.plan.steps for d in s.depends_on)
    assert "Visibility" not in mutual.plan.step_columns

    # The added steps: the template's buyer-side and joint ones, scheduled today .. target close
    # (kickoff follows the signature, as in every MAP).
    added = [s for s in mutual.plan.steps if s.id not in shared]
    assert added and {s.side for s in added} <= {"buyer", "joint"}
    close = mutual.plan.step(mutual.plan.close_step)
    # Issue 18: scheduled forward from today as dependencies allow (no longer pinned to the target close).
    assert close.title == "Contract signed" and TODAY < close.due <= CLOSE
    before_close = [s for s in added if s.title != "Kickoff meeting and onboarding plan"]
    assert all(TODAY <= s.due <= CLOSE for s in before_close), [(s.title, s.due) for s in before_close]

    # Overview carried over, people in place, the two documents linked.
    p, c = mutual.plan, closing_view.plan
    assert p.kind == "mutual" and p.target_close == CLOSE and p.buyer == "Acme Corp"
    assert p.problem == "Month-end close takes 12 days. Measured by: Close in 5 days; 2 FTE saved"
    assert (p.solution, p.buying_process) == (c.solution, c.buying_process)
    assert p.seller_lead == "Sam Seller <sam@globex.example>" and p.buyer_lead == CHAMPION
    team = {(m.name, m.email, m.side, m.role) for m in p.stakeholders}
    assert {("Jane Doe", "jane@acme.example", "buyer", "Champion"),
            ("Carla Diaz", "cfo@acme.example", "buyer", "Economic buyer")} <= team
    assert p.closing_plan == c.title  # issue 18: by title, never the seller's file path
    assert p.qualification == {} and "Competition" not in str(_cells(out))  # the seller's notes stay home

    after = _cells(closing)
    changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    assert len(changed) == 1 and after[changed.pop()] == str(out.resolve())
    assert service.read_plan(str(closing), today=TODAY).plan.mutual_plan == str(out.resolve())
    events = [e for e in audit(str(closing)) if e.kind == "converted"]
    assert len(events) == 1 and events[0].detail["forced"] == [] \
        and events[0].detail["mutual_plan"] == str(out.resolve())


def test_the_gate_names_what_is_missing_and_force_is_recorded(closing, tmp_path):
    _fill(closing, {"Identified pain": "Month-end close takes 12 days"})
    before = _cells(closing)
    out = tmp_path / "map.xlsx"
    result = CliRunner().invoke(cli, ["convert", str(closing), "-o", str(out), "--as-of", TODAY.isoformat()])
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and result.output.startswith(f"Error: {closing}: not ready for a MAP: "
                                                                       "no champion, no economic buyer, no metrics")
    assert not out.exists() and _cells(closing) == before

    result = CliRunner().invoke(cli, ["convert", str(closing), "-o", str(out), "--force", "--champion", CHAMPION,
                                      "--as-of", TODAY.isoformat()])
    assert result.exit_code == 0, result.output
    assert "no economic buyer, no metrics (recorded in the audit log)" in result.output
    (event,) = [e for e in audit(str(closing)) if e.kind == "converted"]
    assert event.detail["forced"] == ["economic buyer", "metrics"]
    assert service.read_plan(str(out), today=TODAY).plan.problem == "Month-end close takes 12 days"


@pytest.mark.parametrize("args, message", [
    (["--champion", "Jane Doe"], "Error: --champion 'Jane Doe' is not an email address"),
    (["--share"], "Error: --share needs a Google Sheet: a local .xlsx is shared by sending the file"),
    (["--template", "closing-plan"], "Error: --template 'closing-plan' is a closing plan template, not a MAP"),
    (["--durations", "nope.csv"], "Error: nope.csv: no such file"),
])
def test_bad_input_is_one_line_and_creates_nothing(closing, tmp_path, args, message):
    _fill(closing, {**QUALIFIED, "Economic buyer": EB})
    out = tmp_path / "map.xlsx"
    result = CliRunner().invoke(cli, ["convert", str(closing), "-o", str(out), *args, "--as-of", TODAY.isoformat()])
    assert result.exit_code == 1 and result.output.count("\n") == 1, result.output
    assert result.output.startswith(message)
    assert not out.exists()


def test_a_map_or_a_converted_plan_is_refused(closing, tmp_path):
    _fill(closing, {**QUALIFIED, "Economic buyer": EB})
    first = convert(str(closing), str(tmp_path / "m.xlsx"), today=TODAY, now=NOW)
    again = CliRunner().invoke(cli, ["convert", str(closing), "-o", str(tmp_path / "m2.xlsx")])
    assert again.exit_code == 1 \
        and f"converted already, its mutual plan is {Path(first.location).resolve()}" in again.output
    of_map = CliRunner().invoke(cli, ["convert", first.location, "-o", str(tmp_path / "m3.xlsx")])
    assert of_map.exit_code == 1 and "is a mutual plan already" in of_map.output


def test_a_close_too_near_for_the_durations_still_fits_between_today_and_the_close(closing, tmp_path):
    _fill(closing, {**QUALIFIED, "Economic buyer": EB})
    wb = openpyxl.load_workbook(closing)
    ws = wb["Plan"]
    row = next(r for r in range(1, 30) if ws.cell(r, 2).value == "Target close")
    near = date(2026, 12, 30)
    ws.cell(row, 3).value = near
    wb.save(closing)
    durations = tmp_path / "durations.csv"
    durations.write_text("stage,days\nLegal,22.5\nTechnical & security review,30\n")
    result = convert(str(closing), str(tmp_path / "m.xlsx"), today=TODAY, now=NOW, durations_file=durations)
    assert any("rounded up" in n for n in result.notes) and any("shortened" in n for n in result.notes)
    plan = service.read_plan(result.location, today=TODAY).plan
    added = [s for s in plan.steps if s.id in result.added and s.title != "Kickoff meeting and onboarding plan"]
    assert all(TODAY <= s.due <= near for s in added), [(s.title, s.due) for s in added]
    assert plan.step(plan.close_step).due <= near  # forward from today (issue 18), inside the close
    assert business_days_between(TODAY, near) < 30


def test_google_convert_shares_with_the_buying_committee_and_subscribes_them(google_env, tmp_path):
    made = service.new_plan("closing-plan", None, buyer="Acme Corp", seller="Globex", today=TODAY, close=CLOSE,
                            holidays="", google=True)
    sheet_id = made.location.rstrip("/").split("/d/")[1].split("/")[0]
    book = open_workbook(made.location)
    grid = book.read_grid()
    rows = grid["Plan"]
    cells = {}
    for r, row in enumerate(rows):
        label = row[1] if len(row) > 1 else None
        if label in QUALIFIED:
            cells[(r, 2)] = QUALIFIED[label]
        elif label == "Economic buyer":
            cells[(r, 2)] = EB
    book.update_cells("Plan", cells)

    result = convert(made.location, None, today=TODAY, now=NOW, google=True, share=True)
    assert sorted(result.shared_with) == ["cfo@acme.example", "jane@acme.example"]
    new_id = result.location.rstrip("/").split("/d/")[1].split("/")[0]
    perms = {p.get("emailAddress"): p["role"] for p in google_env.file(new_id)["permissions"]}
    assert perms["jane@acme.example"] == perms["cfo@acme.example"] == "writer"
    watched = {(s.ref, s.email) for s in watching()}
    assert {(new_id, "jane@acme.example"), (new_id, "cfo@acme.example")} <= watched
    linked = service.read_plan(made.location, today=TODAY).plan
    assert linked.mutual_plan == result.location or new_id in linked.mutual_plan
    assert sheet_id in service.read_plan(result.location, today=TODAY).plan.closing_plan


def test_a_closing_plan_made_before_the_hidden_tab_gets_the_link_there_and_its_machine_rows_moved(closing, tmp_path):
    # Issue 18: the link went into the overview (a "Mutual plan" row, or the blank row above the steps
    # in a plan made before that row); it is read by mapsheets only, so it goes to the hidden tab.
    _fill(closing, {**QUALIFIED, "Economic buyer": EB})
    wb = openpyxl.load_workbook(closing)
    del wb["_mapsheets"]
    ws = wb["Plan"]
    at = next(r for r in range(1, 40) if ws.cell(r, 1).value == "ID") - 1
    ws.insert_rows(at, 2)
    for i, (label, value) in enumerate((("Kind", "closing"), ("Template", "closing-plan"))):
        ws.cell(at + i, 2, label)
        ws.cell(at + i, 3, value)
    wb.save(closing)
    before = _cells(closing)
    result = convert(str(closing), str(tmp_path / "m.xlsx"), today=TODAY, now=NOW)
    after = _cells(closing)
    changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    map_ref = str(Path(result.location).resolve())
    assert {k for k in changed if k[0] == "Plan"} == {("Plan", f"{c}{at + i}") for c in "BC" for i in (0, 1)}
    assert all(after.get(k) is None for k in changed if k[0] == "Plan")  # cleared in place
    hidden = {r[0].value: r[1].value for r in openpyxl.load_workbook(closing)["_mapsheets"].iter_rows()}
    assert (hidden["Kind"], hidden["Template"], hidden["Mutual plan"]) == ("closing", "closing-plan", map_ref)
    assert openpyxl.load_workbook(closing)["_mapsheets"].sheet_state == "hidden"
    plan = service.read_plan(str(closing), today=TODAY).plan
    assert (plan.kind, plan.template, plan.mutual_plan) == ("closing", "closing-plan", map_ref)


def test_convert_subscribes_the_seller_owner_as_new_does_and_no_buyer_before_sharing(closing, tmp_path):
    """Issue 18: `convert` subscribed nobody; like `new` it subscribes the seller's lead only."""
    _fill(closing, QUALIFIED)
    result = convert(str(closing), str(tmp_path / "m.xlsx"), today=TODAY, now=NOW, economic_buyer=EB)
    assert result.watchers == ["sam@globex.example"]
    assert [(s.email, s.name) for s in watching()] == [("sam@globex.example", "Sam Seller")]
    quiet = convert(str(closing), str(tmp_path / "m2.xlsx"), today=TODAY, now=NOW, economic_buyer=EB,
                    force=True, watch_owners=False)
    assert quiet.watchers == [] and len(watching()) == 1


def test_convert_makes_a_coherent_map_an_ae_would_send(tmp_path):
    """Issue 18, part 1: shared, internal and done steps and a filled Team tab, through convert."""
    from mapsheets.adapters.xlsx import read_grid
    from mapsheets.core.carry import SAME_PURPOSE, purpose_overlap
    from mapsheets.core.parse import parse_plan

    closing = tmp_path / "initech-closing.xlsx"
    service.new_plan("closing-plan", str(closing), buyer="Acme Corp", seller="Globex", today=TODAY, close=CLOSE,
                     holidays="", roles={"ae": "Sam Seller <sam@globex.example>",
                                         "se": "Priya Shah <priya@globex.example>",
                                         "manager": "Max Boss <max@globex.example>"})
    _fill(closing, {**QUALIFIED, "Economic buyer": EB}, shared_extra="Meet the economic buyer")
    out = tmp_path / "acme-map.xlsx"
    result = convert(str(closing), str(out), today=TODAY, now=NOW)
    mutual = service.read_plan(str(out), today=TODAY).plan
    tmpl = service.get_template("enterprise-map")

    phases = [s.phase for s in mutual.steps]
    runs = [p for i, p in enumerate(phases) if i == 0 or phases[i - 1] != p]
    assert len(runs) == len(set(runs)), runs  # one band per phase
    order = [s.name for s in tmpl.stages]
    assert runs == sorted(runs, key=order.index), runs  # in the template's order
    for a in mutual.steps:  # one step per purpose (a stage and its words): carried steps replaced their twins
        for b in mutual.steps:
            if a.id < b.id and a.phase == b.phase:
                assert purpose_overlap(a.title, b.title) < SAME_PURPOSE, (a.title, b.title)
    titles = {s.title: s for s in mutual.steps}
    assert "Demo and technical validation" in titles and "Technical validation / proof of value" not in titles
    assert any("Technical validation / proof of value" in n for n in result.notes)
    # Meeting the economic buyer while qualifying is not the business-case approval at the same words.
    assert "Economic buyer meeting: approve business case and budget" in titles
    assert titles["Meet the economic buyer"].phase == "Discovery"
    done = titles["Meet the economic buyer"]
    assert (done.status, done.done_on) == ("done", date(2026, 12, 4))  # the done step keeps its dates

    review, signed = titles["Security and architecture review"], titles["Contract signed"]
    assert review.phase == "Technical & security review"
    # As soon as its dependencies allow (January), not squeezed up against the signature.
    assert review.due < date(2027, 2, 1) and business_days_between(review.due, signed.due) > 12
    assert all(mutual.start_date <= d for s in mutual.steps for d in (s.due, s.done_on) if d)

    team = {(m.email or m.name) for m in mutual.stakeholders}
    closing_team = service.read_plan(str(closing), today=TODAY).plan.stakeholders
    assert {(m.email or m.name) for m in closing_team} <= team
    assert ("Priya Shah", "priya@globex.example", "seller", "SE") in {(m.name, m.email, m.side, m.role)
                                                                      for m in mutual.stakeholders}

    grid = read_grid(out)
    summary = parse_plan(grid).location.summary_at
    r, c = summary["Progress"]
    assert "done" in str(grid["Plan"][r][c])  # the progress row filled, as `new` fills it
    cells = [str(v) for rows in grid.values() for row in rows for v in row if v not in (None, "")]
    assert not [v for v in cells if str(tmp_path) in v or "initech-closing" in v or ".xlsx" in v]


def converted_map(tmp_path: Path, name: str) -> Path:
    """A qualified closing plan (Acme Corp × Globex) converted into the MAP at ``tmp_path / name``."""
    closing = tmp_path / "initech-closing.xlsx"
    service.new_plan("closing-plan", str(closing), buyer="Acme Corp", seller="Globex", today=TODAY, close=CLOSE,
                     holidays="", roles={"ae": "Sam Seller <sam@globex.example>"})
    _fill(closing, {**QUALIFIED, "Economic buyer": EB}, shared_extra="Meet the economic buyer")
    out = tmp_path / name
    convert(str(closing), str(out), today=TODAY, now=datetime(2026, 12, 1, 9, tzinfo=timezone.utc))
    return out
