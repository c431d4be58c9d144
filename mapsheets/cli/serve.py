"""`mapsheets serve`: the Google Sheets add-on backend, locally (production runs it under gunicorn)."""

from __future__ import annotations

from pathlib import Path

import click

from mapsheets.cli.base import DB_OPTION, cli


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
@click.option("--dev", is_flag=True, envvar="MAPSHEETS_ADDON_DEV",
              help="Try the add-on without Google: a page with a local plan beside the sidebar; "
                   "a header names the user (loopback only).")
@click.option("--plans", "plans_dir", type=click.Path(file_okay=False, path_type=Path), default="mapsheets-plans",
              envvar="MAPSHEETS_ADDON_PLANS_DIR", show_default=True,
              help="With --dev: folder of local plans (spreadsheet ID X is X.xlsx).")
@click.option("--google-double", is_flag=True,
              help="With --dev: plans in the Google Sheets API test double, started in this process, "
                   "instead of local files.")
@DB_OPTION
def serve(host, port, dev, plans_dir, google_double, db_url):
    """Run the add-on backend (the sidebar and its JSON API).

    Without --dev it needs MAPSHEETS_ADDON_CLIENT_ID, the Apps Script project's OAuth client ID.

    Example: mapsheets serve --dev   (then open http://127.0.0.1:8080/dev)

    Example: mapsheets serve --dev --google-double   (the same on a sheet in the Google API double)
    """
    from addon_server import create_app, run_locally
    from mapsheets.errors import UsageError

    if google_double and not dev:
        raise UsageError("--google-double needs --dev")
    overrides = {"DEV": dev, "HOST": host}
    if db_url:
        overrides["DB"] = db_url
    if dev and not google_double:
        overrides["PLANS_DIR"] = str(plans_dir.resolve())
    app = create_app(overrides)  # refuses, with the reason, before anything is made
    if google_double:
        from addon_server.dev import attach

        attach(app)
    elif dev:
        plans_dir.mkdir(parents=True, exist_ok=True)
    shown = f"http://{host}:{port}/{'dev' if dev else 'sidebar'}"
    click.echo(f"Serving the mapsheets add-on on {shown} (Ctrl-C stops)", err=True)
    run_locally(app, host, port)
