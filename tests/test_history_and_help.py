"""Smaller things a user trips over: named recipients, diff against a revision, where revisions came
from, the audit log, login's missing file, documented options, one line per finished step, --help."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta

import pytest
from cli_helpers import invoke_cli
from click.testing import CliRunner
from digest_helpers import T0, outbox_messages
from plan_cells import add_to_team, edit_steps

from mapsheets.adapters.mail import OutboxMailer
from mapsheets.cli import cli
from mapsheets.service import digest

invoke = invoke_cli


def one_line_error(result) -> str:
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and "Traceback" not in result.output
    return lines[0]


def test_watch_takes_a_name_and_an_address_and_mails_to_both(plan_file, db, tmp_path):
    result = invoke("watch", plan_file, "--to", "Jane Doe <jane@acme.example>", "--to", "ae@globex.example", db=db)
    assert result.exit_code == 0, result.output
    assert f"Jane Doe <jane@acme.example> gets a daily digest of {plan_file}" in result.output
    subs = {s.email: s.name for s in digest.watching(store_url=db)}
    assert subs == {"jane@acme.example": "Jane Doe", "ae@globex.example": ""}
    listed = json.loads(invoke("watching", "--json", db=db).output)
    assert {(s["email"], s["name"]) for s in listed} == {("jane@acme.example", "Jane Doe"), ("ae@globex.example", "")}

    edit_steps(plan_file, {(0, "Status"): "Done"})
    outbox = tmp_path / "outbox"
    report = digest.run(now=T0 + timedelta(days=1), mailer=OutboxMailer(outbox), store_url=db)
    assert sorted(to for to, _s in report.sent) == ["Jane Doe <jane@acme.example>", "ae@globex.example"]
    assert sorted(str(m["To"]) for m in outbox_messages(outbox)) == ["Jane Doe <jane@acme.example>",
                                                                      "ae@globex.example"]
    # The same address without a name keeps the name; unwatch takes either form.
    assert invoke("watch", plan_file, "--to", "jane@acme.example", "--every", "weekly", db=db).exit_code == 0
    assert {s.email: s.name for s in digest.watching(store_url=db)}["jane@acme.example"] == "Jane Doe"
    assert "Removed 1 subscription(s)" in invoke("unwatch", plan_file, "--to", "Jane Doe <jane@acme.example>",
                                                 db=db).output
    for bad in ("Jane Doe <jane>", "Jane Doe", "<>"):
        assert f"--to {bad!r} is not an email address" in one_line_error(invoke("watch", plan_file, "--to", bad, db=db))


def test_diff_of_one_revision_compares_it_with_the_live_plan(plan_file, plan, db):
    assert invoke("snapshot", plan_file, db=db).exit_code == 0
    edit_steps(plan_file, {(1, "Due"): "2026-12-24"})
    result = invoke("diff", f"{plan_file}@1", db=db)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == f"{plan_file}@1 → {plan_file}"
    assert f'"{plan.steps[1].title}"' in result.output
    assert "has no revision 99" in one_line_error(invoke("diff", f"{plan_file}@99", db=db))
    assert "give either NEW or --since REV" in one_line_error(invoke("diff", plan_file, db=db))


def test_diff_folds_done_on_into_is_now_done_as_the_digest_does(plan_file, plan, db):
    invoke("snapshot", plan_file, db=db)
    edit_steps(plan_file, {(0, "Status"): "Done", (0, "Done on"): date(2026, 12, 2),
                           (1, "Done on"): date(2026, 12, 3)})
    lines = invoke("diff", plan_file, "--since", "1", db=db).output.splitlines()[1:]
    first, second = f'"{plan.steps[0].title}"', f'"{plan.steps[1].title}"'
    assert [line for line in lines if first in line] == [f"  {first} is now done"]
    assert [line for line in lines if second in line] == [f"  {second} done on 2026-12-03"]  # not done: kept
    as_json = json.loads(invoke("diff", plan_file, "--since", "1", "--json", db=db).output)
    assert sum(c["field"] == "done_on" for c in as_json["changes"]) == 2  # the machine-readable list keeps both


def test_log_says_where_each_revision_came_from(plan_file, db, tmp_path):
    import sqlalchemy as sa

    invoke("snapshot", plan_file, db=db)
    edit_steps(plan_file, {(0, "Status"): "In progress"})
    assert invoke("watch", plan_file, "--to", "ae@globex.example", db=db).exit_code == 0
    add_to_team(plan_file, ("Ann", "ann@acme.example", "buyer", ""))  # only people on a plan may sign
    assert invoke("sign", plan_file, "--name", "Ann", "--email", "ann@acme.example", "--side", "buyer",
                  db=db).exit_code == 0
    edit_steps(plan_file, {(0, "Status"): "Done"})
    digest.run(now=T0 + timedelta(days=1), mailer=OutboxMailer(tmp_path / "o"), store_url=db)
    engine = sa.create_engine(db)  # revision 1 as a store from before origins were recorded has it
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE revisions SET origin = NULL WHERE seq = 1")
    engine.dispose()
    text = invoke("log", plan_file, db=db).output.splitlines()
    assert [line.split()[-1] for line in text] == ["unknown", "watch", "sign", "digest"]
    as_json = json.loads(invoke("log", plan_file, "--json", db=db).output)
    assert [r["origin"] for r in as_json] == ["unknown", "watch", "sign", "digest"]


def test_audit_lists_what_mapsheets_did_to_a_plan(plan_file, db):
    assert "no revisions stored" in one_line_error(invoke("audit", plan_file, db=db))
    invoke("snapshot", plan_file, db=db)
    assert invoke("audit", plan_file, db=db).output == f"No audit events for {plan_file}.\n"
    add_to_team(plan_file, ("Ann", "ann@acme.example", "buyer", ""))  # only people on a plan may sign
    invoke("sign", plan_file, "--name", "Ann", "--email", "ann@acme.example", "--side", "buyer", db=db)
    [line] = invoke("audit", plan_file, db=db).output.splitlines()
    when, actor, action, details = re.match(r"^(\S+ \S+)  (\S+)  (\S+)  (.*)$", line).groups()
    assert datetime.strptime(when, "%Y-%m-%d %H:%M")
    assert (actor, action) == ("ann@acme.example", "signed")
    assert "side=buyer" in details and "fingerprint=" in details
    [event] = json.loads(invoke("audit", plan_file, "--json", db=db).output)
    assert set(event) == {"at", "actor", "action", "details"}
    assert event["actor"] == "ann@acme.example" and event["details"]["side"] == "buyer"
    assert datetime.fromisoformat(event["at"]).tzinfo is not None


def test_login_with_a_missing_secrets_file_says_it_does_not_exist(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    error = one_line_error(invoke("login", "--client-secrets", "missing.json"))
    assert error == "Error: missing.json: the file does not exist (--client-secrets)"


def test_digest_stale_after_is_documented_with_unit_and_default():
    help_text = " ".join(invoke("digest", "--help").output.split())
    option = help_text[help_text.index("--stale-after"):]
    assert option.startswith("--stale-after DAYS")
    assert "calendar days" in option[:200] and "default: none" in option[:200]


@pytest.mark.parametrize("width", [80, 120])
def test_top_level_help_shows_each_description_whole(width):
    result = CliRunner().invoke(cli, ["--help"], terminal_width=width)
    commands = result.output.split("Commands:", 1)[1]
    assert "..." not in commands
    flat = " ".join(commands.split())
    for name, command in cli.commands.items():
        first = " ".join(command.help.split("\n\n")[0].split())
        sentence = first[: first.index(".") + 1] if "." in first else first
        assert f"{name} {sentence}" in flat, name


def test_command_line_writes_reach_the_audit_log(plan_file):
    """add-step, team and show --fix-ids are in the audit log, by the local user (the add-on logs
    its own writes with the caller's verified email)."""
    invoke("snapshot", plan_file)
    assert invoke("add-step", plan_file, "--title", "Legal review").exit_code == 0
    assert invoke("team", plan_file, "--add", "Raj <raj@acme.example>", "--side", "buyer").exit_code == 0
    events = json.loads(invoke("audit", plan_file, "--json").output)
    assert [e["action"] for e in events] == ["step added", "team member added"]
    assert all(e["actor"].endswith("(command line)") for e in events)
    assert events[0]["details"]["title"] == "Legal review" and events[1]["details"]["email"] == "raj@acme.example"
