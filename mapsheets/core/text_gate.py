"""The one gate text passes on its way into a plan, whatever surface it came from.

A spreadsheet cell holds text that XML 1.0 can carry, up to 32,767 UTF-16 units (Excel's count;
Google's is larger). So, for text a person gives (an option, a form field, a template):

- a lone UTF-16 surrogate (what bytes that are not UTF-8 become on a command line, or a JSON
  ``"\\udfff"``) is refused with one line naming the field: we cannot know what was meant;
- a control character XML cannot carry (tab and newline are kept) and the noncharacters U+FFFE and
  U+FFFF are removed, with a warning; a carriage return (a typed line end) becomes a newline;
- text longer than a cell holds is refused, never cut.

Text read from a file people do not control (a sheet another program saved) cannot be refused by
its reader: ``clean_read`` puts U+FFFD in place of a surrogate and removes the rest, saying where.
Writers call ``problem`` as a last check, so no path writes a cell our reader would refuse.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from mapsheets.core.notices import CHARACTERS_REMOVED, Notice, notice, teller
from mapsheets.errors import UsageError

# UTF-16 units one cell holds (Excel's limit; openpyxl would cut longer text silently).
CELL_TEXT_LIMIT = 32_767

_SURROGATE = re.compile("[\ud800-\udfff]")
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")  # either of the above
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def units(text: str) -> int:
    """Length as spreadsheets count it: UTF-16 units (an emoji outside the BMP is two)."""
    if text.isascii():
        return len(text)
    return len(text) + len(_ASTRAL.findall(text))


def _label(field: str) -> str:
    return field.replace("_", " ")


def _char(ch: str) -> str:
    return f"U+{ord(ch):04X}"


def admit(text: str, field: str, on_warning: Callable[[str], None] | None = None, *,
          on_notice: Callable[[Notice], None] | None = None) -> str:
    """``text`` a person gave for ``field``, as it may enter a cell (see the module docstring);
    what was removed told as a Notice to ``on_notice``, else as text to ``on_warning``."""
    if "\r" not in text and not _BAD.search(text):
        _check_length(text, field)
        return text
    if m := _SURROGATE.search(text):
        raise UsageError(f"{_label(field)} holds {_char(m.group())}, which is not a character (text that is "
                         "not valid UTF-8?): type it again", field=field)
    cleaned, removed = _clean(text.replace("\r\n", "\n").replace("\r", "\n"))  # a typed line end
    if removed:
        count = _count(removed)
        teller(on_warning, on_notice)(notice(CHARACTERS_REMOVED, f"{_label(field)}: removed {count} a cell cannot "
                                             f"hold ({removed})", field=_label(field), count=count, removed=removed))
    _check_length(cleaned, field)
    return cleaned


def admit_all(fields: dict[str, Any], on_warning: Callable[[str], None] | None = None,
              field: str | None = None, *, on_notice: Callable[[Notice], None] | None = None) -> dict[str, Any]:
    """``admit`` over several fields (non-text values pass as they are); ``field`` names them all
    in an error instead of each key."""
    out = {}
    for name, value in fields.items():
        if isinstance(value, str):
            try:
                value = admit(value, name, on_warning, on_notice=on_notice)
            except UsageError as exc:
                exc.field = field or exc.field
                raise
        out[name] = value
    return out


def _check_length(text: str, field: str) -> None:
    if said := _too_long(text):
        raise UsageError(f"{_label(field)} {said}", field=field)


def _too_long(text: str) -> str:
    if len(text) <= CELL_TEXT_LIMIT // 2 or (n := units(text)) <= CELL_TEXT_LIMIT:
        return ""  # (a UTF-16 unit per character at most two)
    how = "" if n == len(text) else " as a spreadsheet counts them (an emoji counts two)"
    return f"is {n:,} characters long{how}; a cell holds at most {CELL_TEXT_LIMIT:,}"


def _clean(text: str) -> tuple[str, str]:
    """(text without what XML cannot carry; the removed characters named)."""
    found = sorted(set(_ILLEGAL.findall(text)))
    return _ILLEGAL.sub("", text), ", ".join(_char(c) for c in found)


def _count(names: str) -> str:
    return "a control character" if "," not in names else "control characters"


def clean_read(text: str) -> tuple[str, str]:
    """Text read from a file people do not control: (text fit for a cell, what was changed or "").
    A surrogate becomes U+FFFD; control characters are removed."""
    if not _BAD.search(text):
        return text, ""
    said = []
    if _SURROGATE.search(text):
        text = _SURROGATE.sub("\ufffd", text)
        said.append("text that is not valid UTF-8 replaced with \ufffd")
    text, removed = _clean(text)
    if removed:
        said.append(f"removed {_count(removed)} a cell cannot hold ({removed})")
    return text, "; ".join(said)


def problem(text: str) -> str:
    """Why ``text`` cannot be written to a cell as it is ("" if it can): the writers' last check."""
    if m := _BAD.search(text):
        ch = m.group()
        if "\ud800" <= ch <= "\udfff":
            return f"holds {_char(ch)}, which is not a character"
        return f"holds {_char(ch)}, which a cell cannot hold"
    return _too_long(text)


def clean_grid(grid: dict[str, list[list[Any]]]) -> list[tuple[str, int, int, str]]:
    """Every text cell of a grid read from a sheet made fit for a cell (``clean_read``), in place;
    (tab, row, column, what was changed) for each cell where something was said."""
    said = []
    for tab, rows in grid.items():
        for r, row in enumerate(rows):
            if not _BAD.search("".join(v for v in row if isinstance(v, str))):
                continue  # one search a row: a 20,000-row plan is read in a few ms more
            for c, value in enumerate(row):
                if isinstance(value, str) and _BAD.search(value):
                    text, what = clean_read(value)
                    row[c] = text if type(value) is str else type(value)(text)  # UncachedFormula stays one
                    if what:
                        said.append((tab, r, c, what))
    return said
