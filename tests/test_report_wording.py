"""What `digest --dry-run` and `report winloss` print: one plan is "1 plan", and a plan that has changes
to tell though its sheet was not modified since the last read says so rather than a bare "changed"."""

from __future__ import annotations

from datetime import timedelta

from click.testing import CliRunner
from closed_plans import closed_plan
from digest_helpers import T0
from plan_cells import edit_steps as edit

from mapsheets.cli import cli
from mapsheets.service import digest
from mapsheets.service.revisions import snapshot


def test_dry_run_says_why_a_plan_not_modified_since_its_last_read_has_changes(plan_file, db):
    digest.watch(str(plan_file), ["ae@globex.example"], now=T0, store_url=db)
    edit(plan_file, {(0, "Status"): "Done"})
    snapshot(str(plan_file), now=T0 + timedelta(hours=1), store_url=db)  # read and stored before the run
    dry = CliRunner().invoke(cli, ["digest", "--dry-run", "--now", (T0 + timedelta(days=1)).isoformat(), "--db", db])
    assert dry.exit_code == 0, dry.output
    assert (f"({plan_file.resolve()}): changed since a recipient's last digest "
            "(the sheet not modified since its last read)") in dry.output
    assert "1 message would be sent (dry run)" in dry.output
    assert "1 plan due (1 with changes to tell, 1 not modified since last read)" in dry.output


def test_winloss_of_one_closed_plan_says_one_plan(tmp_path, db):
    path = closed_plan(tmp_path, db, "Initech", "won", security_slip=1, other_slip=0, weeks=3, signed=True,
                       outbox=tmp_path / "out")
    result = CliRunner().invoke(cli, ["report", "winloss", str(path), "-o", str(tmp_path / "r.csv"), "--db", db])
    assert result.exit_code == 0, result.output
    assert f"Wrote {tmp_path / 'r.csv'}: 1 plan, " in result.output
    assert "- 1 closed plan: 1 won, 0 lost" in result.output and "plans" not in result.output
