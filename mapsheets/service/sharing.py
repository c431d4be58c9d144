"""Sharing a plan's Google Sheet with the buying committee (Drive permissions)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone

from mapsheets.service.digest import watch as subscribe
from mapsheets.service.signoff import check_email
from mapsheets.service.workbooks import open_workbook


def share(ref: str, emails: Sequence[str], *, role: str = "writer", message: str | None = None,
          watch: bool = False, store_url: str | None = None) -> list[str]:
    """Give each person access to the plan's Google Sheet: one Drive request per person; with
    ``watch``, each is subscribed to the plan's digest (sharing is when a buyer starts to hear of it)."""
    book = open_workbook(ref)
    checked = [check_email(e, "emails") for e in emails]
    for email in checked:
        book.share(email, role=role, message=message)
    if watch and checked:
        subscribe(ref, checked, now=datetime.now(timezone.utc), store_url=store_url)
    return checked
