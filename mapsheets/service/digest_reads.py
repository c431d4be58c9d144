"""A digest run's read of one plan: Drive's word on which Google plans changed, then a snapshot of
each plan the backend does not vouch for as unchanged (the Changes tab's rows and the step IDs
filled in come with it). What the read did is returned, never counted into the run's report here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from mapsheets.errors import NotFound
from mapsheets.service.attribution import OwnWrites
from mapsheets.service.changes_tab import changes_upkeep, fill_ids
from mapsheets.service.revisions import read_snapshot, snapshot_into
from mapsheets.service.workbooks import google_id, open_workbook

if TYPE_CHECKING:
    from mapsheets.adapters.store import RevisionRecord, Store


@dataclass
class Said:
    """Notes and warnings about one plan (``changes_tab`` writes into it, maybe from a worker's
    callback later in the run); the run's report takes them once its writes are done."""

    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Unsaved:
    """The live plan under --dry-run, shaped like a stored revision but never stored."""

    content: dict[str, Any]
    taken_at: datetime
    source: dict[str, Any]
    id: int = -1


@dataclass(frozen=True)
class PlanRead:
    """One plan as a digest run found it."""

    latest: RevisionRecord | Unsaved  # the revision digests are built from
    book: OwnWrites  # the plan's workbook, remembering our own writes to it
    source: dict[str, Any]  # the backend's version, as read (or after our own ID fill-in)
    changes_rows: list[list[Any]] | None  # the Changes tab as read; None: not read this run
    upkeep: dict[str, dict[tuple[int, int], Any]]  # cells the Changes write also sets
    unchanged: bool = False  # not read at all: the backend said nothing changed
    snapshots: int = 0  # new revisions stored (under dry_run: that a real run would store)


def changed_google_ids(refs: list[str], seen: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]] | None:
    """Google plans modified since we last looked, from one Drive files.list (paged), not N opens.

    Returns sheet ID -> its new source (as ``GoogleWorkbook.revision()`` gives it), or None when
    some plan was never seen and all must be read.
    """
    known = [seen[r]["modified_time"] for r in refs if r in seen and seen[r].get("modified_time")]
    if not refs or len(known) < len(refs):
        return None  # some plan was never seen: read them all this once
    from mapsheets.adapters.gsheets import GoogleWorkbook, find_plans

    files = find_plans(GoogleWorkbook.from_env(None).client, modified_after=min(known))
    return {f["id"]: {"modified_time": f.get("modifiedTime"), "version": f.get("version"),
                      "modified_by": (f.get("lastModifyingUser") or {}).get("emailAddress")}
            for f in files if f.get("modifiedTime") != seen.get(f["id"], {}).get("modified_time")}


def read_plan(store: Store, ref: str, seen: dict[str, dict[str, Any]],
              changed_google: dict[str, dict[str, Any]] | None, now: datetime, said: Said, *, dry_run: bool,
              stored: RevisionRecord | None = None) -> PlanRead:
    """A snapshot of ``ref`` first, unless the backend says nothing changed (then its latest stored
    revision, ``stored`` when the caller has it). Under dry_run the live plan is read but nothing is
    stored. Notes about the ID fill-in go to ``said``."""
    sheet_id = google_id(ref)
    book = OwnWrites(open_workbook(ref))
    if sheet_id is not None and changed_google is not None and ref in seen:
        unchanged = sheet_id not in changed_google
        source = seen[ref] if unchanged else changed_google[sheet_id]
    else:
        source = book.revision()
        unchanged = seen.get(ref) == source
    if unchanged:
        return PlanRead(stored or store.revisions.get(ref, "latest"), book, source, None, {}, unchanged=True)
    snap = read_snapshot(ref, book=book, source=source)
    live = snap[0]
    if dry_run:
        try:
            before: dict[str, Any] | None = store.revisions.get(ref, "latest").content
        except NotFound:
            before = None
        return PlanRead(Unsaved(content=live.content(), taken_at=now, source=source), book, source, None, {},
                        snapshots=int(before != live.content()))  # counted as a real run would store it
    result = snapshot_into(store, ref, now=now, snapshot=snap, origin="digest")
    source = fill_ids(store, ref, book, result.snapshot, source, now, said)
    return PlanRead(result.revision, book, source, live.changes_rows, changes_upkeep(result.snapshot, now.date()),
                    snapshots=int(result.created))
