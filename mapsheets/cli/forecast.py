"""The forecast commands: `forecast` (the pipeline view, or --backtest) and `history` (what is kept)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from mapsheets.cli.base import AS_OF_OPTION, DB_OPTION, TEMPLATES_OPTION, cli, today_of
from mapsheets.errors import UsageError

if TYPE_CHECKING:
    from mapsheets.service.pipeline import PipelineRow


@cli.command("forecast")
@click.argument("plans", nargs=-1)
@click.option("--all", "all_plans", is_flag=True, help="Every open plan the state store knows.")
@click.option("--output", "-o", type=click.Path(path_type=Path, dir_okay=False),
              help="Also write the table to a .csv or .xlsx file.")
@click.option("--backtest", "history", type=click.Path(path_type=Path, dir_okay=False), metavar="HISTORY",
              help="Instead: replay this stage-history export and score the forecast (Brier, reliability).")
@click.option("--format", "fmt", type=click.Choice(["generic", "salesforce", "hubspot"]), default="generic",
              show_default=True, help="--backtest: the export's column names, as `stages` reads them.")
@click.option("--template", "-t", "template_name", default="enterprise-map", show_default=True,
              help="--backtest: the template whose phases the CRM stages feed.")
@click.option("--map", "maps", multiple=True, metavar="'CRM STAGE=PHASE'", help="--backtest: as `stages --map`.")
@click.option("--map-file", type=click.Path(path_type=Path, dir_okay=False), help="--backtest: as `stages`.")
@click.option("--target-days", type=click.IntRange(1, 3650), metavar="N",
              help="--backtest: the target is N business days after each stage entry (when the export has "
                   "no close date column).")
@click.option("--holidays", envvar="MAPSHEETS_HOLIDAYS", default="", metavar="CALENDAR",
              help="--backtest: business days skip these holidays too (e.g. US).")
@TEMPLATES_OPTION
@AS_OF_OPTION
@DB_OPTION
def forecast_cmd(plans, all_plans, output, history, fmt, template_name, maps, map_file, target_days, holidays,
                 template_dirs, as_of, db_url):
    """The chance each plan closes by its target, riskiest first.

    One row per plan: target close, P(close by target), P50 and P90 close dates, the phase that
    adds most to the risk, health and owner. The figures come from the history `stages` and
    `report winloss` keep (see `mapsheets history`); with fewer than 20 past deals for a phase a
    plan still needs, no percentage, and the reason.

        mapsheets forecast --all -o forecast.xlsx

        mapsheets forecast --backtest OpportunityHistory.csv --format salesforce --target-days 40
    """
    if history is not None:
        _backtest(history, fmt=fmt, template=template_name, template_dirs=template_dirs, maps=maps,
                  map_file=map_file, target_days=target_days, holidays=holidays)
        return
    from mapsheets.service.pipeline import pipeline

    result = pipeline(plans, all_plans=all_plans, today=today_of(as_of), output=output, store_url=db_url)
    _print_pipeline(result.rows)
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    if result.written:
        click.echo(f"Wrote {result.written}")


def _print_pipeline(rows: Sequence[PipelineRow]) -> None:
    head = ("plan", "target", "chance", "P50", "P90", "risk phase", "health", "owner")
    table = [head]
    for row in rows:
        f, plan = row.forecast, row.view.plan
        chance = "–" if f is None or f.chance is None else f"{f.chance:.0%}"
        table.append((row.ref, str(plan.target_close or "–"), chance, str(f and f.p50 or "–"),
                      str(f and f.p90 or "–"), (f and f.risk_phase) or "–", row.view.health.state,
                      plan.seller_lead or "–"))
    widths = [max(len(str(r[i])) for r in table) for i in range(len(head))]
    for r in table:
        click.echo("  ".join(str(v).ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())
    for row in rows:
        if row.forecast is not None and row.forecast.chance is None:
            click.echo(f"{row.ref}: {row.forecast.sentence()}")
        elif row.forecast is None:
            click.echo(f"{row.ref}: no chance to close shown: no history kept (run `mapsheets stages` or "
                       "`mapsheets report winloss`)")


def _backtest(history: Path, **options: Any) -> None:
    from mapsheets.service.backtest import backtest_history

    result = backtest_history(history, **options)
    scores = result.brier()
    click.echo(f"{len(result.predictions)} predictions ({result.skipped} phase entries with too little history "
               "before them left out)")
    click.echo("Brier score (0 is perfect, always 50% scores 0.25; lower is better):")
    for name, label in (("model", "forecast"), ("plan", "plan's own schedule"), ("crm", "CRM stage probability")):
        score = scores[name]
        click.echo(f"  {label:<24} " + ("–  (no stage of the export has a CRM default probability)"
                                       if score != score else f"{score:.3f}"))
    click.echo("Reliability of the forecast (observed share against predicted, per decile):")
    click.echo(f"  {'decile':<9} {'n':>6}  {'predicted':>9}  {'observed':>8}  {'90% interval':>13}  calibrated")
    for d in result.reliability():
        verdict = "too few" if d.calibrated is None else "yes" if d.calibrated else "no"
        click.echo(f"  {d.lower:.0%}-{d.upper:.0%}".ljust(11) + f" {d.n:>6}  {d.predicted:>9.1%}  {d.observed:>8.1%}  "
                   f"{d.low:>5.0%} - {d.high:<5.0%}  {verdict}")
    click.echo("Calibrated: " + ("yes" if result.calibrated() else "no") + " (every decile with 30 or more "
               "predictions within its 90% interval)")


@cli.command("history")
@click.option("--forget", is_flag=True, help="Clear what is kept (with --force).")
@click.option("--force", is_flag=True, help="With --forget: really clear it.")
@DB_OPTION
def history_cmd(forget, force, db_url):
    """List the deal history the forecast draws from: deals per phase, their close dates, where from.

    `mapsheets stages` keeps each finished deal's business days per phase of the export it read;
    `mapsheets report winloss` keeps those of the closed plans it reported on. A new run from the
    same source replaces what it kept before. `--forget --force` clears it all.
    """
    from mapsheets.service import history

    if forget:
        if not force:
            count = sum(k.deals for k in history.kept(db_url))
            raise UsageError(f"--forget would clear {count} kept deal phases: add --force to clear them")
        click.echo(f"Cleared {history.forget(db_url)} kept deal phases.")
        return
    kept = history.kept(db_url)
    if not kept:
        click.echo("No history kept: `mapsheets stages HISTORY -t TEMPLATE` or `mapsheets report winloss` keeps it.")
        return
    click.echo(f"{'source':<30} {'segment':<14} {'phase':<28} {'deals':>6} {'lost':>5}  closed          kept")
    for k in kept:
        span = f"{k.first} – {k.last}" if k.first else "unknown"
        click.echo(f"{k.source[:30]:<30} {k.segment or '(all)':<14} {k.phase[:28]:<28} {k.deals:>6} {k.lost:>5}  "
                   f"{span}  {k.kept_at:%Y-%m-%d %H:%M}")
