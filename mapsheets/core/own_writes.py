"""Did mapsheets' own last write survive? Another program that loaded the plan before our save and
saves after it (and leaves no lock file) silently drops what we wrote; the audit log says what
that was, so a later read can notice.

The rule, one for every surface (``show``, the sidebar, the seller's digest):
- only the plan's LAST checkable write is checked: a step mapsheets added, a signature it recorded;
- it is lost when a read of the plan no longer has it (the step's ID, the signer's email with that
  fingerprint);
- the check ends (the write is "seen") when a read finds it in a version of the file other than
  the one our write left: someone saved after us and kept it, so a later removal is a person's
  edit, reported as an ordinary change, never as a loss. A Google Sheet is edited cell by cell, not
  saved whole: there the first read that finds it ends the check;
- a seller's digest says a loss once (``TOLD``); ``show`` and the sidebar say it while it stands.
A person who deletes the step before anyone else saved the file is told "probably overwritten":
from the file alone the two cannot be told apart.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mapsheets.core.model import Plan

STEP_ADDED, SIGNED = "step added", "signed"  # the audit events of the writes checked
SEEN = "own_write_seen"  # audit event: a later version of the plan still had it (detail: event)
TOLD = "own_write_lost"  # audit event: a seller's digest said it was lost (detail: event)
CHECKED = (STEP_ADDED, SIGNED)
WRITTEN = "written"  # detail key of a checked write: the file's version right after it


@dataclass(frozen=True)
class Lost:
    """Our last write, missing from the plan as read."""

    event_id: int
    kind: str  # STEP_ADDED | SIGNED
    what: str  # "the step 'Security review'", "the signature of jane@acme.example"
    verb: str  # added | recorded
    at: datetime
    by: str

    def message(self) -> str:
        return (f"{self.what} {self.verb} on {self.at:%Y-%m-%d %H:%M} UTC by {self.by} is no longer in the "
                "sheet: it was probably overwritten by another program's save")


@dataclass(frozen=True)
class Check:
    lost: Lost | None = None
    seen: int | None = None  # the event a read just found in a later version: record SEEN for it
    told: bool = False  # a digest said this loss already


def check(plan: Plan, events: Iterable[Any], version: Mapping[str, Any] | None = None) -> Check:
    """What the plan as read says of the last checkable write in ``events`` (oldest first, as the
    store lists them). ``version``: the file's version just read (None: a Google Sheet)."""
    events = list(events)
    last = next((e for e in reversed(events) if e.kind in CHECKED), None)
    if last is None:
        return Check()
    after = {e.kind for e in events if e.kind in (SEEN, TOLD) and e.detail.get("event") == last.id}
    if SEEN in after:
        return Check()
    if _present(plan, last):
        written = last.detail.get(WRITTEN)
        later = version is None or not written or dict(version) != written
        return Check(seen=last.id if later else None)
    if last.kind == STEP_ADDED:
        what, verb = f"the step '{last.detail.get('title', '')}'", "added"
    else:
        what, verb = f"the signature of {last.actor}", "recorded"
    return Check(lost=Lost(last.id, last.kind, what, verb, last.at, last.actor), told=TOLD in after)


def _present(plan: Plan, event: Any) -> bool:
    if event.kind == STEP_ADDED:
        return str(event.detail.get("id", "")) in plan.step_ids
    email, fingerprint = event.actor.strip().casefold(), event.detail.get("fingerprint")
    return any(s.email.strip().casefold() == email and s.fingerprint == fingerprint for s in plan.signatures)
