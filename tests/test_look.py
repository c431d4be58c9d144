"""The sheet people look at: phase bands, summary lines, Status chips, print setup, the Timeline
tab and the timeline picture; rendered by LibreOffice and matplotlib into test-output/look/."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import date, datetime, time, timedelta
from pathlib import Path

import openpyxl
import pytest
from plan_cells import edit_steps

from mapsheets import service
from mapsheets.adapters.xlsx import read_grid
from mapsheets.core.layout import workbook_spec
from mapsheets.core.parse import parse_plan
from mapsheets.core.timeline import COLUMNS
from mapsheets.service.revisions import other_tabs
from mapsheets.service.signoff import sign

TODAY = date(2026, 12, 1)
OUT = Path(__file__).resolve().parents[1] / "test-output" / "look"
CI = os.environ.get("CI", "").lower() == "true"


def _band_cells(path) -> dict[int, str]:
    parsed = parse_plan(read_grid(path))
    rows = read_grid(path)[parsed.location.tab]
    return {r: rows[r][c] for r, (c, _phase) in parsed.location.bands.items()}


def _summary(path) -> dict[str, str]:
    parsed = parse_plan(read_grid(path))
    rows = read_grid(path)[parsed.location.tab]
    return {label: rows[r][c] for label, (r, c) in parsed.location.summary_at.items()}


def test_phase_bands_head_each_phase_and_are_not_steps(plan_file, plan):
    parsed = parse_plan(read_grid(plan_file))
    assert parsed.warnings == []
    assert parsed.plan.to_dict() == plan.to_dict()  # bands read as nothing
    phases = list(dict.fromkeys(s.phase for s in plan.steps))
    assert [phase for _c, phase in parsed.location.bands.values()] == phases
    first = min(parsed.location.bands)
    assert first == parsed.location.header_row + 1
    count = sum(s.phase == phases[0] for s in plan.steps)
    assert _band_cells(plan_file)[first] == f"▸ {phases[0]}  ·  0/{count} done"


def test_every_write_refreshes_bands_progress_and_signatures(plan_file, plan):
    edit_steps(plan_file, {(0, "Status"): "done", (1, "Status"): "WIP"})  # by hand: nothing refreshed yet
    phase = plan.steps[0].phase
    count = sum(s.phase == phase for s in plan.steps)
    assert any(text.endswith(f"0/{count} done") for text in _band_cells(plan_file).values())

    step = service.add_step(str(plan_file), title="Reference call", phase=phase, due=TODAY + timedelta(days=2),
                            today=TODAY)
    bands = _band_cells(plan_file)
    assert f"▸ {phase}  ·  1/{count + 1} done" in bands.values()
    summary = _summary(plan_file)
    assert summary["Progress"].startswith(f"1 of {len(plan.steps) + 1} done  ·  ")
    assert "as of 2026-12-01" in summary["Progress"] and "target 2027-03-31" in summary["Progress"]
    assert summary["Signatures"] == "not signed yet"
    assert summary["Plan owners"] == f"Globex: {plan.seller_lead}   ·   Acme Corp: {plan.buyer_lead}"
    # Issue 18: the step goes inside its phase's band (it went to the end of the table, under the last band).
    parsed = parse_plan(read_grid(plan_file))
    order = [s.id for s in parsed.plan.steps]
    assert order.index(step.id) == count and parsed.plan.step(step.id).phase == phase
    row, bands = parsed.location.step_rows[step.id], sorted(parsed.location.bands)
    assert bands[0] < row < bands[1]

    sign(str(plan_file), name="Jane Doe", email="jane@acme.example", side="buyer",
         now=datetime(2026, 12, 2, 9))
    assert _summary(plan_file)["Signatures"] == "signed by Jane Doe"


def test_status_chips_are_conditional_formats_on_the_status_column(plan_file):
    ws = openpyxl.load_workbook(plan_file)["Plan"]
    header = parse_plan(read_grid(plan_file)).location.header_row + 1
    chips = {rule.formula[0]: rule for cf in ws.conditional_formatting for rule in cf.rules
             if str(cf.sqref) == f"G{header + 1}:G{header + 1000}"}
    cell = f"LOWER(TRIM($G{header + 1}))"
    by_word = {word: next(f for f in chips if f.startswith("OR(") and f'{cell}="{word}"' in f)
               for word in ("done", "in progress", "blocked")}
    assert set(chips) == set(by_word.values()) | {next(f for f in chips if "TODAY()" in f)}
    # Issue 18: every spelling the reader takes for a status gets its chip.
    assert f'{cell}="complete"' in by_word["done"] and f'{cell}="✅"' in by_word["done"]
    assert f'{cell}="wip"' in by_word["in progress"] and f'{cell}="done"' not in by_word["in progress"]
    assert chips[by_word["done"]].dxf.fill.bgColor.rgb.endswith("C6EFCE")
    # Chips come before the whole-row rules, so they win where both hold.
    priorities = {rule.formula[0]: rule.priority for cf in ws.conditional_formatting for rule in cf.rules}
    muted = next(f for f in priorities if f.startswith("OR(") and f'{cell}="n/a"' in f)
    assert max(chips[f].priority for f in chips) < priorities[muted]


def test_the_plan_prints_landscape_one_page_wide_with_titles(plan_file, plan):
    ws = openpyxl.load_workbook(plan_file)["Plan"]
    header = parse_plan(read_grid(plan_file)).location.header_row + 1
    assert ws.page_setup.orientation == "landscape"
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0)
    assert ws.print_title_rows == f"${header}:${header}"
    assert ws.oddHeader.center.text == plan.title
    assert ws.oddFooter.center.text == "Page &P of &N"


def test_timeline_tab_follows_the_plan_and_is_not_read(plan_file, plan):
    grid = read_grid(plan_file)
    rows = grid["Timeline"]
    assert rows[2][:6] == ["ID", "Step", "Start", "Due", "Done on", "Status"]
    weeks = [d for d in rows[2][len(COLUMNS):] if d is not None]  # after ID … Status and (issue 23) Side
    assert weeks[0].date() == plan.start_date - timedelta(days=plan.start_date.weekday())
    assert all((b - a).days == 7 for a, b in zip(weeks, weeks[1:], strict=False))
    assert weeks[-1].date() <= plan.go_live < weeks[-1].date() + timedelta(days=7)
    ids = [r[0] for r in rows[3:] if r and r[0] and not str(r[0]).startswith("▸")]
    assert ids == [s.id for s in plan.steps]
    parsed = parse_plan(grid)
    assert parsed.plan.to_dict() == plan.to_dict()
    assert "Timeline" not in other_tabs(grid, parsed)  # not diffed as a hand-made tab

    edit_steps(plan_file, {(0, "Due"): datetime(2026, 12, 9)})
    step = service.add_step(str(plan_file), title="Reference call", phase="Discovery", today=TODAY,
                            due=date(2026, 12, 10), status="done")
    rows = read_grid(plan_file)["Timeline"]
    by_id = {r[0]: r for r in rows[3:] if r and r[0]}
    assert by_id[plan.steps[0].id][3].date() == date(2026, 12, 9)  # moved in the Plan tab, moved here
    assert by_id[step.id][1:6:4] == ["Reference call", "done"]


def test_notes_typed_around_the_timeline_stay_and_its_old_rows_go(plan_file, plan):
    """A note in a week cell of a step row or right of the weeks is the person's (mapsheets draws
    nothing there); rows of steps the plan no longer has are cleared (here: one drawn before)."""
    import openpyxl

    from mapsheets.core.look import MAX_WEEKS
    from mapsheets.core.timeline import COLUMNS

    rows = read_grid(plan_file)["Timeline"]
    end = len(rows)
    book = openpyxl.load_workbook(plan_file)
    ws = book["Timeline"]
    ws.cell(row=5, column=len(COLUMNS) + 3, value="legal week!")  # a week cell of a step row
    ws.cell(row=3, column=len(COLUMNS) + MAX_WEEKS + 2, value="right of the weeks")
    ws.cell(row=end + 1, column=1, value="S-GONE")  # a step row drawn before, for a step since removed
    ws.cell(row=end + 1, column=2, value="Removed step")
    book.save(plan_file)

    service.add_step(str(plan_file), title="Reference call", phase=plan.steps[0].phase, today=TODAY)
    after = read_grid(plan_file)["Timeline"]

    def at(r, c):
        return after[r - 1][c - 1] if r - 1 < len(after) and c - 1 < len(after[r - 1]) else None

    assert at(5, len(COLUMNS) + 3) == "legal week!"
    assert at(3, len(COLUMNS) + MAX_WEEKS + 2) == "right of the weeks"
    assert all("S-GONE" not in r and "Removed step" not in r for r in after)
    assert any(len(r) > 1 and r[1] == "Reference call" for r in after)


def test_google_sheet_gets_the_same_look(google_env, plan):
    from mapsheets.adapters.gsheets import GoogleWorkbook

    book = GoogleWorkbook.from_env(None)
    book.create(workbook_spec(plan, TODAY))
    body = google_env.spreadsheet(book.sheet_id)
    assert [s.title for s in body.sheets] == ["Plan", "Team", "Sign-off", "Timeline", "_mapsheets"]  # issue 18
    service.add_step(book.ref, title="Reference call", phase=plan.steps[0].phase, today=TODAY, status="done")
    grid = book.read_grid()
    parsed = parse_plan(grid)
    count = sum(s.phase == plan.steps[0].phase for s in plan.steps) + 1
    # Issue 18: inside its phase on Google too (an insertDimension in the same batchUpdate).
    added = parsed.plan.steps[count - 1]
    assert added.title == "Reference call" and added.phase == plan.steps[0].phase
    first = min(parsed.location.bands)
    assert grid["Plan"][first][0] == f"▸ {plan.steps[0].phase}  ·  1/{count} done"
    assert any(len(r) > 1 and r[1] == "Reference call" for r in grid["Timeline"])


# --- pictures -----------------------------------------------------------------------------------

def _live_plan(tmp_path) -> Path:
    """A plan that started six weeks ago (LibreOffice judges TODAY() by the clock): some done, some late."""
    today = date.today()
    path = tmp_path / "look.xlsx"
    service.new_plan("enterprise-map", str(path), buyer="Acme Corp", seller="Globex", today=today,
                     start=today - timedelta(weeks=6), close=today + timedelta(weeks=10), holidays="")
    plan = parse_plan(read_grid(path)).plan
    cells = {}
    for i in range(4):
        cells[(i, "Status")] = "done"
        cells[(i, "Done on")] = datetime.combine(plan.steps[i].due, time())
    cells[(4, "Status")], cells[(5, "Status")] = "in progress", "blocked"
    edit_steps(path, cells)
    service.add_step(str(path), title="Reference call with a similar customer", phase=plan.steps[3].phase,
                     today=today, due=today + timedelta(days=5))
    return path


def _soffice() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if not found or not shutil.which("pdftoppm"):
        if CI:
            pytest.fail("LibreOffice or poppler is missing (apt-get install libreoffice-calc-nogui poppler-utils)")
        pytest.skip("LibreOffice or poppler is missing (apt-get install libreoffice-calc-nogui poppler-utils)")
    return found


def render(workbook: Path, outdir: Path, profile: Path, dpi: int = 80, first_page: bool = False) -> Path:
    """LibreOffice → ``outdir/<name>.pdf`` (with its own profile: runs beside a LibreOffice someone has
    open), then pdftoppm → ``outdir/<name>-N.png`` pages for a person to look at. Returns the PDF."""
    subprocess.run([_soffice(), f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
                    "--outdir", str(outdir), str(workbook)], check=True, capture_output=True, timeout=180)
    pdf = outdir / f"{workbook.stem}.pdf"
    pages = ["-f", "1", "-l", "1"] if first_page else []
    subprocess.run(["pdftoppm", "-png", "-r", str(dpi), *pages, str(pdf), str(outdir / workbook.stem)], check=True,
                   timeout=60)
    return pdf


def _one_tab(path: Path, tab: str, target: Path) -> Path:
    book = openpyxl.load_workbook(path)
    for name in book.sheetnames:
        if name != tab:
            book.remove(book[name])
    book.save(target)
    return target


def test_plan_and_timeline_tabs_render_in_libreoffice(tmp_path):
    """Writes test-output/look/{plan,timeline}.pdf and -1.png for a person to look at."""
    _soffice()
    path = _live_plan(tmp_path)
    OUT.mkdir(parents=True, exist_ok=True)
    for tab in ("Plan", "Timeline"):
        pdf = render(_one_tab(path, tab, tmp_path / f"{tab.lower()}.xlsx"), OUT, tmp_path / "lo-profile")
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
        width, height = (float(n) for n in info.split("Page size:")[1].split("pts")[0].split(" x "))
        assert width > height  # landscape
        pages = int(info.split("Pages:")[1].split()[0])
        text = subprocess.run(["pdftotext", "-layout", "-f", "1", "-l", "1", str(pdf), "-"],
                              capture_output=True, text=True, check=True).stdout
        if tab == "Plan":
            assert pages == 1  # 17 steps: one page, every column on it
            header = next(line for line in text.splitlines() if line.split()[:2] == ["ID", "Phase"])
            assert header.split()[-1] == "Notes"  # the last column fits the page width
            assert "Mutual Action Plan: Acme Corp × Globex" in text and "Page 1 of 1" in text
            assert "0/3 done" in text or "/3 done" in text
        else:
            assert "Timeline: Mutual Action Plan" in text and "Reference call" in text
        print(f"\n{tab} tab: {pdf} and {OUT / tab.lower()}-1.png")
        assert (OUT / f"{tab.lower()}-1.png").stat().st_size > 20_000


def test_timeline_picture_png_and_svg(tmp_path):
    """Writes test-output/look/timeline-picture.png for a person to look at."""
    path = _live_plan(tmp_path)
    OUT.mkdir(parents=True, exist_ok=True)
    png, svg = OUT / "timeline-picture.png", tmp_path / "plan.svg"
    run = [sys.executable, "-m", "mapsheets", "timeline", str(path)]
    done = subprocess.run(run + ["-o", str(png)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"Wrote {png}"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 30_000
    subprocess.run(run + ["-o", str(svg)], check=True, capture_output=True, timeout=120)
    text = svg.read_text()
    assert "<svg" in text and "today" in text and "target close" in text
    print(f"\ntimeline picture: {png}")


def test_timeline_picture_errors_are_one_line(plan_file, tmp_path):
    bad = subprocess.run([sys.executable, "-m", "mapsheets", "timeline", str(plan_file), "-o",
                          str(tmp_path / "plan.pdf")], capture_output=True, text=True, timeout=60)
    assert (bad.returncode, bad.stderr.strip()) \
        == (1, f"Error: {tmp_path / 'plan.pdf'}: the picture must be .png or .svg")
    # Without matplotlib (the extra not installed): the extra named, nothing written.
    code = ("import sys; sys.modules['matplotlib'] = None\n"
            "from mapsheets.cli import cli\n"
            f"cli(['timeline', {str(plan_file)!r}, '-o', {str(tmp_path / 'plan.png')!r}])")
    missing = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert missing.returncode == 1
    assert missing.stderr.strip() == "Error: drawing a timeline needs matplotlib: pip install 'mapsheets[timeline]'"
    assert not (tmp_path / "plan.png").exists()


def test_a_finished_step_is_green_whatever_its_spelling_in_libreoffice(tmp_path, plan_file):
    """Issue 18: `show` read "Complete" and "WIP" as done / in progress while the sheet painted a
    completed step red and overdue. Rendered by LibreOffice, each Status cell's fill is sampled."""
    from PIL import Image

    _soffice()
    long_ago = date(2026, 1, 5)  # overdue on any day these tests run
    edit_steps(plan_file, {(0, "Status"): "Complete", (0, "Due"): long_ago,
                           (1, "Status"): "WIP", (1, "Due"): long_ago,
                           (2, "Status"): "Blocked", (2, "Due"): long_ago + timedelta(days=3650),
                           (3, "Status"): "not started", (3, "Due"): long_ago})
    OUT.mkdir(parents=True, exist_ok=True)
    pdf = render(_one_tab(plan_file, "Plan", tmp_path / "spellings.xlsx"), OUT, tmp_path / "lo", dpi=100,
                 first_page=True)
    html = subprocess.run(["pdftotext", "-bbox", "-f", "1", "-l", "1", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    image = Image.open(next(OUT.glob("spellings-*1.png"))).convert("RGB")
    scale = 100 / 72

    def fill_behind(word: str) -> tuple[int, int, int]:
        import re

        found = re.search(r'<word xMin="[\d.]+" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">' + re.escape(word)
                          + "</word>", html)
        assert found, f"{word!r} is not on the page"
        top, right, bottom = (float(v) for v in found.groups())
        return image.getpixel((int((right + 4) * scale), int((top + bottom) / 2 * scale)))  # the cell, past the word

    def near(rgb, hex_colour):
        want = tuple(int(hex_colour[i:i + 2], 16) for i in (0, 2, 4))
        return all(abs(a - b) <= 12 for a, b in zip(rgb, want, strict=False))

    assert near(fill_behind("Complete"), "C6EFCE")  # done: green, not overdue red
    assert near(fill_behind("WIP"), "FFC7CE")  # in progress and past due: overdue
    assert near(fill_behind("Blocked"), "FFE699")  # blocked, not yet due: its own chip
    assert near(fill_behind("started"), "FFC7CE")  # "not started", past due: overdue
    print(f"\nStatus spellings: {OUT / 'spellings-1.png'}")


def test_a_converted_map_renders_with_its_phases_in_order(tmp_path):
    """Issue 18: the MAP `convert` hands the buyer, rendered by LibreOffice into test-output/look/."""
    from test_convert import converted_map

    _soffice()
    out = converted_map(tmp_path, "converted.xlsx")
    OUT.mkdir(parents=True, exist_ok=True)
    pdf = render(_one_tab(out, "Plan", tmp_path / "converted-map.xlsx"), OUT, tmp_path / "lo")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    bands = [line.split("▸", 1)[1].split("·")[0].strip() for line in text.splitlines() if "▸" in line]
    order = [s.name for s in service.get_template("enterprise-map").stages]
    assert bands == sorted(bands, key=order.index) and len(bands) == len(set(bands)), bands
    assert ".xlsx" not in text and str(tmp_path) not in text and "✅" not in text
    print(f"\nconverted MAP: {OUT / 'converted-map-1.png'}")
