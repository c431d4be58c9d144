"""What the Sheets add-on does, as service calls: a server passes who is asking (an email it has
verified), the Google credentials of that request and its one store; nothing is read from the
environment here. Each call is one request scope: the plan is read once, checked, then written.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING, Any

from mapsheets.adapters.gcreds import GoogleCredentials
from mapsheets.core.diff import diff
from mapsheets.core.diff import summary as change_summary
from mapsheets.core.model import Plan
from mapsheets.errors import MapsheetsError, NoPlan, NotFound, PlanBusy, PlanOpen, UsageError
from mapsheets.service.addon_cache import PLANS, Reading
from mapsheets.service.audience import sees_forecast
from mapsheets.service.audit_log import lost_warning
from mapsheets.service.refs import google_id, open_workbook, read_parsed, request_scope
from mapsheets.service.signers import Member, member, require_member

if TYPE_CHECKING:
    from mapsheets.adapters.store import Store

EVERY = ("daily", "weekly", "off")


@dataclass(frozen=True)
class Caller:
    """Who is asking: an email verified by the surface (an ID token), and a display name."""

    email: str
    name: str = ""


# One writer per plan at a time in this process, so a request's check and its write see the same
# plan; across processes the .xlsx backend's lock and re-read, and Google's appends, keep every write.
_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


@contextmanager
def _writing(ref: str) -> Iterator[None]:
    with _LOCKS_GUARD:
        lock = _LOCKS.setdefault(ref, threading.Lock())
    with lock:
        try:
            yield
        except PlanOpen as exc:  # its own words offer the CLI's --force, which the add-on has not
            raise PlanBusy(f"{exc.path}: is open in {exc.where}: close it there, then try again") from None
        finally:
            if not google_id(ref):
                PLANS.forget(ref)  # written: its identity changed anyway, but say so


def _reading(book, ref: str) -> Reading:
    """The plan as it reads now: a local file's kept reading while the file is unchanged, else one read."""
    if google_id(ref):
        return Reading(*read_parsed(book))
    return PLANS.read(ref, lambda: read_parsed(book))


def _read(ref: str):
    """(book, grid, parsed) of the plan as it reads now; grid and parsed are shared: do not change them."""
    book = open_workbook(ref)
    reading = _reading(book, ref)
    return book, reading.grid, reading.parsed


def _require_member(plan: Plan, caller: Caller, seller_domains: Sequence[str], what: str) -> Member:
    return require_member(plan, caller.email, seller_domains, what)


def _audit(store: Store, ref: str, plan: Plan, kind: str, caller: Caller, now: datetime,
           detail: dict[str, Any]) -> str | None:
    """The caller's write into the audit log; what to tell them if the entry had to be queued."""
    from mapsheets.service.audit_log import log

    return log(store, ref, kind, actor=caller.email, at=now, detail=detail, title=plan.title)


def _aware(now: datetime) -> datetime:
    return now if now.tzinfo else now.replace(tzinfo=timezone.utc)


# -- reading ------------------------------------------------------------------------------------

def summary(ref: str, caller: Caller, *, today: date, now: datetime, store: Store, credentials=None,
            seller_domains: Sequence[str] = ()) -> dict[str, Any]:
    """What the sidebar shows on open, from one read: the plan's state, the caller's standing, and
    what changed since the caller last looked (which this look then becomes). ``{"plan": None}``
    when the sheet reads but holds no plan yet; a workbook refused (damaged, past the limits) is
    its PlanFileError, so no surface offers to generate over it."""
    with request_scope(credentials):
        book = open_workbook(ref)
        try:
            reading = _reading(book, ref)
        except NoPlan:
            return {"plan": None, "ref": book.ref, "me": {"email": caller.email, "name": caller.name}}
        except NotFound:
            if google_id(ref):
                raise
            # "me": the generate form takes the AE's name from the sign-in profile.
            return {"plan": None, "ref": ref, "me": {"email": caller.email, "name": caller.name}}
        # The plan's part depends on the plan and the day only: computed once per version and day.
        shown = reading.memo(("summary", today), lambda: _plan_summary(reading, today, book.ref))
        lost = lost_warning(store, book, reading.parsed)  # not memoized: it depends on the audit log
        if lost is not None:
            shown = {**shown, "warnings": [*shown["warnings"], lost.to_dict()]}
        changed = _changes_since_last_look(store, ref, caller, reading, now)
    who = member(reading.parsed.plan, caller.email, seller_domains)
    from mapsheets.service.step_status import my_steps

    out: dict[str, Any] = {
        "ref": book.ref,
        "notice": _digest_notice(store, ref),
        "plan": shown,
        "me": {"email": caller.email, "on_plan": who.on_plan, "side": who.side, "name": who.name or caller.name,
               "subscription": _subscription(store, ref, caller.email)},
        "changes": changed,
        # Per caller, so not memoized with the plan's part: theirs by email or by their Team name.
        "my_steps": my_steps(reading.parsed.plan, caller.email, who.name),
    }
    if who.on_plan and sees_forecast(who.side):  # nothing of it reaches anyone else
        out["forecast"] = _forecast(store, reading, today, book.ref)
    return out


def _forecast(store: Store, reading: Reading, today: date, ref: str) -> dict[str, Any] | None:
    """The chance to close against the history the store keeps; None when none is kept."""
    from mapsheets.service.forecast import History, plan_forecast
    from mapsheets.service.plans import view_of

    rows = store.history.durations()
    if not rows:
        return None
    parsed = reading.parsed
    found = plan_forecast(view_of(parsed.plan, parsed.warnings, today, ref=ref, parsed=parsed), History.of(rows))
    return None if found is None else {**found.to_dict(), "text": found.sentence()}


def _plan_summary(reading: Reading, today: date, ref: str) -> dict[str, Any]:
    from mapsheets.service.plans import view_of

    parsed = reading.parsed
    view = view_of(parsed.plan, parsed.warnings, today, ref=ref, parsed=parsed)
    plan, health, proj = view.plan, view.health, view.projection
    team = [{"name": p.name, "email": p.email, "side": p.side, "role": p.role} for p in plan.stakeholders]
    return {
        "title": plan.title, "buyer": plan.buyer, "seller": plan.seller,
        "progress": {"done": health.done, "total": health.total, "percent": round(100 * health.progress)},
        "health": health.state,
        "overdue": [{"id": s.id, "title": s.title, "due": _iso(s.due), "days": d} for s, d in health.overdue],
        "due_soon": [{"id": s.id, "title": s.title, "due": _iso(s.due)} for s in health.due_soon],
        "target_close": _iso(plan.target_close), "projected_close": _iso(proj.close),
        "slip_days": proj.slip,
        "phases": list(dict.fromkeys(s.phase for s in plan.steps if s.phase)),
        "next_phase": _next_phase(plan),
        "steps": [{"id": s.id, "title": s.title, "status": s.status, "due": _iso(s.due)} for s in plan.steps],
        "team": team,
        "signatures": [s.to_dict(plan.signature_status(s)) for s in plan.signatures],
        "fingerprint": plan.fingerprint(), "step_count": len(plan.steps),
        "warnings": [w.to_dict() for w in view.warnings],
    }


def _next_phase(plan) -> str:
    """The phase of the next open step (earliest due, then sheet order): where a new step most likely goes."""
    open_steps = [(s.due or date.max, i, s.phase) for i, s in enumerate(plan.steps) if s.is_open and s.phase]
    return min(open_steps)[2] if open_steps else ""


def _snapshot(ref: str, reading: Reading):
    """The reading as a revision to store (its own copy of the plan: storing may fill it in)."""
    import copy

    from mapsheets.service.revisions import Snapshot, other_tabs

    parsed = reading.parsed
    return Snapshot(copy.deepcopy(parsed.plan), other_tabs(reading.grid, parsed), label=ref,
                    warnings=[w.to_dict() for w in parsed.warnings])


def _changes_since_last_look(store: Store, ref: str, caller: Caller, reading: Reading, now: datetime) -> dict[str, Any]:
    """The diff from the revision the caller last looked at to now; now becomes their last look."""
    from mapsheets.adapters.store import canonical_json
    from mapsheets.service.calendars import plan_holidays
    from mapsheets.service.revisions import canonical_ref, snapshot_into

    now = _aware(now)
    key = canonical_ref(ref)
    before = store.last_seen.get(key, caller.email)
    content = reading.memo("content_json", lambda: canonical_json(_snapshot(ref, reading).content()))
    if before is not None and before.content_json == content:
        # Nothing new since this person's last look: a read-only answer, no store write.
        return {"first_look": False, "since": before.taken_at.isoformat(), "changes": [], "text": [], "summary": {}}
    snap = _snapshot(ref, reading)
    current = snapshot_into(store, ref, now=now, snapshot=(snap, {})).revision
    store.last_seen.set(key, caller.email, current.id, now)
    if before is None:
        return {"first_look": True, "since": None, "changes": [], "text": [], "summary": {}}
    try:
        days_off = plan_holidays(snap.plan)
    except UsageError:
        days_off = frozenset()
    changes = diff(Plan.from_dict(before.content["plan"]), snap.plan, days_off)
    return {"first_look": False, "since": before.taken_at.isoformat(), "changes": [c.to_dict() for c in changes],
            "text": [c.describe() for c in changes], "summary": change_summary(changes)}


def changes(ref: str, caller: Caller, *, now: datetime, store: Store, credentials=None) -> dict[str, Any]:
    """What changed since the caller last looked (one read); this look becomes the last."""
    with request_scope(credentials):
        return _changes_since_last_look(store, ref, caller, _reading(open_workbook(ref), ref), now)


def _digest_notice(store: Store, ref: str) -> str | None:
    """Why this plan's digests are not going out (the scheduled run cannot open it), else None."""
    from mapsheets.service.revisions import canonical_ref
    from mapsheets.service.unreadable import notice

    return notice(store, canonical_ref(ref))


def _subscription(store: Store, ref: str, email: str) -> str:
    from mapsheets.service.revisions import canonical_ref

    key = canonical_ref(ref)
    for sub in store.digests.subscriptions(key):
        if sub.email.lower() == email.lower():
            return sub.every
    return "off"


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


__all__ = ["Caller", "EVERY", "GoogleCredentials", "Member", "MapsheetsError", "changes", "member", "open_store",
           "summary"]


def open_store(url: str | None = None) -> Store:
    """The store a server keeps for its lifetime: the process's one Store for ``url`` (disposed at exit).
    The server's one way to it: surfaces import the service, never the adapter."""
    from mapsheets.adapters.store import open_store as store_at

    return store_at(url)


def sheet_grid(ref: str, credentials=None) -> dict[str, list[list[Any]]]:
    """Every tab's values as text, for a spreadsheet-like view (empty: no such file yet)."""
    try:
        grid = open_workbook(ref, credentials).read_grid()
    except NotFound:
        return {}
    def text(v: Any) -> str:
        if v is None:
            return ""
        return v.date().isoformat() if isinstance(v, datetime) and not (v.hour or v.minute) else str(v)

    # Google leaves trailing empty cells out of a row: pad every row to the tab's width, like a grid.
    return {tab: [[text(v) for v in row] + [""] * (max(map(len, rows), default=0) - len(row)) for row in rows]
            for tab, rows in grid.items()}


def template_names(template_dirs: Sequence = ()) -> list[str]:
    """The templates "Generate MAP" offers: mutual plans first (the button makes a MAP), then the rest."""
    from mapsheets.service.plans import list_templates

    return [t.name for t in sorted(list_templates(template_dirs), key=lambda t: (t.kind != "mutual", t.name))]
