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
