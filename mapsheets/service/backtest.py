"""`mapsheets forecast --backtest HISTORY`: the forecast replayed over a stage-history export read as
`stages` reads it, scored against the plan's schedule and the CRM's stage probability (issue 24)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from mapsheets.adapters.crm_history import read_history_table
from mapsheets.errors import UsageError
from mapsheets.service.calendars import calendar_code, holiday_dates, locale_calendar
from mapsheets.service.stages import stage_mapping

if TYPE_CHECKING:
    from mapsheets.analysis.backtest import Backtest


def backtest_history(history: Path, *, template: str, template_dirs: Sequence[Path] = (), fmt: str = "generic",
                     maps: Sequence[str] = (), map_file: Path | None = None, target_days: int | None = None,
                     holidays: str | None = "", date_order: str = "", simulations: int = 2000) -> Backtest:
    """Replay the finished deals of ``history`` through ``template``'s phases. Without a CloseDate
    column in the export, ``target_days`` business days from each phase entry is the target."""
    from mapsheets.analysis.backtest import backtest
    from mapsheets.analysis.crm_formats import resolve_columns
    from mapsheets.analysis.stages import read_changes
    from mapsheets.service.plans import get_template

    phases = get_template(template, template_dirs).stages
    mapping = stage_mapping(phases, template, maps, map_file)
    table = read_history_table(history)
    columns = resolve_columns(table.header, str(history), fmt)
    changes = read_changes(table.columns, table.lines, columns, date_order=date_order.upper())
    if changes.frame.empty:
        raise UsageError(f"{history}: no usable stage changes")
    if target_days is None and "target" not in changes.frame:
        raise UsageError(f"{history}: no close date column to take each deal's target from: give --target-days N")
    if holidays is None:
        holidays, _setting = locale_calendar(os.environ)
    days_off = holiday_dates(calendar_code(holidays), changes.years())
    return backtest(changes, [(p.key, p.name, p.days) for p in phases], mapping=mapping, holidays=days_off,
                    target_days=target_days, simulations=simulations)
