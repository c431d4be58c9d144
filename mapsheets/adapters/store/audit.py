"""The audit log: events of one plan (or store-wide ones), appended and read oldest first."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from mapsheets.adapters.store.base import Repository, guarded, require_aware
from mapsheets.adapters.store.records import EventRecord, event_record


class AuditRepository(Repository):
    """``store.audit``."""

    @guarded
    def log(self, kind: str, *, ref: str | None = None, actor: str = "",
            detail: dict[str, Any] | None = None, at: datetime | None = None) -> EventRecord:
        """Append to the audit log; ``ref`` must be a registered plan, or None for store-wide events."""
        at = at or datetime.now(UTC)
        require_aware(at, "at")
        sa, e = self._sa, self._t.events
        with self._tx(write=True) as conn:
            plan_id = self._required_plan(conn, ref) if ref is not None else None
            new_id = conn.execute(sa.insert(e).values(
                plan_id=plan_id, at=at, actor=actor, kind=kind,
                detail=json.dumps(detail or {}, sort_keys=True, ensure_ascii=False, default=str),
            )).inserted_primary_key[0]
            row = conn.execute(sa.select(e).where(e.c.id == new_id)).one()
        return event_record(row, ref)

    @guarded
    def log_once(self, kind: str, *, ref: str, actor: str, detail: dict[str, Any], at: datetime) -> bool:
        """``log`` unless this very event (plan, kind, actor, time, detail) is logged already:
        an entry queued while the store could not be written, which two commands may write at once.
        Returns whether it was added."""
        require_aware(at, "at")
        sa, e = self._sa, self._t.events
        text = json.dumps(detail, sort_keys=True, ensure_ascii=False, default=str)
        with self._tx(write=True) as conn:
            plan_id = self._required_plan(conn, ref, lock=True)
            same = (e.c.plan_id == plan_id) & (e.c.kind == kind) & (e.c.actor == actor) & (e.c.at == at) \
                & (e.c.detail == text)
            if conn.execute(sa.select(e.c.id).where(same).limit(1)).first() is not None:
                return False
            conn.execute(sa.insert(e).values(plan_id=plan_id, at=at, actor=actor, kind=kind, detail=text))
        return True

    @guarded
    def events(self, ref: str | None = None, since: datetime | None = None) -> list[EventRecord]:
        """Events oldest first: of one plan (or all when ref is None), strictly after ``since``."""
        sa, t = self._sa, self._t
        e, p = t.events, t.plans
        query = sa.select(e, p.c.ref).outerjoin(p, p.c.id == e.c.plan_id).order_by(e.c.at, e.c.id)
        if ref is not None:
            query = query.where(p.c.ref == ref)
        if since is not None:
            require_aware(since, "since")
            query = query.where(e.c.at > since)
        with self._tx() as conn:
            rows = conn.execute(query).all()
        return [event_record(row, row.ref) for row in rows]

    @guarded
    def events_of(self, refs: list[str]) -> dict[str, list[EventRecord]]:
        """Events oldest first of each of many plans, in one query."""
        sa, t = self._sa, self._t
        e, p = t.events, t.plans
        query = (sa.select(e, p.c.ref).join(p, p.c.id == e.c.plan_id).where(p.c.ref.in_(list(refs)))
                 .order_by(e.c.at, e.c.id))
        with self._tx() as conn:
            rows = conn.execute(query).all() if refs else []
        out: dict[str, list[EventRecord]] = {ref: [] for ref in refs}
        for row in rows:
            out[row.ref].append(event_record(row, row.ref))
        return out

    @guarded
    def latest(self, kind: str) -> dict[str, EventRecord]:
        """Plan ref -> its latest event of ``kind`` (e.g. which plans are archived, and how)."""
        sa, t = self._sa, self._t
        e, p = t.events, t.plans
        query = (sa.select(e, p.c.ref).join(p, p.c.id == e.c.plan_id).where(e.c.kind == kind)
                 .order_by(e.c.at, e.c.id))
        with self._tx() as conn:
            rows = conn.execute(query).all()
        return {row.ref: event_record(row, row.ref) for row in rows}
