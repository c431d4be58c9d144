"""The win/loss report as a workbook a sales manager reads (pure): the findings and a slip-by-phase
chart on the first tab, then the tables with headers in words, number formats, frozen headers,
columns sized to their content and each tab printed landscape one page wide.

The CSV keeps the snake_case names: it is for tools, this is for people.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mapsheets.core.layout import DATE_FORMAT, BarChart, PrintSetup, SheetSpec, WorkbookSpec
from mapsheets.core.widths import fit_widths

FINDINGS_TAB = "Findings"
WORDS = {
    "plan": "Plan", "title": "Title", "buyer": "Buyer", "seller": "Seller", "outcome": "Outcome",
    "closed_on": "Closed on", "map_date": "MAP date", "days_map_to_close": "Days from MAP to close",
    "signed": "Signed by both sides", "signed_sides": "Sides signed", "execution_score": "Execution score",
    "buyer_steps_on_time": "Buyer steps on time", "steps": "Steps", "done": "Done", "reason": "Reason",
    "signatures": "Signatures", "step_id": "Step ID", "phase": "Phase", "step": "Step", "side": "Side",
    "planned": "Planned", "actual": "Actual", "status": "Status", "slip_business_days": "Slip (business days)",
    "on_time": "On time", "median_slip": "Median slip (business days)", "mean_slip": "Mean slip (business days)",
    "finding": "Finding",
}
FORMATS = {"closed_on": DATE_FORMAT, "map_date": DATE_FORMAT, "planned": DATE_FORMAT, "actual": DATE_FORMAT,
           "days_map_to_close": "0", "execution_score": "0", "buyer_steps_on_time": "0%",
           "slip_business_days": "0", "median_slip": "0.0", "mean_slip": "0.0", "steps": "0", "done": "0"}
MAX_WIDTH = 40  # longer text wraps
SLIP_HEADING = "Median slip by phase (business days past the first planned date)"


def words(name: Any) -> Any:
    """A column's name as a person reads it ("slip_business_days" -> "Slip (business days)")."""
    return WORDS.get(name, str(name).replace("_", " ").capitalize()) if isinstance(name, str) else name


def table_sheet(title: str, rows: Sequence[Sequence[Any]], report: str) -> SheetSpec:
    """One table: header in words, dark and frozen; numbers and dates formatted; printed one page wide."""
    names = list(rows[0]) if rows else []
    body = [list(r) for r in rows[1:]]
    shown = [[words(n) for n in names], *body]
    return SheetSpec(
        title=title, rows=shown, header_row=0, frozen_rows=1,
        # Sized by the values: a long header wraps onto a second line rather than widen its column.
        widths=fit_widths(body, [MAX_WIDTH] * len(names),
                          floors=[max(len(w) for w in str(words(n)).split()) + 3 for n in names]),
        column_formats={c: FORMATS[n] for c, n in enumerate(names) if n in FORMATS}, typed_below=False,
        centred_columns=tuple(c for c, n in enumerate(names) if n in FORMATS),  # numbers clear of the text beside
        print_setup=PrintSetup(title_rows=(0, 0), header=f"{report}: {title}", title=report),
    )


def findings_sheet(findings: Sequence[str], slip: Sequence[Sequence[Any]], report: str) -> SheetSpec:
    """The findings, then the median slip of each phase in won and lost deals, charted beside them."""
    rows: list[list[Any]] = [["Finding"], *[[f] for f in findings], [], [SLIP_HEADING]]
    header = len(rows)
    rows.append([words(n) for n in slip[0]] if slip else ["Phase"])
    rows.extend(list(r) for r in slip[1:])
    series = tuple(range(1, len(slip[0]))) if slip else ()
    charts = (BarChart(title="Median slip by phase", header=header, first=header + 1, last=len(rows) - 1,
                       categories=0, series=series, anchor=f"A{len(rows) + 2}", y_title="business days"),) \
        if len(slip) > 1 and series else ()
    return SheetSpec(
        title=FINDINGS_TAB, rows=rows, header_row=0, frozen_rows=1, widths=[90, 16, 16],
        column_formats={c: "0.0" for c in series}, heading_rows=(header - 1,), charts=charts, typed_below=False,
        print_setup=PrintSetup(title_rows=None, header=report, title=report),
    )


def winloss_workbook(tables: Mapping[str, Sequence[Sequence[Any]]], findings: Sequence[str],
                     slip: Sequence[Sequence[Any]], title: str = "Win/loss report") -> WorkbookSpec:
    """The findings tab first, then every table but the findings' own."""
    sheets = [findings_sheet(findings, slip, title)]
    sheets += [table_sheet(name, rows, title) for name, rows in tables.items() if name != FINDINGS_TAB]
    return WorkbookSpec(title=title, sheets=sheets)
