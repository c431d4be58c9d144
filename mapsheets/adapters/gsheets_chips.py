"""Person chips: text naming people as Sheets API v4 ``CellData.chipRuns``, and back. Pure JSON.

Google's shape (https://developers.google.com/workspace/sheets/api/guides/chips, and ``ChipRun`` /
``PersonProperties`` in the v4 discovery document): the cell's ``userEnteredValue`` holds an "@"
placeholder for each chip, and a run names the placeholder's index (UTF-16 code units) and its chip,
``{"personProperties": {"email": ..., "displayFormat": "DEFAULT"}}``; ``fields`` must name chipRuns.

"Sam Rivera <sam@globex.example>, Globex" is written as "Sam Rivera @, Globex" with a chip for
sam@globex.example: the name stays text (anyone reading or copying the cell sees it), the address
becomes the chip (the person's card; Google may notify them). Reading puts each address back where
its chip is: in angle brackets after a name, bare where the chip stands alone, as a chip typed by
hand ("@" and a picked person) does.
"""

from __future__ import annotations

import re
from typing import Any

from mapsheets.core.addresses import EMAIL

PLACEHOLDER = "@"
_ENTRY = re.compile(r"[^,;\n]+")  # one person per entry of a list ("A <a@x.example>, B")
_NAMED = re.compile(rf"<\s*({EMAIL.pattern})\s*>")


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _address(entry: re.Match[str]) -> tuple[int, int, str] | None:
    """(start, end, email) of the address in one entry: the whole entry when it is a bare address,
    else the first "<address>"; None when the entry has neither (a name, a note)."""
    text = entry[0]
    bare = text.strip()
    if EMAIL.fullmatch(bare):
        start = entry.start() + text.index(bare)
        return start, start + len(bare), bare
    named = _NAMED.search(text)
    if named is None:
        return None
    return entry.start() + named.start(), entry.start() + named.end(), named[1]


def person_chips(text: str) -> tuple[str, list[dict[str, Any]]]:
    """``text`` with each address replaced by the placeholder, and one chip run per address."""
    parts: list[str] = []
    runs: list[dict[str, Any]] = []
    at = 0
    for entry in _ENTRY.finditer(text):
        found = _address(entry)
        if found is None:
            continue
        start, end, email = found
        parts.append(text[at:start])
        runs.append({"startIndex": _utf16_length("".join(parts)),
                     "chip": {"personProperties": {"email": email, "displayFormat": "DEFAULT"}}})
        parts.append(PLACEHOLDER)
        at = end
    parts.append(text[at:])
    return "".join(parts), runs


def _python_indexes(text: str) -> dict[int, int]:
    """UTF-16 index -> index in ``text`` (they differ after a character outside the BMP, an emoji)."""
    out: dict[int, int] = {}
    unit = 0
    for i, char in enumerate(text):
        out[unit] = i
        unit += 2 if ord(char) > 0xFFFF else 1
    return out


def _chip_text(text: str, i: int, chip: dict[str, Any]) -> str | None:
    """What the placeholder at ``i`` stands for: the person ("<email>" after a name), a link's URI."""
    person = chip.get("personProperties") or {}
    if person.get("email"):
        entry_start = max(text.rfind(sep, 0, i) for sep in ",;\n") + 1
        named = text[entry_start:i].strip() != ""
        return f"<{person['email']}>" if named else person["email"]
    link = chip.get("richLinkProperties") or {}
    return link.get("uri") or None


def chipped_text(text: str, runs: list[dict[str, Any]] | None) -> str:
    """The cell's text with each chip's placeholder replaced by what the chip names, so a person
    chip reads as the person. Runs without a chip (Google returns them on read) change nothing."""
    indexes = _python_indexes(text)
    for run in sorted(runs or [], key=lambda r: r.get("startIndex") or 0, reverse=True):
        i = indexes.get(run.get("startIndex") or 0)
        if i is None or text[i] != PLACEHOLDER:
            continue  # not a placeholder: leave the text as Google gave it
        shown = _chip_text(text, i, run.get("chip") or {})
        if shown is not None:
            text = text[:i] + shown + text[i + 1:]
    return text
