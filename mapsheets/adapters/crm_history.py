"""Reading a CRM export (CSV or a workbook) column by column, each row with the line it starts on."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from mapsheets.errors import UsageError, file_error


@dataclass
class CsvTable:
    header: list[str]
    columns: dict[str, list[str]]  # header name → one value per kept row
    lines: list[int]  # the line each kept row starts on (quoted newlines make rows span lines)
    malformed: list[tuple[int, str]] = field(default_factory=list)  # rows not kept: line, why
    notes: list[str] = field(default_factory=list)  # how the file was read, when it had to be guessed


def read_history_table(path: Path) -> CsvTable:
    """A stage-history export as people download it: CSV (any of Excel's encodings and separators),
    or a workbook (.xlsx, .xls, .ods: its first sheet, from its header row)."""
    if Path(path).suffix.lower() in WORKBOOK_SUFFIXES:
        return read_workbook_table(path)
    return read_csv_table(path)


WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")


def read_csv_table(path: Path) -> CsvTable:
    """Every row of a CSV file; rows with more fields than the header are set aside with the reason."""
    text, notes = _decoded(path)
    delimiter = _delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader, None)
        if header is None:
            raise UsageError(f"{path}: empty file (expected a header row and stage changes)")
        width = len(header)
        rows, lines, malformed = [], [], []
        start = reader.line_num + 1
        for row in reader:
            if not row or (len(row) == 1 and not row[0].strip()):
                pass  # blank line
            elif len(row) > width:
                malformed.append((start, f"{len(row)} fields, the header has {width}"))
            else:
                rows.append(row + [""] * (width - len(row)))
                lines.append(start)
            start = reader.line_num + 1
    except csv.Error as exc:
        raise UsageError(f"{path}:{reader.line_num}: not CSV ({exc})") from None
    return _table(header, rows, lines, malformed, notes)


def read_workbook_table(path: Path) -> CsvTable:
    """The first worksheet of an exported workbook, from its header row (a formatted report puts its
    title and filters above it): the first row with three or more values. Dates become ISO text."""
    from mapsheets.adapters.xlsx_read import read_grid

    grid = read_grid(Path(path))
    sheet = next(iter(grid.values()), [])
    start = next((i for i, row in enumerate(sheet) if sum(v is not None for v in row) >= 3), None)
    if start is None:
        raise UsageError(f"{path}: no header row (expected a row naming the opportunity, stage and date columns)")
    header = [_cell_text(v) for v in sheet[start]]
    rows, lines = [], []
    for i, row in enumerate(sheet[start + 1:], start=start + 2):
        if any(v is not None for v in row):
            rows.append([_cell_text(v) for v in row] + [""] * (len(header) - len(row)))
            lines.append(i)
    return _table(header, rows, lines, [], [])


def table_from_rows(header: list[str], rows: list[list[str]]) -> CsvTable:
    """Records read from a CRM's API as the table their CSV export gives (row n on line n + 1)."""
    return _table(header, rows, list(range(2, len(rows) + 2)), [], [])


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _table(header: list[str], rows: list[list[str]], lines: list[int], malformed: list[tuple[int, str]],
           notes: list[str]) -> CsvTable:
    names = [h.strip() for h in header]
    values = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    columns = {name: list(values[i]) for i, name in enumerate(names) if name}
    return CsvTable(names, columns, lines, malformed, notes)


def _decoded(path: Path) -> tuple[str, list[str]]:
    """The file's text: UTF-8 (with or without Excel's BOM), else Windows-1252 with a note."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise file_error(path, exc, "a CSV export", error=UsageError) from None
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not UTF-8 text (save the export as CSV UTF-8)") from None
    return text, [f"{path}: not UTF-8: read as Windows-1252, Excel's \"CSV\" encoding (save as \"CSV UTF-8\" "
                  "to keep names in other alphabets)"]


def _delimiter(text: str) -> str:
    """Excel writes ';' where the decimal mark is a comma, and some exports use tabs."""
    header = text.split("\n", 1)[0]
    return max((",", ";", "\t"), key=lambda d: (header.count(d), d == ","))
