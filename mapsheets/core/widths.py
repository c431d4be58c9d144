"""How wide a column and how tall a wrapped row should be, in characters and lines (pure): the
.xlsx and Google writers both size from here, so a tab fits its page the same on both."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime
from typing import Any

MIN_WIDTH = 6
PAD = 2  # characters of air beside the longest line, so neighbours never touch
DATE_CHARS, DATETIME_CHARS = 10, 16


def text_length(value: Any) -> int:
    """Characters a cell shows on its longest line (dates as the layout formats them)."""
    if value is None:
        return 0
    if isinstance(value, datetime):
        return DATETIME_CHARS
    if isinstance(value, date):
        return DATE_CHARS
    return max((len(line) for line in str(value).split("\n")), default=0)


def fit_widths(rows: Sequence[Sequence[Any]], limits: Sequence[int], *, skip_rows: Collection[int] = (),
               skip_cells: Collection[tuple[int, int]] = (), floors: Sequence[int] = ()) -> list[int]:
    """Each column as wide as its longest cell plus air, never wider than its limit (wider text
    wraps) nor narrower than its floor (room for what people type later; MIN_WIDTH without one);
    rows and cells in ``skip_*`` (titles, bands, overflowing overview values) are not measured."""
    widths = [0] * len(limits)
    for r, row in enumerate(rows):
        if r in skip_rows:
            continue
        for c, value in enumerate(row[: len(limits)]):
            if (r, c) not in skip_cells:
                widths[c] = max(widths[c], text_length(value) + PAD)
    floors = list(floors) + [MIN_WIDTH] * (len(limits) - len(floors))
    return [min(limit, max(floor, w)) for w, limit, floor in zip(widths, limits, floors, strict=True)]


# Width of a character in units of the column width (the width of a "0"), for a proportional sans
# font (LibreOffice's DejaVu Sans, wider than Excel's Calibri: sized for it, nothing is cut in either).
_NARROW, _WIDE = set("ijlft.,:;'!|()[] "), set("mwMW@")
ROOM = 0.93  # of a column's width that text may fill: the rest is the cell's own padding


def text_units(text: str) -> float:
    """How many "0"s wide ``text`` is, roughly."""
    units = 0.0
    for ch in text:
        units += (0.45 if ch in _NARROW else 1.35 if ch in _WIDE else 1.1 if ch.isupper()
                  else 0.6 if ch == "r" else 0.95 if ch.isdigit() else 0.9)
    return units


def wrapped_lines(value: Any, width: float) -> int:
    """Lines a wrapped cell takes at ``width``: words kept whole as a spreadsheet wraps them (a word
    longer than the line is broken), every typed line break honoured."""
    if not isinstance(value, str) or not value:
        return 1
    room, space = max(width * ROOM, 1.0), text_units(" ")
    total = 0
    for part in value.split("\n"):
        lines, used = 1, 0.0
        for word in part.split():
            size = text_units(word)
            if used and used + space + size <= room:
                used += space + size
                continue
            if used:
                lines += 1
            lines += int(size // room) if size > room else 0
            used = size % room if size > room else size
        total += lines
    return total
