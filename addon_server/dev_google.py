"""`mapsheets serve --dev --google-double`: the add-on against the Google Sheets/Drive API test
double, started in this process, so generate, add step and sign can be tried on a "Google" sheet
without Google. Dev only: the double accepts any bearer token, and the sidebar sends DEV_TOKEN.
"""

from __future__ import annotations

from mapsheets.service.addon_dev import spreadsheets, start_google_double

# What the dev sidebar sends as the caller's Google access token: the double wants one, any will do.
DEV_TOKEN = "dev-double-token"
EXTENSION = "mapsheets_google_double"


def attach(app, *, user: str = "ae@globex.example"):
    """Start the double and show it: the dev page lists its spreadsheets, and spreadsheet IDs in
    requests are the double's, not local files. Returns the double."""
    config = app.config["MAPSHEETS"]
    if not config["DEV"]:
        raise RuntimeError("the Google API double is for dev mode only")
    double = start_google_double(user)
    config["PLANS_DIR"] = ""
    app.extensions[EXTENSION] = double
    return double


def double_of(app):
    """The double this app shows (None: local plans)."""
    return app.extensions.get(EXTENSION)


__all__ = ["DEV_TOKEN", "attach", "double_of", "spreadsheets"]
