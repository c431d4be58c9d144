"""Input past what a cell or a setting can hold: one line naming the field, nothing written."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from mapsheets import service
from mapsheets.cli import cli
from mapsheets.errors import UsageError
from mapsheets.service import signoff


def one_error(*args: str, env: dict[str, str] | None = None) -> str:
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith("Error: ")
    return line


def test_notes_longer_than_a_cell_holds_are_refused_not_cut(plan_file, today):
    before = plan_file.read_bytes()
    line = one_error("add-step", str(plan_file), "--title", "Security review", "--notes", "n" * 40_000)
    assert line == "Error: --notes is 40,000 characters long; a cell holds at most 32,767"
    assert plan_file.read_bytes() == before
    # The service refuses it too, whichever surface calls it; exactly 32,767 still fits.
    with pytest.raises(UsageError, match="^title is 32,768 characters long") as refused:
        service.add_step(str(plan_file), title="t" * 32_768, today=today)
    assert refused.value.field == "title"  # the service names the field, not a CLI option
    step = service.add_step(str(plan_file), title="Fits", notes="n" * 32_767, today=today)
    [read] = [s for s in service.read_plan(str(plan_file), today=today).plan.steps if s.id == step.id]
    assert len(read.notes) == 32_767


def test_a_signer_name_longer_than_a_cell_is_refused(plan_file):
    from datetime import datetime, timezone

    before = plan_file.read_bytes()
    with pytest.raises(UsageError, match="^name is 40,000 characters long; a cell holds at most 32,767"):
        signoff.sign(str(plan_file), name="x" * 40_000, email="cfo@acme.example", side="buyer",
                     now=datetime.now(timezone.utc))
    assert plan_file.read_bytes() == before


def test_a_buyer_longer_than_a_cell_is_refused_before_anything_is_made(tmp_path):
    out = tmp_path / "p.xlsx"
    line = one_error("new", "--template", "closing-plan", "--buyer", "B" * 33_000, "--seller", "Globex",
                     "--close-date", "2027-03-31", "-o", str(out))
    assert line == "Error: --buyer is 33,000 characters long; a cell holds at most 32,767"
    assert not out.exists()


@pytest.mark.parametrize("cafile, reason", [("missing-ca.pem", "No such file or directory"),
                                            ("not-a-cert.pem", "no certificate in it")])
def test_a_bad_cafile_in_the_smtp_url_is_one_line_naming_it(tmp_path, cafile, reason):
    (tmp_path / "not-a-cert.pem").write_text("hello\n")
    path = tmp_path / cafile
    line = one_error("digest", env={"MAPSHEETS_SMTP_URL": f"smtps://mail.example:465?cafile={path}"})
    assert line == f"Error: MAPSHEETS_SMTP_URL: cafile {path}: {reason}"
