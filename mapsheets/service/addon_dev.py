"""The Google Sheets/Drive API test double as a place to try the add-on (`serve --dev
--google-double`): started in this process, the Google backend pointed at it."""

from __future__ import annotations

import atexit
import os


def start_google_double(user: str):
    """The double, running until the process ends, with one blank spreadsheet to generate into;
    this process's Google backend talks to it (MAPSHEETS_GOOGLE_API_ROOT)."""
    from mapsheets.errors import UsageError
    from mapsheets.testing.google_api import GoogleApiDouble
    from mapsheets.testing.google_api.discovery import INSTALL_HINT, missing_documents

    if (why := missing_documents()) is not None:  # it would only drop connections: say so now
        raise UsageError(f"the Google API double cannot start: {why} ({INSTALL_HINT})")
    double = GoogleApiDouble(user=user).start()
    atexit.register(double.stop)
    os.environ["MAPSHEETS_GOOGLE_API_ROOT"] = double.root
    double.create_spreadsheet("Try mapsheets", {"Sheet1": []})
    return double


def spreadsheets(double) -> list[tuple[str, str]]:
    """(ID, title) of every spreadsheet in the double, oldest first."""
    with double.state.lock:
        return [(sid, ss.props.get("title", sid)) for sid, ss in double.state.spreadsheets.items()]


def local_plan(folder: str, sheet: str) -> str:
    """The plan file of spreadsheet ID ``sheet`` in the dev server's plans folder (``sheet`` is
    checked to be an ID: no separators). A link there may lead to another file of the folder
    (written where it points, as any plan); one leading outside the folder is refused, so the
    server reads and writes nothing but its folder."""
    from pathlib import Path

    from mapsheets.errors import PermissionDenied

    path = Path(folder) / f"{sheet}.xlsx"
    if path.is_symlink() and not Path(os.path.realpath(path)).is_relative_to(os.path.realpath(folder)):
        raise PermissionDenied(f"{sheet}.xlsx is a link to a file outside the plans folder: not opened",
                               field="spreadsheet_id")
    return str(path)
