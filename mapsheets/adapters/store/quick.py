"""A plan's audit events and the forecast's history read straight from a SQLite store with the
standard library's sqlite3: for commands that otherwise need no store (`show`), which must not pay SQLAlchemy's import
(about 100 ms) on every run. Read-only; anything unusual (a server, a URI filename, an older
schema, a locked or missing file) answers None, and the caller opens the Store instead."""

from __future__ import annotations

import json
import os
from contextlib import closing
from datetime import UTC, datetime

from mapsheets.adapters.store.records import EventRecord

_PREFIXES = ("sqlite:///", "sqlite+pysqlite:///")


def _path(url: str) -> str | None:
    """The SQLite file of ``url``, None when this module cannot read it (a server, a URI filename)."""
    prefix = next((p for p in _PREFIXES if url.startswith(p)), None)
    path = url[len(prefix):] if prefix else ""
    if not path or "?" in path or path.startswith("file:") or path == ":memory:":
        return None
    return path


def plan_events(url: str, ref: str, kinds: tuple[str, ...]) -> list[EventRecord] | None:
    """The plan's events of ``kinds``, oldest first ([] for a plan the store does not know)."""
    import sqlite3

    path = _path(url)
    if path is None:
        return None
    if not os.path.exists(path):
        return []  # no store yet: no events (and none is made by a read)
    marks = ",".join("?" * len(kinds))
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)) as conn:
            rows = conn.execute(
                f"SELECT e.id, e.at, e.actor, e.kind, e.detail FROM events e JOIN plans p ON p.id = e.plan_id "
                f"WHERE p.ref = ? AND e.kind IN ({marks}) ORDER BY e.at, e.id", (ref, *kinds)).fetchall()
        return [EventRecord(id=i, ref=ref, at=_utc(at), actor=actor, kind=kind, detail=json.loads(detail))
                for i, at, actor, kind, detail in rows]
    except (sqlite3.Error, ValueError, TypeError):
        return None


def phase_history(url: str) -> dict[str, list[tuple[float, bool]]] | None:
    """``store.history.durations()`` for `show`: phase → (business days, lost after) of kept deals."""
    import sqlite3

    path = _path(url)
    if path is None:
        return None
    if not os.path.exists(path):
        return {}
    out: dict[str, list[tuple[float, bool]]] = {}
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)) as conn:
            for phase, days, lost in conn.execute("SELECT phase, days, lost FROM phase_history ORDER BY id"):
                out.setdefault(phase, []).append((float(days), bool(lost)))
    except (sqlite3.Error, ValueError, TypeError):  # e.g. a store from before migration 8
        return None
    return out


def history_version(url: str) -> str | None:
    """What identifies the kept history's content cheaply (rows, last id, last kept): a figure
    computed from it stays true while this is unchanged. None: not a file sqlite3 can read."""
    import sqlite3

    path = _path(url)
    if path is None:
        return None
    if not os.path.exists(path):
        return ""
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)) as conn:
            row = conn.execute("SELECT count(*), max(id), max(kept_at) FROM phase_history").fetchone()
    except (sqlite3.Error, ValueError, TypeError):  # e.g. a store from before the history was kept
        return None
    return "" if not row or not row[0] else f"{row[0]}|{row[1]}|{row[2]}"


def _utc(text: str) -> datetime:
    when = datetime.fromisoformat(text)
    return when if when.tzinfo else when.replace(tzinfo=UTC)
