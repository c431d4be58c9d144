"""Sign-off and sharing commands: sign, share, find."""

from __future__ import annotations

from pathlib import Path

import click

from mapsheets.cli.base import DB_OPTION, FORCE_WRITE_OPTION, MAIL_OPTIONS, cli, print_json
from mapsheets.core.vocabulary import PERSON_SIDES


@cli.command()
@click.argument("plan")
@click.option("--name", required=True, help="Your name as it should appear on the plan.")
@click.option("--email", required=True, help="Your email: on the Team tab or a plan owner, on the side you sign.")
@click.option("--side", type=click.Choice(PERSON_SIDES), required=True)
@click.option("--on-behalf-of", metavar='"NAME <EMAIL>"',
              help="Record a signature this person gave elsewhere (on paper, on a call): shown as recorded by "
                   "you on their behalf, never counted as their own.")
@click.option("--seller-domains", envvar="MAPSHEETS_SELLER_DOMAINS", metavar="DOMAINS",
              help="Comma-separated email domains of the seller (env MAPSHEETS_SELLER_DOMAINS): they decide "
                   "who signs for the seller.")
@click.option("--record/--no-record", default=True, show_default=True,
              help="Also keep the signature in the state store (survives edits to the sheet).")
@DB_OPTION
@FORCE_WRITE_OPTION
def sign(plan, name, email, side, on_behalf_of, seller_domains, record, db_url, force):
    """Sign the plan as it reads now (not legally binding); earlier signatures show if stale.

    Example: mapsheets sign plan.xlsx --name "Jane Doe" --email jane@acme.example --side buyer
    """
    from datetime import datetime, timezone

    from mapsheets.service import signoff

    behalf = signoff.check_address(on_behalf_of, "on_behalf_of") if on_behalf_of else None
    signature = signoff.sign(plan, name=name, email=email, side=side, now=datetime.now(timezone.utc),
                             store_url=db_url, record=record, force=force, on_behalf_of=behalf,
                             seller_domains=(seller_domains or "").split(","),
                             on_warning=lambda message: click.echo(f"warning: {message}", err=True))
    when = f"{signature.signed_at:%Y-%m-%d %H:%M} UTC" if signature.signed_at else "an unknown time"
    if signature.already:
        click.echo(f"Already signed by {signature.email} at {when} for this version of the plan "
                   f"(fingerprint {signature.fingerprint}): nothing added")
        return
    click.echo(f"Signed by {signature.name} ({signature.side}) at {when}, fingerprint {signature.fingerprint}, "
               f"{signature.by_line()}, sealed")


@cli.command("request-signature")
@click.argument("plan")
@click.option("--to", "to", required=True, metavar='"NAME <EMAIL>"', help="Who signs: on the plan, for their own side.")
@click.option("--base-url", envvar="MAPSHEETS_PUBLIC_URL", required=True, metavar="URL",
              help="Where the add-on server answers /sign/... (env MAPSHEETS_PUBLIC_URL).")
@click.option("--days", type=click.IntRange(1, 90), default=14, show_default=True, help="How long the link works.")
@click.option("--seller-domains", envvar="MAPSHEETS_SELLER_DOMAINS", metavar="DOMAINS",
              help="Comma-separated email domains of the seller (env MAPSHEETS_SELLER_DOMAINS).")
@MAIL_OPTIONS
@DB_OPTION
def request_signature(plan, to, base_url, days, seller_domains, outbox, smtp_url, sender, db_url):
    """Email someone a single-use link to sign the plan, for buyers who install nothing.

    Example: mapsheets request-signature plan.xlsx --to "Jane Doe <jane@acme.example>"
    """
    import getpass
    from datetime import datetime, timezone

    from mapsheets.service import sign_links
    from mapsheets.service.delivery import make_mailer

    sign_links.request(plan, to, now=datetime.now(timezone.utc), mailer=make_mailer(smtp_url, outbox),
                       base_url=base_url, sender=sender, store_url=db_url, days=days,
                       requested_by=f"{getpass.getuser()} (command line)",
                       seller_domains=(seller_domains or "").split(","))
    click.echo(f"Sent a link to sign to {to.strip()} (works once, for {days} days)")


@cli.command()
@click.argument("plan")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="Where to write it: .html, or .pdf (needs the extra: pip install 'mapsheets[certificate]').")
@DB_OPTION
def certificate(plan, output, db_url):
    """Write the plan's signing record: the commitments signed, each signature with its method,
    time and seal, and the audit trail of the signing, for a buyer's procurement to file.

    Example: mapsheets certificate plan.xlsx -o signed.pdf
    """
    from datetime import datetime, timezone

    from mapsheets.service.certificate import certificate as write

    click.echo(f"Wrote {write(plan, output, now=datetime.now(timezone.utc), store_url=db_url)}")


@cli.command()
@click.argument("plan", required=False)
@click.option("--public-key", "show_keys", is_flag=True, help="Print the public key(s) seals are checked with.")
@click.option("--trust", multiple=True, metavar="KEY",
              help="Check seals with this public key only (repeatable), not this machine's: what a buyer does.")
@click.option("--rotate-key", is_flag=True, help="Make a new signing key; old public keys stay, old seals hold.")
def verify(plan, show_keys, trust, rotate_key):
    """Check each signature's seal and fingerprint; exit 1 if any does not hold.

    Example: mapsheets verify plan.xlsx --trust ed25519:...
    """
    from mapsheets.errors import UsageError
    from mapsheets.service import seals

    if rotate_key:
        seals.rotate()
        click.echo("New signing key made; the public keys (newest first):")
        show_keys = True
    if show_keys:
        for key in seals.public_keys():
            click.echo(key)
        if not plan:
            return
    if not plan:
        raise UsageError("give a PLAN to verify, or --public-key")
    from mapsheets.service.verify import verify_plan

    report = verify_plan(plan, trust=list(trust) or None)
    for line in report.lines:
        click.echo(line)
    if not report.ok:
        raise SystemExit(1)


@cli.command()
@click.argument("plan")
@click.option("--with", "emails", multiple=True, required=True, metavar="EMAIL",
              help="Person to share with (repeatable).")
@click.option("--role", type=click.Choice(["writer", "commenter", "reader"]), default="writer", show_default=True)
@click.option("--message", help="Send Google's notification email with this message (default: no email).")
@click.option("--watch/--no-watch", default=True, show_default=True,
              help="Subscribe each person to the plan's daily digest.")
@DB_OPTION
def share(plan, emails, role, message, watch, db_url):
    """Share a Google Sheet plan with people (one Drive request per person)."""
    from mapsheets.service.sharing import share

    for email in share(plan, emails, role=role, message=message, watch=watch, store_url=db_url):
        click.echo(f"Shared with {email} as {role}" + ("; their daily digest is on" if watch else ""))


@cli.command()
@click.option("--name", "name_contains", default="", help="Only sheets whose name contains this.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def find(name_contains, as_json):
    """List the Google Sheets plans this account can reach through mapsheets."""
    from mapsheets.service.find import find_plans

    files = find_plans(name_contains)
    if as_json:
        print_json(files)
        return
    if not files:
        click.echo(f"No plans found{f' whose name contains {name_contains!r}' if name_contains else ''}.")
    for f in files:
        who = (f.get("lastModifyingUser") or {}).get("emailAddress", "")
        click.echo(f"{f['id']}  {f.get('modifiedTime', '')}  {f.get('name', '')}  {who}")


@cli.command()
@click.option("--client-secrets", required=True, type=click.Path(dir_okay=False),
              help="OAuth client secrets JSON (a Desktop app client from Google Cloud console).")
def login(client_secrets):
    """Sign in to Google in your browser; later commands use that account."""
    import os

    from mapsheets.service.login import login

    path = login(client_secrets, os.environ)
    click.echo(f"Signed in; token kept in {path}")
