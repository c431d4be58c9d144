"""Signing by email link in Chromium (issue 20 part 4): the page a buyer opens, its one button, the receipt.
Screenshots go to test-output/browser/."""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

import pytest
from digest_helpers import outbox_messages

from mapsheets import service
from mapsheets.adapters.mail import OutboxMailer
from mapsheets.adapters.xlsx import write_workbook
from mapsheets.core.layout import workbook_spec
from mapsheets.service import sign_links
from tests.browser.test_sidebar_browser import CHROMIUM, SHOTS, page  # noqa: F401 (a fixture)
from tests.server_process import DevServer

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed")


@pytest.fixture
def server(tmp_path):
    """The add-on server, sharing this test's state store (and so its signing key)."""
    plans = tmp_path / "plans"
    plans.mkdir()
    srv = DevServer(plans, os.environ["MAPSHEETS_DB"], tmp_path / "server.log")
    srv.plans = plans
    yield srv
    srv.stop()


def test_a_buyer_reads_and_signs_from_the_emailed_link(server, page, plan, tmp_path):  # noqa: F811
    plan.title = "<b>Acme</b> × Globex plan"
    ref = server.plans / "acme.xlsx"
    write_workbook(ref, workbook_spec(plan))
    url = sign_links.request(str(ref), "Jane Doe <jane@acme.example>", now=datetime.now(timezone.utc),
                             mailer=OutboxMailer(tmp_path / "sent"), base_url=server.url)
    page.goto(url)
    assert page.locator("h1").inner_text() == "<b>Acme</b> × Globex plan"  # the markup as text
    assert page.locator("#steps tbody tr").count() == len(plan.steps)
    page.screenshot(path=str(SHOTS / "6-sign-link-page.png"), full_page=True)
    page.get_by_role("button", name="Sign for the buyer side as Jane Doe <jane@acme.example>").click()
    page.get_by_role("heading", name="Signed").wait_for(timeout=10000)
    page.screenshot(path=str(SHOTS / "7-sign-link-signed.png"))
    [signature] = service.read_plan(str(ref), today=plan.start_date).plan.signatures
    assert (signature.email, signature.method) == ("jane@acme.example", "email link")
    receipts = outbox_messages(Path(os.environ["MAPSHEETS_OUTBOX"]))
    assert [m["Subject"] for m in receipts] == ["You signed: <b>Acme</b> × Globex plan"]
    page.goto(url)  # the link again: used, and nothing of the plan
    assert page.locator("h1").inner_text() == "This link has been used"
    assert "Acme" not in page.content()
