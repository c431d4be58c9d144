"""Signing a plan whose Sign-off tab people have touched by hand."""

from datetime import datetime, timezone

import openpyxl
import pytest

from mapsheets import service
from mapsheets.errors import PlanFileError, UsageError
from mapsheets.service.signoff import sign

TODAY = datetime(2026, 12, 1).date()


def test_sign_finds_hand_typed_headers_and_a_blank_row(plan_file):
    book = openpyxl.load_workbook(plan_file)
    tab = book["Sign-off"]
    tab.insert_rows(1)  # a note above the table
    tab["A1"] = "Signatures are not legally binding"
    tab["D2"], tab["F2"] = "signed at", "STATUS"
    book.save(plan_file)
    sign(str(plan_file), name="Jane Doe", email="jane@acme.example", side="buyer", now=datetime(2026, 12, 2, 9))
    service.add_step(str(plan_file), title="New scope item", today=TODAY)
    sign(str(plan_file), name="Sam", email="sam@globex.example", side="seller", now=datetime(2026, 12, 3, 9))
    rows = [[c.value for c in row] for row in openpyxl.load_workbook(plan_file)["Sign-off"].iter_rows(min_row=3)]
    assert [(r[0], r[3], r[5]) for r in rows] == [("Jane Doe", datetime(2026, 12, 2, 9), "stale"),
                                                 ("Sam", datetime(2026, 12, 3, 9), "valid")]


def test_sign_refuses_bad_input_and_a_missing_tab(plan_file):
    with pytest.raises(UsageError, match="is not an email address"):
        sign(str(plan_file), name="Jane", email="jane", side="buyer", now=datetime(2026, 12, 2))
    with pytest.raises(UsageError, match="is not buyer or seller"):
        sign(str(plan_file), name="Jane", email="jane@acme.example", side="joint", now=datetime(2026, 12, 2))
    book = openpyxl.load_workbook(plan_file)
    del book["Sign-off"]
    book.save(plan_file)
    with pytest.raises(PlanFileError, match="no 'Sign-off' tab"):
        sign(str(plan_file), name="Jane", email="jane@acme.example", side="buyer", now=datetime(2026, 12, 2))


def test_recorded_signatures_survive_a_row_deleted_by_hand(plan_file, tmp_path):
    from mapsheets.adapters.store import Store
    from mapsheets.service.revisions import diff_plans

    db = f"sqlite:///{tmp_path / 'state.db'}"
    when = datetime(2026, 12, 2, 9, tzinfo=timezone.utc)
    sign(str(plan_file), name="Jane Doe", email="jane@acme.example", side="buyer", now=when,
         store_url=db, record=True)
    with Store(db) as store:
        key = str(plan_file.resolve())
        [kept] = store.signatures.of(key)
        assert (kept.email, kept.signed_at) == ("jane@acme.example", when)
        assert [e.kind for e in store.audit.events(key)] == ["signed"]
        signed_rev = store.revisions.get(key, "latest").seq
    book = openpyxl.load_workbook(plan_file)
    book["Sign-off"].delete_rows(2)
    book.save(plan_file)
    changes = diff_plans(str(plan_file), since=str(signed_rev), store_url=db).changes
    assert [(c.kind, c.title) for c in changes] == [("signature_removed", "Jane Doe")]


def test_cli_sign_twice_says_already_signed_and_a_read_only_store_is_one_line(plan_file, tmp_path):
    from click.testing import CliRunner

    from mapsheets.adapters.store import Store
    from mapsheets.cli import cli

    path = tmp_path / "state.db"
    Store(f"sqlite:///{path}").close()
    args = ["sign", str(plan_file), "--name", "Jane Doe", "--email", "jane@acme.example", "--side", "buyer"]
    before = plan_file.read_bytes()
    failed = CliRunner().invoke(cli, [*args, "--db", f"sqlite:///file:{path}?mode=ro&uri=true"])
    assert failed.exit_code == 1 and failed.output.count("\n") == 1 and "readonly" in failed.output
    assert plan_file.read_bytes() == before
    first = CliRunner().invoke(cli, [*args, "--db", f"sqlite:///{path}"])
    assert first.exit_code == 0 and first.output.startswith("Signed by Jane Doe")
    second = CliRunner().invoke(cli, [*args, "--db", f"sqlite:///{path}"])
    assert second.exit_code == 0, second.output
    assert second.output.startswith("Already signed by jane@acme.example") and "nothing added" in second.output
    assert len(openpyxl.load_workbook(plan_file)["Sign-off"]["A"]) == 2  # header and one signature
    assert len(Store(f"sqlite:///{path}").signatures.of(str(plan_file.resolve()))) == 1


def test_google_a_signature_row_deleted_by_hand_can_be_signed_again(google_env, plan):
    """A Google signature write is once-only per person and version; a row deleted by hand leaves
    that mark behind, and signing again (even twice over) still writes one row."""
    from mapsheets.adapters.gsheets import GoogleWorkbook
    from mapsheets.core.layout import workbook_spec
    from mapsheets.testing.google_api import batch_update

    book = GoogleWorkbook.from_env(None)
    book.create(workbook_spec(plan))
    tab = google_env.spreadsheet(book.sheet_id).sheet_by_title("Sign-off")

    def delete_first_signature_row():
        with google_env.state.lock:
            batch_update.run(google_env.spreadsheet(book.sheet_id), {"requests": [{"deleteDimension": {
                "range": {"sheetId": tab.id, "dimension": "ROWS", "startIndex": 1, "endIndex": 2}}}]}, "x@y.example")

    for _round in range(3):
        signed = sign(book.sheet_id, name="Jane Doe", email="jane@acme.example", side="buyer",
                      now=datetime(2026, 12, 2, 9))
        assert not signed.already
        again = sign(book.sheet_id, name="Jane Doe", email="jane@acme.example", side="buyer",
                     now=datetime(2026, 12, 2, 10))
        assert again.already
        assert [s.email for s in service.read_plan(book.sheet_id, today=TODAY).plan.signatures] == ["jane@acme.example"]
        delete_first_signature_row()
    assert service.read_plan(book.sheet_id, today=TODAY).plan.signatures == []
