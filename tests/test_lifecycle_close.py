"""`mapsheets close`: the outcome in the overview (outside signatures), one last digest to every
subscriber, the plan archived so digest runs skip it; `show` tells the outcome and the score."""

from __future__ import annotations

import json
from datetime import date, timedelta

import openpyxl
from cli_helpers import invoke_cli
from click.testing import CliRunner
from closed_plans import START, at, closed_plan, work_week
from digest_helpers import html_of, outbox_messages

from mapsheets.adapters.mail import OutboxMailer
from mapsheets.adapters.xlsx import read_grid, write_workbook
from mapsheets.cli import cli
from mapsheets.core.layout import workbook_spec
from mapsheets.core.model import Plan
from mapsheets.core.parse import parse_plan
from mapsheets.service import digest
from mapsheets.service.signoff import sign

invoke = invoke_cli


def overview(path):
    parsed = parse_plan(read_grid(path))
    grid = read_grid(path)
    cells = {attr: grid[parsed.location.tab][r][c] for attr, (r, c) in parsed.location.overview_at.items()}
    machine = parsed.location.machine  # the reason is internal: on the hidden tab since issue 18
    cells.update({attr: grid[machine.tab][r][c] for attr, (r, c) in machine.at.items()} if machine else {})
    return cells


def test_close_records_the_outcome_tells_everyone_once_and_archives_the_plan(plan_file, db, tmp_path):
    outbox = tmp_path / "outbox"
    path = str(plan_file)
    digest.watch(path, ["Sam <sam@globex.example>", "Jane <jane@acme.example>"], now=at(START), store_url=db)
    for who, email, side in (("Sam", "sam@globex.example", "seller"), ("Jane", "jane@acme.example", "buyer")):
        sign(path, name=who, email=email, side=side, now=at(START), store_url=db, record=True)
    close_day = START + timedelta(days=30)

    done = CliRunner().invoke(cli, ["close", path, "--won", "--reason", "Security review passed", "--date",
                                    str(close_day - timedelta(days=1)), "--as-of", str(close_day), "--db", db,
                                    "--outbox", str(outbox), "--seller-domains", "globex.example"])
    assert done.exit_code == 0, done.output
    assert "Closed" in done.output and "won on 2026-12-30" in done.output and "1 external" in done.output

    cells = overview(plan_file)
    assert (cells["outcome"], cells["outcome_reason"]) == ("won", "Security review passed")
    assert cells["closed_on"].date() == date(2026, 12, 30)
    shown = json.loads(CliRunner().invoke(cli, ["show", path, "--json"]).output)
    assert (shown["outcome"], shown["closed_on"], shown["outcome_reason"]) \
        == ("won", "2026-12-30", "Security review passed")
    assert [s["status"] for s in shown["signatures"]] == ["valid", "valid"]  # the outcome is not a commitment
    assert 0 <= shown["execution_score"]["score"] <= 100 and shown["execution_score"]["signed_sides"] == 2
    text = CliRunner().invoke(cli, ["show", path]).output
    assert "Outcome: closed won on 2026-12-30 (Security review passed)" in text and "Execution score: " in text

    messages = outbox_messages(outbox)
    assert sorted(str(m["To"]) for m in messages) == ["Jane <jane@acme.example>", "Sam <sam@globex.example>"]
    for m in messages:
        assert "deal closed won" in str(m["Subject"]) and "The deal closed won on 2026-12-30" in html_of(m)
        # A closed deal has an outcome: no health and no projected close to tell anyone.
        body = m.get_body(preferencelist=("plain",)).get_content()
        assert "Outcome:          Deal closed won on 2026-12-30" in body
        assert "Projected close" not in body and "Health:" not in body and "on track" not in str(m["Subject"])
        assert "Projected close" not in html_of(m)
    assert [m["List-Unsubscribe"] is not None for m in messages if "jane" in str(m["To"])] == [True]

    listing = invoke("watching", db=db).output
    assert listing.count("archived: closed won on 2026-12-30") == 2
    assert all(s["archived"]["outcome"] == "won" for s in json.loads(invoke("watching", "--json", db=db).output))

    # People keep editing; the digest run sends nothing about an archived plan, to anyone.
    work_week(plan_file, date(2027, 1, 29), lambda step: 0)
    report = digest.run(now=at(close_day + timedelta(days=5)), mailer=OutboxMailer(outbox), store_url=db,
                        seller_domains=["globex.example"])
    assert report.sent == [] and report.archived == 2
    assert len(outbox_messages(outbox)) == 2

    again = invoke("close", path, "--won", "--reason", "Security review passed", "--date", "2026-12-30",
                   "--as-of", str(close_day), "--outbox", str(outbox), db=db)
    assert again.exit_code == 0 and "Already closed" in again.output
    assert len(outbox_messages(outbox)) == 2  # nobody is told twice
    flip = invoke("close", path, "--lost", "--as-of", str(close_day), "--outbox", str(outbox), db=db)
    assert flip.exit_code == 1 and flip.output.count("\n") == 1
    assert "already closed won on 2026-12-30" in flip.output and "Plan!C" in flip.output


def test_close_bad_input_is_one_line_and_changes_nothing(plan_file, db, tmp_path):
    before = plan_file.read_bytes()
    for args, words in ((["close", str(plan_file)], "--won or --lost"),
                        (["close", str(plan_file), "--won", "--date", "2099-01-01"], "in the future"),
                        (["close", str(tmp_path / "nope.xlsx"), "--lost"], "nope.xlsx"),
                        (["close", str(plan_file), "--won", "--reason", "x" * 40_000], "--reason")):
        result = invoke(*args, db=db)
        assert result.exit_code == 1 and result.output.count("\n") == 1 and words in result.output, result.output
    assert plan_file.read_bytes() == before

    # A plan made before the outcome rows existed: said, with where to add them; nothing written.
    old = tmp_path / "old.xlsx"
    spec = workbook_spec(parse_plan(read_grid(plan_file)).plan)
    spec.sheets[0].rows = [r for r in spec.sheets[0].rows if not (len(r) > 1 and r[1] in ("Outcome", "Closed on"))]
    spec.sheets[0].header_row -= 2
    write_workbook(old, spec)
    before = old.read_bytes()
    result = invoke("close", str(old), "--lost", db=db)
    assert result.exit_code == 1 and "no 'Outcome', 'Closed on' row" in result.output
    assert old.read_bytes() == before


def test_the_outcome_is_outside_both_fingerprints(plan):
    signed_v2, signed_v1 = plan.fingerprint(), plan.legacy_fingerprint()
    closed = Plan.from_dict(plan.to_dict())
    closed.outcome, closed.closed_on, closed.outcome_reason = "lost", date(2027, 1, 4), "budget"
    assert (closed.fingerprint(), closed.legacy_fingerprint()) == (signed_v2, signed_v1)
    assert Plan.from_dict(closed.to_dict()).outcome == "lost"


def test_outcomes_people_type_read_as_won_or_lost_and_others_warn(plan_file):
    path = plan_file
    parsed = parse_plan(read_grid(path))
    r, c = parsed.location.overview_at["outcome"]
    book = openpyxl.load_workbook(path)
    for typed, read, warned in (("Closed Won", "won", False), ("LOST", "lost", False), ("maybe", "", True)):
        book["Plan"].cell(row=r + 1, column=c + 1).value = typed
        book.save(path)
        again = parse_plan(read_grid(path))
        assert again.plan.outcome == read
        assert any("is not an outcome" in w.message for w in again.warnings) == warned


def test_generated_closed_plans_are_archived_with_a_final_revision(tmp_path, db):
    path = closed_plan(tmp_path, db, "Initech", "lost", security_slip=9, other_slip=3, weeks=6, signed=False,
                       outbox=tmp_path / "out")
    log = json.loads(invoke("log", str(path), "--json", db=db).output)
    assert log[-1]["origin"] == "close" and len(log) >= 7


def test_close_and_the_handoff_tab_on_a_google_sheet(google_env, plan, db, tmp_path):
    from mapsheets.adapters.gsheets import GoogleWorkbook
    from mapsheets.service.handoff import handoff
    from mapsheets.service.lifecycle_close import close_plan

    book = GoogleWorkbook.from_env(None)
    ref = book.create(workbook_spec(plan))
    sign(ref, name="Jane Doe", email="jane@acme.example", side="buyer", now=at(START))
    result = close_plan(ref, outcome="lost", reason="Budget frozen", today=date(2027, 1, 8), now=at(date(2027, 1, 8)),
                        store_url=db, mailer=OutboxMailer(tmp_path / "out"))
    assert result.written and result.told == []
    read = parse_plan(GoogleWorkbook.from_env(book.sheet_id).read_grid())
    assert (read.plan.outcome, read.plan.closed_on, read.plan.outcome_reason) \
        == ("lost", date(2027, 1, 8), "Budget frozen")
    assert [read.plan.signature_status(s) for s in read.plan.signatures] == ["valid"]
    handoff(ref, today=date(2027, 1, 8), tab=True)
    handoff(ref, today=date(2027, 1, 8), tab=True)  # rewritten in place, not appended twice
    rows = [r for r in GoogleWorkbook.from_env(book.sheet_id).read_grid()["Handoff"] if any(r)]
    assert rows[0] == ["Section", "Item", "Detail"] and sum(r[0] == "Section" for r in rows) == 1
    assert ["Deal", "Outcome", "closed lost on 2027-01-08"] in rows
