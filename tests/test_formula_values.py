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
                data = re.sub(rf'(<c r="{cell}"[^>]*><f>[^<]*</f>)<v\s*/>'.encode(), rb"\g<1><v>%d</v>" % serial, data)
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
    assert [row[4] for row in logged] == ["step_added"]  # the formula's step is not reported


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
