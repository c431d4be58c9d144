"""Generic, daff-style diff of tabs mapsheets does not model (people add their own). Pure.

A tab is rows of cells whose first non-empty row is the header. Rows are keyed by the first column
whose header looks like an ID (with unique, non-empty values on both sides), otherwise aligned by
content. Columns are matched by header name, so reordering columns is not a change.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from difflib import SequenceMatcher
from typing import Any

from mapsheets.core.layout import column_letter
from mapsheets.core.text import fold, to_json

Rows = list[list[Any]]
ROW_MATCH_THRESHOLD = 0.5  # share of equal cells for two replaced rows to count as one edited row


@dataclass(frozen=True)
class GridChange:
    kind: str  # row_added | row_removed | row_changed | column_added | column_removed | tab_added | tab_removed
    key: str | None  # ID value, first cell of the row, column header or tab name
    row_old: int | None = None  # 1-based sheet row in the old tab
    row_new: int | None = None  # 1-based sheet row in the new tab
    cells: tuple[tuple[str, Any, Any], ...] = ()  # (header, old, new)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "key": self.key, "row_old": self.row_old, "row_new": self.row_new,
                "cells": [{"column": h, "old": to_json(o), "new": to_json(n)} for h, o, n in self.cells],
                "text": self.describe()}

    def describe(self) -> str:
        what = {"row_added": "Row added", "row_removed": "Row removed", "row_changed": "Row changed",
                "column_added": "Column added", "column_removed": "Column removed",
                "tab_added": "Tab added", "tab_removed": "Tab removed"}.get(self.kind, self.kind)
        where = self.row_new if self.row_new is not None else self.row_old
        head = f'{what} "{self.key}"' if self.key not in (None, "") else what
        if self.kind.startswith("row") and where is not None:
            head += f" (row {where})"
        if self.kind == "row_changed":
            return head + ": " + "; ".join(f"{h}: {_show(o)} → {_show(n)}" for h, o, n in self.cells)
        if self.kind == "row_added" and self.cells:
            return head + ": " + ", ".join(f"{h}={_show(n)}" for h, _o, n in self.cells)
        return head


def diff_grids(old_grid: Mapping[str, Rows], new_grid: Mapping[str, Rows],
               skip_tabs: Collection[str] = ()) -> dict[str, list[GridChange]]:
    """Changes per tab, for tabs present in either grid except ``skip_tabs``; unchanged tabs omitted."""
    skip = {fold(t) for t in skip_tabs}
    out: dict[str, list[GridChange]] = {}
    for tab in list(new_grid) + [t for t in old_grid if t not in new_grid]:
        if fold(tab) in skip:
            continue
        if tab not in old_grid:
            changes = [GridChange("tab_added", tab)] + diff_tab([], new_grid[tab])
        elif tab not in new_grid:
            changes = [GridChange("tab_removed", tab)]
        else:
            changes = diff_tab(old_grid[tab], new_grid[tab])
        if changes:
            out[tab] = changes
    return out


@dataclass
class _Table:
    headers: list[str]  # unique names, in sheet order
    cols: dict[str, int]  # header -> 0-based column
    rows: list[tuple[int, list[Any]]]  # (1-based sheet row, cells) for non-empty data rows


def diff_tab(old_rows: Rows, new_rows: Rows) -> list[GridChange]:
    a, b = _table(old_rows), _table(new_rows)
    common = [h for h in b.headers if h in a.cols]
    out = [GridChange("column_removed", h) for h in a.headers if h not in b.cols]
    for h in b.headers:
        if h not in a.cols:
            cells = tuple((_label(b, r, cells), None, _get(b, cells, h)) for r, cells in b.rows
                          if _get(b, cells, h) is not None)
            out.append(GridChange("column_added", h, cells=cells))
    key = _key_column(a, b)
    if key is not None:
        out += _keyed(a, b, key, common)
    else:
        out += _aligned(a, b, common)
    return out


def _keyed(a: _Table, b: _Table, key: str, common: list[str]) -> list[GridChange]:
    old = {_text(_get(a, cells, key)): (r, cells) for r, cells in a.rows}
    out = []
    seen = set()
    for r, cells in b.rows:
        k = _text(_get(b, cells, key))
        seen.add(k)
        if k not in old:
            out.append(_added(b, r, cells, k))
            continue
        ro, old_cells = old[k]
        delta = _delta(a, old_cells, b, cells, common)
        if delta:
            out.append(GridChange("row_changed", k, ro, r, delta))
    out += [_removed(a, r, cells, k) for k, (r, cells) in old.items() if k not in seen]
    return out


def _aligned(a: _Table, b: _Table, common: list[str]) -> list[GridChange]:
    ta = [tuple(_cmp(_get(a, c, h)) for h in common) for _r, c in a.rows]
    tb = [tuple(_cmp(_get(b, c, h)) for h in common) for _r, c in b.rows]
    out = []
    for op, i1, i2, j1, j2 in SequenceMatcher(None, ta, tb, autojunk=False).get_opcodes():
        if op == "equal":
            continue
        pairs = _pair_rows(ta, tb, range(i1, i2), range(j1, j2))
        paired_old = {i for i, _j in pairs}
        paired_new = {j: i for i, j in pairs}
        for j in range(j1, j2):
            r, cells = b.rows[j]
            if j in paired_new:
                ro, old_cells = a.rows[paired_new[j]]
                out.append(GridChange("row_changed", _label(b, r, cells), ro, r,
                                      _delta(a, old_cells, b, cells, common)))
            else:
                out.append(_added(b, r, cells))
        out += [_removed(a, *a.rows[i]) for i in range(i1, i2) if i not in paired_old]
    return out


def _pair_rows(ta: list[tuple[Any, ...]], tb: list[tuple[Any, ...]], olds: range, news: range) -> list[tuple[int, int]]:
    """Replaced rows paired greedily, most similar first, when enough of their cells agree."""
    scored = []
    for i in olds:
        for j in news:
            width = max(len(ta[i]), 1)
            score = sum(x == y for x, y in zip(ta[i], tb[j], strict=True)) / width
            if score >= ROW_MATCH_THRESHOLD:
                scored.append((-score, abs((i - olds.start) - (j - news.start)), i, j))
    scored.sort()
    used_o, used_n, pairs = set(), set(), []
    for _s, _d, i, j in scored:
        if i not in used_o and j not in used_n:
            used_o.add(i)
            used_n.add(j)
            pairs.append((i, j))
    return pairs


def _table(rows: Rows) -> _Table:
    start = next((n for n, row in enumerate(rows) if any(_cmp(v) is not None for v in row)), None)
    if start is None:
        return _Table([], {}, [])
    headers, cols, generated = [], {}, set()
    for c, value in enumerate(rows[start]):
        name = _text(value) or f"({column_letter(c)})"
        if not _text(value):
            generated.add(name)
        if name in cols:
            n = 2
            while f"{name} ({n})" in cols:
                n += 1
            name = f"{name} ({n})"
        headers.append(name)
        cols[name] = c
    width = len(headers)
    data = []
    for n in range(start + 1, len(rows)):
        row = rows[n]
        if any(_cmp(v) is not None for v in row):
            data.append((n + 1, list(row)))
            for c in range(width, len(row)):  # cells right of the header: unnamed columns
                if _cmp(row[c]) is not None:
                    name = f"({column_letter(c)})"
                    if name not in cols:
                        generated.add(name)
                        headers.append(name)
                        cols[name] = c
                    width = max(width, c + 1)
    headers = [h for h in headers if h not in generated or _column_used(data, cols[h])]
    return _Table(headers, {h: cols[h] for h in headers}, data)


def _column_used(data: list[tuple[int, list[Any]]], c: int) -> bool:
    return any(c < len(cells) and _cmp(cells[c]) is not None for _r, cells in data)


_KEY_HEADER = re.compile(r"^(id|key|#|ref|.*\sid)$")


def _key_column(a: _Table, b: _Table) -> str | None:
    for h in b.headers:
        if h in a.cols and _KEY_HEADER.match(fold(h)) and _unique(a, h) and _unique(b, h):
            return h
    return None


def _unique(t: _Table, h: str) -> bool:
    values = [_text(_get(t, cells, h)) for _r, cells in t.rows]
    return all(values) and len(set(values)) == len(values)


def _delta(a: _Table, old: list[Any], b: _Table, new: list[Any], common: list[str]) -> tuple[tuple[str, Any, Any], ...]:
    return tuple((h, _get(a, old, h), _get(b, new, h)) for h in common
                 if _cmp(_get(a, old, h)) != _cmp(_get(b, new, h)))


def _added(t: _Table, r: int, cells: list[Any], key: str | None = None) -> GridChange:
    values = tuple((h, None, _get(t, cells, h)) for h in t.headers if _get(t, cells, h) is not None)
    return GridChange("row_added", key if key is not None else _label(t, r, cells), None, r, values)


def _removed(t: _Table, r: int, cells: list[Any], key: str | None = None) -> GridChange:
    values = tuple((h, _get(t, cells, h), None) for h in t.headers if _get(t, cells, h) is not None)
    return GridChange("row_removed", key if key is not None else _label(t, r, cells), r, None, values)


def _get(t: _Table, cells: list[Any], h: str) -> Any:
    c = t.cols.get(h)
    value = cells[c] if c is not None and c < len(cells) else None
    return None if _cmp(value) is None else value


def _label(t: _Table, r: int, cells: list[Any]) -> str:
    """A row's name for people: its first non-empty cell, else its row number."""
    return next((_text(_get(t, cells, h)) for h in t.headers if _get(t, cells, h) is not None), f"row {r}")


def _cmp(value: Any) -> Any:
    """Comparable form of a cell: blanks are None, text stripped, 3.0 == 3."""
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _text(value: Any) -> str:
    v = _cmp(value)
    if v is None:
        return ""
    return v.isoformat() if isinstance(v, (date, datetime)) else str(v)


def _show(value: Any) -> str:
    text = _text(value)
    return text if text else "(empty)"
