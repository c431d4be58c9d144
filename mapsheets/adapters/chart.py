"""The timeline picture through matplotlib (the optional extra ``mapsheets[timeline]``).

The only module that imports matplotlib; what to draw comes worked out from core/look.py.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

from mapsheets.core.look import TimelineChart, TimelineRow
from mapsheets.errors import PlanFileError, UsageError

FORMATS = (".png", ".svg")
PLANNED, DONE, OVERDUE, ACTIVE = "#8EA9DB", "#4E9A3A", "#D9363E", "#2F5597"
BAND = "#EEF2FA"


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise UsageError("drawing a timeline needs matplotlib: pip install 'mapsheets[timeline]'") from None
    matplotlib.use("Agg")  # files only, never a window
    import matplotlib.pyplot as plt

    return plt


def draw(chart: TimelineChart, output: Path) -> Path:
    """Phases as row groups, planned bars with what happened over them, today and the target close."""
    output = Path(output)
    if output.suffix.lower() not in FORMATS:
        raise UsageError(f"{output}: the picture must be .png or .svg")
    plt = _pyplot()
    lines = _lines(chart)
    height = 1.2 + 0.28 * len(lines)
    fig, ax = plt.subplots(figsize=(12, max(3.0, height)))
    labels = []
    for y, item in enumerate(lines):
        if isinstance(item, str):  # a phase band
            ax.axhspan(y - 0.5, y + 0.5, color=BAND, zorder=0)
            labels.append(item or "(no phase)")
            continue
        labels.append(item.title if len(item.title) <= 48 else item.title[:47] + "…")
        _draw_step(ax, y, item, chart.today)
    ax.set_yticks(range(len(lines)), labels, fontsize=8)
    for tick, item in zip(ax.get_yticklabels(), lines, strict=True):
        if isinstance(item, str):
            tick.set_fontweight("bold")
    ax.set_ylim(len(lines) - 0.5, -0.5)
    ax.set_xlim(chart.first, chart.last)
    _draw_marks(ax, chart)
    _finish_axes(ax, chart.title)
    fig.tight_layout()
    try:
        fig.savefig(output, dpi=130)
    except OSError as exc:
        raise PlanFileError(f"{output}: cannot write ({exc.strerror or exc})") from None
    finally:
        plt.close(fig)
    return output


def _lines(chart: TimelineChart) -> list[str | TimelineRow]:
    """The picture's rows top to bottom: a phase's name heads each run of its steps (look.phase_runs)."""
    lines: list[str | TimelineRow] = []
    phase = None
    for row in chart.rows:
        if not lines or row.phase != phase:
            phase = row.phase
            lines.append(phase)
        lines.append(row)
    return lines


def _draw_step(ax: Any, y: int, row: TimelineRow, today: date) -> None:
    """The planned bar, and over it what happened: done, overdue, or in progress up to today."""
    one_day = timedelta(days=1)
    if row.start and row.due:
        colour = OVERDUE if row.overdue else PLANNED
        ax.barh(y, (row.due - row.start) + one_day, left=row.start, height=0.6, color=colour,
                alpha=0.45 if not row.overdue else 0.35, edgecolor=colour, zorder=2)
    if row.status == "done" and row.start:
        end = row.done_on or row.due or row.start
        ax.barh(y, (end - row.start) + one_day, left=row.start, height=0.3, color=DONE, zorder=3)
    elif row.overdue and row.start:
        ax.barh(y, (today - row.start) + one_day, left=row.start, height=0.3, color=OVERDUE, zorder=3)
    elif row.status == "in progress" and row.start and row.start <= today:
        ax.barh(y, (min(today, row.due or today) - row.start) + one_day, left=row.start,
                height=0.3, color=ACTIVE, zorder=3)


def _draw_marks(ax: Any, chart: TimelineChart) -> None:
    """Today, the target close and go-live as labelled vertical lines, where they fall on the axis."""
    marks = [(chart.today, "today", "#E69F00", "-")]
    if chart.target_close:
        marks.append((chart.target_close, "target close", "black", "--"))
    if chart.go_live:
        marks.append((chart.go_live, "go-live", "#7F7F7F", ":"))
    for day, name, colour, style in marks:
        if chart.first <= day <= chart.last:
            ax.axvline(day, color=colour, linestyle=style, linewidth=1.5, zorder=4)
            ax.annotate(f"{name}\n{day:%d %b}", (day, 0), xycoords=("data", "axes fraction"), xytext=(3, 3),
                        textcoords="offset points", fontsize=7, color=colour, va="bottom")


def _finish_axes(ax: Any, title: str) -> None:
    """Fortnightly date ticks, a light grid, the title and the legend."""
    import matplotlib.dates as mdates
    from matplotlib.patches import Patch

    ax.xaxis.set_major_locator(mdates.WeekdayLocator(byweekday=mdates.MO, interval=2))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))
    ax.tick_params(axis="x", labelsize=8)
    ax.grid(axis="x", color="#DDDDDD", linewidth=0.6, zorder=1)
    ax.set_title(title, fontsize=12, loc="left", pad=12)
    ax.legend(handles=[Patch(color=PLANNED, alpha=0.6, label="planned"), Patch(color=DONE, label="done"),
                       Patch(color=ACTIVE, label="in progress"), Patch(color=OVERDUE, label="overdue")],
              loc="upper center", fontsize=8, ncol=4, frameon=False, bbox_to_anchor=(0.5, -0.04))
    for side in ("right", "left"):
        ax.spines[side].set_visible(False)
