"""The crm commands: link a plan to its Salesforce opportunity or HubSpot deal, and push the plan there."""

from __future__ import annotations

from datetime import date, datetime, timezone

import click

from mapsheets.cli.base import AS_OF_OPTION, DB_OPTION, cli, today_of


@cli.group()
def crm() -> None:
    """Write plans back to their CRM records.

    A plan is linked once to its Salesforce opportunity or HubSpot deal (`crm link`); `crm push`
    then writes what the plan says there."""


@crm.command("link")
@click.argument("plan")
@click.option("--opportunity", metavar="ID", help="The Salesforce opportunity (006…).")
@click.option("--deal", metavar="ID", help="The HubSpot deal (its record ID).")
@DB_OPTION
def link(plan: str, opportunity: str | None, deal: str | None, db_url: str | None) -> None:
    """Remember which CRM record PLAN belongs to (in the plan's hidden tab and the state store).

    Example: mapsheets crm link acme-map.xlsx --opportunity 0065g00000AbCdEAAZ
    """
    from mapsheets.service.crm_push import link_plan

    if bool(opportunity) == bool(deal):
        raise click.UsageError("give --opportunity ID (Salesforce) or --deal ID (HubSpot), one of them")
    value = link_plan(plan, crm="salesforce" if opportunity else "hubspot", record_id=opportunity or deal or "",
                      now=datetime.now(timezone.utc), store_url=db_url)
    click.echo(f"Linked {plan} to {value} (row 'CRM record' of its hidden _mapsheets tab); "
               "`mapsheets crm push` writes the plan there.")


@crm.command("push")
@click.argument("plans", nargs=-1)
@click.option("--all", "all_plans", is_flag=True, help="Every plan linked in the state store.")
@click.option("--link", metavar="URL", help="The plan's address for the Link field when it is a file "
                                             "(a Google Sheet's own URL is used otherwise).")
@AS_OF_OPTION
@DB_OPTION
def push(plans: tuple[str, ...], all_plans: bool, link: str | None, as_of: date | None, db_url: str | None) -> None:
    """Write each plan's link, health, projected close, execution score, signed (yes/no) and next
    open step to its CRM record: Salesforce's NextStep and the fields MAPSHEETS_SALESFORCE_FIELDS
    names (Health:MAP_Health__c,Projected close:MAP_Projected_Close__c,...), or the HubSpot deal
    properties MAPSHEETS_HUBSPOT_PROPERTIES names. Only what changed since the last push is sent;
    nothing when nothing did. One request per record, one for many.

    Example: mapsheets crm push --all
    """
    from mapsheets.service.crm_push import push_plans

    if bool(plans) == all_plans:
        raise click.UsageError("give PLAN… or --all (every linked plan)")
    results = push_plans(list(plans), today=today_of(as_of), now=datetime.now(timezone.utc), link=link,
                         store_url=db_url)
    for r in results:
        if r.error:
            click.echo(f"error: {r.ref}: {r.error}", err=True)
        elif r.sent:
            click.echo(f"Pushed {r.ref} to {r.crm}:{r.record_id}: {', '.join(r.sent)}")
        else:
            click.echo(f"Unchanged {r.ref} ({r.crm}:{r.record_id}): nothing sent")
        for note in r.notes:
            click.echo(f"note: {r.ref}: {note}")
    if not results:
        click.echo("No plan is linked to a CRM record (mapsheets crm link PLAN --opportunity ID | --deal ID).")
    if any(r.error for r in results):
        raise SystemExit(1)
