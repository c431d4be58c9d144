"""Signing a plan (both sides, not legally binding) and sharing it with the buying committee."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timezone

from mapsheets.core.layout import SIGNOFF_COLUMNS, SIGNOFF_TAB, signature_cells
from mapsheets.core.model import Signature
from mapsheets.core.parse import parse_plan
from mapsheets.errors import PlanFileError, UsageError
from mapsheets.service.refs import open_workbook

_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


def check_email(email: str, field: str = "--email") -> str:
    email = email.strip()
    if not _EMAIL.match(email):
        raise UsageError(f"{field} {email!r} is not an email address")
    return email


def sign(ref: str, *, name: str, email: str, side: str, now: datetime) -> Signature:
    """Add a signature for the plan as it reads now: one read and one write.

    The same write refreshes every earlier signature's Status, so stale ones show as stale.
    """
    if side not in ("buyer", "seller"):
        raise UsageError(f"--side {side!r} is not buyer or seller")
    if not name.strip():
        raise UsageError("--name must not be empty")
    email = check_email(email)
    book = open_workbook(ref)
    grid = book.read_grid()
    parsed = parse_plan(grid)
    tab = next((t for t in grid if t.strip().lower() == SIGNOFF_TAB.lower()), None)
    if tab is None:
        raise PlanFileError(f"{book.ref}: no '{SIGNOFF_TAB}' tab to sign in")
    rows = grid[tab]
    header = next((r for r, row in enumerate(rows) if any(str(v or "").strip().lower() == "fingerprint" for v in row)), None)
    if header is None:
        raise PlanFileError(f"{book.ref}: the '{SIGNOFF_TAB}' tab has no 'Fingerprint' column")
    fingerprint = parsed.plan.fingerprint()
    if now.tzinfo is not None:  # sheets hold naive times: "Signed at" is UTC
        now = now.astimezone(timezone.utc).replace(tzinfo=None)
    signature = Signature(name=name.strip(), email=email, side=side, signed_at=now.replace(microsecond=0),
                          fingerprint=fingerprint)
    labels = [label for _a, label, _w in SIGNOFF_COLUMNS]
    columns = {str(v).strip(): c for c, v in enumerate(rows[header]) if v}
    status_col = columns.get("Status")
    cells = {}
    filled = [r for r in range(header + 1, len(rows)) if any(str(v or "").strip() for v in rows[r])]
    for r, old in zip(filled, parsed.plan.signatures):
        if status_col is not None:
            cells[(r, status_col)] = "valid" if old.fingerprint == fingerprint else "stale"
    next_row = (filled[-1] + 1) if filled else header + 1
    for label, value in zip(labels, signature_cells(signature, fingerprint)):
        if label in columns:
            cells[(next_row, columns[label])] = value
    book.update_cells(tab, cells)
    return signature


def share(ref: str, emails: Sequence[str], *, role: str = "writer", message: str | None = None) -> list[str]:
    """Give each person access to the plan's Google Sheet: one Drive request per person."""
    book = open_workbook(ref)
    if getattr(book, "kind", "") != "google":
        raise UsageError(f"{ref}: sharing needs a Google Sheet (a local .xlsx is shared by sending the file)")
    checked = [check_email(e, "--with") for e in emails]
    for email in checked:
        book.share(email, role=role, message=message)
    return checked


def find_plans(name_contains: str = "", modified_after: str | None = None) -> list[dict]:
    """Google Sheets this account can see through mapsheets (Drive query), newest first."""
    from mapsheets.adapters.gsheets import GoogleWorkbook, find_plans as drive_find

    return drive_find(GoogleWorkbook.from_env(None).client, name_contains, modified_after)


def login(client_secrets: str, env) -> str:
    """Run Google's OAuth consent for a user and keep the token for later commands."""
    from pathlib import Path

    from mapsheets.adapters.gsheets import login as google_login

    return str(google_login(Path(client_secrets), env))
