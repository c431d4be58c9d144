"""Dev mode's wiring: `mapsheets serve --dev --google-double` runs the add-on against the Google
Sheets/Drive API test double, started in this process, so generate, add step and sign can be tried
on a "Google" sheet without Google; and the dev server's plans folder, where a spreadsheet ID is a
local .xlsx. Dev only: the double accepts any bearer token, and the sidebar sends DEV_TOKEN.
"""

from __future__ import annotations

import atexit
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mapsheets.errors import PermissionDenied, UsageError

if TYPE_CHECKING:
    from flask import Flask

    from mapsheets.testing.google_api import GoogleApiDouble

# What the dev sidebar sends as the caller's Google access token: the double wants one, any will do.
DEV_TOKEN = "dev-double-token"
EXTENSION = "mapsheets_google_double"


def start_google_double(user: str) -> GoogleApiDouble:
    """The double, running until the process ends, with one blank spreadsheet to generate into;
    this process's Google backend talks to it (MAPSHEETS_GOOGLE_API_ROOT)."""
    from mapsheets.testing.google_api import GoogleApiDouble  # the double only when asked for
    from mapsheets.testing.google_api.discovery import INSTALL_HINT, missing_documents

    if (why := missing_documents()) is not None:  # it would only drop connections: say so now
        raise UsageError(f"the Google API double cannot start: {why} ({INSTALL_HINT})")
    double = GoogleApiDouble(user=user).start()
    atexit.register(double.stop)
    os.environ["MAPSHEETS_GOOGLE_API_ROOT"] = double.root
    double.create_spreadsheet("Try mapsheets", {"Sheet1": []})
    return double


def attach(app: Flask, *, user: str = "ae@globex.example") -> GoogleApiDouble:
    """Start the double and show it: the dev page lists its spreadsheets, and spreadsheet IDs in
    requests are the double's, not local files. Returns the double."""
    config = app.config["MAPSHEETS"]
    if not config["DEV"]:
        raise RuntimeError("the Google API double is for dev mode only")
    double = start_google_double(user)
    config["PLANS_DIR"] = ""
    app.extensions[EXTENSION] = double
    return double


def double_of(app: Flask) -> GoogleApiDouble | None:
    """The double this app shows (None: local plans)."""
    double: GoogleApiDouble | None = app.extensions.get(EXTENSION)
    return double


def spreadsheets(double: Any) -> list[tuple[str, str]]:
    """(ID, title) of every spreadsheet in the double, oldest first."""
    with double.state.lock:
        return [(sid, ss.props.get("title", sid)) for sid, ss in double.state.spreadsheets.items()]


def local_plan(folder: str, sheet: str) -> str:
    """The plan file of spreadsheet ID ``sheet`` in the dev server's plans folder (``sheet`` is
    checked to be an ID: no separators). A link there may lead to another file of the folder
    (written where it points, as any plan); one leading outside the folder is refused, so the
    server reads and writes nothing but its folder."""
    path = Path(folder) / f"{sheet}.xlsx"
    if path.is_symlink() and not Path(os.path.realpath(path)).is_relative_to(os.path.realpath(folder)):
        raise PermissionDenied(f"{sheet}.xlsx is a link to a file outside the plans folder: not opened",
                               field="spreadsheet_id")
    return str(path)


__all__ = ["DEV_TOKEN", "attach", "double_of", "local_plan", "spreadsheets", "start_google_double"]
