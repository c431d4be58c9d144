"""A faithful in-process test double for the Google Sheets v4 and Drive v3 REST APIs.

    from mapsheets.testing.google_api import GoogleApiDouble
    with GoogleApiDouble() as g:
        session = rebasing_session(g.root)  # gspread / requests talk to the double
"""
from .client import rebase_url, rebasing_session
from .double import GoogleApiDouble
from .errors import ApiError

__all__ = ["GoogleApiDouble", "ApiError", "rebasing_session", "rebase_url"]
