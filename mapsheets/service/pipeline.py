"""`mapsheets forecast`: one row per plan with its chance to close, riskiest first, and its file."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from mapsheets.errors import MapsheetsError, UsageError
from mapsheets.service.forecast import kept_history, plan_forecast

if TYPE_CHECKING:
    from mapsheets.analysis.forecast import Forecast
    from mapsheets.service.plans import PlanView

FORMATS = (".csv", ".xlsx")
COLUMNS = ("plan", "title", "target_close", "chance_by_target", "p50", "p90", "risk_phase", "health", "owner",
           "past_deals", "reason")


@dataclass(frozen=True)
class PipelineRow:
    ref: str
    view: PlanView
    forecast: Forecast | None

    def cells(self) -> list[object]:
        f, plan = self.forecast, self.view.plan
        return [self.ref, plan.title, plan.target_close, None if f is None else f.chance, f and f.p50,
                f and f.p90, f and f.risk_phase, self.view.health.state, plan.seller_lead,
                0 if f is None else f.deals, "no history kept" if f is None else f.reason]


@dataclass
class Pipeline:
    rows: list[PipelineRow]
    warnings: list[str]
    written: Path | None = None


def pipeline(plans: Sequence[str], *, all_plans: bool, today: date, output: Path | None = None,
             store_url: str | None = None) -> Pipeline:
    """One row per plan (named, or every open plan the store knows), riskiest first."""
    from mapsheets.adapters.store import open_store
    from mapsheets.service.lifecycle_close import closed_refs
    from mapsheets.service.plans import read_plan

    if bool(plans) == all_plans:
        raise UsageError("name the plans to forecast, or pass --all (not both)")
    if output is not None and output.suffix.lower() not in FORMATS:
        raise UsageError(f"-o {output}: write the forecast to a .csv or .xlsx file")
    history = kept_history(store_url)
    refs = list(plans)
    warnings: list[str] = []
    if all_plans:
        store = open_store(store_url)
        closed = closed_refs(store)
        refs = [r for r in store.plans.refs() if r not in closed]
    rows = []
    for ref in refs:
        try:
            view = read_plan(ref, today=today)
        except MapsheetsError as exc:
            if not all_plans:
                raise
            warnings.append(f"{ref}: left out ({exc})")
            continue
        if view.plan.outcome:
            continue
        rows.append(PipelineRow(ref, view, plan_forecast(view, history)))
    rows.sort(key=_risk)
    result = Pipeline(rows, warnings)
    if output is not None:
        _write(output, rows)
        result.written = output
    return result


def _risk(row: PipelineRow) -> tuple[int, float, str]:
    """Lowest chance first; plans without a chance after, then by name."""
    chance = row.forecast.chance if row.forecast else None
    return (chance is None, chance if chance is not None else 0.0, row.ref)


def _write(output: Path, rows: Sequence[PipelineRow]) -> None:
    if not output.parent.is_dir():
        raise UsageError(f"-o {output}: folder {output.parent} does not exist")
    table: list[list[object]] = [list(COLUMNS), *(r.cells() for r in rows)]
    if output.suffix.lower() == ".xlsx":
        from mapsheets.adapters.xlsx import write_workbook
        from mapsheets.core.layout import WorkbookSpec
        from mapsheets.core.winloss_layout import table_sheet

        # Formatted as the win/loss workbook is: headers in words, frozen, sized, landscape one page wide.
        write_workbook(output, WorkbookSpec("Forecast", [table_sheet("Forecast", table, "Forecast")]), force=True)
        return
    import csv
    import io

    from mapsheets.adapters.files import write_text_atomic
    from mapsheets.core.cell_input import as_csv_text

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for line in table:
        writer.writerow([as_csv_text(v.isoformat() if isinstance(v, date) else "" if v is None else v)
                         for v in line])
    try:
        write_text_atomic(output, out.getvalue())
    except OSError as exc:
        raise UsageError(f"-o {output}: cannot write ({exc.strerror or exc.__class__.__name__})") from None

