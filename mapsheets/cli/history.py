"""Revision commands: snapshot, log, diff, audit."""

from __future__ import annotations

import click

from mapsheets.cli.base import DB_OPTION, cli, print_json


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
    """List the stored revisions of a plan and what stored each.

    The last column says where a revision came from: snapshot, sign, digest or watch
    (unknown for revisions stored before mapsheets recorded it).
    """
    from mapsheets.service import revisions

    records = revisions.log(plan, store_url=db_url)
    if as_json:
        print_json([{"rev": r.seq, "taken_at": r.taken_at.isoformat(), "fingerprint": r.fingerprint,
                      "steps": r.step_count, "done": r.done_count, "origin": r.origin or "unknown"}
                     for r in records])
        return
    for r in records:
        pct = round(100 * r.done_count / r.step_count) if r.step_count else 0
        click.echo(f"{r.seq:>4}  {r.taken_at:%Y-%m-%d %H:%M}  {r.fingerprint}  "
                   f"{r.step_count:>3} steps  {r.done_count:>3} done ({pct}%)  {r.origin or 'unknown'}")


@cli.command("diff")
@click.argument("old")
@click.argument("new", required=False)
@click.option("--since", metavar="REV", help="Compare the live plan OLD with its stored revision REV.")
@click.option("--since-signature", metavar="EMAIL",
              help="Compare the live plan OLD with the revision EMAIL signed (why a signature is stale).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable changes.")
@DB_OPTION
def diff_cmd(old, new, since, since_signature, as_json, db_url):
    """Show what changed between two plans or revisions, in the plan's own words.

    OLD and NEW are plans (files, sheets) or PLAN@REV, where REV is a revision number,
    `latest`, or `-1` for the one before the latest. Without NEW, OLD must be PLAN@REV:
    that revision is compared with the live plan.
    """
    from mapsheets.errors import UsageError
    from mapsheets.service import revisions

    if sum(x is not None for x in (new, since, since_signature)) > 1:
        raise UsageError("give either NEW or --since REV or --since-signature EMAIL, not more than one")
    result = revisions.diff_plans(old, new, since=since, since_signature=since_signature, store_url=db_url)
    if as_json:
        print_json(result.to_dict())
        return
    if not result.changes and not any(result.tabs.values()):
        click.echo(f"No changes between {result.old.label} and {result.new.label}.")
        return
    click.echo(f"{result.old.label} → {result.new.label}")
    for change in result.readable():
        click.echo(f"  {change.describe()}")
    for tab, changes in result.tabs.items():
        for grid_change in changes:
            click.echo(f"  [{tab}] {grid_change.describe()}")


@cli.command()
@click.argument("plan")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@DB_OPTION
def audit(plan, as_json, db_url):
    """List the audit log of a plan: what mapsheets did to it, when and for whom."""
    from mapsheets.service import revisions

    events = revisions.audit(plan, store_url=db_url)
    if as_json:
        print_json([{"at": e.at.isoformat(), "actor": e.actor, "action": e.kind, "details": e.detail}
                     for e in events])
        return
    if not events:
        click.echo(f"No audit events for {plan}.")
    for e in events:
        details = ", ".join(f"{key}={value}" for key, value in sorted(e.detail.items()))
        click.echo(f"{e.at:%Y-%m-%d %H:%M}  {e.actor or '-'}  {e.kind}  {details}".rstrip())
