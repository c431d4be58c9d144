"""convert: a qualified closing plan becomes the MAP the buyer sees."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import click

from mapsheets.cli.base import AS_OF_OPTION, DB_OPTION, TEMPLATES_OPTION, cli, today_of


@cli.command()
@click.argument("closing")
@click.option("--champion", metavar='"NAME <EMAIL>"', help="The buyer's champion (default: the Qualification block's).")
@click.option("--economic-buyer", metavar='"NAME <EMAIL>"',
              help="Who signs off the budget (default: the Qualification block's).")
@click.option("--template", "-t", "template_name", default="enterprise-map", show_default=True,
              help="MAP template whose buyer-side and joint steps are added.")
@click.option("--durations", type=click.Path(path_type=Path, dir_okay=False),
              help="CSV of business days per stage (columns: stage, days), e.g. from `mapsheets stages`.")
@click.option("--output", "-o", help="Where to create the MAP: a .xlsx path, or a Google Sheets URL/ID to write into.")
@click.option("--google", is_flag=True, help="Create the MAP as a new Google Sheet and print its URL.")
@click.option("--share", is_flag=True,
              help="Share the Google Sheet with the buying committee and subscribe them to its digest.")
@click.option("--watch/--no-watch", "watch_owners", default=True, envvar="MAPSHEETS_WATCH_OWNERS", show_default=True,
              help="Subscribe the MAP's seller-side owner to its daily digest, as new does.")
@click.option("--force", is_flag=True,
              help="Convert although champion, economic buyer, identified pain or metrics are missing "
                   "(recorded in the audit log); also overwrites an existing -o file.")
@AS_OF_OPTION
@DB_OPTION
@TEMPLATES_OPTION
def convert(closing, champion, economic_buyer, template_name, durations, output, google, share, watch_owners, force,
            as_of, db_url, template_dirs):
    """Turn a qualified closing plan into a mutual action plan (a new document) and link the two.

    Internal steps stay in the closing plan; steps marked shared in its Visibility column are
    carried over as they are; the MAP template's buyer-side and joint steps are scheduled from
    today to the target close.

    Example:

    \b
        mapsheets convert closing.xlsx --champion "Jane Doe <jane@acme.example>" \\
            --economic-buyer "Carla Diaz <cfo@acme.example>" -o acme-map.xlsx
    """
    from mapsheets.service.convert import convert as run

    result = run(closing, output, today=today_of(as_of), now=datetime.now(timezone.utc), champion=champion,
                 economic_buyer=economic_buyer, template=template_name, durations_file=durations, google=google,
                 share=share, force=force, template_dirs=template_dirs, store_url=db_url,
                 watch_owners=watch_owners)
    plan = result.view.plan
    click.echo(f"Created {result.location}: {len(plan.steps)} steps ({len(result.carried)} shared steps carried "
               f"over, {len(result.added)} added, {result.internal} internal left out), "
               f"target close {plan.target_close}")
    click.echo(f"Linked from {closing} (row 'Mutual plan' of its hidden _mapsheets tab).")
    if result.forced:
        click.echo(f"warning: converted with --force although it has no {', no '.join(result.forced)} "
                   "(recorded in the audit log)", err=True)
    if result.missing:
        click.echo(f"Qualification still missing: {', '.join(result.missing)}.")
    for note in result.notes:
        click.echo(f"note: {note}")
    if result.shared_with:
        click.echo(f"Shared with {', '.join(result.shared_with)}; their daily digest is on.")
    if result.watchers:
        click.echo(f"Daily digest to {', '.join(result.watchers)}.")
    if result.watch_error:
        click.echo(f"warning: MAP created, but nobody is subscribed: {result.watch_error}", err=True)
