"""`mapsheets digest run` / `digest preview`, the old spellings beside them, and the run's options
given as a `DigestOptions` or as the keywords callers used before it."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from datetime import timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from digest_helpers import T0
from plan_cells import edit_steps as edit

from mapsheets.adapters.mail import OutboxMailer
from mapsheets.cli import cli
from mapsheets.service import digest

DAY1 = (T0 + timedelta(days=1)).isoformat()


def test_digest_run_and_preview_say_what_the_old_spellings_said(plan_file, db, tmp_path):
    digest.watch(str(plan_file), ["ae@globex.example"], now=T0, store_url=db)
    edit(plan_file, {(0, "Status"): "Done"})
    new = CliRunner().invoke(cli, ["digest", "run", "--dry-run", "--now", DAY1, "--db", db])
    old = CliRunner().invoke(cli, ["digest", "--dry-run", "--now", DAY1, "--db", db])
    assert new.exit_code == 0 and old.exit_code == 0, (new.output, old.output)
    assert "would send to ae@globex.example: [MAP] Acme Corp × Globex" in new.output
    assert new.output == old.output  # off a terminal the old spelling adds nothing: cron mails what it prints

    pages = {}
    for label, args in (("new", ["preview", str(plan_file)]), ("old", ["--preview", str(plan_file)]),
                        ("old=", [f"--preview={plan_file}"])):
        html = tmp_path / f"{label}.html"
        done = CliRunner().invoke(cli, ["digest", *args, "--since", "1", "-o", str(html), "--now", DAY1,
                                        "--tz", "UTC", "--db", db])
        assert done.exit_code == 0 and done.output == f"Wrote {html}\n", done.output
        pages[label] = html.read_text()
    assert pages["new"] == pages["old"] == pages["old="] and "is now done" in pages["new"]


def test_digest_run_sends_what_is_due(plan_file, db, tmp_path):
    outbox = tmp_path / "outbox"
    digest.watch(str(plan_file), ["ae@globex.example"], now=T0, store_url=db)
    edit(plan_file, {(0, "Status"): "Done"})
    sent = CliRunner().invoke(cli, ["digest", "run", "--now", DAY1, "--db", db, "--outbox", str(outbox)])
    assert sent.exit_code == 0 and sent.output == ""
    assert len(list(outbox.glob("*.eml"))) == 1


def test_digest_help_lists_run_and_preview():
    help_text = CliRunner().invoke(cli, ["digest", "--help"]).output
    commands = help_text.split("Commands:", 1)[1]
    assert "run " in commands and "preview " in commands
    run_help = " ".join(CliRunner().invoke(cli, ["digest", "run", "--help"]).output.split())
    assert "--dry-run" in run_help and "--preview" not in run_help
    preview_help = " ".join(CliRunner().invoke(cli, ["digest", "preview", "--help"]).output.split())
    assert "Usage: cli digest preview [OPTIONS] PLAN" in preview_help and "--since REV" in preview_help


def _on_a_terminal(args: list[str], cwd: Path) -> tuple[int, str]:
    """The CLI with its stderr on a pseudo-terminal (stdout a pipe, as under `| less`): code, stderr."""
    main, child = pty.openpty()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.run([sys.executable, "-m", "mapsheets.cli", *args], stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=child, cwd=cwd, env=env, timeout=120)
    os.close(child)
    said = b""
    while True:
        try:
            chunk = os.read(main, 4096)
        except OSError:  # the terminal's other end closed: all read
            break
        if not chunk:
            break
        said += chunk
    os.close(main)
    return proc.returncode, said.decode().replace("\r\n", "\n")


@pytest.mark.parametrize("args, spelling", [
    (["digest", "--dry-run", "--now", DAY1], "mapsheets digest run"),
    (["digest", "--preview", "PLAN", "-o", "out.html"], "mapsheets digest preview PLAN"),
])
def test_an_old_spelling_says_the_new_one_on_a_terminal(plan_file, db, tmp_path, args, spelling):
    digest.watch(str(plan_file), ["ae@globex.example"], now=T0, store_url=db)
    args = [str(plan_file) if a == "PLAN" else a for a in args]
    code, said = _on_a_terminal([*args, "--db", db], tmp_path)
    assert code == 0, said
    assert said.splitlines()[0] == f"note: `mapsheets digest` is now spelled `{spelling}`"
    new_args = ["digest", "run", *args[1:]] if spelling.endswith("run") else \
        ["digest", "preview", str(plan_file), "-o", "out.html"]
    code, said = _on_a_terminal([*new_args, "--db", db], tmp_path)
    assert code == 0 and "note: `mapsheets digest`" not in said, said


def test_run_takes_options_or_the_old_keywords_and_keywords_win(plan_file, db, tmp_path):
    digest.watch(str(plan_file), ["ae@globex.example"], now=T0, store_url=db)
    edit(plan_file, {(0, "Status"): "Done"})
    mailer = OutboxMailer(tmp_path / "outbox")
    at = T0 + timedelta(days=1)
    as_options = digest.run(digest.DigestOptions(dry_run=True, tz=timezone.utc), now=at, mailer=mailer,
                            store_url=db)
    as_keywords = digest.run(now=at, mailer=mailer, store_url=db, dry_run=True)
    assert as_options.would_send == as_keywords.would_send == [("ae@globex.example", as_options.would_send[0][1])]
    not_yet = digest.run(digest.DigestOptions(dry_run=True), now=at, mailer=mailer, store_url=db, hour=9)
    assert not_yet.would_send == [] and not_yet.waiting == 1  # the keyword wins: 07:00 is before 09:00
    with pytest.raises(TypeError):
        digest.run(now=at, mailer=mailer, store_url=db, dry_runs=True)  # type: ignore[call-arg]
    assert not (tmp_path / "outbox").exists()
