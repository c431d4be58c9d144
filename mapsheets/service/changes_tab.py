"""What a digest run writes into the plan itself: the IDs of rows typed without one, and the
Changes tab (what changed, who did it, which revisions it covers). Both are best effort: a sheet
that cannot be written is a note in the run's report, and the digest still goes out. A local file
that could not be saved (a full disk, a folder not writable) is a warning instead: said even when
the run is otherwise quiet (cron), once per plan, since only a person can make room.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from mapsheets.core.diff import diff
from mapsheets.core.digest import change_key
from mapsheets.core.layout import CHANGES_TAB
from mapsheets.core.model import Plan
from mapsheets.errors import MapsheetsError, PlanBusy, PlanFileError, PlanOpen
from mapsheets.service.attribution import Attributor
from mapsheets.service.sheet_writes import SheetWrites, append_rows

if TYPE_CHECKING:
    from mapsheets.adapters.store import Store

CHANGES_HEADER = ["When (UTC)", "Who", "What", "Step", "Kind", "Revisions"]
_LOG_KEY = re.compile(r"^\s*(\d+)\s*→\s*(\d+)\s*$")  # a Changes row's "Revisions": from→to (seq numbers)


def changes_upkeep(snap, today) -> dict[str, dict[tuple[int, int], Any]]:
    """What the Changes write also sets, from the run's read: signatures turned stale and the
    Timeline. Nothing on the Plan tab (rows may move before the write), and never "valid": the
    read may be older than the sheet by then, and only the plan as signed may say valid."""
    signoff = snap.signoff.tab if snap.signoff is not None else None
    out = {}
    for tab, cells in snap.upkeep(today).items():
        if tab == snap.tab:
            continue
        kept = {at: v for at, v in cells.items() if v == "stale"} if tab == signoff else cells
        if kept:
            out[tab] = kept
    return out


def fill_ids(store: Store, ref: str, book, snap, source: dict, now: datetime, report) -> dict:
    """Write the IDs of rows whose ID cell was empty back into the sheet (their old ones where the
    last revision knew them), so `show`, dependencies and people all see the same IDs.

    The rows come from the run's read, which is not under the plan's lock: the edit is worked out
    again on the plan as it is when written, and a row is filled only if it still holds the same
    step with its ID cell still empty (a row inserted meanwhile moves nothing into the wrong row).
    Returns the backend's version after our own write, when nobody else wrote in between.
    """
    if not snap.missing_ids or snap.id_column is None:
        return source
    from mapsheets.core.edits import Edit
    from mapsheets.core.upkeep import changed_only, upkeep_cells
    from mapsheets.service.calendars import looks
    from mapsheets.service.workbooks import parse_grid

    titles = {s.id: (s.title, s.phase) for s in snap.plan.steps}
    wanted = {row: (sid, titles.get(sid)) for row, sid in snap.missing_ids.items()}

    def compute(grid):
        parsed = parse_grid(book, grid)
        loc = parsed.location
        if "ID" not in loc.columns:
            return None, 0
        now_at = {sid: s for s in parsed.plan.steps for sid in [s.id]}
        fill = {}
        for row, derived in loc.missing_ids.items():
            sid, was = wanted.get(row, (None, None))
            step = now_at.get(derived)
            if sid and step is not None and (step.title, step.phase) == was:
                fill[row] = sid
                step.id = sid
        if not fill:
            return None, 0
        upkeep = upkeep_cells(parsed.plan, tab=loc.tab, id_column=loc.columns["ID"], missing_ids=fill,
                              signoff=parsed.signoff, looks=looks(parsed, now.date()))
        upkeep = changed_only(upkeep, grid)
        return Edit(loc.tab, cells=upkeep.pop(loc.tab, {}), also=upkeep), len(fill)

    try:
        untouched = book.revision() == source
        filled = book.modify(compute)
        if untouched and filled:
            source = book.revision()
            store.sources.set_seen(ref, source, now)  # our own write is not a change
    except MapsheetsError as exc:
        _tell(report, ref, "step IDs", exc)
    return source


def _claimed(store: Store, ref: str, latest: Any, logged: int | None | object, at: datetime) -> bool:
    """Whether this run is to write the plan's Changes tab, which it then holds the claim on."""
    if logged is ...:  # not looked up by the caller
        logged = store.sources.logged_revision(ref)
    if logged is None:  # never logged: the tab logs what changes from here on
        store.sources.set_logged_revision(ref, latest.id, expected=None, check=True)
        return False
    if logged == latest.id:
        return False
    # One run at a time writes a plan's Changes tab: two overlapping runs that both read the tab
    # before either wrote would both write the same rows.
    return store.sources.claim_changes(ref, at)  # if not, the run holding it logs them, or the next run does


def _rows(credit: Attributor, before: Any, latest: Any, changes: list[Any], now: datetime) -> list[list[Any]]:
    """The Changes tab's rows for ``changes`` between two revisions, each keyed by them ("3→5")."""
    when = now.astimezone(timezone.utc).replace(tzinfo=None, microsecond=0)
    actors = credit.attribute(before, latest, changes).actors
    key = f"{before.seq}→{latest.seq}"
    return [[when, actors.get(change_key(c), ""), c.describe(), c.step_id or "", c.kind, key] for c in changes]


def log_changes(store: Store, ref: str, book, latest, source: dict, now: datetime, days_off, report,
                 rows_read: list[list[Any]] | None = None, attributor: Attributor | None = None,
                 upkeep: dict | None = None, logged: int | None | object = ...,
                 writes: SheetWrites | None = None, claim_at: datetime | None = None) -> None:
    """Append to the plan's Changes tab what changed since the last revision logged there; the same
    write sets the ``upkeep`` cells (each signature's Status, as just read).

    A cursor of its own, so changes snapshotted by hand (`mapsheets snapshot`) are logged too. Rows
    are written first, each keyed by the revisions it covers ("3→5"), and only then is the cursor
    moved (compare-and-set): a run killed in between loses nothing, and the next run finds the rows
    keyed from the cursor, moves the cursor past them and does not write them again. Of two
    overlapping runs, the one that claims the tab writes it and the other leaves it. A failed write
    is only a note: the digest still goes out to people who cannot write the sheet. With ``writes``
    the write may be made by a worker process (``service.sheet_writes``) and the cursor moved once
    it is on disk, as the run's ``with SheetWrites()`` block ends. ``claim_at``: the run's clock
    now (default ``now``), for the claim's lease.
    """
    if not _claimed(store, ref, latest, logged, claim_at or now):
        return
    handed_over = False  # to the write's callback, which releases the claim
    try:
        logged = store.sources.logged_revision(ref)  # under the claim: another run may have moved it meanwhile
        while logged is not None and logged != latest.id:
            before = store.revisions.by_id(logged)
            changes = diff(Plan.from_dict(before.content["plan"]), Plan.from_dict(latest.content["plan"]), days_off)
            if not changes:
                store.sources.set_logged_revision(ref, latest.id, expected=logged, check=True)
                return
            try:
                if rows_read is None:  # the plan was not read this run (unchanged): read the tab now
                    rows_read = book.read_grid().get(CHANGES_TAB, [])
                through_seq = _logged_through(rows_read, before.seq)
                if through_seq is not None and before.seq < through_seq <= latest.seq:  # a killed run wrote them
                    through = store.revisions.get(ref, str(through_seq)).id
                    if not store.sources.set_logged_revision(ref, through, expected=logged, check=True):
                        return  # another run moved the cursor
                    logged = through
                    continue
                credit = attributor or Attributor(store, ref, book, days_off)
                rows = _rows(credit, before, latest, changes, now)
            except MapsheetsError as exc:
                _tell(report, ref, f"the {CHANGES_TAB} tab", exc)
                return
            done = _on_written(store, report, ref, latest.id, now, expected=logged)
            handed_over = True
            if writes is None:
                done(*append_rows(book, CHANGES_TAB, rows, CHANGES_HEADER, upkeep, source))
            else:
                writes.append(book, CHANGES_TAB, rows, header=CHANGES_HEADER, also=upkeep, source=source, done=done)
            return
    finally:
        if not handed_over:
            store.sources.release_changes(ref)


def _on_written(store: Store, report: Any, ref: str, latest_id: int, now: datetime, *,
                expected: int) -> Callable[[dict | None, MapsheetsError | None], None]:
    """What to do once the Changes tab's rows are written (or not): move the cursor from
    ``expected``, and let the claim go."""

    def done(after: dict | None, error: MapsheetsError | None) -> None:
        try:
            if error is not None:
                _tell(report, ref, f"the {CHANGES_TAB} tab", error)
            # after is None when someone saved between our read and the write: a change next run.
            elif store.sources.set_logged_revision(ref, latest_id, expected=expected, check=True) \
                    and after is not None:
                store.sources.set_seen(ref, after, now)  # our own write is not a change
        finally:
            store.sources.release_changes(ref)

    return done


def _tell(report, ref: str, what: str, exc: MapsheetsError) -> None:
    """A sheet write skipped this run, in the report: a file that could not be saved is a warning
    (one per plan and run), anything else (open in Excel, a read-only sheet) a note."""
    if isinstance(exc, PlanFileError) and not isinstance(exc, PlanBusy):
        if not any(line.startswith(f"{ref}: ") for line in report.warnings):
            report.warnings.append(_not_written(ref, what, exc))
        return
    report.notes.append(_not_written(ref, what, exc))


def _not_written(ref: str, what: str, exc: MapsheetsError) -> str:
    """The note for a sheet write skipped this run (the digest still goes out)."""
    if isinstance(exc, PlanOpen):  # a person's next save would drop it: wait until they close it
        return f"{ref}: is open in {exc.where}: {what} not written, tried again next run"
    return f"{ref}: could not write {what}: {exc}"


def _logged_through(rows: list[list[Any]], from_seq: int) -> int | None:
    """The revision that rows keyed "from_seq→N" already logged through (the largest N), if any."""
    header = rows[0] if rows else []
    col = header.index(CHANGES_HEADER[-1]) if CHANGES_HEADER[-1] in header else len(CHANGES_HEADER) - 1
    found = None
    for row in rows[1:]:
        m = _LOG_KEY.match(str(row[col])) if col < len(row) and row[col] is not None else None
        if m and int(m[1]) == from_seq:
            found = max(found or 0, int(m[2]))
    return found
