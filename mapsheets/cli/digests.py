"""Digest commands: watch, unwatch, watching, digest run, digest preview."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from datetime import datetime, timezone, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING

import click

from mapsheets.cli.base import DB_OPTION, MAIL_OPTIONS, Command, cli, print_json
from mapsheets.core.text import plural
from mapsheets.core.vocabulary import DIGEST_HOUR, DIGEST_PERIODS

if TYPE_CHECKING:
    from mapsheets.service.delivery import RunReport


@cli.command()
@click.argument("plan")
@click.option("--to", "emails", multiple=True, required=True, metavar="EMAIL",
              help='Recipient: jane@acme.example or "Jane Doe <jane@acme.example>" (repeatable).')
@click.option("--every", type=click.Choice(list(DIGEST_PERIODS)), default="daily", show_default=True)
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
        print_json([{"plan": s.ref, "email": s.email, "name": s.name, "every": s.every, "only_changes": s.only_changes,
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


class _DigestGroup(click.Group):
    """`digest run` and `digest preview`. The old spellings (`digest [OPTIONS]`, `digest --preview
    PLAN`) still work: they are read as the new ones, with a note on a terminal (never to cron, which
    mails whatever a job prints)."""

    command_class = Command

    def get_short_help_str(self, limit: int = 45) -> str:
        return super().get_short_help_str(limit=10_000)  # whole, as Command's

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ctx.help_option_names):
            args, spelling = _new_spelling(args)
            if sys.stderr.isatty():
                click.echo(f"note: `mapsheets digest` is now spelled `{spelling}`", err=True)
        return super().parse_args(ctx, args)

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_options(ctx, formatter)
        run_command = self.commands["run"]
        with formatter.section("Options of `digest run` (the default, also given without `run`)"):
            formatter.write_dl([r for p in run_command.get_params(ctx) if (r := p.get_help_record(ctx))])


def _new_spelling(args: list[str]) -> tuple[list[str], str]:
    """An old spelling's arguments as the new one's, and how the new one is written."""
    for i, arg in enumerate(args):
        if arg == "--preview" and i + 1 < len(args):
            return ["preview", args[i + 1], *args[:i], *args[i + 2:]], "mapsheets digest preview PLAN"
        if arg.startswith("--preview="):
            return ["preview", arg.split("=", 1)[1], *args[:i], *args[i + 1:]], "mapsheets digest preview PLAN"
    if any(a in ("--since", "--output", "-o") or a.startswith(("--since=", "--output=", "-o")) for a in args):
        raise click.UsageError("--since and --output go with --preview PLAN")
    return ["run", *args], "mapsheets digest run"


NOW_OPTION = click.option("--now", "now_text", metavar="ISO-TIME", help="Pretend it is this time (default: now, UTC).")
TZ_OPTION = click.option("--tz", "tz_name", envvar="MAPSHEETS_TZ", metavar="ZONE",
                         help="The team's time zone, e.g. America/New_York (env MAPSHEETS_TZ; default: this "
                              "machine's).")


@cli.group(cls=_DigestGroup)
def digest() -> None:
    """Send every change digest that is due (`digest run`; safe to run from cron every few minutes),
    or write one plan's digest as HTML (`digest preview`)."""


@digest.command("run")
@NOW_OPTION
@click.option("--dry-run", is_flag=True, help="Say what would be sent; send and record nothing.")
@MAIL_OPTIONS
@TZ_OPTION
@click.option("--hour", type=click.IntRange(0, 23), default=DIGEST_HOUR, show_default=True,
              envvar="MAPSHEETS_DIGEST_HOUR",
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
@DB_OPTION
def run_digests(now_text: str | None, dry_run: bool, outbox: Path | None, smtp_url: str | None, sender: str,
                tz_name: str | None, hour: int, stale_after: int | None, dead_after: int, seller_domains: str | None,
                send_budget: float, retry_runs: int, workers: int | None, db_url: str | None) -> None:
    """Send every change digest that is due; safe to run from cron every few minutes.

    Example: mapsheets digest run --dry-run
    """
    from mapsheets.service import digest as digests

    tz = _zone(tz_name)
    now = _now(now_text, tz)
    mailer = digests.make_mailer(smtp_url, outbox)
    show_bar = sys.stderr.isatty()

    def progress(items: list[str]) -> Iterable[str]:
        if not show_bar or len(items) < 20:
            return items
        return click.progressbar(items, label="Plans", file=sys.stderr)

    options = digests.DigestOptions(
        dry_run=dry_run, sender=sender, stale_update_days=stale_after, tz=tz, hour=hour, dead_after_days=dead_after,
        seller_domains=seller_domains.split(",") if seller_domains else None, send_budget=send_budget,
        write_workers=workers, retry_runs=retry_runs)
    report = digests.run(options, now=now, mailer=mailer, store_url=db_url,
                         progress=lambda items: _iterate(progress(items)))
    _say(report, dry_run=dry_run, into=getattr(mailer, "folder", None), hour=hour, tz=tz)
    if report.failed:
        sys.exit(1)


@digest.command("preview")
@click.argument("plan")
@click.option("--since", metavar="REV", help="Changes since this stored revision (default: none, the plan as it is).")
@click.option("--output", "-o", type=click.Path(path_type=Path, dir_okay=False), default="digest.html",
              show_default=True, help="Where to write the HTML.")
@NOW_OPTION
@TZ_OPTION
@DB_OPTION
def preview(plan: str, since: str | None, output: Path, now_text: str | None, tz_name: str | None,
            db_url: str | None) -> None:
    """Write the digest a subscriber of PLAN would get now as HTML.

    Example: mapsheets digest preview plan.xlsx --since 3 -o digest.html
    """
    from mapsheets.service import digest as digests

    tz = _zone(tz_name)
    now = _now(now_text, tz)  # judged on the day the run would be (--now), in the team's zone
    path = digests.preview(plan, output, today=now.astimezone(tz).date(), since=since, store_url=db_url)
    click.echo(f"Wrote {path}")


def _now(text: str | None, tz: tzinfo) -> datetime:
    """--now as a time (in the team's zone when it names none), or the present."""
    if not text:
        return datetime.now(timezone.utc)
    try:
        now = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not an ISO time", param_hint="'--now'") from None
    return now if now.tzinfo else now.replace(tzinfo=tz)


def _say(report: RunReport, *, dry_run: bool, into: Path | None, hour: int, tz: tzinfo) -> None:
    """The run's report. Cron mails whatever a job prints: off a terminal, nothing unless something failed."""
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
        _summary(report, dry_run=dry_run, into=into, hour=hour, tz=tz)


def _summary(report: RunReport, *, dry_run: bool, into: Path | None, hour: int, tz: tzinfo) -> None:
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


def _zone(name: str | None) -> tzinfo:
    """A time zone by IANA name; this machine's own without one."""
    if not name:
        return datetime.now().astimezone().tzinfo or timezone.utc  # astimezone() always gives one
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise click.BadParameter(f"{name!r} is not a time zone (e.g. Europe/Paris)", param_hint="'--tz'") from None


def _iterate(items: Iterable[str]) -> Iterator[str]:
    """Iterate a click progress bar (a context manager) or a plain list alike."""
    if isinstance(items, AbstractContextManager):
        with items as bar:
            yield from bar
    else:
        yield from items
