"""What a digest points to and who gets it: no dead file:// links, labels and titles in subjects,
unsubscribe headers for external recipients, dead deals that stop mailing the buyer, and output
that says where the messages went."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone

from click.testing import CliRunner
from digest_helpers import T0, html_of, outbox_messages, text_of
from plan_cells import edit_steps as edit

from mapsheets.adapters.mail import OutboxMailer
from mapsheets.adapters.xlsx import write_workbook
from mapsheets.cli import cli
from mapsheets.core.layout import workbook_spec
from mapsheets.service import build_plan, digest, get_template
from mapsheets.service.revisions import snapshot

SELLER = ["globex.example"]



def test_a_local_file_is_named_not_linked_and_watch_link_gives_the_link(plan_file, db, tmp_path):
    outbox = tmp_path / "outbox"
    digest.watch(str(plan_file), ["ae@globex.example"], now=T0, store_url=db)
    edit(plan_file, {(0, "Status"): "Done"})
    digest.run(now=T0 + timedelta(days=1), mailer=OutboxMailer(outbox), store_url=db)
    [message] = outbox_messages(outbox)
    for body in (html_of(message), text_of(message)):
        assert "file:" not in body and "acme-map.xlsx" in body
    assert "Open the plan" not in html_of(message)

    bad = CliRunner().invoke(cli, ["watch", str(plan_file), "--to", "ae@globex.example", "--link", "file:///x.xlsx",
                                   "--db", db])
    assert bad.exit_code == 1 and bad.output.strip() == "Error: --link 'file:///x.xlsx' is not an http(s) URL"
    share = "https://files.globex.example/deals/acme-map.xlsx"
    ok = CliRunner().invoke(cli, ["watch", str(plan_file), "--to", "ae@globex.example", "--link", share, "--db", db])
    assert ok.exit_code == 0, ok.output
    edit(plan_file, {(1, "Status"): "Done"})
    digest.run(now=T0 + timedelta(days=2), mailer=OutboxMailer(outbox), store_url=db)
    latest = [m for m in outbox_messages(outbox) if f'href="{share}"' in html_of(m)]
    assert len(latest) == 1 and f"Open the plan: {share}" in text_of(latest[0])


def test_subjects_carry_the_plan_and_its_kind_and_dry_run_names_each_plan(plan, db, tmp_path):
    closing, _fit = build_plan(get_template("closing-plan"), buyer="Acme Corp", seller="Globex",
                               start=date(2026, 12, 1), close=date(2027, 3, 31), rng=random.Random(3))
    emea = build_plan(get_template("enterprise-map"), buyer="Acme Corp", seller="Globex",
                      start=date(2026, 12, 1), close=date(2027, 3, 31), rng=random.Random(4))[0]
    emea.title = "Mutual Action Plan: Acme Corp × Globex (EMEA rollout)"
    paths = {}
    for name, p in (("us.xlsx", plan), ("emea.xlsx", emea), ("closing.xlsx", closing)):
        paths[name] = tmp_path / name
        write_workbook(paths[name], workbook_spec(p))
        digest.watch(str(paths[name]), ["ae@globex.example"], now=T0, store_url=db)
        edit(paths[name], {(0, "Status"): "Done"})
    now = (T0 + timedelta(days=1)).isoformat()
    dry = CliRunner().invoke(cli, ["digest", "--dry-run", "--now", now, "--db", db])
    assert dry.exit_code == 0, dry.output
    subjects = sorted(line.split(": ", 1)[1] for line in dry.output.splitlines() if line.startswith("would send"))
    assert subjects == [
        "[Closing plan] Acme Corp: 1 change · on track",
        "[MAP] Acme Corp × Globex (EMEA rollout): 1 change · on track",
        "[MAP] Acme Corp × Globex: 1 change · on track"]
    for name in paths:
        assert f"({paths[name].resolve()}): changed" in dry.output
    assert "3 plans due (3 with changes to tell, 0 not modified since last read)" in dry.output
    report = digest.run(now=T0 + timedelta(days=1), mailer=OutboxMailer(tmp_path / "outbox"), store_url=db)
    message = next(m for m in outbox_messages(tmp_path / "outbox") if "Closing plan" in m["Subject"])
    assert len(report.sent) == 3 and text_of(message).startswith("Acme Corp — ")
    assert "Closing plan · digest for" in text_of(message) and "Mutual action plan" not in html_of(message)


def test_external_recipients_get_unsubscribe_headers(plan_file, db, tmp_path, monkeypatch):
    outbox = tmp_path / "outbox"
    digest.watch(str(plan_file), ["ae@globex.example", "cfo@acme.example"], now=T0, store_url=db)
    edit(plan_file, {(0, "Status"): "Done"})
    monkeypatch.setenv("MAPSHEETS_SELLER_DOMAINS", "Globex.example")
    result = CliRunner().invoke(cli, ["digest", "--now", (T0 + timedelta(days=1)).isoformat(), "--db", db,
                                      "--outbox", str(outbox), "--from", "Globex deals <deals@globex.example>"])
    assert result.exit_code == 0, result.output
    by_to = {m["To"]: m for m in outbox_messages(outbox)}
    assert by_to["ae@globex.example"]["List-Unsubscribe"] is None
    cfo = by_to["cfo@acme.example"]
    [subscription] = [s for s in digest.watching(store_url=db) if s.email == "cfo@acme.example"]
    assert cfo["List-Unsubscribe"] == (
        f"<mailto:deals@globex.example?subject=unsubscribe%20cfo%40acme.example%20from%20"
        f"Acme%20Corp%20%C3%97%20Globex%20%28subscription%20{subscription.id}%29>")
    assert cfo["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_without_a_setting_the_plans_seller_side_emails_say_who_is_inside(plan, db, tmp_path):
    from mapsheets.core.model import Stakeholder

    plan.stakeholders.append(Stakeholder("Sam", "sam@globex.example", "seller", "AE"))
    path = tmp_path / "p.xlsx"
    write_workbook(path, workbook_spec(plan))
    digest.watch(str(path), ["ae@globex.example", "cfo@acme.example"], now=T0, store_url=db)
    edit(path, {(0, "Status"): "Done"})
    digest.run(now=T0 + timedelta(days=1), mailer=OutboxMailer(tmp_path / "outbox"), store_url=db)
    by_to = {m["To"]: m for m in outbox_messages(tmp_path / "outbox")}
    assert by_to["ae@globex.example"]["List-Unsubscribe"] is None
    assert by_to["cfo@acme.example"]["List-Unsubscribe"].startswith("<mailto:mapsheets@localhost?subject=")


def test_a_dead_deal_tells_the_seller_once_and_stops_mailing_the_buyer(plan_file, db, tmp_path):
    outbox = tmp_path / "outbox"
    mailer = OutboxMailer(outbox)
    digest.watch(str(plan_file), ["ae@globex.example", "cfo@acme.example"], now=T0, store_url=db)
    # Target close Wed 31 Mar 2027; 20 business days later is Wed 28 Apr.
    still = datetime(2027, 4, 28, 7, tzinfo=timezone.utc)
    report = digest.run(now=still, mailer=mailer, store_url=db, seller_domains=SELLER)
    assert sorted(to for to, _s in report.sent) == ["ae@globex.example", "cfo@acme.example"]

    dead = datetime(2027, 4, 29, 7, tzinfo=timezone.utc)  # 21 business days past the target close
    report = digest.run(now=dead, mailer=mailer, store_url=db, seller_domains=SELLER)
    assert [to for to, _s in report.sent] == ["ae@globex.example"] and report.stopped == 1
    [(_to, subject)] = report.sent
    assert "target close passed 21 business days ago, buyer digests stopped" in subject
    notice = [m for m in outbox_messages(outbox) if m["Subject"] == subject][0]
    assert "This is the last digest" in text_of(notice)

    for day in (1, 2):  # nothing changed: nobody hears of it again
        later = digest.run(now=dead + timedelta(days=day), mailer=mailer, store_url=db, seller_domains=SELLER)
        assert later.sent == []
    edit(plan_file, {(0, "Notes"): "still talking to procurement"})
    later = digest.run(now=dead + timedelta(days=5), mailer=mailer, store_url=db, seller_domains=SELLER)
    assert [to for to, _s in later.sent] == ["ae@globex.example"]  # a change still reaches the seller
    assert "buyer digests stopped" not in later.sent[0][1]


def test_dead_after_is_configurable(plan_file, db, tmp_path, monkeypatch):
    digest.watch(str(plan_file), ["ae@globex.example", "cfo@acme.example"], now=T0, store_url=db)
    dead = datetime(2027, 4, 29, 7, tzinfo=timezone.utc)
    monkeypatch.setenv("MAPSHEETS_DEAD_AFTER_DAYS", "40")
    monkeypatch.setenv("MAPSHEETS_SELLER_DOMAINS", "globex.example")
    result = CliRunner().invoke(cli, ["digest", "--dry-run", "--now", dead.isoformat(), "--db", db])
    assert result.exit_code == 0 and result.output.count("would send to") == 2
    result = CliRunner().invoke(cli, ["digest", "--dry-run", "--now", dead.isoformat(), "--db", db,
                                      "--dead-after", "20"])
    assert [line for line in result.output.splitlines() if line.startswith("would send")] == [
        "would send to ae@globex.example: [MAP] Acme Corp × Globex: target close passed 21 business days ago, "
        "buyer digests stopped · stalled"]


def test_without_smtp_digest_says_it_wrote_to_the_outbox(plan_file, db, tmp_path):
    """On a terminal (a real pty): the messages were written, not sent."""
    import pty

    outbox = tmp_path / "outbox"
    digest.watch(str(plan_file), ["ae@globex.example"], now=T0, store_url=db)
    edit(plan_file, {(0, "Status"): "Done"})
    env = {k: v for k, v in os.environ.items() if k != "MAPSHEETS_SMTP_URL"}
    main, child = pty.openpty()
    proc = subprocess.run([sys.executable, "-m", "mapsheets.cli", "digest", "--db", db, "--outbox", str(outbox),
                           "--now", (T0 + timedelta(days=1)).isoformat()],
                          stdout=child, stderr=subprocess.PIPE, env=env, timeout=60)
    os.close(child)
    out = b""
    while True:
        try:
            chunk = os.read(main, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    os.close(main)
    text = out.decode().replace("\r\n", "\n")
    assert proc.returncode == 0, proc.stderr
    assert "sent to" not in text
    assert f"wrote 1 message to {outbox} (MAPSHEETS_SMTP_URL is not set)" in text  # issue 18: "1 messages"
    assert "wrote a message to ae@globex.example: [MAP]" in text


def test_dry_run_counts_a_change_stored_before_the_run_as_changed(plan_file, db):
    """A change already stored (say by `sign`) but not yet in anyone's digest is a change: the dry
    run must not say "no change" beside "would send ... 1 change"."""
    digest.watch(str(plan_file), ["ae@globex.example"], now=T0, store_url=db)
    edit(plan_file, {(0, "Status"): "Done"})
    snapshot(str(plan_file), now=T0 + timedelta(hours=1), store_url=db)  # stored before the run
    dry = CliRunner().invoke(cli, ["digest", "--dry-run", "--now", (T0 + timedelta(days=1)).isoformat(), "--db", db])
    assert dry.exit_code == 0, dry.output
    assert "would send to ae@globex.example:" in dry.output and "1 change" in dry.output
    assert f"({plan_file.resolve()}): changed" in dry.output
    assert "1 plan due (1 with changes to tell, " in dry.output  # issue 18: "1 plans"


def test_cells_that_could_not_be_read_are_told_to_a_buyer_in_plain_words(plan_file, db, tmp_path, monkeypatch):
    """Issues 18 and 23: "Plan!H27 …" is written for us; a buyer reads "Row 27 of the plan: …"."""
    from plan_cells import step_cell

    outbox = tmp_path / "outbox"
    digest.watch(str(plan_file), ["ae@globex.example", "cfo@acme.example"], now=T0, store_url=db)
    edit(plan_file, {(0, "Status"): "Done", (2, "Due"): "next week"})
    cell = step_cell(plan_file, 2, "Due")
    monkeypatch.setenv("MAPSHEETS_SELLER_DOMAINS", "globex.example")
    result = CliRunner().invoke(cli, ["digest", "--now", (T0 + timedelta(days=1)).isoformat(), "--db", db,
                                      "--outbox", str(outbox)])
    assert result.exit_code == 0, result.output
    by_to = {m["To"]: m for m in outbox_messages(outbox)}
    row = cell.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    for body in (html_of(by_to["cfo@acme.example"]), text_of(by_to["cfo@acme.example"])):
        assert f"Row {row} of the plan: &#34;next week&#34; is not a date" in body or \
            f'Row {row} of the plan: "next week" is not a date' in body
        assert f"Plan!{cell}" not in body and "mapsheets show" not in body
    seller = text_of(by_to["ae@globex.example"])
    assert f"Plan!{cell}" in seller  # the seller side keeps the cell, to fix it


def test_an_outcome_typed_by_hand_never_reaches_a_buyer_in_a_digest(plan_file, db, tmp_path, monkeypatch):
    """Issue 18: a loss and its reason are internal, also before `close` runs."""
    import openpyxl

    outbox = tmp_path / "outbox"
    digest.watch(str(plan_file), ["ae@globex.example", "cfo@acme.example"], now=T0, store_url=db)
    book = openpyxl.load_workbook(plan_file)
    ws = book["Plan"]
    row = next(r for r in range(1, 60) if ws.cell(r, 2).value == "Outcome")
    ws.cell(row, 3).value = "lost"
    book.save(plan_file)
    edit(plan_file, {(0, "Status"): "Done"})
    monkeypatch.setenv("MAPSHEETS_SELLER_DOMAINS", "globex.example")
    result = CliRunner().invoke(cli, ["digest", "--now", (T0 + timedelta(days=1)).isoformat(), "--db", db,
                                      "--outbox", str(outbox)])
    assert result.exit_code == 0, result.output
    by_to = {m["To"]: m for m in outbox_messages(outbox)}
    assert "lost" in text_of(by_to["ae@globex.example"]).lower()
    buyer = text_of(by_to["cfo@acme.example"]).lower() + html_of(by_to["cfo@acme.example"]).lower()
    assert "lost" not in buyer and "outcome" not in buyer
