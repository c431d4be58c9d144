"""The signing record (issue 20 part 5): commitments at the signed fingerprint, signatures with
method, time and seal, the audit trail; as HTML and as a PDF rendered to PNG in test-output/."""

from __future__ import annotations

import shutil
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pytest
from plan_cells import edit_steps

from mapsheets.adapters.mail import OutboxMailer
from mapsheets.service import seals, sign_links
from mapsheets.service.certificate import certificate
from mapsheets.service.signoff import sign

OUT = Path(__file__).resolve().parents[1] / "test-output" / "certificate"
NOW = datetime(2026, 12, 2, 9, tzinfo=timezone.utc)


def _signed(plan_file, tmp_path):
    """Sam signs on the command line; Jane through an emailed link, from 203.0.113.7."""
    sign(str(plan_file), name="Sam Seller", email="sam@globex.example", side="seller", now=NOW, record=True)
    url = sign_links.request(str(plan_file), "Jane Doe <jane@acme.example>", now=datetime.now(timezone.utc),
                             mailer=OutboxMailer(tmp_path / "sent"), base_url="https://maps.globex.example")
    token = url.rsplit("/", 1)[1]
    link = sign_links.look(token, now=datetime.now(timezone.utc), client="203.0.113.7")
    _link, done = sign_links.sign(token, seen=link.plan.fingerprint(), now=datetime.now(timezone.utc),
                                  client="203.0.113.7", mailer=OutboxMailer(tmp_path / "sent"))
    assert done


def test_the_html_record_has_commitments_signatures_seals_and_the_trail(plan_file, plan, tmp_path):
    _signed(plan_file, tmp_path)
    html = certificate(str(plan_file), tmp_path / "signed.html", now=NOW).read_text()
    assert plan.title in html and plan.fingerprint() in html and all(s.title in html for s in plan.steps)
    assert "Sam Seller &lt;sam@globex.example&gt;" in html and "command line" in html and "email link" in html
    assert html.count("seal ed25519:") == 2 and seals.public_keys()[0] in html
    for line in ("link to sign sent to jane@acme.example (buyer side)", "link opened from 203.0.113.7",
                 "signed through the link from 203.0.113.7", "signature recorded for jane@acme.example, email link"):
        assert line in html


def test_a_changed_plan_shows_the_commitments_as_signed(plan_file, plan, tmp_path):
    _signed(plan_file, tmp_path)
    due = plan.steps[3].due
    edit_steps(plan_file, {(3, "Due"): "2027-01-29"})
    html = certificate(str(plan_file), tmp_path / "signed.html", now=NOW).read_text()
    assert "the plan has changed since" in html and plan.fingerprint() in html
    assert str(due) in html and "2027-01-29" not in html


@pytest.mark.skipif(not shutil.which("pdftoppm"), reason="poppler-utils is not installed")
def test_the_pdf_record_renders(plan_file, tmp_path):
    pytest.importorskip("weasyprint")
    _signed(plan_file, tmp_path)
    pdf = certificate(str(plan_file), tmp_path / "signed.pdf", now=NOW)
    assert pdf.read_bytes().startswith(b"%PDF")
    OUT.mkdir(parents=True, exist_ok=True)
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf), str(OUT / "signed")], check=True)
    assert (OUT / "signed-1.png").stat().st_size > 10_000


def test_an_unknown_output_kind_is_one_line(plan_file, tmp_path):
    from mapsheets.errors import UsageError

    with pytest.raises(UsageError, match=r"\.html or \.pdf"):
        certificate(str(plan_file), tmp_path / "signed.docx", now=NOW)
