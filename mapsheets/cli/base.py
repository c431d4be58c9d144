"""The click group, shared options and the one place errors become a line and exit status 1."""

from __future__ import annotations

import json
import sys
from contextvars import ContextVar
from datetime import date
from pathlib import Path

import click

from mapsheets.core.vocabulary import DEFAULT_SENDER, YEARS, in_years
from mapsheets.errors import MapsheetsError

# The command being run, for the error boundary to name its options (set as it starts).
_RUNNING: ContextVar[click.Command | None] = ContextVar("mapsheets_command", default=None)
# A service field whose option in the CLI has another name.
_FIELD_OPTIONS = {"person": "add"}


class Command(click.Command):
    def get_short_help_str(self, limit: int = 45) -> str:
        # `mapsheets --help` shows each command's whole first sentence (wrapped), never cut at "...".
        return super().get_short_help_str(limit=10_000)

    def invoke(self, ctx):
        _RUNNING.set(self)
        return super().invoke(ctx)


def _option(command: click.Command | None, field: str) -> str | None:
    """The running command's option for a service field: by parameter name ("depends_on" → its
    --depends-on), by option name ("to" → --to), or by the alias above; None if it has none."""
    if command is None:
        return None
    names = (field, _FIELD_OPTIONS.get(field))
    for param in command.params:
        longs = [o for o in getattr(param, "opts", ()) if o.startswith("--")]
        if isinstance(param, click.Option) and longs and (
                param.name in names or f"--{field.replace('_', '-')}" in longs):
            return longs[0]
    return None


def with_options(message: str, *fields: str | None) -> str:
    """A service message as the CLI says it: each field's words ("depends on", "snap") where they
    open the message or a parenthesis become the running command's option ("--depends-on"); a
    message about the first field that does not name it gets the option in front."""
    command = _RUNNING.get()
    for i, field in enumerate(f for f in fields if f):
        flag = _option(command, field)
        if flag is None:
            continue
        found = False
        for words in dict.fromkeys((field.replace("_", " "), flag[2:].replace("-", " "))):
            for start in [0] + [j + 1 for j, c in enumerate(message) if c == "("]:
                end = start + len(words)
                if message.startswith(words, start) and (end == len(message) or not message[end].isalnum()):
                    message, found = message[:start] + flag + message[end:], True
                    break
            if found:
                break
        if not found and i == 0:
            message = f"{flag} {message}" if message[:1] in "'\"" else f"{flag}: {message}"
    return message


class _Cli(click.Group):
    """Turns every expected error into ``Error: ...`` and exit 1, without a traceback."""

    command_class = Command

    def main(self, *args, **kwargs):
        kwargs["standalone_mode"] = False
        _RUNNING.set(None)
        try:
            code = super().main(*args, **kwargs)
        except click.exceptions.Abort:
            click.echo("Aborted.", err=True)
            sys.exit(1)
        except click.ClickException as exc:
            click.echo(f"Error: {exc.format_message()}", err=True)
            sys.exit(1)
        except MapsheetsError as exc:
            # The service names the field an error is about; CLI users see the option they typed.
            click.echo(f"Error: {with_options(str(exc), exc.field, *exc.also)}", err=True)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


class _Date(click.ParamType):
    name = "DATE"

    def convert(self, value, param, ctx):
        if isinstance(value, date):
            return value
        from mapsheets.core.dates import parse_date, read_date

        parsed = parse_date(value)
        if parsed is None:
            self.fail(f"{value!r} is not a date (use YYYY-MM-DD)", param, ctx)
        # 02/05/2027: a command line has no plan's date order to read it in, so it is not guessed.
        month_first, day_first = read_date(value, "MDY")[0], read_date(value, "DMY")[0]
        if month_first and day_first and month_first != day_first:
            self.fail(f"{value!r} could be {month_first.day} {month_first:%B %Y} or {day_first.day} "
                      f"{day_first:%B %Y}: write it as {month_first.isoformat()} or {day_first.isoformat()}",
                      param, ctx)
        if not in_years(parsed.year):
            self.fail(f"{value!r} is outside the years {YEARS}", param, ctx)
        return parsed


DATE = _Date()
TEMPLATES_OPTION = click.option(
    "--templates", "template_dirs", multiple=True, type=click.Path(path_type=Path),
    envvar="MAPSHEETS_TEMPLATES",
    help="Extra folder of templates (repeatable; env MAPSHEETS_TEMPLATES, ':'-separated).")
AS_OF_OPTION = click.option(
    "--as-of", "as_of", type=DATE, default=None, envvar="MAPSHEETS_TODAY",
    help="Judge overdue steps and the projected close as of this date (default: today).")


def today_of(as_of: date | None) -> date:
    return as_of or date.today()


def record_write(plan: str, kind: str, detail: dict | None = None, *, store_url: str | None = None) -> None:
    """The write into the plan's audit log; a queued entry is said in one warning (an entry that
    could not even be queued is the command's error, after the write it reports)."""
    from mapsheets.service.revisions import record_write as record

    note = record(plan, kind, detail, store_url=store_url)
    if note:
        click.echo(f"warning: {note}", err=True)


def print_json(data) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


@click.group(cls=_Cli, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="mapsheets")
def cli():
    """Build and keep Mutual Action Plans as shared spreadsheets.

    A PLAN is a local .xlsx file, a Google Sheets URL or a spreadsheet ID.
    """


def run(prog_name: str | None = None) -> None:
    """The ``mapsheets`` script: the command, then out without the interpreter's own teardown.

    Tearing down every module of SQLAlchemy and openpyxl took about 90 ms after a command had
    finished (a sixth of `mapsheets new`). Exit handlers (the state store's, logging's, temporary
    files') still run and output is flushed; with another thread still running, the normal exit.
    """
    import atexit
    import os
    import threading

    try:
        cli.main(prog_name=prog_name)
        code: object = 0
    except SystemExit as exc:
        code = exc.code
    if not isinstance(code, int):
        if code is not None:
            print(code, file=sys.stderr)
        code = 0 if code is None else 1
    if threading.active_count() > 1:
        sys.exit(code)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`| head`): nothing more can be said
            pass
    os._exit(code)


FORCE_WRITE_OPTION = click.option(
    "--force", is_flag=True,
    help="Write a local .xlsx plan even while Excel or LibreOffice has it open (their next save drops this change).")
DB_OPTION = click.option("--db", "db_url", envvar="MAPSHEETS_DB", metavar="URL",
                         help="State store (SQLAlchemy URL; env MAPSHEETS_DB; default: a per-user SQLite file).")


def MAIL_OPTIONS(command):
    """--outbox, --smtp and --from, for every command that sends mail (digest, close)."""
    for option in reversed((
        click.option("--outbox", type=click.Path(path_type=Path, file_okay=False), envvar="MAPSHEETS_OUTBOX",
                     help="Folder for .eml files when MAPSHEETS_SMTP_URL is not set "
                          "(default: beside the state store)."),
        click.option("--smtp", "smtp_url", envvar="MAPSHEETS_SMTP_URL", metavar="URL",
                     help="smtp://user:pass@host:587 (STARTTLS) or smtps://...:465 (env MAPSHEETS_SMTP_URL)."),
        click.option("--from", "sender", envvar="MAPSHEETS_MAIL_FROM", default=DEFAULT_SENDER,
                     show_default=True, help="Sender address (env MAPSHEETS_MAIL_FROM)."),
    )):
        command = option(command)
    return command
