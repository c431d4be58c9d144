"""The win/loss report and the onboarding hand-off, from a handful of closed plans generated with
revisions over simulated weeks; the report opens as a workbook (read back with openpyxl)."""

from __future__ import annotations

import csv
import io
from datetime import date

import openpyxl
import pytest
from click.testing import CliRunner
from closed_plans import closed_plan

from mapsheets.adapters.xlsx import read_grid
from mapsheets.cli import cli
from mapsheets.core.dates import add_business_days
from mapsheets.core.handoff import build, markdown, md_text
from mapsheets.core.model import Plan, Signature, Stakeholder, Step
from mapsheets.core.parse import parse_plan
from mapsheets.core.score import execution_score


@pytest.fixture(scope="module")
def deals(tmp_path_factory):
    folder = tmp_path_factory.mktemp("deals")
    db = f"sqlite:///{folder / 'state.db'}"
    out = folder / "outbox"
    plans = [closed_plan(folder, db, "Acme Corp", "won", security_slip=2, other_slip=0, weeks=12, signed=True,
                         outbox=out, seed=1),
             closed_plan(folder, db, "Umbrella", "won", security_slip=2, other_slip=1, weeks=13, signed=True,
                         outbox=out, seed=2),
             closed_plan(folder, db, "Initech", "lost", security_slip=9, other_slip=3, weeks=11, signed=False,
                         outbox=out, seed=3),
             closed_plan(folder, db, "Hooli", "lost", security_slip=9, other_slip=2, weeks=12, signed=False,
                         outbox=out, seed=4)]
    return folder, db, plans


def test_the_winloss_report_opens_as_a_workbook_and_names_the_findings(deals):
    folder, db, plans = deals
    out = folder / "winloss.xlsx"
    result = CliRunner().invoke(cli, ["report", "winloss", "--all", "-o", str(out), "--db", db])
    assert result.exit_code == 0, result.output
    assert "Wrote" in result.output and "4 plans" in result.output
    assert "- Technical & security review slipped a median 9 business days in lost deals, 2 business days in won" \
        in result.output
    assert "- Won deals: signed by both sides 2/2" in result.output \
        and "- Lost deals: signed by both sides 0/2" in result.output

    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["Win-loss", "Plans", "Slip by phase", "Findings"]
    rows = list(book["Win-loss"].iter_rows(values_only=True))
    header = rows[0]
    assert header[:3] == ("plan", "buyer", "outcome") and "slip_business_days" in header
    assert len(rows) - 1 == sum(len(parse_plan(read_grid(p)).plan.steps) for p in plans)
    col = {h: i for i, h in enumerate(header)}
    security = [r for r in rows[1:] if r[col["step"]] == "Security and architecture review"]
    assert sorted((r[col["outcome"]], r[col["slip_business_days"]]) for r in security) == [
        ("lost", 9), ("lost", 9), ("won", 2), ("won", 2)]
    # Planned is the first revision's due, actual the Done on: the slip is counted between them.
    for r in security:
        assert add_business_days(r[col["planned"]].date(), r[col["slip_business_days"]]) == r[col["actual"]].date()
    plan_rows = {r[0]: r for r in list(book["Plans"].iter_rows(values_only=True))[1:]}
    plan_header = next(book["Plans"].iter_rows(values_only=True))
    pc = {h: i for i, h in enumerate(plan_header)}
    assert plan_rows["acme-corp.xlsx"][pc["days_map_to_close"]] == 84
    assert plan_rows["acme-corp.xlsx"][pc["signed"]] is True and plan_rows["hooli.xlsx"][pc["signed"]] is False
    assert plan_rows["acme-corp.xlsx"][pc["execution_score"]] > plan_rows["hooli.xlsx"][pc["execution_score"]]
    assert plan_rows["initech.xlsx"][pc["buyer_steps_on_time"]] < plan_rows["acme-corp.xlsx"][pc["buyer_steps_on_time"]]
    findings = [r[0] for r in list(book["Findings"].iter_rows(values_only=True))[1:]]
    assert findings[0] == "4 closed plans: 2 won, 2 lost"


def test_the_csv_report_is_the_step_table_with_formulas_neutralised(deals, tmp_path):
    folder, db, plans = deals
    out = tmp_path / "winloss.csv"
    result = CliRunner().invoke(cli, ["report", "winloss", str(plans[2]), str(plans[3]), "-o", str(out), "--db", db])
    assert result.exit_code == 0, result.output
    table = list(csv.DictReader(io.StringIO(out.read_text())))
    assert {row["outcome"] for row in table} == {"lost"} and {row["buyer"] for row in table} == {"Initech", "Hooli"}
    assert len(table) == sum(len(parse_plan(read_grid(p)).plan.steps) for p in plans[2:])

    from mapsheets.analysis.winloss import analyse
    from mapsheets.core.winloss import STEP_COLUMNS

    row = dict.fromkeys(STEP_COLUMNS, None) | {"step": '=HYPERLINK("http://x","y")', "phase": "-1+1",
                                                "outcome": "won", "slip_business_days": -2}
    text = analyse([], [row]).csv
    assert "'=HYPERLINK" in text and "'-1+1" in text and ",-2," in text  # numbers stay numbers


def test_winloss_bad_input_is_one_line(deals, tmp_path, plan_file):
    folder, db, plans = deals
    for args, words in ((["-o", str(tmp_path / "r.xlsx")], "or pass --all"),
                        ([str(plans[0]), "--all", "-o", str(tmp_path / "r.xlsx")], "not both"),
                        ([str(plans[0]), "-o", str(tmp_path / "r.txt")], ".xlsx or .csv"),
                        ([str(plans[0]), "-o", str(tmp_path / "no" / "r.csv")], "does not exist"),
                        ([str(plan_file), "-o", str(tmp_path / "r.csv")], "no stored revisions")):
        result = CliRunner().invoke(cli, ["report", "winloss", *args, "--db", db])
        assert result.exit_code == 1 and result.output.count("\n") == 1 and words in result.output, result.output
    CliRunner().invoke(cli, ["snapshot", str(plan_file), "--db", db])
    open_plan = CliRunner().invoke(cli, ["report", "winloss", str(plan_file), "-o", str(tmp_path / "r.csv"),
                                         "--db", db])
    assert open_plan.exit_code == 1 and "not closed" in open_plan.output


def test_the_execution_score_follows_its_formula():
    steps = [Step("S-1", "Discovery", side="joint", due=date(2027, 1, 4), status="done", done_on=date(2027, 1, 4)),
             Step("S-2", "Security review", side="buyer", due=date(2027, 1, 6), status="done",
                  done_on=date(2027, 1, 8)),
             Step("S-3", "Legal", side="buyer", due=date(2027, 1, 11)),
             Step("S-4", "Kickoff", side="seller", due=date(2027, 2, 1)),
             Step("S-5", "Dropped", status="n/a")]
    plan = Plan("mutual", "t", "Acme", "Globex", steps=steps)
    plan.signatures = [Signature("Sam", "sam@globex.example", "seller", None, plan.fingerprint())]
    score = execution_score(plan, date(2027, 1, 12))
    # progress 2/4; late: S-2 (done after due) and S-3 (open past due) → on time 2/4;
    # buyer/joint steps due by then: S-1 on time, S-2 late, S-3 open → 1/3; signed 1 side of 2.
    assert (score.progress, score.on_time, round(score.buyer, 3), score.signed_sides) == (0.5, 0.5, 0.333, 1)
    assert score.score == round(100 * (0.35 * 0.5 + 0.25 * 0.5 + 0.25 / 3 + 0.15 * 0.5)) == 46


def test_the_handoff_has_what_customer_success_needs_and_sheet_text_stays_text(deals, tmp_path):
    folder, db, plans = deals
    path = plans[0]
    out = tmp_path / "handoff.md"
    result = CliRunner().invoke(cli, ["handoff", str(path), "-o", str(out), "--tab"])
    assert result.exit_code == 0, result.output
    text = out.read_text()
    for heading in ("# Hand-off: Mutual Action Plan: Acme Corp × Globex", "## Stakeholders and roles",
                    "## The problem and success criteria", "## Commitments made during the deal", "## Open items",
                    "## Go-live"):
        assert heading in text
    assert "- **Outcome:** closed won on 2027-02-23" in text
    assert "| Jane Doe | jane@acme\\.example" not in text and "| Jane Doe | jane@acme.example | buyer |" in text
    assert "Write down success criteria and required capabilities" in text
    assert "Kickoff meeting and onboarding plan" in text.split("## Commitments")[1]
    grid = read_grid(path)
    assert grid["Handoff"][0] == ["Section", "Item", "Detail"]
    first = len(grid["Handoff"])
    again = CliRunner().invoke(cli, ["handoff", str(path), "--tab"])
    assert again.exit_code == 0 and len([r for r in read_grid(path)["Handoff"] if any(r)]) == first
    parsed = parse_plan(read_grid(path))
    assert [parsed.plan.signature_status(s) for s in parsed.plan.signatures] == ["valid", "valid"]

    for other in plans[1:]:  # every generated deal hands off; lost ones list what stayed open
        md = tmp_path / f"{other.stem}.md"
        assert CliRunner().invoke(cli, ["handoff", str(other), "-o", str(md)]).exit_code == 0
        assert "## Open items" in md.read_text()
    assert "- Legal" not in (tmp_path / "hooli.md").read_text()
    assert "MSA and DPA redlines" in (tmp_path / "hooli.md").read_text().split("## Open items")[1]

    bad = CliRunner().invoke(cli, ["handoff", str(path)])
    assert bad.exit_code == 1 and bad.output.count("\n") == 1 and "-o handoff.md, --tab" in bad.output


def test_markdown_from_the_sheet_cannot_add_links_html_or_columns():
    hostile = "[click](javascript:alert(1)) <script>x</script> | col ![img](http://x/y.png) **bold**\n# heading"
    plan = Plan("mutual", "Deal <b>", "Acme | Corp", "Globex", problem=hostile,
                stakeholders=[Stakeholder("Eve | Admin", "eve@acme.example", "buyer", "- Champion")],
                steps=[Step("S-1", "1. Kickoff", notes=hostile, due=date(2027, 1, 4))])
    md = markdown(build(plan, date(2027, 1, 5)))
    # Escaped with backslashes, not entities (issue 18): "\\<script>" is text, so the check is on what
    # a CommonMark renderer makes of it.
    from markdown_it import MarkdownIt

    page = MarkdownIt("commonmark").enable("table").render(md)
    assert "<script>" not in page and "<b>" not in page and "](" not in md.replace("\\](", "")
    assert "| Eve \\| Admin | eve@acme.example | buyer | \\- Champion |" in md
    assert "\n# heading" not in md and md_text("12. x") == "12\\. x"
