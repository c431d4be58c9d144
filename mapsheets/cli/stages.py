"""The stages command: learn stage durations from a CRM's stage history."""

from __future__ import annotations

from pathlib import Path

import click

from mapsheets.cli.base import DATE, TEMPLATES_OPTION, cli


@cli.command()
@click.argument("history", type=click.Path(path_type=Path, dir_okay=False), required=False)
@click.option("--salesforce", "crm", flag_value="salesforce",
              help="Read OpportunityHistory from Salesforce instead of a file (MAPSHEETS_SALESFORCE_* settings; "
                   "pip install 'mapsheets[salesforce]').")
@click.option("--hubspot", "crm", flag_value="hubspot",
              help="Read deals' dealstage history from HubSpot instead of a file (MAPSHEETS_HUBSPOT_TOKEN; "
                   "pip install 'mapsheets[hubspot]').")
@click.option("--output", "-o", type=click.Path(path_type=Path, dir_okay=False),
              help="Write the durations table here (CSV: stage, days, ...), ready for `new --durations`.")
@click.option("--format", "fmt", type=click.Choice(["generic", "salesforce", "hubspot"]), default="generic",
              show_default=True,
              help="Column names to look for: salesforce (OpportunityHistory or OpportunityFieldHistory), "
                   "hubspot (deal stage or property history), generic (id, stage, changed at).")
@click.option("--id-column", metavar="NAME", help="Column with the opportunity/deal ID (overrides --format).")
@click.option("--stage-column", metavar="NAME", help="Column with the stage entered (overrides --format).")
@click.option("--at-column", metavar="NAME", help="Column with when the stage changed (overrides --format).")
@click.option("--template", "-t", "template_name",
              help="Name and order the stages as this template does (CRM stages match its stage keys or "
                   "names, ignoring case); default: the CRM's stages in the order deals go through them.")
@click.option("--map", "maps", multiple=True, metavar="'CRM STAGE=PHASE'",
              help="Count a CRM stage's time for a phase of the template (key or name); repeatable; "
                   "'CRM STAGE=' counts it for none. Overrides the template's crm: lists and --map-file.")
@click.option("--map-file", type=click.Path(path_type=Path, dir_okay=False), metavar="FILE.yaml",
              help="A YAML file of 'CRM stage: phase' lines (several CRM stages may feed one phase).")
@click.option("--date-order", type=click.Choice(["MDY", "DMY"], case_sensitive=False),
              help="How a report export's dates like 4/10/2026 read: MDY (US) or DMY; default: as the file's "
                   "unambiguous dates show, and a date that reads both ways is refused.")
@click.option("--won-only", is_flag=True, help="Only deals that reached Closed Won.")
@click.option("--since", type=DATE, help="Only deals whose first stage change is on or after this date.")
@click.option("--segment", metavar="COLUMN",
              help="Also a table per value of this column (a deal's last value), e.g. Type or Region.")
@click.option("--holidays", envvar="MAPSHEETS_HOLIDAYS", metavar="CALENDAR",
              help="Business days skip these public holidays too, e.g. US, GB, DE-BY, or 'none' "
                   "(env MAPSHEETS_HOLIDAYS; default: the country of your locale).")
@TEMPLATES_OPTION
def stages(history, crm, output, fmt, id_column, stage_column, at_column, template_name, maps, map_file, date_order,
           won_only, since, segment, holidays, template_dirs):
    """Learn how many business days deals spend in each stage from a CRM stage-history export.

    HISTORY is a CSV or a workbook (.xlsx, .xls, .ods) with one row per stage change:
    opportunity ID, stage entered, when. Timestamps are ISO 8601 or a report's 4/10/2026 8:05 AM;
    an offset or Z is converted to UTC, a timestamp without one is taken as UTC. Closed Won /
    Closed Lost end a deal; the stage an open deal is in now is left out of that stage's durations.
    `days` is the median rounded up to whole business days. Rows that cannot be read are named with
    their line on stderr.

    With -t, CRM stages feed the template's phases as its crm: lists say (Salesforce's stock
    stages and HubSpot's default pipeline in the shipped templates); several stages may feed
    one phase, and their business days add up. A run that measures nothing exits 1 and writes
    nothing.

    With --salesforce or --hubspot instead of HISTORY, the same rows are read from the CRM's API;
    --since and --won-only filter in the query.

    Example:

        mapsheets stages --salesforce -t enterprise-map -o durations.csv

        mapsheets stages OpportunityHistory.csv --format salesforce -t enterprise-map -o durations.csv

        mapsheets new -t enterprise-map --buyer Acme --seller Us --durations durations.csv
    """
    from mapsheets.service.stages import learn_stages

    if holidays is not None and holidays.strip().lower() in ("none", "-"):
        holidays = ""
    if (history is None) == (crm is None):
        raise click.UsageError("give a HISTORY file, or --salesforce, or --hubspot (one of them)")
    options = dict(segment=segment, won_only=won_only, since=since, template=template_name,
                   template_dirs=template_dirs, holidays=holidays, output=output, maps=maps, map_file=map_file)
    if crm:
        from mapsheets.service.crm_stages import learn_stages_from_crm

        result = learn_stages_from_crm(crm, **options)
    else:
        result = learn_stages(history, fmt=fmt, id_column=id_column, stage_column=stage_column,
                              at_column=at_column, date_order=date_order or "", **options)
    for warning in result.warnings:
        click.echo(f"warning: {warning}: row skipped", err=True)
    report = result.report
    click.echo(f"{report.deals} deals ({report.won} won, {report.lost} lost, {report.open} open), "
               f"{report.changes} stage changes; business days skip "
               f"{result.holidays + ' holidays and ' if result.holidays else ''}weekends.")
    _table(report.stages)
    for value, rows in report.segments.items():
        click.echo(f"\n{segment} = {value} ({report.segment_deals[value]} deals)")
        _table(rows)
    for note in result.notes:
        click.echo(f"note: {note}")
    if result.warnings:
        click.echo(f"warning: {len(result.warnings)} rows skipped (listed above)", err=True)
    for path in result.written:
        click.echo(f"Wrote {path}")
    if result.kept:
        click.echo(f"Kept {result.kept} phase times of finished deals (one per deal and phase) for the forecast "
                   "(`mapsheets history`)")


def _table(rows) -> None:
    width = max([len("Stage")] + [len(s.stage) for s in rows])
    click.echo(f"{'Stage':<{width}}  {'days':>4}  {'median':>6}  {'mean':>6}  {'deals':>6}  {'open':>5}  skipped")
    for s in rows:
        def num(v, fmt="{:.1f}"):
            return "–" if v is None else fmt.format(v)
        click.echo(f"{s.stage:<{width}}  {num(s.days, '{}'):>4}  {num(s.median_days):>6}  {num(s.mean_days):>6}  "
                   f"{s.deals:>6}  {s.open:>5}  {num(s.skipped_share, '{:.0%}'):>7}")
