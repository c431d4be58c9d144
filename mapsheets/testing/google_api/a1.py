"""A1 notation: parse and format ranges. Pure; indices are 0-based, ends exclusive."""
from __future__ import annotations

import re
from dataclasses import dataclass

_PART = re.compile(r"^\$?([A-Za-z]{0,3})\$?(\d*)$")
_PLAIN_TITLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CELLISH = re.compile(r"^([A-Za-z]{1,3}\d+|[Rr]\d*[Cc]\d*|true|false)$", re.IGNORECASE)


@dataclass(frozen=True)
class Box:
    """A rectangle; None means open (to the grid edge)."""

    r0: int | None = None
    c0: int | None = None
    r1: int | None = None
    c1: int | None = None

    def clamp(self, rows: int, cols: int) -> Rect:
        return Rect(self.r0 or 0, self.c0 or 0,
                    rows if self.r1 is None else self.r1, cols if self.c1 is None else self.c1)


@dataclass(frozen=True)
class Rect(Box):
    """A rectangle with every side known: a Box clamped to a grid, or a range of given cells."""

    r0: int = 0
    c0: int = 0
    r1: int = 0
    c1: int = 0


class A1Error(ValueError):
    """The text is not a valid A1 reference."""


def col_to_index(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + (ord(ch) - 64)
    return n - 1


def index_to_col(i: int) -> str:
    s = ""
    i += 1
    while i > 0:
        i, rem = divmod(i - 1, 26)
        s = chr(65 + rem) + s
    return s


def split_sheet(text: str) -> tuple[str | None, str | None]:
    """Split "'My ''x'' Sheet'!A1" into (title, ref); ref None when there is no '!'."""
    if text.startswith("'"):
        i, out = 1, []
        while i < len(text):
            if text[i] == "'":
                if i + 1 < len(text) and text[i + 1] == "'":
                    out.append("'")
                    i += 2
                    continue
                rest = text[i + 1:]
                if rest == "":
                    return "".join(out), None
                if rest.startswith("!"):
                    return "".join(out), rest[1:]
                raise A1Error(text)
            out.append(text[i])
            i += 1
        raise A1Error(text)
    if "!" in text:
        title, ref = text.rsplit("!", 1)
        return title, ref
    return None, text


def _part(p: str) -> tuple[int | None, int | None]:
    m = _PART.match(p)
    if not m or (not m.group(1) and not m.group(2)):
        raise A1Error(p)
    col = col_to_index(m.group(1)) if m.group(1) else None
    row = int(m.group(2)) - 1 if m.group(2) else None
    if row is not None and row < 0:
        raise A1Error(p)
    return row, col


def parse_ref(ref: str) -> Box:
    """Parse the part after '!' (A1, A1:B2, A:B, 1:3, A2:2, A1:C)."""
    parts = ref.split(":")
    if len(parts) == 1:
        r, c = _part(parts[0])
        if r is None or c is None:
            raise A1Error(ref)
        return Box(r, c, r + 1, c + 1)
    if len(parts) != 2:
        raise A1Error(ref)
    (ra, ca), (rb, cb) = _part(parts[0]), _part(parts[1])
    if (ca is None) != (cb is None) and (ra is None or rb is None) and not (ra is not None and ca is not None):
        raise A1Error(ref)
    rows = [x for x in (ra, rb) if x is not None]
    cols = [x for x in (ca, cb) if x is not None]
    r0 = min(rows) if rows else None
    c0 = min(cols) if cols else None
    # An end part lacking rows/cols leaves that end open (A1:C -> rows to the grid bottom).
    r1 = max(rows) + 1 if len(rows) == 2 else None
    c1 = max(cols) + 1 if len(cols) == 2 else None
    if len(rows) == 1 and ra is None:
        raise A1Error(ref)  # "A:B3" style is not valid
    if len(cols) == 1 and ca is None:
        raise A1Error(ref)
    return Box(r0, c0, r1, c1)


def looks_like_ref(text: str) -> bool:
    try:
        parse_ref(text)
        return True
    except A1Error:
        return False


def quote_title(title: str) -> str:
    if _PLAIN_TITLE.match(title) and not _CELLISH.match(title):
        return title
    return "'" + title.replace("'", "''") + "'"


def format_box(box: Rect) -> str:
    """Format a clamped box as A1 (single cell collapses to 'A1')."""
    a = f"{index_to_col(box.c0)}{box.r0 + 1}"
    b = f"{index_to_col(box.c1 - 1)}{box.r1}"
    return a if (box.r1 - box.r0 == 1 and box.c1 - box.c0 == 1) else f"{a}:{b}"


def format_range(title: str, box: Rect) -> str:
    return f"{quote_title(title)}!{format_box(box)}"
