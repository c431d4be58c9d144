"""Closing a deal safely: one outcome at a time, the reason kept inside the seller, a neutral note to
the buyer (seen in Chromium), and a corrected outcome told to whoever heard the first one."""

from __future__ import annotations

import json
import os
import re
import shutil
from datetime import date
from pathlib import Path

import pytest
from cli_helpers import invoke_cli
from click.testing import CliRunner
from closed_plans import START, at
from digest_helpers import html_of, outbox_messages, text_of

from mapsheets.adapters.mail import OutboxMailer
from mapsheets.cli import cli
from mapsheets.service import digest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
REASON = "Lost to X on price; champion lost the internal fight"
LOST = re.compile(r"\blost\b", re.I)
CLOSE_DAY = date(2027, 1, 8)


def invoke(*args, db, outbox=None):
    extra = ["--outbox", str(outbox), "--seller-domains", "globex.example"] if outbox else []
    return invoke_cli(*args, "--as-of", CLOSE_DAY, *extra, db=db)


def watched(plan_file, db):
    digest.watch(str(plan_file), ["Sam Seller <sam@globex.example>", "Jane Champion <jane@acme.example>"],
                 now=at(START), store_url=db)


def by_recipient(outbox: Path) -> dict[str, list]:
    out: dict[str, list] = {}
    for m in outbox_messages(outbox):
        out.setdefault(str(m["To"]).split("<")[1].rstrip(">"), []).append(m)
    return out


def _correction(messages):
    (found,) = [m for m in messages if "correction:" in str(m["Subject"])]
    return found


def everything(message) -> str:
    return "\n".join((str(message["Subject"]), html_of(message), text_of(message)))


def test_won_and_lost_together_is_a_one_line_error_and_tells_nobody(plan_file, db, tmp_path):
    watched(plan_file, db)
    before = plan_file.read_bytes()
    result = invoke("close", str(plan_file), "--won", "--lost", db=db, outbox=tmp_path / "out")
    assert result.exit_code == 1 and result.output.count("\n") == 1, result.output
    assert "--won and --lost" in result.output
    assert plan_file.read_bytes() == before and not (tmp_path / "out").exists()


def test_the_reason_stays_inside_the_seller_and_the_buyer_gets_a_neutral_note(plan_file, db, tmp_path):
    watched(plan_file, db)
    done = invoke("close", str(plan_file), "--lost", "--reason", REASON, db=db, outbox=tmp_path / "out")
    assert done.exit_code == 0, done.output
    mail = by_recipient(tmp_path / "out")
    (buyer,), (seller,) = mail["jane@acme.example"], mail["sam@globex.example"]
    assert REASON in str(seller["Subject"]) and REASON in html_of(seller) and "closed lost" in text_of(seller)
    for part in (str(buyer["Subject"]), html_of(buyer), text_of(buyer)):
        assert "price" not in part and not LOST.search(part), part
    assert "deal closed on 2027-01-08, last digest" in str(buyer["Subject"])
    assert "The deal closed on 2027-01-08." in text_of(buyer)
    page = _render(html_of(buyer), tmp_path / "buyer-lost.png")
    assert "The deal closed on 2027-01-08" in page and not LOST.search(page) and "price" not in page


def test_a_buyer_facing_message_is_the_only_way_lost_reaches_the_buyer(plan_file, db, tmp_path):
    watched(plan_file, db)
    words = "We lost this one to a competitor; thank you for your time & candour."
    done = invoke("close", str(plan_file), "--lost", "--reason", REASON, "--message", words, db=db,
                  outbox=tmp_path / "out")
    assert done.exit_code == 0, done.output
    (buyer,) = by_recipient(tmp_path / "out")["jane@acme.example"]
    assert "price" not in everything(buyer) and "internal fight" not in everything(buyer)
    assert words in text_of(buyer) and "thank you for your time &amp; candour" in html_of(buyer)
    page = _render(html_of(buyer), tmp_path / "buyer-message.png")
    assert "From Globex: " + words in page


def test_closing_again_after_clearing_the_outcome_re_archives_and_tells_whoever_heard(plan_file, db, tmp_path):
    import openpyxl

    from mapsheets.adapters.xlsx import read_grid
    from mapsheets.core.parse import parse_plan

    watched(plan_file, db)
    closed = invoke("close", str(plan_file), "--lost", "--reason", "budget", db=db, outbox=tmp_path / "out")
    assert closed.exit_code == 0
    r, c = parse_plan(read_grid(plan_file)).location.overview_at["outcome"]
    book = openpyxl.load_workbook(plan_file)
    book["Plan"].cell(row=r + 1, column=c + 1).value = None  # cleared by hand
    book.save(plan_file)

    again = invoke("close", str(plan_file), "--won", db=db, outbox=tmp_path / "out")
    assert again.exit_code == 0 and "Corrected" in again.output and "was lost on 2027-01-08" in again.output
    listing = CliRunner().invoke(cli, ["watching", "--db", db]).output
    assert "archived: closed won on 2027-01-08" in listing and "closed lost" not in listing
    mail = by_recipient(tmp_path / "out")
    assert [len(mail[e]) for e in ("jane@acme.example", "sam@globex.example")] == [2, 2]
    seller_fix, buyer_fix = (_correction(mail[e]) for e in ("sam@globex.example", "jane@acme.example"))
    assert str(seller_fix["Subject"]).endswith("correction: deal closed won on 2027-01-08, last digest")
    assert "Correction: this replaces the earlier closing note (lost on 2027-01-08 (budget))" in text_of(seller_fix)
    assert "Correction: this replaces the earlier closing note." in text_of(buyer_fix)
    assert not LOST.search(everything(buyer_fix)) and "budget" not in everything(buyer_fix)

    # The same again tells nobody; a flip needs --correct, and then reaches the same people.
    assert "Already closed" in invoke("close", str(plan_file), "--won", db=db, outbox=tmp_path / "out").output
    assert invoke("close", str(plan_file), "--lost", db=db, outbox=tmp_path / "out").exit_code == 1
    flip = invoke("close", str(plan_file), "--lost", "--correct", db=db, outbox=tmp_path / "out")
    assert flip.exit_code == 0 and "2 subscribers" in flip.output
    assert len(outbox_messages(tmp_path / "out")) == 6


def test_reopen_clears_the_outcome_resumes_digests_and_tells_whoever_heard(plan_file, db, tmp_path):
    from mapsheets.adapters.xlsx import read_grid
    from mapsheets.core.parse import parse_plan

    watched(plan_file, db)
    invoke("close", str(plan_file), "--won", db=db, outbox=tmp_path / "out")
    bad = invoke("close", str(plan_file), "--reopen", "--won", db=db, outbox=tmp_path / "out")
    assert bad.exit_code == 1 and bad.output.count("\n") == 1
    done = invoke("close", str(plan_file), "--reopen", db=db, outbox=tmp_path / "out")
    assert done.exit_code == 0 and "Re-opened" in done.output and "2 subscribers" in done.output, done.output
    assert parse_plan(read_grid(plan_file)).plan.outcome == ""
    rows = json.loads(CliRunner().invoke(cli, ["watching", "--json", "--db", db]).output)
    assert all(not r.get("archived") for r in rows)
    note = _correction(by_recipient(tmp_path / "out")["jane@acme.example"])
    assert "The plan is open again" in text_of(note) and "correction: plan open again" in str(note["Subject"])
    report = digest.run(now=at(date(2027, 1, 12)), mailer=OutboxMailer(tmp_path / "out"), store_url=db,
                        seller_domains=["globex.example"], dry_run=True)
    assert report.archived == 0
    again = invoke("close", str(plan_file), "--reopen", db=db, outbox=tmp_path / "out")
    assert again.exit_code == 1 and "is not closed" in again.output


def _render(html: str, target: Path) -> str:
    """The email as Chromium shows it: a PNG beside the test's files, and the text on the page."""
    missing = pytest.fail if os.environ.get("CI", "").lower() == "true" else pytest.skip  # CI must run it
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("playwright is not installed (pip install playwright)")
    if not shutil.which(CHROMIUM):
        missing(f"{CHROMIUM} is missing (apt-get install chromium)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 760, "height": 900})
            page.set_content(html, wait_until="load")
            page.screenshot(path=str(target), full_page=True)
            text = page.inner_text("body")
        finally:
            browser.close()
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return text
