"""Noticed losses (issue 17, seen 11): another program that loaded the plan before mapsheets saved
and saves after it (no lock file) drops the step mapsheets added, though it printed "Added".
Nothing can stop that; mapsheets now notices from its own audit log and says so in `show`, its
--json, and the seller's next digest (the sidebar: tests/server/test_addon_audit.py).

The rule (core.own_writes): the last step added or signature recorded is checked until a read
finds it in a later version of the file than the one our write left; a removal after that is a
person's edit, never reported as a loss."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import openpyxl
from cli_helpers import run_cli
from digest_helpers import T0, outbox_messages, text_of
from plan_cells import edit_steps

from mapsheets.adapters.mail import OutboxMailer
from mapsheets.service import digest

REPO = Path(__file__).resolve().parents[1]
LOST = "the step 'Security review' added on "
OVERWRITTEN = "is no longer in the sheet: it was probably overwritten by another program's save"


def _cli(*args: str, db: str) -> subprocess.CompletedProcess:
    done = run_cli(*args, db=db)
    assert done.returncode == 0, done.stderr
    return done


def _stale_save(path: Path, meanwhile) -> None:
    """Another program loads the plan, ``meanwhile`` mapsheets writes it, then that program saves
    what it loaded (with an edit of its own), leaving no lock file."""
    loaded = openpyxl.load_workbook(io.BytesIO(path.read_bytes()))
    meanwhile()
    loaded["Plan"]["B2"] = "Edited elsewhere"
    loaded.save(path)


def _warnings(plan: Path, db: str) -> list[str]:
    shown = json.loads(_cli("show", str(plan), "--json", db=db).stdout)
    return [w["message"] for w in shown["warnings"]]


def test_a_step_dropped_by_a_stale_save_is_said_in_show_and_once_in_the_sellers_digest(plan_file, db, tmp_path):
    digest.watch(str(plan_file), ["ae@globex.example", "jane@acme.example"], now=T0, store_url=db)
    _stale_save(plan_file, lambda: _cli("add-step", str(plan_file), "--title", "Security review", db=db))
    shown = _cli("show", str(plan_file), db=db)
    [said] = [line for line in shown.stderr.splitlines() if LOST in line]
    assert said.startswith("warning: Plan: the step 'Security review' added on ")
    assert " (command line) " + OVERWRITTEN in said
    assert any(w.startswith(LOST) and w.endswith(OVERWRITTEN) for w in _warnings(plan_file, db))

    outbox = tmp_path / "outbox"
    digest.run(now=T0 + timedelta(days=1), mailer=OutboxMailer(outbox), store_url=db,
               seller_domains=["globex.example"], write_workers=0)
    sent = {m["To"]: text_of(m) for m in outbox_messages(outbox)}
    assert LOST in sent["ae@globex.example"] and OVERWRITTEN in sent["ae@globex.example"]
    assert "jane@acme.example" not in sent or LOST not in sent["jane@acme.example"]  # the buyer is not told
    # Said once in digests; `show` goes on saying it while it stands.
    for message in outbox.glob("*.eml"):
        message.unlink()
    digest.run(now=T0 + timedelta(days=2), mailer=OutboxMailer(outbox), store_url=db,
               seller_domains=["globex.example"], write_workers=0)
    assert all(LOST not in text_of(m) for m in outbox_messages(outbox))
    assert any(w.startswith(LOST) for w in _warnings(plan_file, db))


def test_a_read_of_our_own_version_does_not_end_the_check(plan_file, db):
    _cli("snapshot", str(plan_file), db=db)

    def add_and_look():
        _cli("add-step", str(plan_file), "--title", "Security review", db=db)
        assert not any(w.startswith(LOST) for w in _warnings(plan_file, db))  # there, in the version we wrote

    _stale_save(plan_file, add_and_look)
    assert any(w.startswith(LOST) for w in _warnings(plan_file, db))


def test_a_step_deleted_after_another_save_kept_it_is_no_loss(plan_file, db):
    _cli("snapshot", str(plan_file), db=db)
    _cli("add-step", str(plan_file), "--title", "Security review", db=db)
    edit_steps(plan_file, {(0, "Status"): "In progress"})  # someone saves after us, the step kept
    assert not any(w.startswith(LOST) for w in _warnings(plan_file, db))  # seen there: the check ends
    book = openpyxl.load_workbook(plan_file)  # weeks later a person deletes the step on purpose
    sheet = book["Plan"]
    row = next(r for r in range(1, sheet.max_row + 1) if sheet.cell(r, 2).value == "Security review"
               or sheet.cell(r, 3).value == "Security review")
    sheet.delete_rows(row)
    book.save(plan_file)
    assert not any("no longer in the sheet" in w for w in _warnings(plan_file, db))


def test_a_signature_dropped_by_a_stale_save_is_said(plan_file, db):
    _cli("snapshot", str(plan_file), db=db)
    _stale_save(plan_file, lambda: _cli("sign", str(plan_file), "--name", "Jane Doe", "--email",
                                        "jane@acme.example", "--side", "buyer", db=db))
    [said] = [w for w in _warnings(plan_file, db) if "no longer in the sheet" in w]
    assert said.startswith("the signature of jane@acme.example recorded on ")
    assert said.endswith("by jane@acme.example " + OVERWRITTEN)


def test_show_checks_the_audit_log_without_loading_sqlalchemy(plan_file, db):
    _cli("snapshot", str(plan_file), db=db)
    _cli("add-step", str(plan_file), "--title", "Security review", db=db)
    code = ("import sys, json\nfrom mapsheets.cli import cli\n"
            "try:\n    cli(['show', sys.argv[1], '--json'])\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
            "print('sqlalchemy' in sys.modules, file=sys.stderr)\n")
    env = {**os.environ, "PYTHONPATH": str(REPO), "MAPSHEETS_DB": db}
    for _ in range(2):  # the plan as we wrote it (still checked); then, the same, once more
        done = subprocess.run([sys.executable, "-c", code, str(plan_file)], capture_output=True, text=True,
                              env=env, timeout=60)
        assert done.returncode == 0, done.stderr
        assert done.stderr.strip().splitlines()[-1] == "False"
