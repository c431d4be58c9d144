"""Issue 23: the Timeline tab: one band per phase, a Side column, bars for steps before the start,
the target close and go-live marked over their weeks; rendered through LibreOffice into
test-output/look/timeline-tab-busy-1.png for a person to look at."""

from __future__ import annotations

import copy
from datetime import date, timedelta

from mapsheets.adapters.xlsx import read_grid, write_workbook
from mapsheets.core.layout import STYLES, workbook_spec
from mapsheets.core.look import band_phase
from mapsheets.core.model import Plan
from mapsheets.core.timeline import COLUMNS, HEADER_ROW, bar_formats, timeline_grid, timeline_sheet
from tests.test_look import OUT, _one_tab, render
from tests.test_timeline_picture import TODAY, busy_plan


def shifted(plan: Plan, days: int) -> Plan:
    """The same plan ``days`` later (LibreOffice's TODAY() is the clock's)."""
    p = copy.deepcopy(plan)
    move = timedelta(days=days)
    for attr in ("start_date", "target_close", "go_live"):
        if getattr(p, attr):
            setattr(p, attr, getattr(p, attr) + move)
    for s in p.steps:
        s.due = s.due + move if s.due else None
        s.done_on = s.done_on + move if s.done_on else None
    return p


def test_one_band_per_phase_a_side_column_and_a_week_for_the_step_before_the_start(plan):
    busy = busy_plan(plan)
    grid = timeline_grid(busy)
    assert grid[HEADER_ROW][: len(COLUMNS)] == ["ID", "Step", "Start", "Due", "Done on", "Status", "Side"]
    bands = [band_phase(r[0]) for r in grid[HEADER_ROW + 1:] if len(r) == 1]
    assert len(bands) == len(set(bands)) == len({s.phase for s in busy.steps})
    by_id = {r[0]: r for r in grid[HEADER_ROW + 1:] if len(r) > 1}
    assert {by_id[s.id][6] for s in busy.steps} == {"buyer", "seller", "joint"}
    assert all(by_id[s.id][6] == s.side for s in busy.steps)
    weeks = grid[HEADER_ROW][len(COLUMNS):]
    assert weeks[0] <= date(2026, 11, 20) < weeks[0] + timedelta(days=7)  # S-PRE1, before the plan's start


def test_the_target_close_and_go_live_are_named_over_their_weeks_and_marked_down_the_tab(plan):
    busy = busy_plan(plan)
    grid = timeline_grid(busy)
    weeks = grid[HEADER_ROW][len(COLUMNS):]
    for day, name in ((busy.target_close, "target close"), (busy.go_live, "go-live")):
        column = len(COLUMNS) + next(n for n, w in enumerate(weeks) if w <= day < w + timedelta(days=7))
        assert grid[0][column] == f"▼ {name} {day:%d %b %Y}"
        rule = next(f for f in bar_formats(HEADER_ROW + 1, 300) if f.style == name)
        assert rule.first_row == HEADER_ROW and f'SEARCH("{name}",H$1)' in rule.formula and name in STYLES
    sheet = timeline_sheet(busy)
    assert [f.style for f in sheet.conditional][1:4] == ["bar done", "bar blocked", "bar overdue"]


def test_the_done_rule_ends_at_the_done_date_and_starts_no_later_than_it():
    done = next(f for f in bar_formats(HEADER_ROW + 1, 300) if f.style == "bar done").formula
    assert "H$3<=IF(ISNUMBER($E4),$E4,$D4)" in done  # the week holds the done date (else the due)
    assert "H$3+7>MIN(" in done  # a step done before its planned start still gets its bar


def test_the_busy_timeline_tab_renders_in_libreoffice(plan, tmp_path):
    busy = shifted(busy_plan(plan), (date.today() - TODAY).days)
    path = tmp_path / "busy.xlsx"
    write_workbook(path, workbook_spec(busy))
    assert read_grid(path)["Timeline"][0][0].startswith("Timeline: ")
    OUT.mkdir(parents=True, exist_ok=True)
    pdf = render(_one_tab(path, "Timeline", tmp_path / "timeline-tab-busy.xlsx"), OUT, tmp_path / "lo", dpi=90,
                 first_page=True)
    assert pdf.exists() and (OUT / "timeline-tab-busy-1.png").stat().st_size > 20_000
    print(f"\nbusy Timeline tab: {OUT / 'timeline-tab-busy-1.png'}")
