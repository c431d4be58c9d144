"""The words every surface shares: the one place a side, a status, a digest period or a sheet ID is defined.

The CLI's choices, the add-on's forms and checks, the store and the core all import these, so a
new status or period is added here once and every surface offers it.
"""

from __future__ import annotations

import re

PLAN_KINDS = ("closing", "mutual")  # a template's and a plan's kind
SIDES = ("buyer", "seller", "joint")
PERSON_SIDES = ("buyer", "seller")  # a person (a signer, a team member) is on one side, never "joint"
STATUSES = ("not started", "in progress", "done", "blocked", "n/a")
OPEN_STATUSES = ("not started", "in progress", "blocked")

DIGEST_PERIODS = {"daily": 1, "weekly": 7}  # digest period -> days between digests
DIGEST_EVERY = (*DIGEST_PERIODS, "off")  # what a person may choose for their own digest
# Digests go out with the first run at or after this local hour: a cron every 10 minutes sends
# each daily digest at the same time of day, not drifting by the minutes a run takes.
DIGEST_HOUR = 7
DEFAULT_SENDER = "mapsheets <mapsheets@localhost>"

# A spreadsheet key as the add-on takes it (a Google ID, or a dev plan's file name): bounded, so a
# hostile request cannot hand the double or a path a megabyte.
SHEET_ID = re.compile(r"^[A-Za-z0-9_-]{1,200}$")
SHEETS_URL = re.compile(r"^https://docs\.google\.com/spreadsheets/d/([A-Za-z0-9_-]+)")
# A bare argument is taken for a Google ID, not a file name, from this length (Google's are 44).
GOOGLE_ID_MIN_LENGTH = 25

# Dates typed anywhere (a cell, an option, a form) must fall in these years: others are typos.
FIRST_YEAR, LAST_YEAR = 1950, 2200
YEARS = f"{FIRST_YEAR}–{LAST_YEAR}"

# The one email pattern. Deliberately loose (no quoting rules): a mailbox, an @ and a domain with a
# dot in it. It runs in time linear in the text (issue 17): a match starts only where a run of
# mailbox characters starts.
EMAIL = re.compile(r"(?<![^@\s<>,;\"()])[^@\s<>,;\"()]+@[^@\s<>,;\"()]+\.[A-Za-z0-9-]{2,}")


def looks_like_google_id(text: str) -> bool:
    """Whether a bare argument is a Google spreadsheet ID rather than a file name."""
    return len(text) >= GOOGLE_ID_MIN_LENGTH and SHEET_ID.match(text) is not None


def in_years(day_year: int) -> bool:
    """Whether a year is one a plan's dates may fall in."""
    return FIRST_YEAR <= day_year <= LAST_YEAR
