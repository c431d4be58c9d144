"""Reading a CRM export (CSV) column by column, each row with the line it starts on."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from mapsheets.errors import UsageError, file_error


@dataclass
class CsvTable:
    header: list[str]
    columns: dict[str, list[str]]  # header name → one value per kept row
    lines: list[int]  # the line each kept row starts on (quoted newlines make rows span lines)
    malformed: list[tuple[int, str]] = field(default_factory=list)  # rows not kept: line, why


def read_csv_table(path: Path) -> CsvTable:
    """Every row of a CSV file; rows with more fields than the header are set aside with the reason."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
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
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not UTF-8 text (save the export as CSV UTF-8)") from None
    except csv.Error as exc:
        raise UsageError(f"{path}:{reader.line_num}: not CSV ({exc})") from None
    except OSError as exc:
        raise file_error(path, exc, "a CSV export", error=UsageError) from None
    names = [h.strip() for h in header]
    values = list(zip(*rows)) if rows else [() for _ in names]
    columns = {name: list(values[i]) for i, name in enumerate(names) if name}
    return CsvTable(names, columns, lines, malformed)
