"""Revisions: snapshot a plan into the state store, list them, diff any two plans or revisions."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from mapsheets.adapters.store import open_store
from mapsheets.core.diff import Change, diff, restore_ids, summary
from mapsheets.core.formulas import has_uncached, keep_formula_values
from mapsheets.core.griddiff import GridChange, diff_grids
from mapsheets.core.layout import CHANGES_TAB, MACHINE_TAB, SIGNOFF_TAB, TEAM_TAB, TIMELINE_TAB
from mapsheets.core.model import Plan, jsonable
from mapsheets.core.parse import ParsedPlan, TableLocation
from mapsheets.core.upkeep import upkeep_cells
from mapsheets.service.workbooks import canonical_ref, google_id, open_workbook, read_parsed

if TYPE_CHECKING:
    from mapsheets.adapters.store import Store

_REV = re.compile(r"^(latest|-?\d+)$")


def other_tabs(grid: dict[str, list[list[Any]]], parsed: ParsedPlan) -> dict[str, list[list[Any]]]:
    """Tabs people added that mapsheets does not model, JSON-safe, for the generic grid diff."""
    # The Changes tab is mapsheets' own log of these diffs: diffing it would report every change twice.
    # The Timeline is drawn from the plan and the hidden tab read into it: their changes are the plan's.
    modelled = {parsed.location.tab, TEAM_TAB, SIGNOFF_TAB, CHANGES_TAB, TIMELINE_TAB, MACHINE_TAB}
    return {tab: [[jsonable(v) for v in row] for row in rows]
            for tab, rows in grid.items() if tab not in modelled}


@dataclass
class Snapshot:
    """A plan as stored: the parsed plan plus the tabs mapsheets does not model."""

    plan: Plan
    tabs: dict[str, list[list[Any]]] = field(default_factory=dict)
    label: str = ""
    warnings: list[dict[str, str]] = field(default_factory=list)  # cells the read could not understand
    # Rows whose ID cell was empty: row -> the ID they were given (or, restored, their old one).
    missing_ids: dict[int, str] = field(default_factory=dict, compare=False)
    id_column: int | None = field(default=None, compare=False)
    tab: str = ""
    # The Changes tab's rows as read (None: not read), so the digest run needs no second read.
    changes_rows: list[list[Any]] | None = field(default=None, compare=False)
    signoff: TableLocation | None = field(default=None, compare=False)  # where signatures' Status is
    parsed: ParsedPlan | None = field(default=None, compare=False)  # the read, for what a write redraws

    def upkeep(self, today: date | None = None) -> dict[str, dict[tuple[int, int], Any]]:
        """Cells a write to this plan also sets: filled-in IDs, each signature's Status; with
        ``today``, the bands, summary lines and Timeline too."""
        from mapsheets.service.calendars import looks

        seen = looks(self.parsed, today) if today is not None and self.parsed is not None else None
        return upkeep_cells(self.plan, tab=self.tab, id_column=self.id_column, missing_ids=self.missing_ids,
                            signoff=self.signoff, looks=seen,
                            location=self.parsed.location if self.parsed is not None else None)

    def content(self) -> dict[str, Any]:
        return {"plan": self.plan.to_dict(), "tabs": self.tabs, "warnings": self.warnings}

    @classmethod
    def from_content(cls, content: dict[str, Any], label: str) -> Snapshot:
        return cls(plan=Plan.from_dict(content["plan"]), tabs=content.get("tabs", {}), label=label,
                   warnings=list(content.get("warnings", [])))


def read_snapshot(ref: str, *, book=None, source: dict[str, Any] | None = None) -> tuple[Snapshot, dict[str, Any]]:
    """The live plan behind ``ref`` and its backend revision info."""
    book = book or open_workbook(ref)
    source = source if source is not None else book.revision()
    grid, parsed = read_parsed(book)
    warnings = [w.to_dict() for w in parsed.warnings]
    loc = parsed.location
    return Snapshot(parsed.plan, other_tabs(grid, parsed), label=book.ref, warnings=warnings,
                    missing_ids=dict(loc.missing_ids), id_column=loc.columns.get("ID"), tab=loc.tab,
                    changes_rows=grid.get(CHANGES_TAB, []), signoff=parsed.signoff, parsed=parsed), source


@dataclass
class SnapshotResult:
    """What ``snapshot`` stored: the revision (a new one only when the plan changed) and the plan."""

    revision: Any
    created: bool
    snapshot: Snapshot


def snapshot_into(store: Store, ref: str, *, now: datetime, snapshot: tuple[Snapshot, dict[str, Any]] | None = None,
                  origin: str = "snapshot") -> SnapshotResult:
    """Store the plan's current content as a new revision, unless it equals the latest.

    ``origin`` says what stored it (snapshot, sign, digest, watch), for `mapsheets log`.
    """
    snap, source = snapshot or read_snapshot(ref)
    plan = snap.plan
    key = canonical_ref(ref)
    if snap.missing_ids and store.plans.get(key) is not None:
        _restore_ids(store, key, snap)
    if has_uncached(snap.plan) and store.plans.get(key) is not None:
        _keep_formula_values(store, key, snap)
    store.plans.register(key, "google" if google_id(ref) else "xlsx", plan.title)
    revision, created = store.revisions.add(
        key, snap.content(), plan.fingerprint(), taken_at=now, source=source,
        step_count=len(plan.steps), done_count=sum(s.status == "done" for s in plan.steps), origin=origin)
    # Not marked as seen without backend info (a snapshot made from memory), nor with empty ID
    # cells: either way the next digest run reads the plan again (and fills the IDs in).
    if source and not snap.missing_ids:
        store.sources.set_seen(key, source, now)
    return SnapshotResult(revision=revision, created=created, snapshot=snap)


def _restore_ids(store: Store, key: str, snap: Snapshot) -> None:
    """An emptied ID cell: the step keeps the ID it had in the last revision (and so do the
    "Depends on" cells that still name it, which then read without a warning)."""
    from mapsheets.errors import NotFound

    try:
        previous = store.revisions.get(key, "latest")
    except NotFound:
        return
    restored = restore_ids(Plan.from_dict(previous.content["plan"]), snap.plan, set(snap.missing_ids.values()))
    if restored:
        snap.missing_ids = {row: restored.get(sid, sid) for row, sid in snap.missing_ids.items()}
        back = set(restored.values())
        snap.warnings = [w for w in snap.warnings
                         if not (w["message"].startswith("unknown step ") and w["message"].split()[2] in back)]


def keep_formulas(old: Plan, new: Snapshot) -> None:
    """Formula cells of ``new`` without a computed result keep their value in ``old`` (see
    ``keep_formula_values``), and lose the warnings they caused."""
    kept = {f'"{text}" is not' for text in keep_formula_values(old, new.plan)}
    new.warnings = [w for w in new.warnings if not any(w["message"].startswith(k) for k in kept)]


def _keep_formula_values(store: Store, key: str, snap: Snapshot) -> None:
    """The last revision's values for formula cells whose result openpyxl dropped on save."""
    from mapsheets.errors import NotFound

    try:
        previous = store.revisions.get(key, "latest")
    except NotFound:
        return
    keep_formulas(Plan.from_dict(previous.content["plan"]), snap)


def snapshot(ref: str, *, now: datetime, store_url: str | None = None) -> SnapshotResult:
    """Store the plan as it reads now as a revision in the state store, unless it is unchanged since the last."""
    return snapshot_into(open_store(store_url), ref, now=now)


def log(ref: str, *, store_url: str | None = None) -> list[Any]:
    """The stored revisions of a plan, oldest first; each says what stored it (``origin``)."""
    store = open_store(store_url)
    return store.revisions.of(_registered(store, ref))


def audit(ref: str, *, store_url: str | None = None) -> list[Any]:
    """The plan's audit log, oldest first: what mapsheets did to it, when and for whom (entries
    queued while the store could not take them are written in first, where it can now)."""
    from mapsheets.service.audit_log import flush_quietly

    store = open_store(store_url)
    flush_quietly(store)
    return store.audit.events(_registered(store, ref))


def record_write(ref: str, kind: str, detail: dict[str, Any] | None = None, *,
                 store_url: str | None = None) -> str | None:
    """Put a write made from the command line in the plan's audit log, by the local user; returns
    what to tell them when the entry had to be queued (``service.audit_log``), and raises
    StoreError when it could not even be queued. With no state store yet (nothing was ever stored)
    nothing is logged. (The add-on logs its writes with the caller's verified email.)"""
    import getpass

    from mapsheets.adapters.store import store_exists
    from mapsheets.service.audit_log import log

    if not store_url and not store_exists():
        return None
    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = "unknown"
    from mapsheets.errors import StoreError

    try:
        store = open_store(store_url)
    except StoreError as exc:
        raise StoreError(f"{ref}: written, but its audit entry ({kind}) was lost: {exc}") from None
    return log(store, ref, kind, actor=f"{who} (command line)", detail=detail)


def _registered(store: Store, ref: str) -> str:
    key = canonical_ref(ref)
    if store.plans.get(key) is None:
        from mapsheets.errors import NotFound

        raise NotFound(f"{ref}: no revisions stored (run `mapsheets snapshot {ref}` first)")
    return key


def split_rev(spec: str) -> tuple[str, str | None]:
    """``PLAN@REV`` -> (PLAN, REV); a plain reference -> (ref, None)."""
    head, sep, tail = spec.rpartition("@")
    if sep and head and _REV.match(tail):
        return head, tail
    return spec, None


def load(spec: str, *, store_url: str | None = None) -> Snapshot:
    """A plan from ``PLAN`` (live) or ``PLAN@REV`` (stored revision: N, latest, -1, ...)."""
    ref, rev = split_rev(spec)
    if rev is None:
        return read_snapshot(ref)[0]
    record = open_store(store_url).revisions.get(canonical_ref(ref), rev)
    content = record.content if isinstance(record.content, dict) else json.loads(record.content)
    return Snapshot.from_content(content, label=f"{ref}@{record.seq}")


@dataclass
class DiffResult:
    """Two revisions of a plan and what changed between them, in the plan and in its other tabs."""

    old: Snapshot
    new: Snapshot
    changes: list[Change]
    tabs: dict[str, list[GridChange]]

    def readable(self) -> list[Change]:
        """The changes as a reader is told them (a step's "Done on" folded into "is now done")."""
        from mapsheets.core.change_text import fold_done_on

        return fold_done_on(self.changes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "old": self.old.label, "new": self.new.label,
            "changes": [c.to_dict() for c in self.changes],
            "summary": summary(self.changes),
            "tabs": {tab: [c.to_dict() for c in changes] for tab, changes in self.tabs.items()},
        }


def signed_revision(ref: str, email: str, *, store_url: str | None = None) -> Snapshot:
    """The plan as it was when ``email`` last signed it (the revision `sign` recorded)."""
    from mapsheets.errors import NotFound

    store = open_store(store_url)
    wanted = email.strip().casefold()
    signed = [s.revision_id for s in store.signatures.of(canonical_ref(ref))
              if s.email.casefold() == wanted and s.revision_id is not None]
    if not signed:
        raise NotFound(f"{ref}: no signature by {email} recorded in the state store "
                       "(`mapsheets sign` records one unless --no-record)")
    record = store.revisions.by_id(signed[-1])
    content = record.content if isinstance(record.content, dict) else json.loads(record.content)
    return Snapshot.from_content(content, label=f"{ref}@{record.seq} (signed by {email})")


def diff_plans(old_spec: str, new_spec: str | None = None, *, since: str | None = None,
               since_signature: str | None = None, store_url: str | None = None) -> DiffResult:
    """What changed from ``old_spec`` to ``new_spec``; with ``since``, from that revision to now;
    with ``since_signature`` (an email), from the revision that person signed to now.

    ``old_spec`` alone must be ``PLAN@REV``: that revision against the live plan.
    """
    if since is None and new_spec is None and since_signature is None:
        ref, rev = split_rev(old_spec)
        if rev is None:
            from mapsheets.errors import UsageError

            raise UsageError("give either NEW or --since REV (or OLD as PLAN@REV, to compare it with the live plan)")
        new_spec = ref
    if since_signature is not None:
        ref = split_rev(old_spec)[0]
        old, new = signed_revision(ref, since_signature, store_url=store_url), load(ref, store_url=store_url)
    elif since is not None:
        ref = split_rev(old_spec)[0]
        old, new = load(f"{ref}@{since}", store_url=store_url), load(ref, store_url=store_url)
    else:
        old, new = load(old_spec, store_url=store_url), load(new_spec or "", store_url=store_url)
    from mapsheets.service.calendars import days_off_or_weekends

    if new.missing_ids:  # an emptied ID cell is the same step, not a new ID
        restore_ids(old.plan, new.plan, set(new.missing_ids.values()))
    if has_uncached(new.plan):  # a formula whose result was dropped on save has not changed
        keep_formulas(old.plan, new)
    days_off = days_off_or_weekends(new.plan)  # an unknown calendar typed in the sheet: `show` warns about it
    return DiffResult(old=old, new=new, changes=diff(old.plan, new.plan, days_off),
                      tabs=diff_grids(old.tabs, new.tabs))
