"""The timeline picture through matplotlib (the optional extra ``mapsheets[timeline]``).

The only module that imports matplotlib; what to draw comes worked out from core/look.py and
core/timeline_bars.py (every bar, note and date line in dates), so this module only draws.
Sides are told apart by colour and by pattern, so the legend still reads printed in grey.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any, cast

from mapsheets.core import timeline_bars as tb
from mapsheets.core.look import TimelineChart, TimelineRow
from mapsheets.errors import PlanFileError, UsageError

FORMATS = (".png", ".svg")
# side -> (colour, hatch): Okabe-Ito blue / vermilion / bluish green, and three patterns.
SIDES = {"buyer": ("#0072B2", ""), "seller": ("#D55E00", "////"), "joint": ("#009E73", "....")}
# what happened -> colour; None: the side's own colour.
STATES = {"done": None, "in progress": None, "overdue": "#C0392B", "blocked": "#3B3B3B"}
BAND = "#EEF2FA"
MARK_STYLE = {"today": ("#E69F00", "-"), "target close": ("black", "--"), "go-live": ("#7F7F7F", ":")}
ONE_DAY = timedelta(days=1)


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise UsageError("drawing a timeline needs matplotlib: pip install 'mapsheets[timeline]'") from None
    matplotlib.use("Agg")  # files only, never a window
    import matplotlib.pyplot as plt

    return plt


def draw(chart: TimelineChart, output: Path) -> Path:
    """Phases as row groups, planned spans faint with what happened over them, the date lines."""
    output = Path(output)
    if output.suffix.lower() not in FORMATS:
        raise UsageError(f"{output}: the picture must be .png or .svg")
    plt = _pyplot()
    fig, ax = figure(chart, plt)
    try:
        fig.savefig(output, dpi=130)
    except OSError as exc:
        raise PlanFileError(f"{output}: cannot write ({exc.strerror or exc})") from None
    finally:
        plt.close(fig)
    return output


def figure(chart: TimelineChart, plt: Any) -> tuple[Any, Any]:
    """The picture as a matplotlib (figure, axes); each bar's patch has gid "<kind>:<step ID>"."""
    lines = tb.lines(chart)
    fig, ax = plt.subplots(figsize=(12, max(3.4, 1.9 + 0.28 * len(lines))))
    _label_lines(ax, lines)
    found = tb.bars(chart)
    for bar in found:
        _draw_bar(ax, bar)
    for note in tb.notes(chart, found):
        ax.annotate(note.text, (note.at, note.line), xytext=(3 if note.align == "left" else -3, 0),
                    textcoords="offset points", ha=note.align, va="center", fontsize=7, color="#333333",
                    bbox={"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none", "alpha": 0.85},
                    zorder=5)  # over a date line, readable
    ax.set_ylim(len(lines) - 0.5, -0.5)
    ax.set_xlim(chart.first, chart.last)
    _draw_marks(ax, chart)
    _finish_axes(ax, chart.title)
    fig.tight_layout()
    return fig, ax


def _label_lines(ax: Any, lines: list[str | TimelineRow]) -> None:
    """Step titles in the left column (never over a bar), phase names bold on a light band."""
    labels = []
    for y, item in enumerate(lines):
        if isinstance(item, str):
            ax.axhspan(y - 0.5, y + 0.5, color=BAND, zorder=0)
            labels.append(item)
        else:
            labels.append(item.title if len(item.title) <= 48 else item.title[:47] + "…")
    ax.set_yticks(range(len(lines)), labels, fontsize=8)
    for tick, item in zip(ax.get_yticklabels(), lines, strict=True):
        if isinstance(item, str):
            tick.set_fontweight("bold")


def _draw_bar(ax: Any, bar: tb.Bar) -> None:
    colour, hatch = SIDES.get(bar.side, SIDES["joint"])
    width = (bar.last - bar.first) + ONE_DAY
    if bar.kind == "planned":  # the plan: an outline in the side's colour, filled faintly
        ax.barh(bar.line, width, left=bar.first, height=0.62, color=colour, alpha=0.12 if bar.faint else 0.28,
                zorder=2, gid=f"planned:{bar.step}")
        ax.barh(bar.line, width, left=bar.first, height=0.62, fill=False, edgecolor=colour, hatch=hatch,
                linestyle=":" if bar.faint else "-", linewidth=0.8, alpha=0.35 if bar.faint else 0.8, zorder=2)
        return
    fill = STATES.get(bar.kind) or colour
    ax.barh(bar.line, width, left=bar.first, height=0.36, color=fill, edgecolor="white", hatch=hatch,
            linewidth=0, alpha=0.7 if bar.kind == "in progress" else 1, zorder=3, gid=f"{bar.kind}:{bar.step}")
    if bar.kind == "blocked":  # blocked reads as a cross-hatch in any colour
        ax.barh(bar.line, width, left=bar.first, height=0.36, fill=False, edgecolor="#BBBBBB", hatch="xx",
                linewidth=0, zorder=3)


def _draw_marks(ax: Any, chart: TimelineChart) -> None:
    """Today, the target close and go-live as lines, labelled above the plot where no bar is."""
    span = max(1, (chart.last - chart.first).days)
    for mark in tb.marks(chart):
        colour, style = MARK_STYLE[mark.name]
        where = (mark.day - chart.first).days / span  # a label near an end leans inwards, never cut off
        align = "right" if where > 0.92 else "left" if where < 0.08 else "center"
        ax.axvline(mark.day, color=colour, linestyle=style, linewidth=1.5, zorder=4)
        ax.annotate(f"{mark.name} {mark.day:%d %b}", (mark.day, 1), xycoords=("data", "axes fraction"),
                    xytext=(0, 2 + 10 * mark.level), textcoords="offset points", fontsize=7, color=colour,
                    ha=align, va="bottom", fontweight="bold" if mark.name != "today" else "normal")


def _finish_axes(ax: Any, title: str) -> None:
    """Fortnightly date ticks, a light grid, the title and a legend that survives grey printing."""
    import matplotlib.dates as mdates
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    ax.xaxis.set_major_locator(mdates.WeekdayLocator(byweekday=mdates.MO, interval=2))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))
    ax.tick_params(axis="x", labelsize=8)
    ax.grid(axis="x", color="#DDDDDD", linewidth=0.6, zorder=1)
    ax.set_title(title, fontsize=12, loc="left", pad=34)
    handles: list[Any] = [Patch(facecolor=c, edgecolor="white", hatch=h, label=side) for side, (c, h) in SIDES.items()]
    handles += [Patch(facecolor="#DDDDDD", edgecolor="#666666", label="planned"),
                Patch(facecolor=STATES["overdue"], label="overdue"),
                Patch(facecolor=STATES["blocked"], edgecolor="#BBBBBB", hatch="xx", label="blocked")]
    handles += [Line2D([], [], color=c, linestyle=cast(Any, s), label=name) for name, (c, s) in MARK_STYLE.items()]
    ax.legend(handles=handles, loc="upper center", fontsize=8, ncol=9, frameon=False, bbox_to_anchor=(0.5, -0.05),
              handlelength=2.4)
    for side in ("right", "left"):
        ax.spines[side].set_visible(False)
