"""A due date typed as a formula (`=G18+7`) keeps its value when mapsheets saves the workbook: openpyxl
drops formula results, and the last revision's value stands in, so nobody sees a change nobody made."""

from __future__ import annotations

import re
import shutil
import zipfile
from datetime import date, timedelta

import openpyxl
from digest_helpers import T0
from plan_cells import step_cell

from mapsheets import service
from mapsheets.adapters.mail import OutboxMailer
from mapsheets.adapters.xlsx import read_grid
from mapsheets.service import digest
from mapsheets.service.revisions import diff_plans, snapshot

TODAY = date(2026, 12, 1)


def _type_formula_with_result(path, cell: str, formula: str, result: date) -> None:
    """What Excel saves: the formula and its computed result (openpyxl cannot write the result)."""
    book = openpyxl.load_workbook(path)
    book["Plan"][cell] = formula
    book.calculation.fullCalcOnLoad = False  # Excel does not ask for a recalculation on open
    book.save(path)
    serial = (result - date(1899, 12, 30)).days
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                # openpyxl writes <v/>, or <v></v> when lxml is installed
                data = re.sub(rf'(<c r="{cell}"[^>]*><f>[^<]*</f>)(?:<v\s*/>|<v></v>)'.encode(),
                              rb"\g<1><v>%d</v>" % serial, data)
            dst.writestr(item, data)
    shutil.move(tmp, path)


def test_a_formula_whose_result_openpyxl_dropped_keeps_its_value(plan_file, plan, db, tmp_path):
    first, second = plan.steps[0], plan.steps[1]
    target = first.due + timedelta(days=7)
    _type_formula_with_result(plan_file, step_cell(plan_file, 1, "Due"), f"={step_cell(plan_file, 0, 'Due')}+7", target)
    view = service.read_plan(str(plan_file), today=TODAY)
    assert view.plan.steps[1].due == target and view.warnings == []  # Excel's result reads as a date
    digest.watch(str(plan_file), ["ae@globex.example"], now=T0, store_url=db)
    snapshot(str(plan_file), now=T0, store_url=db)

    service.add_step(str(plan_file), title="Legal review", today=TODAY)  # openpyxl saves: mapsheets keeps results
    due_cell = (view.parsed.location.step_rows[second.id], view.parsed.location.columns["Due"])
    assert read_grid(plan_file)["Plan"][due_cell[0]][due_cell[1]].date() == target
    assert openpyxl.load_workbook(plan_file).calculation.fullCalcOnLoad  # Excel/LibreOffice recompute on open
    # Another program that does not calculate (a script on openpyxl) saves it: the result is gone,
    # and the last revision's value stands in for it.
    openpyxl.load_workbook(plan_file).save(plan_file)
    assert read_grid(plan_file)["Plan"][due_cell[0]][due_cell[1]].startswith("=")

    changes = diff_plans(str(plan_file), since="1", store_url=db).changes
    assert [c.kind for c in changes] == ["step_added"]
    stored = snapshot(str(plan_file), now=T0 + timedelta(hours=1), store_url=db)
    kept = next(s for s in stored.snapshot.plan.steps if s.id == second.id)
    assert kept.due == target and kept.unparsed == {}
    assert not any("is not a date" in w["message"] for w in stored.snapshot.warnings)

    outbox = tmp_path / "outbox"
    report = digest.run(now=T0 + timedelta(days=1), mailer=OutboxMailer(outbox), store_url=db)
    assert len(report.sent) == 1
    logged = read_grid(plan_file)["Changes"][1:]
    # The Changes tab in words (When, Who, What changed, Before, After): one row, the step added.
    assert len(logged) == 1 and "added" in str(logged[0][2]).lower()  # the formula's step is not reported


def test_mapsheets_own_writes_keep_formula_results_so_a_new_signature_stays_valid(plan_file, plan):
    """Signing saves the workbook; the due date typed as a formula must still read as its date
    afterwards, or the signature just made would read as stale."""
    from mapsheets.service.signoff import sign

    target = plan.steps[0].due + timedelta(days=7)
    _type_formula_with_result(plan_file, step_cell(plan_file, 1, "Due"), f"={step_cell(plan_file, 0, 'Due')}+7", target)
    sign(str(plan_file), name="Jane Doe", email="jane@acme.example", side="buyer", now=T0)
    view = service.read_plan(str(plan_file), today=TODAY)
    assert view.plan.steps[1].due == target and view.warnings == []
    assert [view.plan.signature_status(s) for s in view.plan.signatures] == ["valid"]
    again = sign(str(plan_file), name="Jane Doe", email="jane@acme.example", side="buyer", now=T0)
    assert again.already  # the same plan: nothing added


def _type_formulas_with_results(path, cells: dict) -> None:
    """What Excel saves: each cell's formula and its computed result, a date or a text."""
    from xml.sax.saxutils import escape

    book = openpyxl.load_workbook(path)
    for cell, (formula, _result) in cells.items():
        book["Plan"][cell] = formula
    book.calculation.fullCalcOnLoad = False
    book.save(path)
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                for cell, (_formula, result) in cells.items():
                    if isinstance(result, date):
                        typed, value = "", str((result - date(1899, 12, 30)).days)
                    else:
                        typed, value = ' t="str"', escape(result)
                    data = re.sub(rf'<c r="{cell}"([^>]*)><f>([^<]*)</f>(?:<v\s*/>|<v></v>)'.encode(),
                                  f'<c r="{cell}"\\1{typed}><f>\\2</f><v>{value}</v>'.encode(), data)
            dst.writestr(item, data)
    shutil.move(tmp, path)


def _show(path) -> str:
    import os
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "mapsheets.cli", "show", str(path), "--all", "--as-of", "2026-12-01"],
                          capture_output=True, text=True, env=os.environ, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout + done.stderr


def test_a_title_and_a_due_date_whose_results_were_dropped_are_no_change_and_keep_the_signature(plan_file, plan,
                                                                                                 tmp_path):
    """Issue 17, seen 8: after an openpyxl save a title ``=A1`` read as renamed to "=A1" in the diff,
    the digest and the Changes tab, and the buyer's signature turned stale. The default state store
    is the one `show` and the digest read, as a person's would be."""
    from mapsheets.service.signoff import sign

    title_cell, due_cell = step_cell(plan_file, 2, "Step"), step_cell(plan_file, 3, "Due")
    heading = read_grid(plan_file)["Plan"][0][0]
    target = plan.steps[2].due + timedelta(days=7)
    _type_formulas_with_results(plan_file, {title_cell: ("=A1", heading),
                                            due_cell: (f"={step_cell(plan_file, 2, 'Due')}+7", target)})
    digest.watch(str(plan_file), ["ae@globex.example"], now=T0)
    sign(str(plan_file), name="Jane Doe", email="jane@acme.example", side="buyer", now=T0)
    snapshot(str(plan_file), now=T0)
    assert "valid" in _show(plan_file)

    openpyxl.load_workbook(plan_file).save(plan_file)  # a script's save: every result dropped
    assert read_grid(plan_file)["Plan"][int(title_cell[1:]) - 1][2] == "=A1"
    view = service.read_plan(str(plan_file), today=TODAY)
    assert view.plan.steps[2].title == heading and view.plan.steps[3].due == target and view.warnings == []
    assert [view.plan.signature_status(s) for s in view.plan.signatures] == ["valid"]
    shown = _show(plan_file)
    assert "stale" not in shown and "=A1" not in shown and "Jane Doe (buyer)  signed 2026-12-01  valid" in shown
    assert diff_plans(str(plan_file), since="latest").changes == []

    report = digest.run(now=T0 + timedelta(days=1), mailer=OutboxMailer(tmp_path / "outbox"))
    assert len(report.sent) == 1  # the signature made after `watch`, nothing else
    logged = read_grid(plan_file)["Changes"][1:]
    assert len(logged) == 1 and "signature" in str(logged[0][2]).lower() and "=A1" not in str(logged)


def test_a_due_formula_without_a_result_reads_not_computed_naming_its_cell(plan_file, plan):
    """With no stored revision to stand in, the due date is "not computed" with a warning naming the
    cell, never an empty due date."""
    due_cell = step_cell(plan_file, 3, "Due")
    book = openpyxl.load_workbook(plan_file)
    book["Plan"][due_cell] = f"={step_cell(plan_file, 2, 'Due')}+7"
    book.save(plan_file)  # openpyxl: the formula without a result
    view = service.read_plan(str(plan_file), today=TODAY)
    [warning] = view.warnings
    assert warning.cell == f"Plan!{due_cell}" and "is not computed" in warning.message
    assert view.plan.steps[3].formulas == {"Due": f"={step_cell(plan_file, 2, 'Due')}+7"}
    shown = _show(plan_file)
    assert f"{plan.steps[3].id}  not computed  " in shown and f"Plan!{due_cell}: " in shown


def test_formula_texts_are_compared_when_neither_side_has_a_value():
    from mapsheets.core.diff import diff
    from mapsheets.core.model import Plan, Step

    def plan_with(title: str, formulas: dict) -> Plan:
        return Plan(kind="mutual", title="P", buyer="A", seller="G",
                    steps=[Step(id="S-1", title=title, due=date(2027, 1, 4), formulas=formulas)])

    value, uncached = plan_with("Kickoff", {}), plan_with("=A1", {"Step": "=A1"})
    assert diff(uncached, plan_with("=A1", {"Step": "=A1"})) == []
    assert [(c.field, c.old, c.new) for c in diff(uncached, plan_with("=A2", {"Step": "=A2"}))] \
        == [("title", "=A1", "=A2")]
    assert diff(value, uncached) == [] and diff(uncached, value) == []  # a value on one side only: unknown
    assert value.fingerprint() != uncached.fingerprint()  # only a stored value makes the signature hold


def test_the_last_value_stands_in_for_any_step_column_and_the_overview():
    from mapsheets.core.formulas import keep_formula_values
    from mapsheets.core.model import Plan, Step

    before = Plan(kind="mutual", title="P", buyer="A", seller="G", problem="Slow quotes",
                  target_close=date(2027, 3, 31),
                  steps=[Step(id="S-1", title="Kickoff", owners=["Jane"], extra={"Budget": 1200})])
    after = Plan(kind="mutual", title="P", buyer="A", seller="G", problem="=B3",
                 formulas={"problem": "=B3", "target_close": "=C10+90"},
                 steps=[Step(id="S-1", title="=A1", owners=["=A2"], extra={"Budget": "=H3*2"},
                             formulas={"Step": "=A1", "Owners": "=A2", "Budget": "=H3*2"})])
    kept = keep_formula_values(before, after)
    assert sorted(kept) == sorted(["=A1", "=A2", "=H3*2", "=B3", "=C10+90"])
    step = after.steps[0]
    assert (step.title, step.owners, step.extra, step.formulas) == ("Kickoff", ["Jane"], {"Budget": 1200}, {})
    assert (after.problem, after.target_close, after.formulas) == ("Slow quotes", date(2027, 3, 31), {})
    assert after.fingerprint() == before.fingerprint()
