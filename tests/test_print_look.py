"""Issue 23 part 1: every tab mapsheets writes prints one page wide, titled, with no `###` and no
clipped owner. A converted MAP with 25 steps, hand edits, 10 Changes rows and a Handoff tab is
rendered tab by tab through LibreOffice into test-output/look/print-<tab>.pdf and -N.png."""

from __future__ import annotations

import subprocess
from datetime import date, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from digest_helpers import T0
from plan_cells import add_to_team, edit_steps
from test_look import OUT, _one_tab, _soffice, render

from mapsheets import service
from mapsheets.adapters.mail import OutboxMailer
from mapsheets.adapters.xlsx import read_grid
from mapsheets.core.parse import parse_plan
from mapsheets.service import digest
from mapsheets.service.handoff import handoff

TABS = ("Plan", "Timeline", "Team", "Sign-off", "Changes", "Handoff")
LONG_OWNER = "Sam Rivera <sam@globex.example>, Globex"


def _map_with_history(tmp_path: Path, db: str) -> Path:
    """`convert`'s MAP grown to 25 steps, edited by hand, its Changes tab 10 rows long, with a hand-off."""
    from test_convert import CLOSE, TODAY, converted_map

    path = converted_map(tmp_path, "print.xlsx")
    steps = parse_plan(read_grid(path)).plan.steps
    for n in range(25 - len(steps)):
        service.add_step(str(path), title=f"Workshop {n + 1}: align the rollout with the regional teams",
                         phase=steps[-1].phase, today=TODAY, due=CLOSE - timedelta(days=n), owners=[LONG_OWNER])
    add_to_team(path, ("Sam Rivera", "sam@globex.example", "seller", "Account Executive"),
                ("Dana Whitfield-Okonkwo", "dana.whitfield-okonkwo@acme-corporation.example", "buyer",
                 "Economic buyer"))
    digest.watch(str(path), ["ae@globex.example"], now=T0, store_url=db)
    digest.run(now=T0 + timedelta(minutes=5), mailer=OutboxMailer(tmp_path / "outbox"), store_url=db)
    plan = parse_plan(read_grid(path)).plan
    edits: dict[tuple[int, str], object] = {(i, "Status"): "done" for i in range(4)}
    edits.update({(i, "Due"): datetime.combine(plan.steps[i].due + timedelta(days=7), datetime.min.time())
                  for i in range(4, 8) if plan.steps[i].due})
    edits.update({(8, "Owners"): LONG_OWNER, (9, "Status"): "blocked", (10, "Notes"): "Bring the SOC 2 report"})
    edit_steps(path, edits)  # 10 changes, one Changes row each
    digest.run(now=T0 + timedelta(days=1), mailer=OutboxMailer(tmp_path / "outbox"), store_url=db)
    handoff(str(path), today=date(2026, 12, 2), tab=True)
    return path


def _pdf_text(pdf: Path, page: int | None = None) -> str:
    pages = ["-f", str(page), "-l", str(page)] if page else []
    return subprocess.run(["pdftotext", "-layout", *pages, str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout


def test_every_tab_of_a_converted_map_prints_one_page_wide(tmp_path: Path, db: str) -> None:
    _soffice()
    path = _map_with_history(tmp_path, db)
    book = openpyxl.load_workbook(path)
    assert set(TABS) <= set(book.sheetnames)
    changes = list(book["Changes"].iter_rows(values_only=True))
    assert len(changes) - 1 >= 10, changes
    assert len(parse_plan(read_grid(path)).plan.steps) == 25
    OUT.mkdir(parents=True, exist_ok=True)
    for tab in TABS:
        ws = book[tab]
        header = [c.value for c in ws[ws.print_title_rows.split(":")[0].lstrip("$") if ws.print_title_rows else 1]]
        assert ws.page_setup.fitToWidth == 1 and ws.sheet_properties.pageSetUpPr.fitToPage, tab
        name = "print-" + tab.lower().replace("-", "")
        pdf = render(_one_tab(path, tab, tmp_path / f"{name}.xlsx"), OUT, tmp_path / "lo-profile")
        text = _pdf_text(pdf)
        assert "###" not in text, tab
        last = next(str(v) for v in reversed(header) if v is not None and not isinstance(v, datetime))
        pages = text.split("\f")
        assert all(str(header[0]) in p.split("Page")[0] or tab == "Timeline" for p in pages if p.strip()), tab
        # One page wide: the last column's label is on the first page beside the first one.
        assert last in pages[0] and str(header[0]) in pages[0], (tab, last)
        assert "Acme Corp" in text and "Page 1 of" in text, tab  # the footer: plan title, page numbers
        print(f"\n{tab}: {OUT / (name + '-1.png')}")
    # The hand-typed owner wraps onto a second line and its row is refitted to hold it (not clipped).
    owner_row = next(c.row for row in book["Plan"].iter_rows() for c in row if c.value == LONG_OWNER)
    assert (book["Plan"].row_dimensions[owner_row].height or 0) >= 30
    plan_text = " ".join(_pdf_text(OUT / "print-plan.pdf").split())
    assert LONG_OWNER.split(", ")[0].split(" <")[0] in plan_text
    for part in ("<sam@globex.example>,", "Globex"):
        assert part in plan_text  # the whole owner, wrapped not clipped
    _closing_plan_with_its_meddpicc_block_prints_one_page_wide(tmp_path)
    team_text = _pdf_text(OUT / "print-team.pdf")  # an email typed by hand into the Team tab: wrapped, whole
    assert "dana.whitfield-okonkwo@acme-" in team_text and "corporation.example" in team_text


def _closing_plan_with_its_meddpicc_block_prints_one_page_wide(tmp_path: Path) -> None:
    from mapsheets.core.qualify import MEDDPICC, QUALIFICATION_HEADING

    closing = tmp_path / "initech-closing.xlsx"
    pdf = render(_one_tab(closing, "Plan", tmp_path / "print-closing.xlsx"), OUT, tmp_path / "lo-profile")
    text = _pdf_text(pdf)
    first = text.split("\f")[0]
    assert QUALIFICATION_HEADING in first and all(label in first for _k, label in MEDDPICC[:3])
    assert "###" not in text and "Notes" in first and "Page 1 of" in first
    print(f"\nclosing plan with MEDDPICC: {OUT / 'print-closing-1.png'}")


@pytest.mark.parametrize("tab", ["Team", "Sign-off"])
def test_team_and_signoff_print_with_their_header_on_every_page(tmp_path: Path, tab: str) -> None:
    path = tmp_path / "p.xlsx"
    service.new_plan("enterprise-map", str(path), buyer="Acme Corp", seller="Globex", today=date(2026, 12, 1),
                     holidays="")
    ws = openpyxl.load_workbook(path)[tab]
    assert ws.print_title_rows == "$1:$1" and ws.page_setup.fitToWidth == 1
    assert "Acme Corp" in ws.oddFooter.left.text and "&P" in ws.oddFooter.center.text


def test_google_gets_the_same_widths_and_the_due_dates_centred(google_env, plan) -> None:
    """Sheets keeps print settings out of its API (no page set-up in SheetProperties): what Google
    takes is the layout itself, in the one create request."""
    from mapsheets.adapters.gsheets import GoogleWorkbook
    from mapsheets.adapters.gsheets_cells import pixels
    from mapsheets.core.layout import workbook_spec

    spec = workbook_spec(plan).sheet("Plan")
    book = GoogleWorkbook.from_env(None)
    book.create(workbook_spec(plan))
    assert google_env.stats()["methods"].get("sheets.spreadsheets.create") == 1
    sheet = next(s for s in google_env.spreadsheet(book.sheet_id).sheets if s.title == "Plan")
    assert [sheet.pixel_size("COLUMNS", c) for c in range(len(spec.widths))] == [pixels(w) for w in spec.widths]
    header = spec.rows[spec.header_row]
    due, first = header.index("Due"), spec.record_rows()[0]
    assert sheet.cells[(first, due)]["userEnteredFormat"]["horizontalAlignment"] == "CENTER"
    assert "horizontalAlignment" not in sheet.cells[(first, header.index("Status"))].get("userEnteredFormat", {})
