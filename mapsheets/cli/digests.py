"""Digest commands: watch, unwatch, watching, digest."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from mapsheets.cli.base import DB_OPTION, MAIL_OPTIONS, _print_json, cli
from mapsheets.core.words import plural


@cli.command()
@click.argument("plan")
@click.option("--to", "emails", multiple=True, required=True, metavar="EMAIL",
              help='Recipient: jane@acme.example or "Jane Doe <jane@acme.example>" (repeatable).')
@click.option("--every", type=click.Choice(["daily", "weekly"]), default="daily", show_default=True)
@click.option("--only-changes", is_flag=True, help="No email for overdue steps alone, only when something changed.")
@click.option("--link", metavar="URL", help="Where recipients open the plan (http/https, e.g. the file on a share); "
                                            "kept for the plan. Without it a local file is named, not linked.")
@DB_OPTION
def watch(plan, emails, every, only_changes, link, db_url):
    """Email people a digest of what changes in a plan."""
    from datetime import datetime, timezone

    from mapsheets.service import digest

    for sub in digest.watch(plan, emails, every=every, only_changes=only_changes,
                            now=datetime.now(timezone.utc), store_url=db_url, link=link):
        who = f"{sub.name} <{sub.email}>" if sub.name else sub.email
        click.echo(f"{who} gets a {sub.every} digest of {plan}" + (" (changes only)" if sub.only_changes else ""))


@cli.command()
@click.argument("plan")
@click.option("--to", "emails", multiple=True, metavar="EMAIL", help="Recipient to remove (default: everyone).")
@DB_OPTION
def unwatch(plan, emails, db_url):
    """Stop digests of a plan (for some recipients or all)."""
    from mapsheets.service import digest

    click.echo(f"Removed {digest.unwatch(plan, emails, store_url=db_url)} subscription(s) to {plan}")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@DB_OPTION
def watching(as_json, db_url):
    """List digest subscriptions."""
    from mapsheets.service import digest
    from mapsheets.service.lifecycle_close import archived

    subs = digest.watching(store_url=db_url)
    closed = archived(db_url)
    if as_json:
        _print_json([{"plan": s.ref, "email": s.email, "name": s.name, "every": s.every, "only_changes": s.only_changes,
                      "last_sent_at": s.delivered_at, "bounced_at": s.bounced_at,
                      "bounce_reason": s.bounce_reason or None, "archived": closed.get(s.ref)} for s in subs])
        return
    for s in subs:
        # Accepted by a mail server, not merely recorded: a digest refused or still pending was not sent.
        last = f"{s.delivered_at:%Y-%m-%d %H:%M}" if s.delivered_at else "never"
        bounced = f"  bounced: {s.bounce_reason} on {s.bounced_at:%Y-%m-%d}" if s.bounced_at else ""
        deal = closed.get(s.ref)
        shelved = f"  archived: closed {deal['outcome']} on {deal['closed_on']}, no more digests" if deal else ""
        click.echo(f"{s.email}  {s.every}{' (changes only)' if s.only_changes else ''}  last sent {last}{bounced}"
                   f"{shelved}  {s.ref}")


@cli.command()
@click.option("--now", "now_text", metavar="ISO-TIME", help="Pretend it is this time (default: now, UTC).")
@click.option("--dry-run", is_flag=True, help="Say what would be sent; send and record nothing.")
@MAIL_OPTIONS
@click.option("--tz", "tz_name", envvar="MAPSHEETS_TZ", metavar="ZONE",
              help="The team's time zone, e.g. America/New_York (env MAPSHEETS_TZ; default: this machine's).")
@click.option("--hour", type=click.IntRange(0, 23), default=7, show_default=True, envvar="MAPSHEETS_DIGEST_HOUR",
              help="Send each day's digests with the first run at or after this hour (env MAPSHEETS_DIGEST_HOUR).")
@click.option("--stale-after", type=click.IntRange(1, 365), metavar="DAYS",
              help="Call a plan stalled after this many calendar days (1-365) without any update to it "
                   "(default: none, so only overdue steps count).")
@click.option("--dead-after", type=click.IntRange(1, 1000), default=20, show_default=True,
              envvar="MAPSHEETS_DEAD_AFTER_DAYS",
              help="Business days past the target close (close step not done) after which a plan sends its "
                   "seller-side recipients one last digest and stops mailing external ones "
                   "(env MAPSHEETS_DEAD_AFTER_DAYS).")
@click.option("--seller-domains", envvar="MAPSHEETS_SELLER_DOMAINS", metavar="DOMAINS",
              help="Comma-separated email domains of the seller (env MAPSHEETS_SELLER_DOMAINS); other addresses "
                   "are external (default: the domains of the plan's seller lead and seller-side team).")
@click.option("--send-budget", type=click.FloatRange(min=1), default=120, show_default=True, metavar="SECONDS",
              envvar="MAPSHEETS_SEND_BUDGET",
              help="Stop sending after this long; the rest go out first next run (env MAPSHEETS_SEND_BUDGET).")
@click.option("--retry-runs", type=click.IntRange(1, 100), default=3, show_default=True, metavar="N",
              envvar="MAPSHEETS_RETRY_RUNS",
              help="Runs a mail server may answer 'try again later' (4xx) to one digest before its recipient is "
                   "marked bounced (env MAPSHEETS_RETRY_RUNS). A 5xx is final at once.")
@click.option("--workers", type=click.IntRange(0, 16), metavar="N", envvar="MAPSHEETS_DIGEST_WORKERS",
              help="Processes that write local plans' Changes tabs while the run goes on (env "
                   "MAPSHEETS_DIGEST_WORKERS; default: one per core, up to 4; 0: write them in this one).")
@click.option("--crm-push", is_flag=True, envvar="MAPSHEETS_DIGEST_CRM_PUSH",
              help="Then `crm push --all`: every linked plan written to its CRM record, when it changed.")
@click.option("--preview", "preview_plan", metavar="PLAN", help="Write the digest of PLAN to --output as HTML instead.")
@click.option("--since", metavar="REV", help="With --preview: changes since this stored revision.")
@click.option("--output", "-o", type=click.Path(path_type=Path, dir_okay=False), default="digest.html",
              show_default=True, help="With --preview: where to write the HTML.")
@DB_OPTION
def digest(now_text, dry_run, outbox, smtp_url, sender, tz_name, hour, stale_after, dead_after, seller_domains,
           send_budget, retry_runs, workers, crm_push, preview_plan, since, output, db_url):
    """Send every change digest that is due; safe to run from cron every few minutes."""
    from datetime import datetime, timezone

    from mapsheets.service import digest as digests

    tz = _zone(tz_name)
    if (since or output != Path("digest.html")) and not preview_plan:
        raise click.UsageError("--since and --output go with --preview PLAN")
    now = datetime.now(timezone.utc)
    if now_text:
        try:
            now = datetime.fromisoformat(now_text)
        except ValueError:
            raise click.BadParameter(f"{now_text!r} is not an ISO time", param_hint="'--now'") from None
        now = now if now.tzinfo else now.replace(tzinfo=tz)
    if preview_plan:  # judged on the day the run would be (--now), in the team's zone
        path = digests.preview(preview_plan, output, today=now.astimezone(tz).date(), since=since, store_url=db_url)
        click.echo(f"Wrote {path}")
        return
    mailer = digests.make_mailer(smtp_url, outbox)
    show_bar = sys.stderr.isatty()

    def progress(items):
        if not show_bar or len(items) < 20:
            return items
        return click.progressbar(items, label="Plans", file=sys.stderr)

    report = digests.run(now=now, mailer=mailer, store_url=db_url, dry_run=dry_run, sender=sender,
                         stale_update_days=stale_after, tz=tz, hour=hour, dead_after_days=dead_after,
                         seller_domains=(seller_domains or "").split(",") if seller_domains else None,
                         send_budget=send_budget, write_workers=workers, retry_runs=retry_runs,
                         progress=lambda items: _iterate(progress(items)))
    # Cron mails whatever a job prints: off a terminal, say nothing unless something failed.
    chatty = sys.stdout.isatty() or dry_run
    for ref, name, changed in report.looked if dry_run else ():
        # A plan not modified since its last read may still have changes stored since someone's last
        # digest (by `sign`, `snapshot`): say so, or "changed" reads against "not modified" below.
        how = ("changed since a recipient's last digest (the sheet not modified since its last read)"
               if changed and ref in report.not_read else "changed" if changed else "no change")
        click.echo(f"plan {name} ({ref}): {how}")
    for to, subject in report.would_send:
        click.echo(f"would send to {to}: {subject}")
    # Without SMTP nothing was sent: the messages wait in the outbox for someone to send them.
    into = None if getattr(mailer, "folder", None) is None else mailer.folder
    for to, subject in report.sent if chatty else ():
        click.echo(f"wrote a message to {to}: {subject}" if into else f"sent to {to}: {subject}")
    for failure in report.failed:
        click.echo(f"failed: {failure}", err=True)
    for to, reply in report.bounced:  # said this once: later runs skip the address quietly
        click.echo(f"bounced: {to} refused for good ({reply}); no more digests to it until you `watch` it again",
                   err=True)
    for warning in report.warnings:  # a person must act (make room): said to cron too, exit 0
        click.echo(f"warning: {warning}", err=True)
    for note in report.notes if chatty else ():
        click.echo(f"note: {note}", err=True)
    if chatty:
        done = (f"{plural(len(report.would_send), 'message')} would be sent (dry run)" if dry_run
                else f"wrote {plural(len(report.sent), 'message')} to {into} (MAPSHEETS_SMTP_URL is not set)"
                if into else f"{len(report.sent)} sent")
        click.echo(f"{done}, {report.resent} resent, {len(report.failed)} failed; "
                   f"{plural(report.plans, 'plan')} due ({report.changed} with changes to tell, "
                   f"{report.unchanged} not modified since last read)")
        if report.stopped:
            click.echo(f"{plural(report.stopped, 'external recipient')} not mailed: their plan is past its target "
                       "close (--dead-after)")
        if report.waiting:
            click.echo(f"{plural(report.waiting, 'subscription')} not due yet: each goes out once a period, "
                       f"with the first run at or after {hour:02d}:00 ({tz}); --hour to change")
    _crm_push(crm_push, dry_run, now.astimezone(tz).date(), now, db_url, chatty)
    if report.failed:
        sys.exit(1)


def _crm_push(wanted: bool, dry_run: bool, today, now, db_url, chatty: bool) -> None:
    """With --crm-push, every linked plan pushed to its CRM record; exit 1 when one failed (said on stderr)."""
    from mapsheets.service.crm_push import push_plans

    if not wanted or dry_run:
        return
    results = push_plans(today=today, now=now, store_url=db_url)
    for r in results:
        if r.error:
            click.echo(f"failed: CRM push of {r.ref}: {r.error}", err=True)
        elif r.sent and chatty:
            click.echo(f"pushed {r.ref} to {r.crm}:{r.record_id}: {', '.join(r.sent)}")
    if any(r.error for r in results):
        sys.exit(1)


def _zone(name: str | None):
    """A time zone by IANA name; this machine's own without one."""
    from datetime import datetime

    if not name:
        return datetime.now().astimezone().tzinfo
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise click.BadParameter(f"{name!r} is not a time zone (e.g. Europe/Paris)", param_hint="'--tz'") from None


def _iterate(items):
    """Iterate a click progress bar (a context manager) or a plain list alike."""
    if hasattr(items, "__enter__"):
        with items as bar:
            yield from bar
    else:
        yield from items
