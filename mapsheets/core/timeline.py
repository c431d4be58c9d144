"""The Timeline tab: a Gantt chart made of cells, one column per week (pure).

Its cells are values, not formulas referencing the Plan tab: every mapsheets write sets them again
from the plan as read (core/upkeep.py), leaving notes people typed around them alone, and
conditional formats draw the bars from each row's dates and TODAY(). Values because a planned
start follows the dependencies (no sheet formula can), and because a file openpyxl saved holds
formulas without results, which every reader would see empty.
"""

from __future__ import annotations

from typing import Any

from mapsheets.core import look
from mapsheets.core.model import Plan
from mapsheets.core.sheet_spec import DATE_FORMAT, ConditionalFormat, PrintSetup, SheetSpec, band_format, column_letter

TIMELINE_TAB = "Timeline"

HEADER_ROW = 2
COLUMNS = (("ID", 8), ("Step", 44), ("Start", 12), ("Due", 12), ("Done on", 12), ("Status", 12))
WEEK_WIDTH = 3.5
# Rows the bars' conditional formats cover below the header (steps added later get bars too).
BAR_ROWS = 300
LEGEND = ("Bars: planned (blue), done (green), overdue (red); this week in yellow. "
          "Written by mapsheets from the Plan tab at every write: edit the plan there.")


def timeline_grid(plan: Plan) -> list[list[Any]]:
    """The tab's rows: title, legend, header (week Mondays as dates), a band per phase, a row per step."""
    rows_data = look.timeline_rows(plan)
    weeks = look.timeline_weeks(plan, rows_data)
    grid: list[list[Any]] = [[f"Timeline: {plan.title}"], [LEGEND],
                             [label for label, _w in COLUMNS] + list(weeks)]
    texts = look.phase_band_texts(plan)
    phase = None
    for row in rows_data:
        if row.phase != phase or len(grid) == HEADER_ROW + 1:
            phase = row.phase
            grid.append([texts[phase]])
        grid.append([row.id, row.title, row.start, row.due, row.done_on, row.status])
    return grid


def timeline_cells(plan: Plan) -> dict[tuple[int, int], Any]:
    """Every non-empty cell of the tab as it should be now."""
    return {(r, c): v for r, row in enumerate(timeline_grid(plan)) for c, v in enumerate(row) if v is not None}


def drawn_before(filled: frozenset[tuple[int, int]]) -> set[tuple[int, int]]:
    """Which of the tab's non-empty cells mapsheets drew, to clear where the plan no longer has them:
    the title and legend, the header with its weeks, and the ID to Status columns of the rows under
    it down to the first empty one. A note someone typed elsewhere (in a week cell of a step row,
    right of the weeks) is theirs, and stays."""
    fixed = len(COLUMNS)
    end = HEADER_ROW + 1
    while any((end, c) in filled for c in range(fixed)):
        end += 1
    return {(r, c) for r, c in filled
            if (r < HEADER_ROW and c == 0) or (r == HEADER_ROW and c < fixed + look.MAX_WEEKS)
            or (HEADER_ROW < r < end and c < fixed)}


def bar_formats(first_row: int, last_row: int) -> list[ConditionalFormat]:
    """Bars from each row's Start/Due/Done on/Status and the week in the header; done first."""
    fixed = len(COLUMNS)
    end = fixed + look.MAX_WEEKS
    r, h = first_row + 1, HEADER_ROW + 1
    w = column_letter(fixed)  # the first week's column
    start, due, done_on, status = "$C", "$D", "$E", "$F"
    week = f"{w}${h}"
    overlaps = f"{week}+7>{start}{r}"
    is_open = f'OR({status}{r}="not started",{status}{r}="in progress",{status}{r}="blocked")'
    rules = [
        ("bar done", f'=AND({status}{r}="done",ISNUMBER({start}{r}),ISNUMBER({week}),'
                     f"{week}<=IF(ISNUMBER({done_on}{r}),{done_on}{r},{due}{r}),{overlaps})"),
        ("bar overdue", f"=AND({is_open},ISNUMBER({due}{r}),{due}{r}<TODAY(),ISNUMBER({week}),"
                        f"{week}<=TODAY(),{overlaps})"),
        ("bar planned", f'=AND({status}{r}<>"n/a",ISNUMBER({start}{r}),ISNUMBER({due}{r}),ISNUMBER({week}),'
                        f"{week}<={due}{r},{overlaps})"),
    ]
    out = [ConditionalFormat(first_row, last_row, end, f, style, first_column=fixed) for style, f in rules]
    # This week's column, header included: under the bars (the first rule that holds wins in Google).
    out.append(ConditionalFormat(HEADER_ROW, last_row, end,
                                 f"=AND(ISNUMBER({week}),{week}<=TODAY(),{week}+7>TODAY())", "today",
                                 first_column=fixed))
    return out


def timeline_sheet(plan: Plan) -> SheetSpec:
    rows = timeline_grid(plan)
    weeks = len(rows[HEADER_ROW]) - len(COLUMNS)
    first = HEADER_ROW + 1
    return SheetSpec(
        title=TIMELINE_TAB, rows=rows, header_row=HEADER_ROW, frozen_rows=HEADER_ROW + 1,
        widths=[w for _l, w in COLUMNS] + [WEEK_WIDTH] * weeks,
        column_formats={2: DATE_FORMAT, 3: DATE_FORMAT, 4: DATE_FORMAT},
        conditional=[band_format(first, first + BAR_ROWS, len(COLUMNS) + look.MAX_WEEKS)]
        + bar_formats(first, first + BAR_ROWS), heading_rows=(0,), wrap_body=False,
        rotated_rows=(HEADER_ROW,),
        print_setup=PrintSetup(title_rows=(HEADER_ROW, HEADER_ROW), header=f"{plan.title}: timeline"),
    )
