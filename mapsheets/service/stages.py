"""Stage durations from CRM history: `mapsheets stages`, whose table feeds `new --durations` and `convert`."""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from mapsheets.adapters import files
from mapsheets.adapters.crm_history import read_csv_table
from mapsheets.core.cell_input import as_csv_text
from mapsheets.errors import UsageError
from mapsheets.service.calendars import calendar_code, holiday_dates, locale_calendar

CSV_COLUMNS = ("stage", "days", "mean_days", "median_days", "deals", "open", "skipped_share")


@dataclass
class StagesResult:
    report: object  # mapsheets.analysis.stages.StageReport
    warnings: list[str]  # one per bad row: "FILE:LINE: why"
    holidays: str
    calendar_locale: str | None  # the locale the calendar came from; None: given
    written: list[str] = field(default_factory=list)  # files written
    notes: list[str] = field(default_factory=list)


def learn_stages(history: Path, *, fmt: str = "generic", id_column: str | None = None,
                 stage_column: str | None = None, at_column: str | None = None, segment: str | None = None,
                 won_only: bool = False, since: date | None = None, template: str | None = None,
                 template_dirs: Sequence[Path] = (), holidays: str | None = "",
                 output: Path | None = None) -> StagesResult:
    """Per stage, business days deals spent in it, from a stage-history export; written as a
    durations table to ``output`` (and, with ``segment``, one more table per segment beside it).

    ``holidays=None`` takes the calendar of the user's locale, "" weekends only.
    """
    from mapsheets.analysis.crm_formats import resolve_columns
    from mapsheets.analysis.stages import read_changes, stage_durations

    stages = None
    if template:
        from mapsheets.service.plans import get_template

        stages = [(s.key, s.name) for s in get_template(template, template_dirs).stages]
    table = read_csv_table(history)
    columns = resolve_columns(table.header, str(history), fmt, id_column=id_column, stage_column=stage_column,
                              at_column=at_column, segment=segment)
    changes = read_changes(table.columns, table.lines, columns)
    bad = sorted([(line, why) for line, why in table.malformed] + [(b.line, b.reason) for b in changes.bad])
    if changes.frame.empty:
        first = f" (line {bad[0][0]}: {bad[0][1]})" if bad else ""
        what = f"{len(bad)} rows, none usable{first}" if bad else "no rows"
        raise UsageError(f"{history}: no usable stage changes: {what}")
    locale_setting = None
    if holidays is None:
        holidays, locale_setting = locale_calendar(os.environ)
    holidays = calendar_code(holidays)
    days_off = holiday_dates(holidays, changes.years())
    report = stage_durations(changes, holidays=days_off, won_only=won_only, since=since, template_stages=stages,
                             by_segment=segment is not None)
    if not report.deals:
        raise UsageError(f"{history}: no deals left after --since/--won-only")
    result = StagesResult(report, [f"{history}:{line}: {why}" for line, why in bad], holidays, locale_setting)
    if changes.ignored:
        result.notes.append(f"{changes.ignored} rows change other fields than the stage: not stage changes")
    if report.unmatched:
        listed = ", ".join(f"{name} ({n} deals)" for name, n in report.unmatched.items())
        result.notes.append(f"not stages of template {template} (time in them counts for no stage): {listed}")
    missing = [s.stage for s in report.stages if s.days is None]
    if missing:
        result.notes.append(f"no finished deal passed through {', '.join(missing)}: left out of the table"
                            + (" (the template's days apply)" if template else ""))
    if output is not None:
        files.write_text_atomic(output, durations_csv(report.stages))
        result.written.append(str(output))
        for value, rows in report.segments.items():
            path = segment_path(output, value)
            files.write_text_atomic(path, durations_csv(rows))
            result.written.append(str(path))
    return result


def durations_csv(rows) -> str:
    """A durations table `new --durations` reads: stage, days, then the figures behind days."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for s in rows:
        if s.days is None:
            continue
        writer.writerow([as_csv_text(s.stage), s.days, s.mean_days, s.median_days, s.deals, s.open,
                         "" if s.skipped_share is None else s.skipped_share])
    return out.getvalue()


def segment_path(output: Path, value: str) -> Path:
    """durations.csv for segment "Mid-Market" → durations.mid-market.csv, beside it."""
    slug = re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-") or "blank"
    output = Path(output)
    return output.with_name(f"{output.stem}.{slug}{output.suffix or '.csv'}")
