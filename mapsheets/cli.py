"""The mapsheets command line: each command parses, calls one service function, prints.

Errors become one line on stderr and exit status 1, here and nowhere else.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

import click

from mapsheets.errors import MapsheetsError


class _Cli(click.Group):
    """Turns every expected error into ``Error: ...`` and exit 1, without a traceback."""

    def main(self, *args, **kwargs):
        kwargs["standalone_mode"] = False
        try:
            code = super().main(*args, **kwargs)
        except click.exceptions.Abort:
            click.echo("Aborted.", err=True)
            sys.exit(1)
        except click.ClickException as exc:
            click.echo(f"Error: {exc.format_message()}", err=True)
            sys.exit(1)
        except MapsheetsError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


class _Date(click.ParamType):
    name = "DATE"

    def convert(self, value, param, ctx):
        if isinstance(value, date):
            return value
        from mapsheets.core.dates import parse_date

        parsed = parse_date(value)
        if parsed is None:
            self.fail(f"{value!r} is not a date (use YYYY-MM-DD)", param, ctx)
        return parsed


DATE = _Date()
TEMPLATES_OPTION = click.option(
    "--templates", "template_dirs", multiple=True, type=click.Path(path_type=Path),
    envvar="MAPSHEETS_TEMPLATES", help="Extra folder of templates (repeatable; env MAPSHEETS_TEMPLATES, ':'-separated).")
AS_OF_OPTION = click.option(
    "--as-of", "as_of", type=DATE, default=None, envvar="MAPSHEETS_TODAY",
    help="Judge overdue steps and the projected close as of this date (default: today).")


def _today(as_of: date | None) -> date:
    return as_of or date.today()


def _print_json(data) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


@click.group(cls=_Cli, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="mapsheets")
def cli():
    """Build and keep Mutual Action Plans as shared spreadsheets.

    A PLAN is a local .xlsx file, a Google Sheets URL or a spreadsheet ID.
    """


@cli.command()
@TEMPLATES_OPTION
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def templates(template_dirs, as_json):
    """List the plan templates with their kind and step counts."""
    from mapsheets import service

    infos = service.list_templates(template_dirs)
    if as_json:
        _print_json([vars(i) for i in infos])
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
@click.option("--output", "-o", help="Where to create the plan: a .xlsx path, or a Google Sheets URL/ID to write into.")
@click.option("--google", is_flag=True, help="Create a new Google Sheet (credentials: see README) and print its URL.")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@TEMPLATES_OPTION
def new(template_name, buyer, seller, close_date, start_date, backward, durations, roles, title, output, google,
        force, template_dirs):
    """Create a plan from a template, with target dates scheduled in business days."""
    from mapsheets import service

    result = service.new_plan(
        template_name, output, buyer=buyer, seller=seller, today=date.today(), start=start_date,
        close=close_date, backward=backward, durations_file=durations, roles=_parse_roles(roles), title=title,
        force=force, template_dirs=template_dirs, google=google)
    plan, fit = result.view.plan, result.fit
    click.echo(f"Created {result.location}: {len(plan.steps)} steps, {fit.start} → {fit.finish}")
    if fit.target_close is not None:
        if fit.slack == 0:
            click.echo(f"Lands exactly on the target close {fit.target_close}.")
        elif fit.fits:
            click.echo(f"Fits the target close {fit.target_close} with {fit.slack} business days to spare.")
        else:
            click.echo(f"Misses the target close {fit.target_close} by {-fit.slack} business days.")


@cli.command()
@click.argument("plan")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable plan (stable contract).")
@AS_OF_OPTION
def show(plan, as_json, as_of):
    """Summarise a plan: progress, overdue steps, projected close."""
    from mapsheets import service
    from mapsheets.textout import plan_summary

    view = service.read_plan(plan, today=_today(as_of))
    if as_json:
        _print_json(view.to_dict())
    else:
        click.echo(plan_summary(view))
    for warning in view.warnings if not as_json else ():
        click.echo(f"warning: {warning}", err=True)


@cli.command("add-step")
@click.argument("plan")
@click.option("--title", required=True, help="What has to happen.")
@click.option("--side", type=click.Choice(["buyer", "seller", "joint"]), default="joint", show_default=True)
@click.option("--owner", "owners", multiple=True, help="Owner name or email (repeatable).")
@click.option("--due", type=DATE, help="Due date.")
@click.option("--phase", default="", help="Phase the step belongs to.")
@click.option("--depends-on", "depends_on", multiple=True, metavar="ID", help="Step ID this waits for (repeatable).")
@click.option("--status", type=click.Choice(["not started", "in progress", "done", "blocked", "n/a"]),
              default="not started", show_default=True)
@click.option("--notes", default="")
@AS_OF_OPTION
def add_step(plan, title, side, owners, due, phase, depends_on, status, notes, as_of):
    """Append a step to a plan without touching any other row."""
    from mapsheets import service

    step = service.add_step(plan, title=title, side=side, owners=owners, due=due, phase=phase,
                            depends_on=depends_on, status=status, notes=notes, today=_today(as_of))
    click.echo(f"Added {step.id}: {step.title}")


@cli.command()
@click.argument("plan")
@click.option("--name", required=True, help="Your name as it should appear on the plan.")
@click.option("--email", required=True, help="Your email.")
@click.option("--side", type=click.Choice(["buyer", "seller"]), required=True)
def sign(plan, name, email, side):
    """Sign the plan as it reads now (not legally binding); earlier signatures show if stale."""
    from datetime import datetime, timezone

    from mapsheets.service import signoff

    signature = signoff.sign(plan, name=name, email=email, side=side, now=datetime.now(timezone.utc))
    click.echo(f"Signed by {signature.name} ({signature.side}) at {signature.signed_at:%Y-%m-%d %H:%M} UTC, "
               f"fingerprint {signature.fingerprint}")


@cli.command()
@click.argument("plan")
@click.option("--with", "emails", multiple=True, required=True, metavar="EMAIL", help="Person to share with (repeatable).")
@click.option("--role", type=click.Choice(["writer", "commenter", "reader"]), default="writer", show_default=True)
@click.option("--message", help="Send Google's notification email with this message (default: no email).")
def share(plan, emails, role, message):
    """Share a Google Sheet plan with people (one Drive request per person)."""
    from mapsheets.service import signoff

    for email in signoff.share(plan, emails, role=role, message=message):
        click.echo(f"Shared with {email} as {role}")


@cli.command()
@click.option("--name", "name_contains", default="", help="Only sheets whose name contains this.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def find(name_contains, as_json):
    """List the Google Sheets plans this account can reach through mapsheets."""
    from mapsheets.service import signoff

    files = signoff.find_plans(name_contains)
    if as_json:
        _print_json(files)
        return
    for f in files:
        who = (f.get("lastModifyingUser") or {}).get("emailAddress", "")
        click.echo(f"{f['id']}  {f.get('modifiedTime', '')}  {f.get('name', '')}  {who}")


@cli.command()
@click.option("--output", "-o", default="demo-map.xlsx", show_default=True, help="Where to write the demo plan.")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def demo(output, force):
    """Create an example enterprise MAP (Acme Corp × Globex) and show it."""
    from mapsheets import service
    from mapsheets.textout import plan_summary

    from mapsheets.core.dates import add_business_days

    today = date.today()
    result = service.new_plan("enterprise-map", output, buyer="Acme Corp", seller="Globex", today=today,
                              close=add_business_days(today, 90), force=force)
    click.echo(f"Created {result.location}\n")
    click.echo(plan_summary(service.read_plan(output, today=today)))


DB_OPTION = click.option("--db", "db_url", envvar="MAPSHEETS_DB", metavar="URL",
                         help="State store (SQLAlchemy URL; env MAPSHEETS_DB; default: a per-user SQLite file).")


@cli.command()
@click.argument("plan")
@DB_OPTION
def snapshot(plan, db_url):
    """Store the plan's current state as a revision (skipped when nothing changed)."""
    from datetime import datetime, timezone

    from mapsheets.service import revisions

    result = revisions.snapshot(plan, now=datetime.now(timezone.utc), store_url=db_url)
    rev = result.revision
    verb = "Stored" if result.created else "Unchanged since"
    click.echo(f"{verb} revision {rev.seq} of {plan} (fingerprint {rev.fingerprint}, {rev.step_count} steps)")


@cli.command()
@click.argument("plan")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@DB_OPTION
def log(plan, as_json, db_url):
    """List the stored revisions of a plan."""
    from mapsheets.service import revisions

    records = revisions.log(plan, store_url=db_url)
    if as_json:
        _print_json([{"rev": r.seq, "taken_at": r.taken_at.isoformat(), "fingerprint": r.fingerprint,
                      "steps": r.step_count, "done": r.done_count} for r in records])
        return
    for r in records:
        pct = round(100 * r.done_count / r.step_count) if r.step_count else 0
        click.echo(f"{r.seq:>4}  {r.taken_at:%Y-%m-%d %H:%M}  {r.fingerprint}  "
                   f"{r.step_count:>3} steps  {r.done_count:>3} done ({pct}%)")


@cli.command("diff")
@click.argument("old")
@click.argument("new", required=False)
@click.option("--since", metavar="REV", help="Compare the live plan OLD with its stored revision REV.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable changes.")
@DB_OPTION
def diff_cmd(old, new, since, as_json, db_url):
    """Show what changed between two plans or revisions, in the plan's own words.

    OLD and NEW are plans (files, sheets) or PLAN@REV, where REV is a revision number,
    `latest`, or `-1` for the one before the latest.
    """
    from mapsheets.errors import UsageError
    from mapsheets.service import revisions

    if (new is None) == (since is None):
        raise UsageError("give either NEW or --since REV")
    result = revisions.diff_plans(old, new, since=since, store_url=db_url)
    if as_json:
        _print_json(result.to_dict())
        return
    if not result.changes and not any(result.tabs.values()):
        click.echo(f"No changes between {result.old.label} and {result.new.label}.")
        return
    click.echo(f"{result.old.label} → {result.new.label}")
    for change in result.changes:
        click.echo(f"  {change.describe()}")
    for tab, changes in result.tabs.items():
        for change in changes:
            click.echo(f"  [{tab}] {change.describe()}")
