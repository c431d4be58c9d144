"""The hand-off of a real deal: text renders as typed (a CommonMark renderer reads it), a deal closed
won has its close step done, go-live is a date, and the closing plan's MEDDPICC block comes along."""

from __future__ import annotations

import html
import re
from datetime import date

from click.testing import CliRunner

from mapsheets import service
from mapsheets.cli import cli
from mapsheets.core.handoff import build, markdown
from mapsheets.core.model import Plan, Stakeholder, Step

TODAY = date(2026, 12, 1)
CLOSE = date(2027, 3, 31)


def rendered(md: str) -> tuple[str, str]:
    """(HTML, the text a reader sees) of ``md`` under CommonMark with GitHub's tables."""
    from markdown_it import MarkdownIt

    out = MarkdownIt("commonmark").enable("table").render(md)
    return out, html.unescape(re.sub(r"<[^>]+>", "", out))


def test_sheet_text_renders_as_typed_with_no_entities_and_no_markup():
    lead = "Sam Rivera <sam@globex.example>"
    plan = Plan("mutual", "Acme & Co × Globex", "Acme & Co", "Globex", seller_lead=lead,
                problem="R&D spends 5 * 3 days; see [notes](javascript:x) <b>now</b> &amp; then",
                stakeholders=[Stakeholder("Sam Rivera", "sam_rivera@globex.example", "seller", "AE | lead")],
                steps=[Step("S-1", "Security questionnaire", phase="Technical & security review",
                            due=date(2027, 1, 4))])
    md = markdown(build(plan, date(2027, 1, 5)))
    assert "&lt;" not in md and "&amp; security" not in md  # no entity a plain-text reader would see
    page, text = rendered(md)
    assert f"Seller lead: {lead}" in text and "(Technical & security review, " in text
    assert "R&D spends 5 * 3 days; see [notes](javascript:x) <b>now</b> &amp; then" in text
    assert "sam_rivera@globex.example" in text and "AE | lead" in text
    assert "<b>" not in page and "<a " not in page and "<em>" not in page  # the typed text, no markup
    assert page.count("<tr>") == 2  # the Team table: header and one person; "|" made no column


def test_a_won_deal_hands_off_its_close_step_done_go_live_as_a_date_and_the_meddpicc_block(tmp_path):
    import openpyxl

    closing = tmp_path / "closing.xlsx"
    service.new_plan("closing-plan", str(closing), buyer="Initech", seller="Globex", today=TODAY, close=CLOSE,
                     holidays="", roles={"ae": "Sam Rivera <sam@globex.example>"})
    block = {"Identified pain": "Month-end close takes 12 days", "Metrics": "Close in 5 days",
             "Decision criteria": "SOC 2 & SSO; ERP connector", "Decision process": "IT, then the CFO signs",
             "Paper process": "MSA + DPA, procurement 10 days", "Champion": "Jane Doe <jane@initech.example>"}
    book = openpyxl.load_workbook(closing)
    ws = book["Plan"]
    labels = {ws.cell(r, 2).value: r for r in range(1, 45) if isinstance(ws.cell(r, 2).value, str)}
    for label, value in block.items():
        ws.cell(labels[label], 3).value = value
    book.save(closing)
    mutual = tmp_path / "initech-map.xlsx"
    run = CliRunner().invoke(cli, ["convert", str(closing), "-o", str(mutual), "--as-of", TODAY.isoformat(),
                                   "--economic-buyer", "Carla Diaz <cfo@initech.example>"])
    assert run.exit_code == 0, run.output
    db = f"sqlite:///{tmp_path / 'state.db'}"
    closed = CliRunner().invoke(cli, ["close", str(mutual), "--won", "--date", "2027-03-30", "--as-of", "2027-03-30",
                                      "--outbox", str(tmp_path / "out"), "--db", db])
    assert closed.exit_code == 0, closed.output

    out = tmp_path / "handoff.md"
    made = CliRunner().invoke(cli, ["handoff", str(mutual), "-o", str(out), "--as-of", "2027-03-30"])
    assert made.exit_code == 0, made.output
    md = out.read_text()
    plan = service.read_plan(str(mutual), today=date(2027, 3, 30)).plan
    contract = plan.step(plan.close_step)
    assert contract.title not in md.split("## Open items")[1]
    assert f"{contract.title} (" in md and "done 2027-03-30" in md
    assert re.search(r"^- \*\*Go-live:\*\* \d{4}-\d\d-\d\d$", md, re.M) and "business days after" not in md
    assert md.split("## Go-live")[1].strip() == str(plan.go_live)
    _page, text = rendered(md)
    section = text.split("Qualification (MEDDPICC)")[1]
    for label, value in (("Metrics", "Close in 5 days"), ("Decision criteria", "SOC 2 & SSO; ERP connector"),
                         ("Decision process", "IT, then the CFO signs"),
                         ("Paper process", "MSA + DPA, procurement 10 days"),
                         ("Identified pain", "Month-end close takes 12 days")):
        assert f"{label}: {value}" in section
