"""What the Sheets add-on does, as service calls: a server passes who is asking (an email it has
verified), the Google credentials of that request and its one store; nothing is read from the
environment here. Each call is one request scope: the plan is read once, checked, then written.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING, Any

from mapsheets.adapters.gcreds import GoogleCredentials
from mapsheets.core.diff import Change, diff
from mapsheets.core.diff import summary as change_summary
from mapsheets.core.model import Plan
from mapsheets.core.vocabulary import DIGEST_EVERY
from mapsheets.errors import MapsheetsError, NoPlan, NotFound, PlanBusy, PlanOpen, UsageError
from mapsheets.service.addon_cache import PLANS, Reading
from mapsheets.service.audience import sees_forecast
from mapsheets.service.audit_log import lost_warning
from mapsheets.service.signers import Member, member, require_member
from mapsheets.service.workbooks import google_id, open_workbook, read_parsed, request_scope

if TYPE_CHECKING:
    from mapsheets.analysis.forecast import Forecast
    from mapsheets.core.parse_tables import Warning as ReadWarning
    from mapsheets.service.plans import PlanView
    from mapsheets.service.revisions import Snapshot

EVERY = DIGEST_EVERY  # the old name


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
def writing(ref: str) -> Iterator[None]:
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


def read_now(ref: str):
    """(book, grid, parsed) of the plan as it reads now; grid and parsed are shared: do not change them."""
    book = open_workbook(ref)
    reading = _reading(book, ref)
    return book, reading.grid, reading.parsed


def require_caller(plan: Plan, caller: Caller, seller_domains: Sequence[str], what: str) -> Member:
    return require_member(plan, caller.email, seller_domains, what)


def audit(store, ref: str, plan: Plan, kind: str, caller: Caller, now: datetime, detail: dict[str, Any]) -> str | None:
    """The caller's write into the audit log; what to tell them if the entry had to be queued."""
    from mapsheets.service.audit_log import log

    return log(store, ref, kind, actor=caller.email, at=now, detail=detail, title=plan.title)


def aware(now: datetime) -> datetime:
    return now if now.tzinfo else now.replace(tzinfo=timezone.utc)


# -- reading ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Standing:
    """The caller as the plan sees them, and their own digest subscription."""

    email: str
    name: str
    on_plan: bool = False
    side: str | None = None
    subscription: str = "off"


@dataclass(frozen=True)
class SinceLastLook:
    """What changed since the caller last looked (``since``: when that was; None on a first look)."""

    first_look: bool
    since: datetime | None = None
    changes: list[Change] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)  # core.diff.summary of the changes


@dataclass(frozen=True)
class Glance:
    """What the sidebar shows on open, from one read. ``view`` None: the sheet reads but holds no
    plan yet (then ``me`` is the caller as signed in, and there is nothing since a last look)."""

    ref: str
    me: Standing
    view: PlanView | None = None
    lost: ReadWarning | None = None  # mapsheets' own last write to the plan is gone (audit log)
    since: SinceLastLook | None = None
    notice: str | None = None  # why this plan's digests are not going out (the cron run cannot open it)
    # The caller's open steps, then the rest of the next ones (``service.step_status.my_steps``).
    my_steps: dict[str, Any] | None = None
    shows_forecast: bool = False  # the caller is on the seller side: the chance to close is theirs to see
    forecast: Forecast | None = None  # None: no history kept


def summary(ref: str, caller: Caller, *, today: date, now: datetime, store: Any, credentials: Any = None,
            seller_domains: Sequence[str] = ()) -> Glance:
    """The plan's state, the caller's standing, and what changed since the caller last looked
    (which this look then becomes). A workbook refused (damaged, past the limits) is its
    PlanFileError, so no surface offers to generate over it."""
    signed_in = Standing(caller.email, caller.name)
    with request_scope(credentials):
        book = open_workbook(ref)
        try:
            reading = _reading(book, ref)
        except NoPlan:
            return Glance(book.ref, signed_in)
        except NotFound:
            if google_id(ref):
                raise
            return Glance(ref, signed_in)  # the generate form takes the AE's name from the sign-in
        # The view depends on the plan and the day only: computed once per version and day.
        view = reading.memo(("view", today), lambda: _view(reading, today, book.ref))
        lost = lost_warning(store, book, reading.parsed)  # not memoized: it depends on the audit log
        since = _changes_since_last_look(store, ref, caller, reading, now)
    from mapsheets.core.my_steps import my_steps

    who = member(reading.parsed.plan, caller.email, seller_domains)
    me = Standing(caller.email, who.name or caller.name, who.on_plan, who.side,
                  _subscription(store, ref, caller.email))
    # My steps are per caller, so not memoized with the plan's view: theirs by email or Team name.
    seller = who.on_plan and sees_forecast(who.side)  # the chance to close: nothing of it reaches anyone else
    return Glance(book.ref, me, view, lost, since, _digest_notice(store, ref),
                  my_steps(reading.parsed.plan, caller.email, who.name), seller,
                  _forecast(store, view) if seller else None)


def _forecast(store: Any, view: PlanView) -> Forecast | None:
    """The chance to close against the history the store keeps; None when none is kept."""
    from mapsheets.service.forecast import plan_forecast, stored_history

    return plan_forecast(view, stored_history(store))


def _view(reading: Reading, today: date, ref: str) -> PlanView:
    from mapsheets.service.plans import view_of

    parsed = reading.parsed
    return view_of(parsed.plan, parsed.warnings, today, ref=ref, parsed=parsed)


def _snapshot(ref: str, reading: Reading) -> Snapshot:
    """The reading as a revision to store (its own copy of the plan: storing may fill it in)."""
    import copy

    from mapsheets.service.revisions import Snapshot, other_tabs

    parsed = reading.parsed
    return Snapshot(copy.deepcopy(parsed.plan), other_tabs(reading.grid, parsed), label=ref,
                    warnings=[w.to_dict() for w in parsed.warnings])


def _changes_since_last_look(store: Any, ref: str, caller: Caller, reading: Reading,
                             now: datetime) -> SinceLastLook:
    """The diff from the revision the caller last looked at to now; now becomes their last look."""
    from mapsheets.adapters.store import canonical_json
    from mapsheets.service.calendars import plan_holidays
    from mapsheets.service.revisions import snapshot_into
    from mapsheets.service.workbooks import canonical_ref

    now = aware(now)
    key = canonical_ref(ref)
    before = store.last_seen.get(key, caller.email)
    content = reading.memo("content_json", lambda: canonical_json(_snapshot(ref, reading).content()))
    if before is not None and before.content_json == content:
        # Nothing new since this person's last look: a read-only answer, no store write.
        return SinceLastLook(False, before.taken_at)
    snap = _snapshot(ref, reading)
    current = snapshot_into(store, ref, now=now, snapshot=(snap, {})).revision
    store.last_seen.set(key, caller.email, current.id, now)
    if before is None:
        return SinceLastLook(True)
    try:
        days_off = plan_holidays(snap.plan)
    except UsageError:
        days_off = frozenset()
    changes = diff(Plan.from_dict(before.content["plan"]), snap.plan, days_off)
    return SinceLastLook(False, before.taken_at, changes, change_summary(changes))


def changes(ref: str, caller: Caller, *, now: datetime, store: Any, credentials: Any = None) -> SinceLastLook:
    """What changed since the caller last looked (one read); this look becomes the last."""
    with request_scope(credentials):
        return _changes_since_last_look(store, ref, caller, _reading(open_workbook(ref), ref), now)


def _digest_notice(store: Any, ref: str) -> str | None:
    """Why this plan's digests are not going out (the scheduled run cannot open it), else None."""
    from mapsheets.service.unreadable import notice
    from mapsheets.service.workbooks import canonical_ref

    return notice(store, canonical_ref(ref))


def _subscription(store, ref: str, email: str) -> str:
    from mapsheets.service.workbooks import canonical_ref

    key = canonical_ref(ref)
    for sub in store.digests.subscriptions(key):
        if sub.email.lower() == email.lower():
            return sub.every
    return "off"


__all__ = ["Caller", "EVERY", "Glance", "GoogleCredentials", "Member", "MapsheetsError", "SinceLastLook", "Standing",
           "changes", "member", "open_store", "summary"]


def open_store(url: str | None = None) -> Any:
    """The store a server keeps for its lifetime: the process's one Store for ``url`` (disposed at exit)."""
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
