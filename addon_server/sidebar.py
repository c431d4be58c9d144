"""HTML: the sidebar (served directly, or inlined for Apps Script's HtmlService) and the dev page."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from addon_server.dev import DEV_TOKEN, double_of, local_plan, spreadsheets
from mapsheets.core.vocabulary import SHEET_ID
from mapsheets.errors import PermissionDenied
from mapsheets.service import addon

bp = Blueprint("sidebar", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static")
STATIC = Path(__file__).parent / "static"


def _templates() -> list[str]:
    from mapsheets.service.addon import template_names

    return template_names(current_app.config["MAPSHEETS"]["TEMPLATES"])


@bp.get("/")
def index() -> ResponseReturnValue:
    if current_app.config["MAPSHEETS"]["DEV"]:
        return redirect(url_for("sidebar.dev"))
    return redirect(url_for("sidebar.sidebar"))


@bp.get("/sidebar")
def sidebar() -> ResponseReturnValue:
    """The sidebar as the backend serves it: its script and style as files (CSP: own files only)."""
    config = current_app.config["MAPSHEETS"]
    token = DEV_TOKEN if config["DEV"] and double_of(current_app) else ""
    return render_template("sidebar.html", templates=_templates(), embed=False, dev=config["DEV"],
                           sheet=request.args.get("sheet", ""), user=request.args.get("user", ""), token=token)


@bp.get("/sidebar/embed")
def sidebar_embed() -> ResponseReturnValue:
    """The sidebar for Apps Script (Code.gs fetches it into HtmlService): script and style inline,
    since Google's sandbox cannot load them from here; it talks through google.script.run."""
    return render_template("sidebar.html", templates=_templates(), embed=True, dev=False, sheet="", user="",
                           script=(STATIC / "sidebar.js").read_text(encoding="utf-8"),
                           style=(STATIC / "sidebar.css").read_text(encoding="utf-8"))


@bp.get("/dev")
def dev() -> ResponseReturnValue:
    """A spreadsheet-like view of a plan beside the sidebar, to try the add-on without Google: a
    local .xlsx from the plans folder, or a sheet in the Google API double (--google-double)."""
    config = current_app.config["MAPSHEETS"]
    double = double_of(current_app)
    if not config["DEV"] or not (config["PLANS_DIR"] or double):
        abort(404)
    if double:
        plans = spreadsheets(double)
    else:
        plans = [(p.stem, p.stem) for p in sorted(Path(config["PLANS_DIR"]).glob("*.xlsx")) if SHEET_ID.match(p.stem)]
    sheet = request.args.get("sheet") or (plans[0][0] if plans else "new-plan")
    if not SHEET_ID.match(sheet):
        abort(400)
    user = request.args.get("user", "ae@globex.example")
    return render_template("dev.html", plans=plans, sheet=sheet, user=user, google=bool(double))


@bp.get("/dev/grid")
def dev_grid() -> ResponseReturnValue:
    config = current_app.config["MAPSHEETS"]
    double = double_of(current_app)
    sheet = request.args.get("sheet", "")
    if not config["DEV"] or not (config["PLANS_DIR"] or double) or not SHEET_ID.match(sheet):
        abort(404)
    if double:
        grid = addon.sheet_grid(sheet, credentials=addon.GoogleCredentials.access_token(DEV_TOKEN))
    else:
        try:
            grid = addon.sheet_grid(local_plan(config["PLANS_DIR"], sheet))
        except PermissionDenied:
            abort(403)
    tab = request.args.get("tab") or next(iter(grid), "")
    title = dict(spreadsheets(double)).get(sheet, sheet) if double else f"{sheet}.xlsx"
    return render_template("grid.html", grid=grid, tab=tab, sheet=sheet, title=title)
