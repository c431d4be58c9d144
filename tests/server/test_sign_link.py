"""Signing by email link (issue 20 part 4), through Flask's test client and a real SMTP server."""

from __future__ import annotations

import email
import re
from datetime import datetime, timedelta, timezone
from email import policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from plan_cells import edit_steps

from mapsheets import service
from mapsheets.adapters.mail import mailer_from_url
from mapsheets.adapters.store import open_store
from mapsheets.adapters.xlsx import write_workbook
from mapsheets.core.layout import workbook_spec
from mapsheets.service import sign_links
from tests.server_process import free_port

JANE = "Jane Doe <jane@acme.example>"


class Recorder:
    def __init__(self):
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((list(envelope.rcpt_tos),
                              email.message_from_bytes(envelope.original_content, policy=policy.default)))
        return "250 OK"


@pytest.fixture
def smtp():
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield recorder, f"smtp://127.0.0.1:{controller.port}"
    controller.stop()


@pytest.fixture
def app(smtp):
    from addon_server import create_app

    app = create_app({"DEV": True, "HOST": "127.0.0.1", "SMTP_URL": smtp[1], "TESTING": True})
    yield app
    app.extensions["mapsheets_store"].close()


def _request(ref, smtp, *, now=None, to=JANE) -> str:
    """Ask for a signature; the link's path as the email carried it."""
    recorder, url = smtp
    before = len(recorder.messages)
    sign_links.request(str(ref), to, now=now or datetime.now(timezone.utc), mailer=mailer_from_url(url, Path("x")),
                       base_url="http://127.0.0.1")
    [(rcpt, message)] = recorder.messages[before:]
    assert rcpt == ["jane@acme.example"]
    text = message.get_body(("plain",)).get_content()
    return re.search(r"http://127\.0\.0\.1(/sign/\S+)", text).group(1)


def _page(client, path):
    return client.get(path, base_url="http://127.0.0.1")


def _sign(client, path, fingerprint):
    return client.post(path, data={"fingerprint": fingerprint}, base_url="http://127.0.0.1")


def _plan(ref):
    return service.read_plan(str(ref), today=datetime.now(timezone.utc).date()).plan


def test_request_open_sign_and_receipt(plan_file, app, smtp):
    path = _request(plan_file, smtp)
    client = app.test_client()
    page = _page(client, path)
    body = page.get_data(as_text=True)
    plan = _plan(plan_file)
    assert page.status_code == 200
    assert plan.title.replace("×", "&times;") in body or plan.title in body
    assert "Sam Seller &lt;sam@globex.example&gt;" in body and "Jane Doe &lt;jane@acme.example&gt;" in body
    assert all(s.title.replace("&", "&amp;") in body for s in plan.steps)
    assert "Sign for the buyer side as Jane Doe" in body
    done = _sign(client, path, plan.fingerprint())
    assert done.status_code == 200 and "You signed" in done.get_data(as_text=True)
    [signature] = _plan(plan_file).signatures
    assert (signature.email, signature.method, _plan(plan_file).signature_status(signature)) == (
        "jane@acme.example", "email link", "valid")
    receipt = smtp[0].messages[-1][1]
    assert receipt["Subject"].startswith("You signed:") and signature.seal in receipt.get_body(("plain",)).get_content()
    audit = {e.kind: e.detail for e in open_store().audit.events()}
    assert audit["signed_by_link"]["client"] == "127.0.0.1"
    assert {"signature_requested", "signature_link_opened", "signed"} <= set(audit)


def test_a_used_an_expired_and_a_tampered_link_each_say_which_and_show_no_plan(plan_file, app, smtp):
    client = app.test_client()
    title = _plan(plan_file).title
    path = _request(plan_file, smtp)
    assert _sign(client, path, _plan(plan_file).fingerprint()).status_code == 200
    used = _page(client, path)
    assert used.status_code == 410 and "has been used" in used.get_data(as_text=True)
    old = _request(plan_file, smtp, now=datetime.now(timezone.utc) - timedelta(days=15))
    expired = _page(client, old)
    assert expired.status_code == 410 and "has expired" in expired.get_data(as_text=True)
    fresh = _request(plan_file, smtp)
    at = len("/sign/") + 5
    flipped = fresh[:at] + ("A" if fresh[at] != "A" else "B") + fresh[at + 1:]
    tampered = _page(client, flipped)
    assert tampered.status_code == 404 and "not valid" in tampered.get_data(as_text=True)
    for answer in (used, expired, tampered, _sign(client, flipped, "x")):
        text = answer.get_data(as_text=True)
        assert title not in text and "Acme" not in text and "jane@" not in text
    assert "Send me a new link" in expired.get_data(as_text=True)
    renewed = client.post(old + "/again", base_url="http://127.0.0.1")
    assert renewed.status_code == 200 and smtp[0].messages[-1][0] == ["jane@acme.example"]
    assert "Send me a new link" not in tampered.get_data(as_text=True)


def test_a_commitment_changed_after_sending_shows_the_change_before_signing(plan_file, app, smtp):
    client = app.test_client()
    sent = _plan(plan_file).fingerprint()
    path = _request(plan_file, smtp)
    edit_steps(plan_file, {(3, "Due"): "2027-01-29"})
    page = _page(client, path).get_data(as_text=True)
    assert "Changed since this link was sent" in page and "2027-01-29" in page
    stale = _sign(client, path, sent)  # the version in the email, not the one now
    assert stale.status_code == 409 and _plan(plan_file).signatures == []
    assert _sign(client, path, _plan(plan_file).fingerprint()).status_code == 200
    [signature] = _plan(plan_file).signatures
    assert signature.fingerprint == _plan(plan_file).fingerprint() != sent


def test_a_title_with_markup_shows_as_text(plan, tmp_path, app, smtp):
    plan.title = '<script>alert("x")</script> Acme plan'
    ref = tmp_path / "xss.xlsx"
    write_workbook(ref, workbook_spec(plan))
    body = _page(app.test_client(), _request(ref, smtp)).get_data(as_text=True)
    assert "<script>alert" not in body and "&lt;script&gt;alert" in body


def test_only_someone_who_may_sign_gets_a_link(plan_file, smtp):
    from mapsheets.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        sign_links.request(str(plan_file), "Mallory <mallory@evil.example>", now=datetime.now(timezone.utc),
                           mailer=mailer_from_url(smtp[1], Path("x")), base_url="http://127.0.0.1")
    assert smtp[0].messages == []



def test_a_signer_taken_off_the_plan_after_the_link_was_sent_gets_a_page_not_a_signature(plan_file, app, smtp):
    import openpyxl

    path = _request(plan_file, smtp)
    book = openpyxl.load_workbook(plan_file)
    sheet = book["Plan"]
    [row] = [r for r in range(1, 40) if sheet.cell(r, 2).value == "Buyer lead"]
    sheet.cell(row, 3).value = "Bo Other <bo@acme.example>"
    book.save(plan_file)
    answer = _sign(app.test_client(), path, _plan(plan_file).fingerprint())
    text = answer.get_data(as_text=True)
    assert answer.status_code == 403 and text.startswith("<!doctype html>")
    assert "jane@acme.example is not on this plan" in text and _plan(plan_file).signatures == []


def test_a_link_of_a_plan_this_store_does_not_know_is_a_plain_page(plan_file, app, smtp, tmp_path):
    recorder, url = smtp
    link = sign_links.request(str(plan_file), JANE, now=datetime.now(timezone.utc), base_url="http://127.0.0.1",
                              mailer=mailer_from_url(url, Path("x")), store_url=f"sqlite:///{tmp_path / 'other.db'}")
    answer = _page(app.test_client(), link[len("http://127.0.0.1"):])
    assert answer.status_code == 404 and "not valid" in answer.get_data(as_text=True)
