"""A faithful in-process test double for the Google Sheets v4 and Drive v3 REST APIs.

    from mapsheets.testing.google_api import GoogleApiDouble
    with GoogleApiDouble() as g:
        ...  # point MAPSHEETS_GOOGLE_API_ROOT (or any client's base URL) at g.root

It imports nothing of mapsheets.adapters: the double does not depend on the code it tests.
"""
from .double import GoogleApiDouble
from .errors import ApiError

__all__ = ["GoogleApiDouble", "ApiError"]
