"""The timeline picture through matplotlib (the optional extra ``mapsheets[timeline]``).

The only module that imports matplotlib; what to draw comes worked out from core/look.py.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from mapsheets.core.look import TimelineChart
from mapsheets.errors import UsageError, file_error

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
    import matplotlib.dates as mdates
    from matplotlib.patches import Patch

    lines: list[tuple[str, object]] = []  # ("phase", name) or ("step", row), top to bottom
    phase = None
    for row in chart.rows:  # a band heads each run of one phase (look.phase_runs)
        if not lines or row.phase != phase:
            phase = row.phase
            lines.append(("phase", phase))
        lines.append(("step", row))
    height = 1.2 + 0.28 * len(lines)
    fig, ax = plt.subplots(figsize=(12, max(3.0, height)))
    one_day = timedelta(days=1)
    labels = []
    for y, (kind, item) in enumerate(lines):
        if kind == "phase":
            ax.axhspan(y - 0.5, y + 0.5, color=BAND, zorder=0)
            labels.append(item or "(no phase)")
            continue
        labels.append(item.title if len(item.title) <= 48 else item.title[:47] + "…")
        if item.start and item.due:
            colour = OVERDUE if item.overdue else PLANNED
            ax.barh(y, (item.due - item.start) + one_day, left=item.start, height=0.6, color=colour,
                    alpha=0.45 if not item.overdue else 0.35, edgecolor=colour, zorder=2)
        if item.status == "done" and item.start:
            end = item.done_on or item.due or item.start
            ax.barh(y, (end - item.start) + one_day, left=item.start, height=0.3, color=DONE, zorder=3)
        elif item.overdue and item.start:
            ax.barh(y, (chart.today - item.start) + one_day, left=item.start, height=0.3, color=OVERDUE, zorder=3)
        elif item.status == "in progress" and item.start and item.start <= chart.today:
            ax.barh(y, (min(chart.today, item.due or chart.today) - item.start) + one_day, left=item.start,
                    height=0.3, color=ACTIVE, zorder=3)
    ax.set_yticks(range(len(lines)), labels, fontsize=8)
    for tick, (kind, _item) in zip(ax.get_yticklabels(), lines):
        if kind == "phase":
            tick.set_fontweight("bold")
    ax.set_ylim(len(lines) - 0.5, -0.5)
    ax.set_xlim(chart.first, chart.last)
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
    ax.xaxis.set_major_locator(mdates.WeekdayLocator(byweekday=mdates.MO, interval=2))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))
    ax.tick_params(axis="x", labelsize=8)
    ax.grid(axis="x", color="#DDDDDD", linewidth=0.6, zorder=1)
    ax.set_title(chart.title, fontsize=12, loc="left", pad=12)
    ax.legend(handles=[Patch(color=PLANNED, alpha=0.6, label="planned"), Patch(color=DONE, label="done"),
                       Patch(color=ACTIVE, label="in progress"), Patch(color=OVERDUE, label="overdue")],
              loc="upper center", fontsize=8, ncol=4, frameon=False, bbox_to_anchor=(0.5, -0.04))
    for side in ("right", "left"):
        ax.spines[side].set_visible(False)
    fig.tight_layout()
    try:
        fig.savefig(output, dpi=130)
    except OSError as exc:
        raise file_error(output, exc, "a picture", writing=True) from None
    finally:
        plt.close(fig)
    return output
