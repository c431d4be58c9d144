"""Who made each change a digest reports, and never a wrong name on a line.

1. Changes mapsheets made itself carry the actor from the audit log: a signature added by
   `mapsheets sign` is credited to the signer it recorded.
2. Google Sheets: Drive's revisions list (one request per changed plan and run; pages of 1000, at
   most two) says who saved when. The changes between two stored revisions of the plan are credited
   to the one person who saved in that stretch; where several people saved, to nobody, and the
   digest names the editors instead ("edited by A and B"). mapsheets' own writes (the Changes tab,
   filled-in IDs) are left out: the run records when it made them.
3. .xlsx files carry no trustworthy author (whoever saved last on some laptop): nobody is named.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mapsheets.core.diff import Change, diff
from mapsheets.core.digest import change_key
from mapsheets.core.model import Plan
from mapsheets.errors import MapsheetsError

if TYPE_CHECKING:
    from mapsheets.adapters.store import Store

OWN_WRITE = "sheet_written"  # audit event: mapsheets saved the sheet itself (detail: modified_time)


@dataclass(frozen=True)
class Attribution:
    actors: dict[str, str]  # change_key -> who, as core.digest.build_digest takes them
    editors: tuple[str, ...] = ()  # everyone who saved in the window, when lines could not all be credited


class OwnWrites:
    """A workbook that remembers the Drive times of mapsheets' own saves.

    The digest run reads ``revision()`` right after its own writes (to not mistake them for an
    edit); the time it gets then is the time of that write.
    """

    def __init__(self, book: Any) -> None:
        self._book = book
        self._wrote = False
        self.times: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._book, name)

    def update_cells(self, *args: Any, **kwargs: Any) -> Any:
        self._wrote = True
        return self._book.update_cells(*args, **kwargs)

    def append_rows(self, *args: Any, **kwargs: Any) -> Any:
        self._wrote = True
        return self._book.append_rows(*args, **kwargs)

    def revision(self) -> dict[str, Any]:
        source = self._book.revision()
        if self._wrote and source.get("modified_time"):
            self.times.append(source["modified_time"])
        self._wrote = False
        return source


class Attributor:
    """Attribution for one plan in one run: the audit log and Drive's revisions read at most once."""

    def __init__(self, store: Store, ref: str, book: Any, days_off: frozenset) -> None:
        self.store, self.ref, self.book, self.days_off = store, ref, book, days_off
        self._events: list[Any] | None = None
        self._edits: list[dict[str, Any]] | None | bool = False  # False: not asked yet

    def events(self) -> list[Any]:
        if self._events is None:
            self._events = self.store.audit.events(self.ref)
        return self._events

    def edits(self) -> list[dict[str, Any]] | None:
        if self._edits is False:
            try:
                edits = self.book.edits()  # None: the backend names nobody (.xlsx)
            except MapsheetsError:  # attribution is a nicety: a failed listing names nobody
                edits = None
            own = {e.detail.get("modified_time") for e in self.events() if e.kind == OWN_WRITE}
            own.update(getattr(self.book, "times", ()))
            self._edits = None if edits is None else [e for e in edits if e["modified_time"] not in own]
        return self._edits  # type: ignore[return-value]

    def attribute(self, since: Any, latest: Any, changes: list[Change]) -> Attribution:
        """Who made ``changes`` (the diff from revision ``since`` to ``latest``)."""
        actors = self._signers(changes)
        if not changes or since.id == latest.id:
            return Attribution(actors)
        windows = self._windows(since, latest)
        if windows is None:
            return Attribution(actors)
        credit: dict[str, str | None] = {}  # change key -> the one editor; None: several people
        everyone: list[str] = []
        for (old, new), editors in windows:
            for who in editors:
                if who not in everyone:
                    everyone.append(who)
            for c in diff(Plan.from_dict(old.content["plan"]), Plan.from_dict(new.content["plan"]), self.days_off):
                key = change_key(c)
                one = editors[0] if len(editors) == 1 else None
                credit[key] = one if credit.get(key, one) == one else None
        for c in changes:
            key = change_key(c)
            if credit.get(key) and key not in actors:
                actors[key] = credit[key]  # type: ignore[assignment]
        named = all(change_key(c) in actors for c in changes)
        return Attribution(actors, () if named else tuple(everyone))

    def _signers(self, changes: list[Change]) -> dict[str, str]:
        """Signatures mapsheets recorded: credited to the signer in the audit log."""
        added = [c for c in changes if c.kind == "signature_added"]
        if not added:
            return {}
        signed = [e for e in self.events() if e.kind == "signed"]
        names = {(s.email, s.fingerprint): s.name for s in self.store.signatures.of(self.ref)}
        out = {}
        for c in added:
            for e in signed:
                if e.detail.get("fingerprint") == c.new and names.get((e.actor, c.new)) == c.title:
                    out[change_key(c)] = e.actor
        return out

    def _windows(self, since: Any, latest: Any):
        """[((older revision, newer revision), editors)] between ``since`` and ``latest``, or None.

        Stretch i holds the saves after revision i-1's Drive time (all earlier ones are in i-1) up to
        when revision i was stored (it was read before that: a save after its Drive time may be in
        it); a save near a boundary counts for both neighbours, which only makes them less sure.
        """
        if not (since.source or {}).get("modified_time") or not (latest.source or {}).get("modified_time"):
            return None
        stored = [r for r in self.store.revisions.of(self.ref) if since.id <= r.id <= latest.id]
        if latest.id not in {r.id for r in stored}:  # a dry run's live plan is not stored
            stored.append(latest)
        stored = [r for r in stored if (r.source or {}).get("modified_time")]
        edits = self.edits()
        if edits is None or len(stored) < 2:
            return None
        out = []
        for i in range(1, len(stored)):
            start = stored[i - 1].source["modified_time"]
            end = max(stored[i].source["modified_time"], _rfc3339(stored[i].taken_at)) if i + 1 < len(stored) else None
            editors = []
            for e in edits:
                if e["modified_time"] > start and (end is None or e["modified_time"] <= end) and e["by"]:
                    if e["by"] not in editors:
                        editors.append(e["by"])
            out.append(((stored[i - 1], stored[i]), editors))
        return out


def _rfc3339(when: Any) -> str:
    """Drive's time format, so times compare as text."""
    from datetime import timezone

    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
