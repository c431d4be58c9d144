"""The audit log is part of every write: an entry the store cannot take now is never dropped.

A write to the sheet comes first (it is what the person asked for); its entry then goes to the
store, or, when the store cannot take it (a read-only file, a full disk, a server away), into a
queue beside the store (``adapters.store.pending``), and the command says so in one warning. The
next command that logs or lists entries writes the queue into the store first, in order, each
entry once. Only when the queue cannot be written either is the write reported as an error (one
line, exit 1): the sheet holds the change and nothing else remembers who made it.

Why a queue rather than an error every time: a store made read-only for a while (a backup, a
permissions slip) would otherwise turn every add-step into "failed" although the step is in the
sheet, and the entry would still be lost; queued, it reaches the log the moment the store is back.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from mapsheets.errors import MapsheetsError, StoreError

if TYPE_CHECKING:
    from collections.abc import Callable

    from mapsheets.adapters.store import Store

    StoreSource = Store | Callable[[], Store]  # a store, or a function giving it when needed


def log(store: Store, ref: str, kind: str, *, actor: str, detail: dict[str, Any] | None = None,
        at: datetime | None = None, title: str = "") -> str | None:
    """Put one entry in ``ref``'s audit log (the plan registered if new); None when stored, else
    what to tell the person: where it was queued. StoreError, naming both reasons, when it could
    be neither stored nor queued."""
    from mapsheets.service.workbooks import canonical_ref, google_id

    key = canonical_ref(ref)
    entry: dict[str, Any] = {"ref": key, "backend": "google" if google_id(ref) else "xlsx", "title": title,
                             "kind": kind, "actor": actor, "detail": detail or {},
                             "at": (at or datetime.now(UTC)).isoformat()}
    try:
        flush(store)
        _store(store, {**entry, "at": datetime.fromisoformat(entry["at"])})
        return None
    except MapsheetsError as exc:
        reason = str(exc)
    from mapsheets.adapters.store import pending

    where = pending.folder(store)
    try:
        pending.put(where, entry)
    except OSError as exc:
        raise StoreError(f"{ref}: written, but its audit entry ({kind}) was lost: {reason}; "
                         f"nor could it be kept in {where} ({exc.strerror or exc})") from None
    return (f"the audit entry ({kind}) could not be stored ({reason}): kept in {where}, "
            "and written into the store by the next command that can")


def flush(store: Store) -> int:
    """Write queued entries into the store, oldest first (each once, even if two commands do this
    at once); stops at the first the store refuses. Returns how many it wrote."""
    from mapsheets.adapters.store import pending

    written = 0
    for path, entry in pending.entries(pending.folder(store)):
        _store(store, entry, once=True)
        try:
            path.unlink(missing_ok=True)
        except OSError:  # stored: the next flush finds it there and does not add it again
            pass
        written += 1
    return written


def flush_quietly(store: Store) -> None:
    """``flush`` for readers of the log: a store that still cannot take them changes nothing."""
    try:
        flush(store)
    except (MapsheetsError, OSError):
        pass


def _store(store: Store, entry: dict[str, Any], *, once: bool = False) -> None:
    if store.plans.get(entry["ref"]) is None or entry["title"]:
        store.plans.register(entry["ref"], entry["backend"], entry["title"])
    log_event = store.audit.log_once if once else store.audit.log
    log_event(entry["kind"], ref=entry["ref"], actor=entry["actor"], detail=entry["detail"], at=entry["at"])


# -- noticing that our own last write was lost (core.own_writes states the rule) ----------------

def written_version(ref: str) -> dict[str, Any]:
    """What a checked write's audit entry carries: the local file's version right after the write,
    which later reads compare with (nothing for a Google Sheet, edited cell by cell)."""
    from mapsheets.core.own_writes import WRITTEN
    from mapsheets.service.workbooks import google_id, open_workbook

    if google_id(ref):
        return {}
    try:
        return {WRITTEN: open_workbook(ref).revision()}
    except MapsheetsError:
        return {}


def check_own_write(store: StoreSource, ref: str, plan: Any, version: dict[str, Any] | None, *,
                    events: list[Any] | None = None, record: bool = True) -> Any:
    """``core.own_writes.check`` of the plan as just read (``version``: the local file's, None for
    a Google Sheet); with ``record``, a write found in a later version is marked seen, so the check
    ends (best effort: a store that cannot take it checks again next time). ``store`` may be a
    function giving it, called only when needed."""
    from mapsheets.core.own_writes import check
    from mapsheets.service.workbooks import canonical_ref

    if events is None:
        store = store() if callable(store) else store
        flush_quietly(store)
        events = store.audit.events(canonical_ref(ref))
    result = check(plan, events, version)
    if record and result.seen is not None:
        _mark_seen(store, ref, result.seen)
    return result


def _mark_seen(store: StoreSource, ref: str, event_id: int) -> None:
    from mapsheets.core.own_writes import SEEN
    from mapsheets.service.workbooks import canonical_ref

    try:
        store = store() if callable(store) else store
        store.audit.log(SEEN, ref=canonical_ref(ref), actor="mapsheets", detail={"event": event_id})
    except MapsheetsError:
        pass


def lost_write(book: Any, parsed: Any) -> Any | None:
    """``lost_warning`` for a reader with no store at hand (``show``): None when there is no store
    yet (and none is made by a read). A SQLite store is read with sqlite3 alone; SQLAlchemy is
    loaded only to mark a write seen, once per write."""
    import os

    from mapsheets.adapters.store import existing_url, open_store, quick
    from mapsheets.core.own_writes import CHECKED, SEEN, TOLD
    from mapsheets.service.workbooks import canonical_ref

    url = existing_url(os.environ)
    if url is None:
        return None  # never stored anything: nothing to compare with (and no store made by a read)
    events = quick.plan_events(url, canonical_ref(book.ref), (*CHECKED, SEEN, TOLD))
    try:
        return lost_warning(open_store, book, parsed, events=events)
    except MapsheetsError:
        return None


def lost_warning(store: StoreSource, book: Any, parsed: Any, *, events: list[Any] | None = None) -> Any | None:
    """A read warning when mapsheets' own last write to the plan is gone; None when it is not, the
    plan was never logged, or the store cannot be read (the read itself still stands). ``events``:
    the plan's, read already (else from ``store``, or a function giving it)."""
    from mapsheets.core.layout import SIGNOFF_TAB
    from mapsheets.core.own_writes import STEP_ADDED
    from mapsheets.core.parse import ParseWarning
    from mapsheets.service.workbooks import canonical_ref, google_id

    try:
        if events is None:
            store = store() if callable(store) else store
            if store.plans.get(canonical_ref(book.ref)) is None:
                return None
        version = None if google_id(book.ref) else book.revision()
        found = check_own_write(store, book.ref, parsed.plan, version, events=events)
    except MapsheetsError:
        return None
    if found.lost is None:
        return None
    return ParseWarning(parsed.location.tab if found.lost.kind == STEP_ADDED else SIGNOFF_TAB, found.lost.message())
