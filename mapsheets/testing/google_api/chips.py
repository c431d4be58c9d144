"""Smart chips in cells (``CellData.chipRuns``), as Google documents them.

- Writing (https://developers.google.com/workspace/sheets/api/guides/chips): the user-entered text
  holds an "@" placeholder for each chip; a run's ``startIndex`` (UTF-16 code units) points at one.
  Only chipped runs are written. Writing a new userEnteredValue erases the runs (the discovery
  document's ``CellData.chipRuns``), unless the same write sets them.
- Reading: "all chipped and non-chipped runs are included. Non-chipped runs will have an empty
  Chip" (ibid.): each chip is one placeholder long, the plain text around it comes back as runs of
  its own; a zero ``startIndex`` is left out, as proto3 JSON leaves out defaults.
- ``formattedValue``, "the value as it's shown to the user": a person chip shows the person; this
  double knows no profiles, so it shows the address (as Sheets does for an address with no Google
  profile, and for ``displayFormat: EMAIL``); a rich link shows its URI.
"""
from __future__ import annotations

from typing import Any

PLACEHOLDER = "@"


def _units(text: str) -> list[int]:
    """UTF-16 index of each character of ``text``, and of its end."""
    out, unit = [], 0
    for char in text:
        out.append(unit)
        unit += 2 if ord(char) > 0xFFFF else 1
    return out + [unit]


def problem(cell: dict[str, Any]) -> str | None:
    """Why Google would refuse the cell's chip runs (None when it would not)."""
    runs = cell.get("chipRuns")
    if not runs:
        return None
    text = (cell.get("userEnteredValue") or {}).get("stringValue")
    if text is None:
        return "chipRuns need a userEnteredValue.stringValue holding a \"@\" for each chip"
    at = {u: i for i, u in enumerate(_units(text)[:-1])}
    last = -1
    for n, run in enumerate(runs):
        start, chip = run.get("startIndex") or 0, run.get("chip") or {}
        if start <= last:
            return f"chipRuns[{n}].startIndex must be greater than the run before it"
        if start not in at or text[at[start]] != PLACEHOLDER:
            return f"chipRuns[{n}].startIndex {start} is not a \"@\" placeholder in the cell's text"
        if "personProperties" in chip and not chip["personProperties"].get("email"):
            return f"chipRuns[{n}].chip.personProperties.email is required"
        if not chip.get("personProperties") and not (chip.get("richLinkProperties") or {}).get("uri"):
            return f"chipRuns[{n}].chip must have personProperties or richLinkProperties"
        last = start
    return None


def read_runs(cell: dict[str, Any]) -> list[dict[str, Any]]:
    """The runs as spreadsheets.get returns them: chipped and non-chipped, in order."""
    text = (cell.get("userEnteredValue") or {}).get("stringValue") or ""
    end = _units(text)[-1]
    out: list[dict[str, Any]] = []
    cursor = 0
    for run in cell.get("chipRuns") or []:
        start = run.get("startIndex") or 0
        if start > cursor:
            out.append({"startIndex": cursor, "chip": {}})
        out.append({"startIndex": start, "chip": run.get("chip") or {}})
        cursor = start + 1
    if cursor < end:
        out.append({"startIndex": cursor, "chip": {}})
    return [{k: v for k, v in run.items() if not (k == "startIndex" and v == 0)} for run in out]


def shown(cell: dict[str, Any], text: str) -> str:
    """``text`` (the cell's formatted text) with each chip as it shows: its address or URI."""
    units = _units(text)
    at = {u: i for i, u in enumerate(units[:-1])}
    for run in sorted(cell.get("chipRuns") or [], key=lambda r: r.get("startIndex") or 0, reverse=True):
        i = at.get(run.get("startIndex") or 0)
        chip = run.get("chip") or {}
        label = (chip.get("personProperties") or {}).get("email") or (chip.get("richLinkProperties") or {}).get("uri")
        if i is not None and label and text[i] == PLACEHOLDER:
            text = text[:i] + label + text[i + 1:]
    return text
