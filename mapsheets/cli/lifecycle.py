"""After the deal: close, report winloss, handoff."""

from __future__ import annotations

from pathlib import Path

import click

from mapsheets.cli.base import AS_OF_OPTION, DATE, DB_OPTION, FORCE_WRITE_OPTION, MAIL_OPTIONS, Command, cli, today_of
from mapsheets.core.text import plural


@cli.command()
@click.argument("plan")
@click.option("--won", is_flag=True, help="The deal was won.")
@click.option("--lost", is_flag=True, help="The deal was lost.")
@click.option("--reason", default="", metavar="TEXT",
              help="Why it closed that way (kept in the Outcome reason row; told to the seller's people only).")
@click.option("--message", default="", metavar="TEXT",
              help="Your words to everyone told, the buyer included (else the buyer gets a neutral closing note).")
@click.option("--date", "on", type=DATE, help="The day it closed (default: today; not in the future).")
@click.option("--correct", is_flag=True,
              help="Change the outcome of a plan closed otherwise; whoever heard it is told.")
@click.option("--reopen", is_flag=True, help="Clear the outcome: digests resume; whoever heard it is told.")
@MAIL_OPTIONS
@click.option("--seller-domains", envvar="MAPSHEETS_SELLER_DOMAINS", metavar="DOMAINS",
              help="Comma-separated email domains of the seller (env MAPSHEETS_SELLER_DOMAINS).")
@AS_OF_OPTION
@FORCE_WRITE_OPTION
@DB_OPTION
def close(plan, won, lost, reason, message, on, correct, reopen, outbox, smtp_url, sender, seller_domains, as_of,
          force, db_url):
    """Record that the deal closed won or lost, send its last digest and archive the plan.

    The outcome goes into the overview's Outcome, Closed on and Outcome reason rows (outside what
    signatures cover). Every subscriber gets one last digest saying how the deal closed: the
    seller's people with the reason, people outside your company a closing note that never says
    lost (and your --message, if given). After it, digest runs skip the plan. A wrong outcome is
    corrected with --correct (or by clearing the Outcome cell and closing again), or withdrawn
    with --reopen; whoever heard the first one is told.

    Example: mapsheets close acme-map.xlsx --won --reason "Security review passed" --date 2027-03-30
    """
    from datetime import datetime, timezone

    from mapsheets.service import digest as digests
    from mapsheets.service.lifecycle_close import close_plan, reopen_plan

    if won and lost:
        raise click.UsageError("--won and --lost exclude each other: say how the deal closed once")
    if reopen and (won or lost or reason or message or on or correct):
        raise click.UsageError("--reopen takes no outcome, --reason, --message, --date or --correct")
    if not (won or lost or reopen):
        raise click.UsageError("say how the deal closed: --won or --lost")
    mailer = digests.make_mailer(smtp_url, outbox)
    common = {"today": today_of(as_of), "now": datetime.now(timezone.utc), "store_url": db_url, "mailer": mailer,
              "sender": sender, "seller_domains": seller_domains.split(",") if seller_domains else None,
              "force": force}
    if reopen:
        result = reopen_plan(plan, **common)
        click.echo(f"Re-opened {result.ref}" + (f" (was closed {_was(result.corrected)})" if result.corrected else "")
                   + f"; digest runs include it again from revision {result.revision}")
    else:
        result = close_plan(plan, outcome="won" if won else "lost", reason=reason, message=message, on=on,
                            correct=correct, on_warning=lambda said: click.echo(f"warning: {said}", err=True),
                            **common)
        verb = "Corrected" if result.corrected else "Closed" if result.written else "Already closed"
        click.echo(f"{verb} {result.ref}: {result.outcome} on {result.closed_on}"
                   + (f" ({result.reason})" if result.reason else "")
                   + (f", was {_was(result.corrected)}" if result.corrected else "")
                   + f"; archived at revision {result.revision}")
    external = sum(ext for _e, ext in result.told)
    if result.told:
        into = getattr(mailer, "folder", None)
        how = f"wrote it to {into}" if into else "sent"
        what = "Correction" if result.corrected else "Last digest"
        after = "digest runs include this plan again." if reopen else "digest runs skip this plan from now on."
        click.echo(f"{what} {how} for {plural(len(result.told), 'subscriber')} ({external} external); {after}")
    for failure in result.failed:
        click.echo(f"failed: {failure} (left pending: the next `mapsheets digest` sends it)", err=True)


def _was(detail) -> str:
    return f"{detail.get('outcome')} on {detail.get('closed_on')}"


@cli.group()
def report():
    """Reports across plans."""


report.command_class = Command  # whole first sentences in `report --help`, as everywhere

@report.command()
@click.argument("plans", nargs=-1)
@click.option("--all", "all_plans", is_flag=True, help="Every closed (archived) plan in the state store.")
@click.option("--output", "-o", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="Where to write the table: a .xlsx (tabs Win-loss, Plans, Slip by phase, Findings) or .csv file.")
@AS_OF_OPTION
@DB_OPTION
def winloss(plans, all_plans, output, as_of, db_url):
    """Win/loss across closed plans: planned vs actual per step, slip, signatures, execution score.

    Planned dates come from each plan's first stored revision, actual ones from its last. Prints the
    few findings worth a sales manager's time.

    Example: mapsheets report winloss --all -o winloss.xlsx
    """
    from mapsheets.service.winloss import winloss as build

    result = build(plans, output, all_plans=all_plans, today=today_of(as_of), store_url=db_url)
    click.echo(f"Wrote {result.output}: {plural(result.plans, 'plan')}, {plural(result.steps, 'step')}")
    for finding in result.findings:
        click.echo(f"- {finding}")


@cli.command()
@click.argument("plan")
@click.option("--output", "-o", type=click.Path(path_type=Path, dir_okay=False),
              help="Write the hand-off as Markdown here.")
@click.option("--tab", is_flag=True, help="Write it into the plan too, as a Handoff tab (rewritten each time).")
@AS_OF_OPTION
@FORCE_WRITE_OPTION
def handoff(plan, output, tab, as_of, force):
    """The onboarding hand-off: stakeholders, problem and success criteria, commitments, go-live, open items.

    Example: mapsheets handoff acme-map.xlsx -o handoff.md --tab
    """
    from mapsheets.service.handoff import handoff as build

    result = build(plan, today=today_of(as_of), output=output, tab=tab, force=force)
    where = [str(result.output)] if result.output else []
    where += [f"the Handoff tab of {plan}"] if result.tab else []
    h = result.handoff
    people = "1 person" if len(h.stakeholders) == 1 else f"{len(h.stakeholders)} people"
    click.echo(f"Wrote {' and '.join(where)}: {people}, {plural(len(h.commitments), 'commitment')}, "
               f"{plural(len(h.open_items), 'open item')}")
