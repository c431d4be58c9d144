"""What a first-time user tripped over, pinned down."""

from __future__ import annotations

import email
import email.policy
import json
from datetime import datetime, timedelta, timezone

from cli_helpers import invoke_cli
from click.testing import CliRunner
from plan_cells import edit_steps

from mapsheets.adapters.mail import OutboxMailer
from mapsheets.cli import cli
from mapsheets.service import digest

T0 = datetime(2026, 12, 1, 7, 0, tzinfo=timezone.utc)  # a Tuesday


def invoke(*args):
    result = invoke_cli(*args)
    return result.exit_code, result.output


def test_roles_given_as_name_and_email_fill_the_team_tab(tmp_path):
    code, _out = invoke("new", "-t", "midmarket-map", "--buyer", "Acme", "--seller", "Globex", "--no-watch",
                        "--role", "champion=Jane Doe <jane@acme.example>", "-o", tmp_path / "p.xlsx")
    assert code == 0
    code, out = invoke("show", tmp_path / "p.xlsx", "--json")
    people = {s["role"]: (s["name"], s["email"]) for s in json.loads(out)["stakeholders"]}
    assert people["Champion"] == ("Jane Doe", "jane@acme.example")


def test_durations_name_stages_by_phase_and_errors_name_the_file(tmp_path):
    good = tmp_path / "d.csv"
    good.write_text("stage,days\nLegal & procurement,30\n")
    code, out = invoke("new", "-t", "midmarket-map", "--buyer", "A", "--seller", "B", "--no-watch",
                       "--start-date", "2027-01-04", "--durations", good, "-o", tmp_path / "p.xlsx")
    assert code == 0, out
    bad = tmp_path / "bad.csv"
    bad.write_text("stage,days\nLawyers,30\n")
    code, out = invoke("new", "-t", "midmarket-map", "--buyer", "A", "--seller", "B", "--durations", bad,
                       "-o", tmp_path / "q.xlsx")
    assert code == 1 and out.startswith(f"Error: {bad}: unknown stage 'Lawyers'") \
        and "legal (Legal & procurement)" in out


def test_a_backward_plan_that_should_have_started_already_says_so(tmp_path):
    result = CliRunner().invoke(cli, ["new", "-t", "enterprise-map", "--buyer", "A", "--seller", "B", "--no-watch",
                                      "--close-date", (datetime.now().date() + timedelta(days=14)).isoformat(),
                                      "--backward", "-o", str(tmp_path / "p.xlsx")])
    assert result.exit_code == 0
    assert "should have started on" in result.stderr and "steps are overdue already" in result.stderr


def test_digest_options_that_belong_to_preview_are_refused_without_it(tmp_path):
    code, out = invoke("digest", "--since", "1")
    assert code == 1 and out.strip() == "Error: --since and --output go with --preview PLAN"


def test_no_digests_at_weekends_they_wait_for_monday(plan_file, tmp_path):
    db = f"sqlite:///{tmp_path / 's.db'}"
    mailer = OutboxMailer(tmp_path / "outbox")
    digest.watch(str(plan_file), ["ae@globex.example"], now=T0, store_url=db)
    edit_steps(plan_file, {(0, "Status"): "Done"})
    saturday = T0 + timedelta(days=4)
    assert digest.run(now=saturday, mailer=mailer, store_url=db).sent == []
    assert digest.run(now=saturday + timedelta(days=1), mailer=mailer, store_url=db).sent == []
    monday = digest.run(now=saturday + timedelta(days=2), mailer=mailer, store_url=db)
    assert len(monday.sent) == 1
    [path] = (tmp_path / "outbox").glob("*.eml")
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert message["Date"].datetime == saturday + timedelta(days=2)  # the run's time, not the machine's


def test_preview_says_what_it_compares_with(plan_file, tmp_path):
    db = f"sqlite:///{tmp_path / 's.db'}"
    invoke("snapshot", plan_file, "--db", db)
    edit_steps(plan_file, {(0, "Status"): "Done"})
    out = tmp_path / "p.html"
    code, text = invoke("digest", "--preview", plan_file, "--since", "1", "-o", out, "--db", db)
    assert code == 0, text
    page = out.read_text()
    assert "What changed since revision 1" in page and "since your last digest" not in page


def test_show_lists_every_step_with_all_and_says_business_days(plan_file):
    code, short = invoke("show", plan_file, "--as-of", "2027-06-01")
    assert "… and 6 more (--all lists them)" in short and "OVERDUE" in short and "business days" in short
    code, full = invoke("show", plan_file, "--as-of", "2027-06-01", "--all")
    assert "more (--all" not in full and full.count("OVERDUE") == 16


def test_a_sheet_that_is_not_a_plan_is_named_in_the_error(tmp_path):
    import openpyxl

    path = tmp_path / "budget.xlsx"
    openpyxl.Workbook().save(path)
    code, out = invoke("show", path)
    assert code == 1 and out.startswith(f"Error: {path}: no steps table found")


def test_find_says_when_nothing_matches(google_env):
    code, out = invoke("find", "--name", "zzz")
    assert code == 0 and out.strip() == "No plans found whose name contains 'zzz'."
