"""What a signature covers, and a Sign-off tab, `show` and `diff` that say so truthfully."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone

import openpyxl
from click.testing import CliRunner
from digest_helpers import T0
from plan_cells import edit_steps

from mapsheets import service
from mapsheets.adapters.mail import OutboxMailer
from mapsheets.adapters.xlsx import read_grid
from mapsheets.cli import cli
from mapsheets.core.model import COMMAND_LINE, Plan, Signature
from mapsheets.service import digest, seals
from mapsheets.service.signoff import sign

TODAY = T0.date()
SIGNED_AT = datetime(2026, 12, 2, 9, tzinfo=timezone.utc)


def old_fingerprint(plan: Plan) -> str:
    """The fingerprint function as released before v2: a hash of overview, steps and team."""
    canonical = json.dumps(plan.content_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def statuses(path) -> list[str]:
    return [row[5] for row in read_grid(path)["Sign-off"][1:] if any(row)]


def signatures(path) -> dict[str, str]:
    plan = service.read_plan(str(path), today=TODAY).to_dict()
    return {s["email"]: s["status"] for s in plan["signatures"]}


def test_progress_keeps_a_signature_and_a_commitment_breaks_it(plan_file, db):
    sign(str(plan_file), name="Jane Doe", email="jane@acme.example", side="buyer", now=SIGNED_AT, store_url=db)
    edit_steps(plan_file, {(0, "Status"): "Done", (0, "Done on"): "2026-12-03", (1, "Notes"): "call went well",
                           (2, "Status"): "in progress"})
    assert signatures(plan_file) == {"jane@acme.example": "valid"}
    edit_steps(plan_file, {(3, "Due"): "2027-01-29"})
    assert signatures(plan_file) == {"jane@acme.example": "stale"}


def test_a_signature_made_under_the_old_rule_is_judged_by_it(plan_file):
    """Nothing signed before the upgrade flips state: old fingerprints keep the old rule."""
    parsed = service.read_plan(str(plan_file), today=TODAY).plan
    # Sealed as mapsheets seals what it records (a row typed by hand reads "unverified", issue 20).
    old = seals.seal(Signature("Jane Doe", "jane@acme.example", "buyer", datetime(2026, 12, 2, 9),
                               old_fingerprint(parsed), COMMAND_LINE), parsed, seals.keyring(create=True))
    book = openpyxl.load_workbook(plan_file)
    book["Sign-off"].append(["Jane Doe", "jane@acme.example", "buyer", datetime(2026, 12, 2, 9),
                             old_fingerprint(parsed), "valid", old.method, "", old.seal])
    book.save(plan_file)
    assert signatures(plan_file) == {"jane@acme.example": "valid"}
    edit_steps(plan_file, {(0, "Status"): "Done"})  # progress, but the old rule covered it
    assert signatures(plan_file) == {"jane@acme.example": "stale"}


def test_add_step_and_sign_refresh_the_sign_off_status(plan_file, db):
    sign(str(plan_file), name="Jane Doe", email="jane@acme.example", side="buyer", now=SIGNED_AT, store_url=db)
    assert statuses(plan_file) == ["valid"]
    service.add_step(str(plan_file), title="Reference call", today=TODAY)  # a new commitment
    assert statuses(plan_file) == ["stale"]

    sign(str(plan_file), name="Sam", email="sam@globex.example", side="seller", now=SIGNED_AT, store_url=db)
    assert statuses(plan_file) == ["stale", "valid"]


def test_a_digest_run_refreshes_the_sign_off_status_in_its_changes_write(plan_file, db, tmp_path):
    sign(str(plan_file), name="Jane Doe", email="jane@acme.example", side="buyer", now=SIGNED_AT, store_url=db)
    sign(str(plan_file), name="Sam", email="sam@globex.example", side="seller", now=SIGNED_AT, store_url=db)
    digest.watch(str(plan_file), ["ae@globex.example"], now=T0 + timedelta(days=1), store_url=db)
    edit_steps(plan_file, {(4, "Owners"): "Someone Else"})  # by hand: the sheet still says "valid"
    assert statuses(plan_file) == ["valid", "valid"]
    digest.run(now=T0 + timedelta(days=2), mailer=OutboxMailer(tmp_path / "outbox"), store_url=db)
    assert "Changes" in read_grid(plan_file)
    assert statuses(plan_file) == ["stale", "stale"]  # the digest's Changes write fixed it


def test_google_add_step_refreshes_statuses_in_its_one_write(google_env, plan):
    """The step, the Sign-off Status it makes stale, the progress line and the Timeline go in one
    batchUpdate; the row itself is an appendCells Google places (concurrent adders never share a row)."""
    from mapsheets.adapters.gsheets import GoogleWorkbook
    from mapsheets.core.layout import workbook_spec

    book = GoogleWorkbook.from_env(None)
    ref = book.create(workbook_spec(plan))
    sign(ref, name="Jane Doe", email="jane@acme.example", side="buyer", now=SIGNED_AT)
    google_env.reset()
    service.add_step(ref, title="Reference call", today=TODAY)
    methods = google_env.stats()["methods"]
    assert methods == {"sheets.spreadsheets.get": 1, "sheets.spreadsheets.batchUpdate": 1}
    assert google_env.values(book.sheet_id, "'Sign-off'!F2")[0][0] == "stale"
    google_env.reset()
    service.add_step(ref, title="Second reference call", today=TODAY)  # the Status already says stale
    assert google_env.stats()["methods"] == {"sheets.spreadsheets.get": 1, "sheets.spreadsheets.batchUpdate": 1}
    assert google_env.values(book.sheet_id, "'Sign-off'!F2")[0][0] == "stale"


def test_show_lists_signatures_and_diff_since_signature_says_what_changed(plan_file, db):
    sign(str(plan_file), name="Jane Doe", email="jane@acme.example", side="buyer", now=SIGNED_AT,
         store_url=db, record=True)
    sign(str(plan_file), name="Sam", email="sam@globex.example", side="seller", now=SIGNED_AT, store_url=db,
         record=True)
    edit_steps(plan_file, {(2, "Step"): "Security review (full)"})
    sign(str(plan_file), name="Sam", email="sam@globex.example", side="seller",
         now=SIGNED_AT + timedelta(days=1), store_url=db, record=True)
    runner = CliRunner()
    out = runner.invoke(cli, ["show", str(plan_file)]).output
    assert "Signatures:" in out
    assert "Jane Doe (buyer)  signed 2026-12-02  stale" in out
    assert f"mapsheets diff {plan_file} --since-signature jane@acme.example" in out
    assert "Sam (seller)  signed 2026-12-03  valid" in out

    result = runner.invoke(cli, ["diff", str(plan_file), "--since-signature", "jane@acme.example", "--db", db])
    assert result.exit_code == 0, result.output
    assert 'renamed: "' in result.output and "Security review (full)" in result.output
    assert "Buyer's signature (Jane Doe) is stale" in result.output
    missing = runner.invoke(cli, ["diff", str(plan_file), "--since-signature", "cfo@acme.example", "--db", db])
    assert missing.exit_code == 1 and "no signature by cfo@acme.example recorded" in missing.output


def _clear_ids(path, indexes) -> None:
    edit_steps(path, {(i, "ID"): None for i in indexes})
    # "Depends on" cells naming them would warn; this test is about the IDs only.
    steps = service.read_plan(str(path), today=TODAY).plan.steps
    edit_steps(path, {(i, "Depends on"): None for i in range(len(steps))})


def test_a_row_typed_without_an_id_keeps_the_id_every_write_gave_it(plan_file, db):
    _clear_ids(plan_file, [4])
    given = service.read_plan(str(plan_file), today=TODAY).plan.steps[4].id
    sign(str(plan_file), name="Jane Doe", email="jane@acme.example", side="buyer", now=SIGNED_AT, store_url=db)
    edit_steps(plan_file, {(4, "Step"): "A completely different title"})
    assert service.read_plan(str(plan_file), today=TODAY).plan.steps[4].id == given


def test_show_fix_ids_fills_them_on_request_and_says_how_many(plan_file):
    _clear_ids(plan_file, [1, 5])
    before = [s.id for s in service.read_plan(str(plan_file), today=TODAY).plan.steps]
    out = CliRunner().invoke(cli, ["show", str(plan_file), "--fix-ids"])
    assert out.exit_code == 0 and out.output.startswith("Filled in 2 step IDs.\n")
    ids = [row[0] for row in read_grid(plan_file)["Plan"]]
    assert before[1] in ids and before[5] in ids
    again = CliRunner().invoke(cli, ["show", str(plan_file), "--fix-ids", "--json"])
    assert again.exit_code == 0 and json.loads(again.stdout)["steps"][1]["id"] == before[1]


def test_an_emptied_id_cell_gets_its_stored_id_back_in_every_write(plan_file, plan):
    """Someone clears the ID cell of a step others depend on: once the plan has a stored revision,
    show and every write give the row its old ID back, never a made-up one that orphans the
    "Depends on" cells naming it."""
    from mapsheets.service.revisions import snapshot

    snapshot(str(plan_file), now=T0)
    target = next(s for s in plan.steps if any(s.id in o.depends_on for o in plan.steps))
    edit_steps(plan_file, {(plan.steps.index(target), "ID"): None})  # its dependents still name it
    view = service.read_plan(str(plan_file), today=TODAY)
    assert target.id in view.plan.step_ids and not [w for w in view.warnings if "unknown step" in w.message]
    out = CliRunner().invoke(cli, ["show", str(plan_file), "--fix-ids"])
    assert out.exit_code == 0, out.output
    assert target.id in [row[0] for row in read_grid(plan_file)["Plan"]]
    assert service.read_plan(str(plan_file), today=TODAY).plan.step_ids == plan.step_ids


def test_owner_and_team_order_is_not_a_commitment(plan_file):
    """Swapping two owners of a step, or two Team rows, changes nobody's commitment: the
    signature stays valid (the diff, which compares owners by who they are, names no change)."""
    sign(str(plan_file), name="Jane Doe", email="jane@acme.example", side="buyer", now=SIGNED_AT)
    book = openpyxl.load_workbook(plan_file)
    view = service.read_plan(str(plan_file), today=TODAY)
    step = next(s for s in view.plan.steps if len(s.owners) > 1)
    loc = view.parsed.location
    book["Plan"].cell(loc.step_rows[step.id] + 1, loc.columns["Owners"] + 1).value = ", ".join(reversed(step.owners))
    team = book["Team"]
    first = [c.value for c in team[2]]
    for c, value in enumerate([c.value for c in team[3]]):
        team.cell(2, c + 1).value = value
    for c, value in enumerate(first):
        team.cell(3, c + 1).value = value
    book.save(plan_file)
    view = service.read_plan(str(plan_file), today=TODAY)
    assert [view.plan.signature_status(s) for s in view.plan.signatures] == ["valid"]


def test_a_digest_never_writes_valid_from_a_read_older_than_the_sheet(plan_file, db):
    """The digest's Changes write refreshes Sign-off statuses from its own read. If the plan changed
    after that read (here a step added, which made the signature stale), it must not write "valid"."""
    from mapsheets.adapters.store import Store
    from mapsheets.adapters.xlsx import XlsxWorkbook
    from mapsheets.service.changes_tab import changes_upkeep, log_changes
    from mapsheets.service.digest import RunReport
    from mapsheets.service.revisions import snapshot

    sign(str(plan_file), name="Jane Doe", email="jane@acme.example", side="buyer", now=SIGNED_AT, store_url=db)
    digest.watch(str(plan_file), ["ae@globex.example"], now=T0, store_url=db)
    edit_steps(plan_file, {(0, "Status"): "Done"})  # progress: still signed
    result = snapshot(str(plan_file), now=T0 + timedelta(hours=1), store_url=db)  # the run's read
    service.add_step(str(plan_file), title="Reference call", today=TODAY)  # after it: now stale
    assert statuses(plan_file) == ["stale"]
    upkeep = changes_upkeep(result.snapshot, TODAY)
    log_changes(Store(db), str(plan_file.resolve()), XlsxWorkbook(plan_file), result.revision,
                XlsxWorkbook(plan_file).revision(), T0 + timedelta(hours=1), frozenset(), RunReport(), upkeep=upkeep)
    assert "Changes" in read_grid(plan_file)
    assert statuses(plan_file) == ["stale"]
