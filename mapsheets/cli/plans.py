"""Plan commands: templates, new, show, add-step, demo."""

from __future__ import annotations

from pathlib import Path

import click

from mapsheets.cli.base import (
    AS_OF_OPTION,
    DATE,
    DB_OPTION,
    FORCE_WRITE_OPTION,
    TEMPLATES_OPTION,
    cli,
    print_json,
    today_of,
    with_options,
)
from mapsheets.core.vocabulary import SIDES, STATUSES


@cli.command()
@TEMPLATES_OPTION
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def templates(template_dirs, as_json):
    """List the plan templates with their kind and step counts."""
    from mapsheets import service

    infos = service.list_templates(template_dirs)
    if as_json:
        print_json([vars(i) for i in infos])
        return
    width = max((len(i.name) for i in infos), default=4)
    for info in infos:
        click.echo(f"{info.name:<{width}}  {info.kind:<7}  {info.steps:>2} steps  {info.description}")


def _parse_roles(values: tuple[str, ...]) -> dict[str, str]:
    roles = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise click.BadParameter(f"{item!r} is not KEY=VALUE (e.g. champion=jane@acme.example)",
                                     param_hint="'--role'")
        roles[key.strip()] = value.strip()
    return roles


@cli.command()
@click.option("--template", "-t", "template_name", required=True, help="Template name (see `mapsheets templates`).")
@click.option("--buyer", required=True, help="The buyer's company.")
@click.option("--seller", required=True, help="Your company.")
@click.option("--close-date", type=DATE, help="Target close date.")
@click.option("--start-date", type=DATE, help="First day of the plan (default: today).")
@click.option("--backward", is_flag=True, help="Schedule back from --close-date instead of forward from the start.")
@click.option("--durations", type=click.Path(path_type=Path, dir_okay=False),
              help="CSV of business days per stage (columns: stage, days).")
@click.option("--role", "roles", multiple=True, metavar="KEY=VALUE",
              help="Fill a template role, e.g. --role champion=jane@acme.example (repeatable).")
@click.option("--title", help="Plan title (default: from the template).")
@click.option("--holidays", envvar="MAPSHEETS_HOLIDAYS", metavar="CALENDAR",
              help="Skip these public holidays too, e.g. US, GB, DE-BY, or 'none' for weekends only "
                   "(env MAPSHEETS_HOLIDAYS; default: the country of your locale, LC_ALL/LC_TIME/LANG).")
@click.option("--date-order", type=click.Choice(["MDY", "DMY", "YMD"], case_sensitive=False),
              help="How dates typed as text in the sheet are read, e.g. 02/05/2027 "
                   "(default: as the holiday calendar's country writes them: US MDY, JP YMD, most DMY).")
@click.option("--output", "-o", help="Where to create the plan: a .xlsx path, or a Google Sheets URL/ID to write into.")
@click.option("--google", is_flag=True, help="Create a new Google Sheet (credentials: see README) and print its URL.")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@click.option("--watch/--no-watch", "watch_owners", default=True, envvar="MAPSHEETS_WATCH_OWNERS", show_default=True,
              help="Subscribe the plan's seller-side owner (where an email) to its daily digest; buyer "
                   "contacts are subscribed when the plan is shared with them (share, watch).")
@AS_OF_OPTION
@DB_OPTION
@TEMPLATES_OPTION
def new(template_name, buyer, seller, close_date, start_date, backward, durations, roles, title, holidays,
        date_order, output, google, force, watch_owners, as_of, db_url, template_dirs):
    """Create a plan from a template, with target dates scheduled in business days."""
    from mapsheets import service

    if holidays is not None and holidays.strip().lower() in ("none", "-"):
        holidays = ""
    result = service.new_plan(
        template_name, output, buyer=buyer, seller=seller, today=today_of(as_of), start=start_date,
        close=close_date, backward=backward, durations_file=durations, roles=_parse_roles(roles), title=title,
        force=force, template_dirs=template_dirs, google=google, watch_owners=watch_owners, store_url=db_url,
        holidays=holidays, date_order=date_order)
    plan, fit = result.view.plan, result.fit
    click.echo(f"Created {result.location}: {len(plan.steps)} steps, {fit.start} → {fit.finish}")
    from mapsheets.cli.base import record_write

    record_write(result.location, "created", {"template": template_name, "steps": len(plan.steps)}, store_url=db_url)
    _say_calendar(plan, result.calendar_locale)
    for note in result.notes:
        click.echo(f"note: {note}")
    late = result.view.health.overdue
    if backward and late:
        click.echo(f"warning: to close on {fit.target_close} this plan should have started on {fit.start}: "
                   f"{len(late)} steps are overdue already (`show` projects the real close)", err=True)
    elif fit.target_close is not None:
        if fit.finish == fit.target_close:
            click.echo(f"Lands exactly on the target close {fit.target_close}.")
        elif fit.slack == 0:
            click.echo(f"The close step is due {fit.finish}, the last business day before the target close "
                       f"{fit.target_close}.")
        elif fit.fits:
            click.echo(f"Fits the target close {fit.target_close} with {fit.slack} business days to spare "
                       f"(close step due {fit.finish}).")
        else:
            click.echo(f"Misses the target close {fit.target_close} by {-(fit.slack or 0)} business days "
                       f"(close step due {fit.finish}).")
    if result.watchers:
        click.echo(f"Daily digest to {', '.join(result.watchers)} (mapsheets digest sends it; --no-watch to opt out). "
                   "Buyer contacts get it once you share the plan with them (mapsheets share, or watch).")
    if result.watch_error:
        click.echo(f"warning: plan created, but its owners are not subscribed: {result.watch_error}", err=True)


def _say_calendar(plan, locale_setting: str | None) -> None:
    """Which calendar and date order the plan got, where from, and how to change them."""
    if locale_setting is None:
        source = f"--holidays {plan.calendar or 'none'}"
    elif plan.calendar:
        source = f"from your locale {locale_setting}"
    else:
        source = f"your locale {locale_setting} names no country" if locale_setting else "no locale is set"
    if plan.calendar:
        click.echo(f"Holidays: {plan.calendar} ({source}; --holidays CODE or --holidays none to change).")
    else:
        click.echo(f"Holidays: none, weekends only ({source}; --holidays US, GB, DE-BY, ... to skip public holidays).")
    if plan.date_order:
        click.echo(f"Dates typed as text read {plan.date_order} "
                   "(--date-order, or the Date order row of the hidden _mapsheets tab, to change).")
    else:
        click.echo("Dates typed as text read month first, with a warning when ambiguous "
                   "(--date-order, or the Date order row of the hidden _mapsheets tab, to set MDY, DMY or YMD).")


@cli.command()
@click.argument("plan")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable plan (stable contract).")
@click.option("--all", "show_all", is_flag=True, help="List every open step, not just the next ten.")
@click.option("--fix-ids", is_flag=True, help="First write into the sheet the IDs of rows typed without one.")
@AS_OF_OPTION
def show(plan, as_json, show_all, fix_ids, as_of):
    """Summarise a plan: progress, overdue steps, projected close, signatures."""
    from mapsheets import service
    from mapsheets.cli.textout import plan_summary

    if fix_ids:
        filled = service.fix_ids(plan, today=today_of(as_of))
        click.echo(f"Filled in {filled} step ID{'' if filled == 1 else 's'}.", err=as_json)
        if filled:
            from mapsheets.cli.base import record_write

            record_write(plan, "ids filled", {"count": filled})
    from mapsheets.service.forecast import forecast_of

    view = service.read_plan(plan, today=today_of(as_of))
    chance = forecast_of(view)
    if as_json:
        print_json({**view.to_dict(), "forecast": chance.to_dict() if chance else None})
    else:
        click.echo(plan_summary(view, limit=None if show_all else 10, forecast=chance))
    for warning in view.warnings if not as_json else ():
        click.echo(f"warning: {warning}", err=True)


@cli.command()
@click.argument("plan")
@click.option("--output", "-o", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="The picture to write: a .png or .svg file.")
@AS_OF_OPTION
def timeline(plan, output, as_of):
    """Draw the plan's timeline: phases, planned vs actual, overdue in red, target close and today.

    Needs matplotlib: pip install 'mapsheets[timeline]'.

    Example: mapsheets timeline acme-map.xlsx -o acme-timeline.png
    """
    from mapsheets import service

    written = service.timeline_picture(plan, output, today=today_of(as_of))
    click.echo(f"Wrote {written}")


@cli.command("add-step")
@click.argument("plan")
@click.option("--title", required=True, help="What has to happen.")
@click.option("--side", type=click.Choice(SIDES), default="joint", show_default=True)
@click.option("--owner", "owners", multiple=True, help="Owner name or email (repeatable).")
@click.option("--due", type=DATE,
              help="Due date (on a weekend or a holiday of the plan's calendar: kept, with a warning).")
@click.option("--snap", is_flag=True, help="Move a --due on a weekend or holiday to the next business day.")
@click.option("--phase", default="", help="Phase the step belongs to: one of the plan's, matched ignoring case.")
@click.option("--new-phase", is_flag=True, help="Start a phase the plan does not have yet (--phase names it).")
@click.option("--depends-on", "depends_on", multiple=True, metavar="ID", help="Step ID this waits for (repeatable).")
@click.option("--status", type=click.Choice(STATUSES),
              default="not started", show_default=True)
@click.option("--notes", default="")
@AS_OF_OPTION
@FORCE_WRITE_OPTION
def add_step(plan, title, side, owners, due, snap, phase, new_phase, depends_on, status, notes, as_of, force):
    """Append a step to a plan without touching any other row."""
    from mapsheets import service

    step = service.add_step(plan, title=title, side=side, owners=owners, due=due, phase=phase, new_phase=new_phase,
                            depends_on=depends_on, status=status, notes=notes, today=today_of(as_of), snap=snap,
                            on_warning=_step_warning, force=force)
    click.echo(f"Added {step.id}: {step.title}")
    from mapsheets.cli.base import record_write
    from mapsheets.service.audit_log import written_version

    record_write(plan, "step added", {"id": step.id, "title": step.title, **written_version(plan)})


def _step_warning(message: str) -> None:
    """add-step's warnings: about the due date, or text the gate changed ("notes: removed ...")."""
    field = next((f for f in ("title", "phase", "notes", "owners") if message.startswith(f + ":")), None)
    click.echo(f"warning: {with_options(message, field) if field else with_options(message, 'due', 'snap')}",
               err=True)


@cli.command()
@click.option("--output", "-o", default="demo-map.xlsx", show_default=True, help="Where to write the demo plan.")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@AS_OF_OPTION
def demo(output, force, as_of):
    """Create an example enterprise MAP (Acme Corp × Globex) and show it."""
    from mapsheets import service
    from mapsheets.cli.textout import plan_summary
    from mapsheets.core.dates import add_business_days

    today = today_of(as_of)
    result = service.new_plan("enterprise-map", output, buyer="Acme Corp", seller="Globex", today=today,
                              close=add_business_days(today, 90), force=force)
    click.echo(f"Created {result.location}\n")
    click.echo(plan_summary(service.read_plan(output, today=today)))
