"""The team command: list, add and rename the people on a plan."""

from __future__ import annotations

import click

from mapsheets.cli.base import AS_OF_OPTION, TEMPLATES_OPTION, cli, print_json, today_of
from mapsheets.core.vocabulary import PERSON_SIDES


@cli.command()
@click.argument("plan")
@click.option("--add", "add", metavar='"NAME <EMAIL>"', help="Add a person (a name, an email, or both).")
@click.option("--side", type=click.Choice(PERSON_SIDES), help="With --add: the person's side.")
@click.option("--role", default="", metavar="ROLE",
              help="With --add: a template role key (see `templates --json`), which fills that role's "
                   "placeholder everywhere, or a team role such as Champion.")
@click.option("--rename", metavar="EMAIL-OR-NAME",
              help="Rename this person on the Team tab and in every step's Owners.")
@click.option("--to", "to", metavar="NAME", help="With --rename: the new name.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable team list.")
@AS_OF_OPTION
@TEMPLATES_OPTION
def team(plan, add, side, role, rename, to, as_json, as_of, template_dirs):
    """List the plan's team, add a person, or rename one everywhere the plan names them.

    Owners of people on the team with an email are written "Name <email>" and follow
    the Team row, so a rename reaches every step.

    Example:

        mapsheets team plan.xlsx --add "Jane Doe <jane@acme.example>" --role champion

        mapsheets team plan.xlsx --rename jane@acme.example --to "Jane Smith"
    """
    from mapsheets.cli.base import record_write
    from mapsheets.errors import UsageError
    from mapsheets.service import team as people

    if add and rename:
        raise UsageError("give --add or --rename, not both")
    if (side or role) and not add:
        raise UsageError("--side and --role go with --add")
    if rename is not None and not to:
        raise UsageError("--rename needs --to NAME")
    if to and rename is None:
        raise UsageError("--to goes with --rename")
    if add is not None:
        change = people.add_person(plan, add, side=side or "", role=role, template_dirs=template_dirs,
                                   today=today_of(as_of), on_warning=_warn)
        who = change.person
        filled = f"; filled the {change.role_filled} role ({change.was}) in {change.steps} steps" if change.was else ""
        click.echo(f"Added {who.name}{f' <{who.email}>' if who.email else ''} ({who.side}, {who.role or 'no role'})"
                   f"{filled}")
        record_write(plan, "team member added", {"name": who.name, "email": who.email, "side": who.side,
                                                 "role": who.role, "filled_role": change.role_filled or None})
        return
    if rename is not None:
        change = people.rename_person(plan, rename, to=to, today=today_of(as_of), on_warning=_warn)
        click.echo(f"Renamed {change.was} to {change.person.name} on the Team tab and in {change.steps} steps' Owners")
        record_write(plan, "team member renamed", {"was": change.was, "now": change.person.name})
        return
    members = people.team(plan)
    if as_json:
        print_json([m.to_dict() for m in members])
        return
    if not members:
        click.echo("No one on the team yet (team PLAN --add \"Name <email>\" --side buyer).")
    width = max((len(m.name) for m in members), default=4)
    for m in members:
        click.echo(f"{m.name:<{width}}  {m.side or '-':<6}  {m.role or '-':<16}  {m.email}".rstrip())


def _warn(message: str) -> None:
    click.echo(f"warning: {message}", err=True)
