"""Where the timeline picture puts things, in dates (pure): one line per phase and step, the bars
of each step, the words beside them and the labels of the date lines. The drawing (adapters/chart.py)
only turns these into shapes, so what the picture says is tested here, without pixels.

A step has a faint bar for its planned span (start to due) and, over it, what happened:
- done: from its start (or its done date, when done before it was to start) to its done date, so a
  step done early is a short bar with its planned span faint behind it;
- blocked: from its start to today when it is late, else over its planned span;
- overdue (open, due before today): from its start to today;
- in progress: from its start to today or its due, whichever is first.
Every bar carries the step's side: the drawing tells buyer, seller and joint apart by colour and pattern.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from mapsheets.core.look import NO_PHASE, TimelineChart, TimelineRow

# A date line's label moves up a level when it is closer than this share of the axis to the last one.
LABEL_GAP = 0.09
LABEL_DAYS = 12  # room the words beside a bar take, in days of a typical plan's axis (~8 px a day)


@dataclass(frozen=True)
class Bar:
    """One bar: ``first`` to ``last`` inclusive, on line ``line`` of the picture."""

    line: int
    kind: str  # planned | done | blocked | overdue | in progress
    first: date
    last: date
    side: str
    step: str  # the step's ID
    faint: bool = False  # a done step's planned span, shown behind what happened


@dataclass(frozen=True)
class Note:
    """The words beside a step's bars: right of its last bar, or left of its first when no room."""

    line: int
    text: str
    at: date
    align: str  # "left": text starts at ``at``; "right": text ends at ``at``


@dataclass(frozen=True)
class Mark:
    """A date line across the picture (today, target close, go-live), its label on ``level`` above."""

    day: date
    name: str
    level: int


def lines(chart: TimelineChart) -> list[str | TimelineRow]:
    """Top to bottom: each phase's name once, over its steps (timeline_rows groups them)."""
    out: list[str | TimelineRow] = []
    seen: set[str] = set()
    for row in chart.rows:
        if row.phase not in seen:
            seen.add(row.phase)
            out.append(row.phase or NO_PHASE)
        out.append(row)
    return out


def bars(chart: TimelineChart) -> list[Bar]:
    """Every bar of the picture, planned spans first (they are drawn under)."""
    out: list[Bar] = []
    for n, item in enumerate(lines(chart)):
        if isinstance(item, TimelineRow):
            out.extend(step_bars(n, item, chart.today))
    return sorted(out, key=lambda b: b.kind != "planned")


def step_bars(line: int, row: TimelineRow, today: date) -> list[Bar]:
    """The planned span and what happened over it (module docstring)."""
    out: list[Bar] = []
    if row.start and row.due:
        out.append(Bar(line, "planned", row.start, row.due, row.side, row.id, faint=row.status == "done"))
    end = row.done_on or row.due
    if row.status == "done" and end:
        out.append(Bar(line, "done", min(row.start or end, end), end, row.side, row.id))
        return out
    if not row.start:
        return out
    if row.status == "blocked":
        until = today if row.overdue else (row.due or today)
        out.append(Bar(line, "blocked", row.start, max(row.start, until), row.side, row.id))
    elif row.overdue:
        out.append(Bar(line, "overdue", row.start, max(row.start, today), row.side, row.id))
    elif row.status == "in progress" and row.start <= today:
        out.append(Bar(line, "in progress", row.start, min(today, row.due or today), row.side, row.id))
    return out


def note_text(row: TimelineRow, today: date) -> str:
    """What the bar alone does not say: the done date against the due, blocked, how late."""
    if row.status == "done" and row.done_on:
        gap = (row.due - row.done_on).days if row.due else 0
        when = "early" if gap > 0 else "late" if gap < 0 else "on time"
        return f"done {row.done_on:%d %b}" + (f" ({abs(gap)}d {when})" if gap else "")
    late = f"{(today - row.due).days}d late" if row.overdue and row.due else ""
    if row.status == "blocked":
        return "blocked" + (f", {late}" if late else "")
    return late


def notes(chart: TimelineChart, found: list[Bar] | None = None) -> list[Note]:
    """The words beside each step, never over a bar: a step's bars share its line and nothing else
    does, so right of the last bar (left of the first when the axis ends first) is always clear."""
    found = found if found is not None else bars(chart)
    out: list[Note] = []
    room = timedelta(days=LABEL_DAYS)
    for n, item in enumerate(lines(chart)):
        text = note_text(item, chart.today) if isinstance(item, TimelineRow) else ""
        mine = [b for b in found if b.line == n]
        if not text or not mine:
            continue
        first, last = min(b.first for b in mine), max(b.last for b in mine) + timedelta(days=1)
        if last + room <= chart.last or first - room < chart.first:
            out.append(Note(n, text, last, "left"))
        else:
            out.append(Note(n, text, first, "right"))
    return out


def marks(chart: TimelineChart) -> list[Mark]:
    """Today, the target close and go-live on the axis, each label a level higher when the one
    before it is too close to read both."""
    days = [(chart.today, "today"), (chart.target_close, "target close"), (chart.go_live, "go-live")]
    shown = sorted((d, name) for d, name in days if d and chart.first <= d <= chart.last)
    span = max(1, (chart.last - chart.first).days)
    out: list[Mark] = []
    for day, name in shown:
        level = 0
        if out and (day - out[-1].day).days / span < LABEL_GAP:
            level = out[-1].level + 1
        out.append(Mark(day, name, level))
    return out
