"""Finding tabs and header rows by their labels, and reading the small tables people edit: the
Team tab and the Sign-off tab. Whatever cannot be understood is a ``ParseWarning`` naming the cell. Pure;
``parse.py`` reads the steps table and the overview with these."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mapsheets.core.cell_input import norm as _norm
from mapsheets.core.cell_input import parse_side
from mapsheets.core.cell_input import text as _text
from mapsheets.core.dates import parse_datetime
from mapsheets.core.layout import SIGNOFF_TAB, TEAM_TAB, TIMELINE_TAB, cell_ref
from mapsheets.core.model import Signature, Stakeholder
from mapsheets.core.vocabulary import PERSON_SIDES

Grid = dict[str, list[list[Any]]]


@dataclass(frozen=True)
class ParseWarning:
    cell: str
    message: str

    def __str__(self) -> str:
        return f"{self.cell}: {self.message}"

    def to_dict(self) -> dict[str, str]:
        return {"cell": self.cell, "message": self.message}


Warning = ParseWarning  # the old name (it shadowed the built-in), kept for callers


@dataclass(frozen=True)
class TableLocation:
    """A small table (Team, Sign-off) as found: its header row, field -> column, and data rows."""

    tab: str
    header_row: int
    columns: dict[str, int]
    rows: list[int]  # in the order of the records read from them

    @property
    def next_row(self) -> int:
        return (self.rows[-1] if self.rows else self.header_row) + 1


def find_tab(grid: Grid, wanted: str) -> str | None:
    return next((t for t in grid if _norm(t) == _norm(wanted)), None)


def find_header(rows: list[list[Any]], synonyms: dict[str, str],
                required: set[str]) -> tuple[int, dict[int, str]] | None:
    """First row whose cells name all ``required`` fields; returns it and col -> field."""
    for r, row in enumerate(rows[:200]):
        found = {c: synonyms[_norm(v)] for c, v in enumerate(row) if _norm(v) in synonyms}
        fields_found = set(found.values())
        if required <= fields_found and len(fields_found) >= min(3, len(required) + 2):
            return r, found
    return None


@dataclass(frozen=True)
class _Found:
    """A small table as read: where it is, and its data rows as (row, field -> value)."""

    location: TableLocation
    cells: list[tuple[int, dict[str, Any]]]


def _table(grid: Grid, tab_name: str, synonyms: dict[str, str], required: set[str]) -> _Found | None:
    tab = find_tab(grid, tab_name)
    if tab is None:
        return None
    found = find_header(grid[tab], synonyms, required)
    if not found:
        return None
    header_row, colmap = found
    cols = {f: c for c, f in sorted(colmap.items(), reverse=True)}
    out = []
    for r in range(header_row + 1, len(grid[tab])):
        row = grid[tab][r]
        if any(_text(v) for v in row):
            out.append((r, {f: row[c] if c < len(row) else None for f, c in cols.items()}))
    return _Found(TableLocation(tab=tab, header_row=header_row, columns=cols, rows=[r for r, _c in out]), out)


_TEAM_SYNONYMS = {"name": "name", "email": "email", "e-mail": "email", "side": "side", "role": "role", "title": "role"}
_SIGN_SYNONYMS = {"name": "name", "email": "email", "e-mail": "email", "side": "side", "signed at": "signed_at",
                  "signed": "signed_at", "date": "signed_at", "fingerprint": "fingerprint", "status": "status",
                  "method": "method", "recorded by": "recorded_by", "seal": "seal"}


def read_team(grid: Grid, warnings: list[ParseWarning]) -> tuple[list[Stakeholder], TableLocation | None]:
    table = _table(grid, TEAM_TAB, _TEAM_SYNONYMS, {"name", "email"})
    if table is None:
        return [], None
    tab, cols = table.location.tab, table.location.columns
    people = []
    for r, cells in table.cells:
        side = parse_side(cells.get("side")) or ""
        if side not in PERSON_SIDES:
            if _text(cells.get("side")):
                warnings.append(ParseWarning(cell_ref(tab, r, cols["side"]),
                                             f'"{_text(cells.get("side"))}" is not buyer or seller'))
            side = _text(cells.get("side"))
        people.append(Stakeholder(name=_text(cells.get("name")), email=_text(cells.get("email")),
                                  side=side, role=_text(cells.get("role"))))
    return people, table.location


def read_signoff(grid: Grid, warnings: list[ParseWarning]) -> tuple[list[Signature], TableLocation | None]:
    table = _table(grid, SIGNOFF_TAB, _SIGN_SYNONYMS, {"name", "fingerprint"})
    if table is None:
        return [], None
    tab, cols = table.location.tab, table.location.columns
    signatures = []
    for r, cells in table.cells:
        raw = cells.get("signed_at")
        signed_at = parse_datetime(raw) if _text(raw) else None
        if _text(raw) and signed_at is None:
            warnings.append(ParseWarning(cell_ref(tab, r, cols["signed_at"]), f'"{_text(raw)}" is not a date and time'))
        signatures.append(Signature(name=_text(cells.get("name")), email=_text(cells.get("email")),
                                    side=_text(cells.get("side")), signed_at=signed_at,
                                    fingerprint=_text(cells.get("fingerprint")), method=_text(cells.get("method")),
                                    recorded_by=_text(cells.get("recorded_by")), seal=_text(cells.get("seal"))))
    return signatures, table.location


def team_warnings(grid: Grid, team: TableLocation | None, warnings: list[ParseWarning]) -> None:
    """A Team tab deleted or cleared by hand (its header gone): owners then match people by email only.
    Only in a workbook mapsheets made (it has a Sign-off or Timeline tab): one typed from scratch may have none."""
    made_by_us = find_tab(grid, SIGNOFF_TAB) is not None or find_tab(grid, TIMELINE_TAB) is not None
    if team is None and made_by_us:
        tab = find_tab(grid, TEAM_TAB)
        where = f"{tab}!A1" if tab else TEAM_TAB
        what = "has no Name and Email header row" if tab else "is gone"
        warnings.append(ParseWarning(where, f"the Team tab {what}: owners are matched to people by email only"))
