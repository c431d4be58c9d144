"""Stage durations from CRM history: `mapsheets stages`, whose table feeds `new --durations` and `convert`."""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from mapsheets.adapters import files
from mapsheets.adapters.crm_history import CsvTable, read_history_table
from mapsheets.analysis.crm_formats import norm
from mapsheets.core.cell_input import as_csv_text
from mapsheets.errors import UsageError
from mapsheets.service.calendars import calendar_code, holiday_dates, locale_calendar

if TYPE_CHECKING:  # pandas is imported only when a history is read
    from mapsheets.analysis.stages import Changes, StageReport
    from mapsheets.core.templates import Stage

CSV_COLUMNS = ("stage", "days", "mean_days", "median_days", "deals", "open", "skipped_share")


@dataclass
class StagesResult:
    """Stage durations learned from a CRM's stage history, the rows skipped, and the files written."""

    report: StageReport  # per stage (and per segment): days, median, mean, deals, open, skipped share
    warnings: list[str]  # one per bad row: "FILE:LINE: why"
    holidays: str
    calendar_locale: str | None  # the locale the calendar came from; None: given
    written: list[str] = field(default_factory=list)  # files written
    notes: list[str] = field(default_factory=list)
    kept: int = 0  # deal phases kept in the state store for the forecast


def learn_stages(history: Path | str, *, fmt: str = "generic", id_column: str | None = None,
                 stage_column: str | None = None, at_column: str | None = None, segment: str | None = None,
                 won_only: bool = False, since: date | None = None, template: str | None = None,
                 template_dirs: Sequence[Path] = (), holidays: str | None = "",
                 output: Path | None = None, maps: Sequence[str] = (),
                 map_file: Path | None = None, date_order: str = "", table: CsvTable | None = None,
                 keep: bool = True, store_url: str | None = None) -> StagesResult:
    """Per stage, business days deals spent in it, from a stage-history export; written as a
    durations table to ``output`` (and, with ``segment``, one more table per segment beside it).

    With a ``template``, CRM stages feed its phases as the template's ``crm:`` lists say, overridden
    by ``map_file`` (YAML: CRM stage: phase) and then by ``maps`` ("CRM stage=phase"; "CRM stage="
    for no phase). A run that measures no stage raises UsageError and writes nothing. ``table``: rows
    already read (from a CRM's API, see service/crm_stages); ``history`` then only names them.
    ``holidays=None`` takes the calendar of the user's locale, "" weekends only.
    """
    from mapsheets.analysis.stages import stage_durations

    stages, mapping = _phases(template, template_dirs, maps, map_file)
    table, changes, bad = _read(history, fmt, date_order, table, id_column=id_column, stage_column=stage_column,
                                at_column=at_column, segment=segment)
    locale_setting = None
    if holidays is None:
        holidays, locale_setting = locale_calendar(os.environ)
    holidays = calendar_code(holidays)
    days_off = holiday_dates(holidays, changes.years())
    report = stage_durations(changes, holidays=days_off, won_only=won_only, since=since, template_stages=stages,
                             mapping=mapping, by_segment=segment is not None)
    if not report.deals:
        raise UsageError(f"{history}: no deals left after --since/--won-only")
    if not any(s.days is not None for s in report.stages):
        unread = f" ({len(bad)} rows not read; line {bad[0][0]}: {bad[0][1]})" if bad else ""
        raise UsageError(f"{history}: {_why_nothing_measured(report, template, stages or [])}{unread}; "
                         "nothing written")
    result = StagesResult(report, [f"{history}:{line}: {why}" for line, why in bad], holidays, locale_setting)
    result.notes += table.notes + changes.notes + _notes(report, changes.ignored, template, stages or [])
    if keep:
        from mapsheets.service.history import keep_stage_history

        result.kept = keep_stage_history(changes, f"stages {Path(history).name}", now=datetime.now(UTC),
                                         holidays=days_off, template_stages=stages, mapping=mapping,
                                         by_segment=segment is not None, store_url=store_url)
    if output is not None:
        result.written += _write(output, report)
    return result


def _phases(template: str | None, template_dirs: Sequence[Path], maps: Sequence[str],
            map_file: Path | None) -> tuple[list[tuple[str, str]] | None, dict[str, str | None]]:
    """The template's phases as (key, name), and which CRM stage feeds which (none without a template)."""
    if not template:
        if maps or map_file:
            raise UsageError("--map and --map-file name the template's phases: give the template with -t")
        return None, {}
    from mapsheets.service.plans import get_template

    phases = get_template(template, template_dirs).stages
    return [(s.key, s.name) for s in phases], stage_mapping(phases, template, maps, map_file)


def _read(history: Path | str, fmt: str, date_order: str, table: CsvTable | None,
          **columns: str | None) -> tuple[CsvTable, Changes, list[tuple[int, str]]]:
    """The export's stage changes (``table``: rows a CRM gave, else the file's), and every row that
    could not be used (line, why), in line order."""
    from mapsheets.analysis.crm_formats import resolve_columns
    from mapsheets.analysis.stages import read_changes

    if table is None:
        table = read_history_table(Path(history))
    found = resolve_columns(table.header, str(history), fmt, **columns)
    changes = read_changes(table.columns, table.lines, found, date_order=date_order.upper())
    bad = sorted([(line, why) for line, why in table.malformed] + [(b.line, b.reason) for b in changes.bad])
    if changes.frame.empty:
        first = f" (line {bad[0][0]}: {bad[0][1]})" if bad else ""
        what = f"{len(bad)} rows, none usable{first}" if bad else "no rows"
        raise UsageError(f"{history}: no usable stage changes: {what}")
    return table, changes, bad


def _notes(report: StageReport, ignored: int, template: str | None, stages: Sequence[tuple[str, str]]) -> list[str]:
    notes = []
    if ignored:
        notes.append(f"{ignored} rows change other fields than the stage: not stage changes")
    if report.unmatched:
        notes.append(f"CRM stages that feed no phase of template {template} (their time counts for none): "
                     f"{_unmatched(report)}; {_map_hint(report, stages)}")
    missing = [s.stage for s in report.stages if s.days is None]
    if missing:
        notes.append(f"no finished deal passed through {', '.join(missing)}: left out of the table"
                     + (" (the template's days apply)" if template else ""))
    return notes


def _write(output: Path, report: StageReport) -> list[str]:
    """The durations table, and one per segment beside it; the files written."""
    files.write_text_atomic(output, durations_csv(report.stages))
    written = [str(output)]
    for value, rows in report.segments.items():
        path = segment_path(output, value)
        files.write_text_atomic(path, durations_csv(rows))
        written.append(str(path))
    return written


def stage_mapping(phases: Sequence[Stage], template: str, maps: Sequence[str],
                  map_file: Path | None) -> dict[str, str | None]:
    """CRM stage → phase name: the template's ``crm:`` lists, then ``map_file``, then ``maps``."""
    by_norm = {norm(n): p.name for p in phases for n in (p.key, p.name)}

    def phase(given: object, where: str) -> str | None:
        if given is None or (isinstance(given, str) and not given.strip()):
            return None
        if not isinstance(given, str) or norm(given) not in by_norm:
            raise UsageError(f"{where}: {given!r} is not a phase of template {template} "
                             f"(phases: {', '.join(p.key for p in phases)})")
        return by_norm[norm(given)]

    mapping: dict[str, str | None] = {crm: p.name for p in phases for crm in p.crm}
    if map_file is not None:
        for crm, given in _read_map_file(map_file).items():
            mapping[crm] = phase(given, f"{map_file}: {crm}")
    for item in maps:
        crm, sep, given = item.partition("=")
        if not sep or not crm.strip():
            raise UsageError(f"--map {item!r}: expected CRM stage=phase, e.g. --map \"Needs Analysis=validation\"")
        mapping[crm.strip()] = phase(given.strip(), f"--map {item!r}")
    return mapping


def _read_map_file(path: Path) -> dict[str, object]:
    import yaml

    try:
        data = yaml.safe_load(files.read_text(path, "stage mapping"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise UsageError(f"{path}{where}: not YAML (expected lines of CRM stage: phase)") from None
    if data is None:
        return {}
    if not isinstance(data, dict) or not all(isinstance(k, str) for k in data):
        raise UsageError(f"{path}: expected a mapping of CRM stage: phase, one per line")
    return data


def _unmatched(report: StageReport) -> str:
    return ", ".join(f"{name} ({n} deals)" for name, n in report.unmatched.items())


def _map_hint(report: StageReport, stages: Sequence[tuple[str, str]]) -> str:
    first = next(iter(report.unmatched), "STAGE")
    return (f"to count one, add --map \"{first}=PHASE\" (phases: {', '.join(k for k, _ in stages)}) "
            "or name them in --map-file")


def _why_nothing_measured(report: StageReport, template: str | None, stages: Sequence[tuple[str, str]]) -> str:
    """Why a run measured no stage, in the words a RevOps user needs to fix it."""
    entered = any(s.deals or s.open for s in report.stages)
    if template and not entered:
        return (f"no stage of the history feeds a phase of template {template}: {_unmatched(report)}; "
                + _map_hint(report, stages).replace("to count one, add", "add"))
    return ("no finished deal passed through a stage (every deal is still in its first stage, or its first "
            "change's time is unknown)")


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
