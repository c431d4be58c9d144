"""Plain files: shipped and user template folders, durations tables."""

from __future__ import annotations

import csv
import os
import tempfile
from decimal import Decimal
from importlib import resources
from pathlib import Path

from mapsheets.errors import TemplateError, UsageError, file_error

PACKAGE_TEMPLATES = "mapsheets.templates_data"


def template_sources(extra_dirs: list[Path]) -> dict[str, tuple[str, str]]:
    """Template name -> (source to name in errors, YAML text); later folders override earlier."""
    found: dict[str, tuple[str, str]] = {}
    shipped = resources.files(PACKAGE_TEMPLATES)
    for entry in sorted(shipped.iterdir(), key=lambda e: e.name):
        if entry.name.endswith((".yaml", ".yml")):
            found[entry.name.rsplit(".", 1)[0]] = (f"sheet_templates/{entry.name}", entry.read_text("utf-8"))
    for folder in extra_dirs:
        folder = Path(folder)
        if not folder.is_dir():
            raise UsageError(f"{folder}: templates folder does not exist")
        for path in sorted(folder.glob("*.y*ml")):
            try:
                found[path.stem] = (str(path), path.read_text("utf-8"))
            except OSError as exc:
                raise file_error(path, exc, "a template", error=TemplateError) from None
            except UnicodeDecodeError:
                raise TemplateError(f"{path}: cannot read (UnicodeDecodeError)") from None
    return found


def read_durations(path: Path) -> dict[str, Decimal]:
    """A durations table: CSV with columns ``stage`` and ``days`` (business days, as a CRM's averages
    give them: ``7.5`` is read as it is; rounding is the scheduler's business)."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            rows = list(reader)
            header = [(h or "").strip().lower() for h in (reader.fieldnames or [])]
    except OSError as exc:
        raise file_error(path, exc, "a durations table", error=UsageError) from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise UsageError(f"{path}: cannot read durations ({exc.__class__.__name__})") from None
    if not {"stage", "days"} <= set(header):
        raise UsageError(f"{path}: expected CSV columns 'stage' and 'days'")
    if not rows:
        raise UsageError(f"{path}: the durations table has its columns but no stage (no row to schedule with; "
                         "`mapsheets stages` says why it measured none)")
    table: dict[str, Decimal] = {}
    for line, row in enumerate(rows, start=2):
        norm = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
        try:
            days = Decimal(norm["days"])
            if not (days.is_finite() and 0 <= days <= 365):
                raise ValueError
        except (ValueError, ArithmeticError):
            raise UsageError(f"{path}:{line}: days {norm['days']!r} is not a number of days from 0 to 365") from None
        from mapsheets.core.cell_input import from_csv_text

        table[from_csv_text(norm["stage"])] = days
    return table


def read_text(path: Path, what: str) -> str:
    """A small UTF-8 text file the user names (a stage mapping, ...), as one string."""
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not UTF-8 text (save {what} as UTF-8)") from None
    except OSError as exc:
        raise file_error(path, exc, what) from None


def write_atomic(path: Path, data: bytes | str) -> None:
    """The one atomic file writer: a temporary beside the target (0600, as the data may be private),
    flushed to disk, then renamed over it. Readers never see half a file, nor does a crash leave one;
    a failed write removes its temporary and raises the OSError. Text is written as UTF-8."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    """``write_atomic`` for text (the name callers know)."""
    write_atomic(path, text)
