"""Issue 23: the timeline picture tells planned from actual, buyer from seller, blocked and overdue,
and never writes over a bar. Checked on the geometry (core/timeline_bars.py, in dates) and on the
figure matplotlib draws; writes test-output/look/timeline-sides.png for a person to look at."""

from __future__ import annotations

import copy
from datetime import date, timedelta
from pathlib import Path

import pytest

from mapsheets.core import timeline_bars as tb
from mapsheets.core.look import TimelineChart, timeline_chart
from mapsheets.core.model import Plan, Step

TODAY = date(2027, 1, 12)
OUT = Path(__file__).resolve().parents[1] / "test-output" / "look"


def busy_plan(plan: Plan) -> Plan:
    """Steps done early and late, blocked and overdue on both sides, one before the plan's start,
    and a phase whose steps are not next to each other."""
    p = copy.deepcopy(plan)
    s = p.steps
    s[0].status, s[0].done_on = "done", date(2026, 12, 3)  # joint, 4 days early
    s[1].status, s[1].done_on = "done", date(2026, 12, 22)  # joint, a week late
    s[2].status, s[2].done_on = "done", date(2026, 12, 10)  # buyer, done before its planned start
    s[3].status = "in progress"  # seller, due 28 Dec: overdue
    s[5].status = "blocked"  # seller, due 23 Dec: blocked and late
    s[8].status = "blocked"  # buyer, due 19 Jan: blocked, not late yet
    s[6].status = "not started"  # buyer, due 5 Jan: overdue
    s[4].status, s[4].due = "in progress", date(2027, 1, 20)
    s[11].phase = s[0].phase  # Discovery again, far from its other steps
    s.insert(0, Step("S-PRE1", "Intro call before the plan started", phase=s[0].phase, side="seller",
                     due=date(2026, 11, 20), status="done", done_on=date(2026, 11, 19)))
    p.target_close = date(2027, 1, 22)  # close to today: the two labels must not collide
    return p


@pytest.fixture
def chart(plan: Plan) -> TimelineChart:
    return timeline_chart(busy_plan(plan), TODAY)


def _bar(found: list[tb.Bar], kind: str, step: str) -> tb.Bar:
    return next(b for b in found if b.kind == kind and b.step == step)


def test_a_done_bar_ends_at_its_done_date_with_its_planned_span_faint_behind(chart):
    found = tb.bars(chart)
    for row in chart.rows:
        if row.status != "done":
            continue
        done = _bar(found, "done", row.id)
        assert done.last == row.done_on  # not the due date: done early is a short bar
        assert done.first <= done.last
        planned = _bar(found, "planned", row.id)
        assert (planned.first, planned.last, planned.faint) == (row.start, row.due, True)
    early = next(r for r in chart.rows if r.done_on == date(2026, 12, 10))
    assert _bar(found, "done", early.id).first == date(2026, 12, 10)  # done before its planned start
    assert not [b for b in found if b.kind == "planned" and b.faint and b.step not in
                {r.id for r in chart.rows if r.status == "done"}]


def test_the_drawn_done_bar_ends_at_the_done_date(chart):
    """The same on the figure: the done patch's right edge is the end of the done day."""
    mdates = pytest.importorskip("matplotlib.dates")
    from mapsheets.adapters import chart as drawing

    plt = drawing._pyplot()
    fig, ax = drawing.figure(chart, plt)
    try:
        patches = {p.get_gid(): p for p in ax.patches if p.get_gid()}
        for row in chart.rows:
            if row.status == "done":
                right = patches[f"done:{row.id}"].get_x() + patches[f"done:{row.id}"].get_width()
                assert right == pytest.approx(mdates.date2num(row.done_on + timedelta(days=1)))
        _no_words_over_bars(fig, ax)
    finally:
        plt.close(fig)


def _no_words_over_bars(fig, ax) -> None:
    """No text the figure draws (notes, date line labels, step titles) overlaps a bar, in pixels."""
    renderer = fig.canvas.get_renderer()
    boxes = [p.get_window_extent(renderer) for p in ax.patches if p.get_gid()]
    texts = list(ax.texts) + list(ax.get_yticklabels())
    assert len(ax.texts) >= 6
    for text in texts:
        if not text.get_text():
            continue
        box = text.get_window_extent(renderer)
        clash = [b for b in boxes if box.overlaps(b) and min(box.x1, b.x1) - max(box.x0, b.x0) > 0.5
                 and min(box.y1, b.y1) - max(box.y0, b.y0) > 0.5]
        assert not clash, f"{text.get_text()!r} over a bar"


def test_blocked_and_overdue_on_both_sides_each_phase_once_and_a_bar_before_the_start(chart, plan):
    found = tb.bars(chart)
    kinds = {(b.kind, b.side) for b in found}
    assert {("blocked", "buyer"), ("blocked", "seller"), ("overdue", "buyer"), ("overdue", "seller")} <= kinds
    late_blocked = _bar(found, "blocked", next(r.id for r in chart.rows if r.status == "blocked" and r.overdue))
    assert late_blocked.last == TODAY
    phases = [item for item in tb.lines(chart) if isinstance(item, str)]
    assert len(phases) == len(set(phases))  # Discovery heads one line, not two
    heading = None
    for item in tb.lines(chart):
        if isinstance(item, str):
            heading = item
        else:
            assert item.phase == heading, item.title  # every step under its own phase
    before = _bar(found, "done", "S-PRE1")
    assert before.first < plan.start_date and chart.first <= before.first
    words = {n.text for n in tb.notes(chart)}
    assert "done 03 Dec (4d early)" in words and "done 22 Dec (7d late)" in words
    assert any(w.startswith("blocked, ") and w.endswith("d late") for w in words)


def test_date_line_labels_that_would_collide_go_up_a_level(chart):
    marks = {m.name: m for m in tb.marks(chart)}
    assert set(marks) == {"today", "target close", "go-live"}
    assert marks["today"].level == 0 and marks["target close"].level == 1


def test_the_picture_is_written_for_a_person_to_look_at(chart):
    pytest.importorskip("matplotlib")
    from mapsheets.adapters import chart as drawing

    OUT.mkdir(parents=True, exist_ok=True)
    png = drawing.draw(chart, OUT / "timeline-sides.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 30_000
    print(f"\ntimeline picture: {png}")
