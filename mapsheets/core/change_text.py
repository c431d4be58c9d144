"""Changes in the plan's own words: "Security review" slipped 5 business days (…)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from mapsheets.core.labels import OVERVIEW_LABEL, STEP_LABEL
from mapsheets.core.people import owner_key, owner_keys
from mapsheets.core.text import business_days

if TYPE_CHECKING:  # diff.py imports this module to word its changes
    from mapsheets.core.diff import Change


def fold_done_on(changes: Iterable[Change]) -> list[Change]:
    """The changes a reader is told: a "Done on" date filled in alongside "is now done" says
    nothing new, so it folds into that one line (the digest and `diff` both read them so)."""
    changes = list(changes)
    finished = {c.step_id for c in changes if c.kind == "step_changed" and c.field == "status" and c.new == "done"}
    return [c for c in changes if not (c.field == "done_on" and c.step_id in finished and c.old is None)]


def _show(value: Any, limit: int = 60) -> str:
    if value in (None, "", (), []):
        return "(empty)"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    text = value.isoformat() if isinstance(value, (date, datetime)) else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _whose(side: str) -> str:
    return f"{side.capitalize()}'s" if side else "A"


def describe(c: Change) -> str:
    q = f'"{c.title}"'
    ref = f"{c.step_id} {q}"
    if c.kind == "step_added":
        due = c.new.get("due") if isinstance(c.new, dict) else None
        return f"Step added: {ref}" + (f" (due {due})" if due else "")
    if c.kind == "step_removed":
        return f"Step removed: {ref}"
    if c.kind == "step_moved":
        return f"{q} moved from row {c.old} to row {c.new} of the steps table"
    if c.kind == "step_changed":
        return _describe_step_field(c, q, ref)
    if c.kind == "overview_changed":
        return f"{OVERVIEW_LABEL.get(c.field or '', c.field or '')} changed: {_show(c.old)} → {_show(c.new)}"
    who = f"{c.title}" + (f" ({c.side})" if c.side else "")
    if c.kind == "stakeholder_added":
        return f"{who} joined the team"
    if c.kind == "stakeholder_removed":
        return f"{who} left the team"
    if c.kind == "stakeholder_changed":
        return f"{(c.field or '').capitalize()} of {c.title} changed: {_show(c.old)} → {_show(c.new)}"
    signer = f"{_whose(c.side)} signature ({c.title})"
    if c.kind == "signature_added":
        how = f", {c.how}" if c.how else ""
        return f"{_whose(c.side)} signature ({c.title}{how}) added" + (" (signed again)" if c.old else "")
    if c.kind == "signature_stale":
        return f"{signer} is stale: the plan changed after signing"
    if c.kind == "signature_removed":
        return f"{signer} removed"
    return f"{c.kind} {c.step_id or ''} {c.field or ''}".strip()


def _describe_step_field(c: Change, q: str, ref: str) -> str:
    if c.field == "due":
        if c.slip_days:
            verb = "slipped" if c.slip_days > 0 else "was pulled in"
            return f"{q} {verb} {business_days(abs(c.slip_days))} ({_show(c.old)} → {_show(c.new)})"
        if c.new is None:
            return f"{q} no longer has a due date (was {_show(c.old)})"
        return f"{q} is now due {_show(c.new)}" + (f" (was {_show(c.old)})" if c.old is not None else "")
    if c.field == "status":
        return f"{q} is now {c.new}" + ("" if c.new == "done" else f" (was {_show(c.old)})")
    if c.field == "owners":
        olds, news = list(c.old or ()), list(c.new or ())
        gone = [o for o in olds if owner_key(o) not in owner_keys(news)]
        came = [n for n in news if owner_key(n) not in owner_keys(olds)]
        if len(gone) == 1 and len(came) == 1:
            return f"Owner of {ref} changed: {gone[0]} → {came[0]}"
        parts = ([f"added {', '.join(came)}"] if came else []) + ([f"removed {', '.join(gone)}"] if gone else [])
        return f"Owners of {ref} changed: " + "; ".join(parts)
    if c.field == "id":
        return f"{q} has a new ID: {c.old} → {c.new}"
    if c.field == "title":
        return f'{c.step_id} renamed: "{c.old}" → "{c.new}"'
    if c.field == "done_on":
        if c.new is None:
            return f"{q} no longer has a done date (was {_show(c.old)})"
        return f"{q} done on {_show(c.new)}" + (f" (was {_show(c.old)})" if c.old is not None else "")
    label = c.field[6:] if c.field and c.field.startswith("extra:") else STEP_LABEL.get(c.field or "", c.field or "")
    return f"{label} of {ref} changed: {_show(c.old)} → {_show(c.new)}"
