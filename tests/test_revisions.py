"""snapshot, log and diff from the command line, on a real SQLite store and real workbooks."""

from __future__ import annotations

import json
import shutil

import openpyxl
from cli_helpers import invoke_cli
from plan_cells import edit_steps as edit

from mapsheets.adapters.store import Store


def run(*args, db=None):
    result = invoke_cli(*args, db=db)
    return result.exit_code, result.output


def one_line_error(code, output):
    assert code == 1, output
    lines = output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and "Traceback" not in output
    return lines[0]


def test_snapshot_is_stored_once_per_content_and_logged(plan_file, db):
    assert run("snapshot", str(plan_file), db=db)[1].startswith("Stored revision 1 ")
    assert run("snapshot", str(plan_file), db=db)[1].startswith("Unchanged since revision 1 ")
    edit(plan_file, {(0, "Status"): "Done"})
    assert run("snapshot", str(plan_file), db=db)[1].startswith("Stored revision 2 ")
    code, out = run("log", str(plan_file), "--json", db=db)
    log = json.loads(out)
    assert [(r["rev"], r["steps"], r["done"]) for r in log] == [(1, 16, 0), (2, 16, 1)]
    # The fingerprint is what a signature covers: progress (a status) is a new revision, same commitments.
    assert log[0]["fingerprint"] == log[1]["fingerprint"]


def test_diff_between_revisions_and_since(plan_file, plan, db):
    run("snapshot", str(plan_file), db=db)
    edit(plan_file, {(0, "Status"): "Done", (1, "Due"): "2027-02-01"})
    code, out = run("diff", str(plan_file), "--since", "latest", "--json", db=db)
    assert code == 0, out
    changes = json.loads(out)["changes"]
    assert [(c["kind"], c["step_id"], c["field"]) for c in changes] == [
        ("step_changed", plan.steps[0].id, "status"), ("step_changed", plan.steps[1].id, "due")]
    assert changes[1]["old"] == plan.steps[1].due.isoformat() and changes[1]["slip_days"] > 0
    run("snapshot", str(plan_file), db=db)
    code, text = run("diff", f"{plan_file}@1", f"{plan_file}@latest", db=db)
    assert code == 0 and "is now done" in text and "slipped" in text
    code, same = run("diff", f"{plan_file}@-1", f"{plan_file}@1", db=db)
    assert "No changes" in same


def test_diff_two_files_reports_hand_edits_in_plan_words(plan_file, plan, tmp_path):
    old = tmp_path / "old.xlsx"
    shutil.copy(plan_file, old)
    edit(plan_file, {(2, "Owners"): "ann@acme.example; bob@acme.example"})
    code, out = run("diff", str(old), str(plan_file))
    assert code == 0
    assert f'Owners of {plan.steps[2].id}' in out and "ann@acme.example" in out


def test_bad_inputs_are_one_line_and_write_nothing(plan_file, tmp_path, db):
    not_a_plan = tmp_path / "budget.xlsx"
    book = openpyxl.Workbook()
    book.active.append(["Quarter", "Amount"])
    book.save(not_a_plan)
    assert "no steps table found" in one_line_error(*run("snapshot", str(not_a_plan), db=db))
    assert "no steps table found" in one_line_error(*run("diff", str(not_a_plan), str(plan_file)))
    with Store(db) as store:
        assert store.plans.get(str(not_a_plan.resolve())) is None
    assert "has no revisions" in one_line_error(*run("diff", f"{plan_file}@1", str(plan_file), db=db))
    run("snapshot", str(plan_file), db=db)
    assert "has no revision 7 (it has 1)" in one_line_error(*run("diff", str(plan_file), "--since", "7", db=db))
    error = one_line_error(*run("log", str(plan_file), db="postgresql://ann:hunter2@127.0.0.1:9/none"))
    assert "hunter2" not in error and "127.0.0.1" in error
    assert "give either NEW or --since" in one_line_error(*run("diff", str(plan_file)))
