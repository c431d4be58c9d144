"""Signing a plan (both sides, not legally binding) and sharing it with the buying committee."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timezone

from mapsheets.core.layout import SIGNOFF_COLUMNS, SIGNOFF_TAB, signature_cells
from mapsheets.core.model import Signature
from mapsheets.core.upkeep import parsed_upkeep
from mapsheets.errors import PlanFileError, UsageError
from mapsheets.service.refs import open_workbook, read_parsed

_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


def check_email(email: str, field: str = "--email") -> str:
    email = email.strip()
    if not _EMAIL.match(email):
        raise UsageError(f"{field} {email!r} is not an email address")
    return email


def sign(ref: str, *, name: str, email: str, side: str, now: datetime, store_url: str | None = None,
         record: bool = False) -> Signature:
    """Add a signature for the plan as it reads now: one read and one write.

    The same write refreshes every earlier signature's Status, so stale ones show as stale. With
    ``record``, the signature and an audit event also go to the state store, where a row deleted
    from the sheet by hand cannot take them away.
    """
    if side not in ("buyer", "seller"):
        raise UsageError(f"--side {side!r} is not buyer or seller")
    if not name.strip():
        raise UsageError("--name must not be empty")
    email = check_email(email)
    book = open_workbook(ref)
    grid, parsed = read_parsed(book)
    table = parsed.signoff
    if table is None:
        raise PlanFileError(f"{book.ref}: no '{SIGNOFF_TAB}' tab with 'Name' and 'Fingerprint' columns to sign in")
    if now.tzinfo is not None:  # sheets hold naive times: "Signed at" is UTC
        now = now.astimezone(timezone.utc).replace(tzinfo=None)
    signature = Signature(name=name.strip(), email=email, side=side, signed_at=now.replace(microsecond=0),
                          fingerprint=parsed.plan.fingerprint())
    upkeep = parsed_upkeep(parsed)  # earlier signatures' Status, IDs of rows typed without one
    cells = upkeep.pop(table.tab, {})
    fields = [f for f, _label, _w in SIGNOFF_COLUMNS]
    for field, value in zip(fields, signature_cells(signature, parsed.plan)):
        if field in table.columns:
            cells[(table.next_row, table.columns[field])] = value
    book.update_cells(table.tab, cells, also=upkeep)
    if record:
        _record(ref, signature, parsed, grid, now, store_url)
    return signature


def _record(ref: str, signature: Signature, parsed, grid, now: datetime, store_url: str | None) -> None:
    """The signed plan into the store, from what was just read and written: no more requests."""
    from mapsheets.service.revisions import Snapshot, canonical_ref, open_store, other_tabs, snapshot_into

    plan = parsed.plan
    plan.signatures.append(signature)
    aware = now if now.tzinfo else now.replace(tzinfo=timezone.utc)
    store = open_store(store_url)
    snap = Snapshot(plan, other_tabs(grid, parsed), label=ref, warnings=[w.to_dict() for w in parsed.warnings])
    result = snapshot_into(store, ref, now=aware, snapshot=(snap, {}))
    key = canonical_ref(ref)
    store.record_signature(key, name=signature.name, email=signature.email, side=signature.side,
                           signed_at=aware, fingerprint=signature.fingerprint, revision_id=result.revision.id)
    store.log_event("signed", ref=key, actor=signature.email, at=aware,
                    detail={"side": signature.side, "fingerprint": signature.fingerprint, "title": plan.title})


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
