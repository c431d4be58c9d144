"""`mapsheets report winloss`: one table across closed plans from their stored revisions.

The records come from ``core.winloss`` (pure), the analysis from ``mapsheets.analysis.winloss``
(pandas, imported only here, when a report is asked for), the .xlsx from the xlsx adapter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from mapsheets.adapters.store import open_store
from mapsheets.core.model import Plan
from mapsheets.errors import NotFound, UsageError, file_error
from mapsheets.service.archive import closed_refs
from mapsheets.service.revisions import canonical_ref

FORMATS = (".xlsx", ".csv")


@dataclass
class WinLossReport:
    """The win/loss table written across closed plans: where, how many plans and steps, the findings."""

    output: Path
    plans: int
    steps: int
    findings: list[str] = field(default_factory=list)


def winloss(plans: Sequence[str], output: Path, *, all_plans: bool = False, today: date,
            store_url: str | None = None) -> WinLossReport:
    """Build the win/loss report of ``plans`` (or every archived plan) into ``output`` (.xlsx or .csv)."""
    from mapsheets.core.winloss import plan_record
    from mapsheets.service.calendars import days_off_or_weekends

    output = Path(output)
    if output.suffix.lower() not in FORMATS:
        raise UsageError(f"-o {output}: write the report to a .xlsx or .csv file")
    if bool(plans) == all_plans:
        raise UsageError("name the closed plans to report on, or pass --all (not both)")
    store = open_store(store_url)
    keys = sorted(closed_refs(store)) if all_plans else [canonical_ref(p) for p in plans]
    if not keys:
        raise NotFound("no closed plans in the state store: close one with `mapsheets close PLAN --won|--lost`")
    plan_rows, step_rows, closed = [], [], []
    for key, given in zip(keys, keys if all_plans else plans, strict=True):
        revisions = store.revisions.of(key)
        if not revisions:
            raise NotFound(f"{given}: no stored revisions (is it a plan this store knows?)")
        history = [(r.taken_at.date(), Plan.from_dict(r.content["plan"])) for r in revisions]
        last = history[-1][1]
        if not last.outcome:
            raise UsageError(f"{given}: not closed: run `mapsheets close {given} --won` or `--lost` first")
        days_off = days_off_or_weekends(last, today)
        plan_row, rows = plan_record(_name(key), history, days_off)
        closed.append((key, history, days_off))
        plan_rows.append(plan_row)
        step_rows.extend(rows)
    from mapsheets.analysis.winloss import analyse

    result = analyse(plan_rows, step_rows)
    _write(output, result)
    from datetime import UTC, datetime

    from mapsheets.service.history import keep_winloss_history

    keep_winloss_history(store, closed, now=datetime.now(UTC))
    return WinLossReport(output=output, plans=len(plan_rows), steps=len(step_rows), findings=result.findings)


def _name(key: str) -> str:
    return Path(key).name if "/" in key or "\\" in key else key


def _write(output: Path, result) -> None:
    if not output.parent.is_dir():
        raise UsageError(f"-o {output}: folder {output.parent} does not exist")
    if output.suffix.lower() == ".csv":
        from mapsheets.adapters.files import write_text_atomic

        try:
            write_text_atomic(output, result.csv)
        except OSError as exc:
            raise file_error(output, exc, "a report", writing=True, error=UsageError, shown=f"-o {output}") from None
        return
    from mapsheets.adapters.xlsx import write_workbook
    from mapsheets.core.winloss_layout import winloss_workbook

    write_workbook(output, winloss_workbook(result.tables, result.findings, result.slip), force=True)
