"""The Store: plans, revisions, signatures and events over SQLAlchemy Core (see the package docstring)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from mapsheets.adapters.store import schema
from mapsheets.adapters.store.connect import _guarded, default_url, mask_url, open_engine
from mapsheets.adapters.store.crm_links import CrmLinkStoreMixin
from mapsheets.adapters.store.digests import DigestStoreMixin
from mapsheets.adapters.store.records import (
    EventRecord,
    PlanRecord,
    RevisionRecord,
    SignatureRecord,
    canonical_json,
)
from mapsheets.adapters.store.seen import SeenStoreMixin
from mapsheets.errors import NotFound, UsageError


class Store(DigestStoreMixin, SeenStoreMixin, CrmLinkStoreMixin):
    """The state store at a SQLAlchemy URL (default: ``default_url(os.environ)``); migrates on open."""

    def __init__(self, url: str | None = None) -> None:
        raw = url if url is not None else default_url(os.environ)
        self.url = mask_url(raw)  # the only form of the URL that may appear in messages
        import sqlalchemy as sa

        self._sa, self._t = sa, schema.tables()
        self._engine, self._password = open_engine(raw, self.url)
        self.dialect: str = self._engine.dialect.name
        try:
            self.applied: list[int] = self._migrate()  # versions this open applied (usually none)
        except BaseException:
            self._engine.dispose()
            raise

    def close(self) -> None:
        """Close its pooled connections (the Store stays usable: the next operation reconnects)."""
        self._engine.dispose()

    def forget_connections(self) -> None:
        """In a forked child: drop the parent's pooled connections without closing them."""
        self._engine.dispose(close=False)

    @property
    def sqlite_path(self) -> str | None:
        """The SQLite database file, None for a server or a URI filename."""
        name = self._engine.url.database if self.dialect == "sqlite" else None
        return None if not name or name.startswith("file:") else name

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.url!r})"

    # -- plumbing ------------------------------------------------------------------------------

    @contextmanager
    def _tx(self, write: bool = False) -> Iterator[Any]:
        """One transaction; on SQLite a writing one takes the write lock up front (BEGIN IMMEDIATE)."""
        with self._engine.connect() as conn:
            if write:
                conn = conn.execution_options(mapsheets_write=True)
            with conn.begin():
                yield conn

    def _reason(self, exc: Exception) -> str:
        orig = getattr(exc, "orig", None) or exc
        lines = str(orig).strip().splitlines()
        text = lines[0].strip() if lines else orig.__class__.__name__
        return text.replace(self._password, "***") if self._password else text

    @_guarded
    def check_writable(self) -> None:
        """StoreError now, not after the sheet was written, if the store cannot take writes (a
        read-only file, folder or server): a write that touches nothing, rolled back."""
        with self._engine.connect() as conn:
            conn = conn.execution_options(mapsheets_write=True)
            tx = conn.begin()
            try:
                conn.execute(self._sa.delete(self._t.events).where(self._sa.false()))
            finally:
                tx.rollback()

    @property
    @_guarded
    def version(self) -> int:
        """The schema version of the database."""
        with self._tx() as conn:
            return schema.version(conn)

    @_guarded
    def _migrate(self) -> list[int]:
        with self._tx() as conn:  # the common case: up to date, no lock taken
            if schema.version(conn) == schema.LATEST:
                return []
        with self._tx(write=True) as conn:
            return schema.migrate(conn, self.url)

    def _plan_id(self, conn: Any, ref: str, *, lock: bool = False) -> int | None:
        query = self._sa.select(self._t.plans.c.id).where(self._t.plans.c.ref == ref)
        # FOR UPDATE serialises writers of one plan on PostgreSQL; SQLite ignores it (BEGIN IMMEDIATE).
        return conn.execute(query.with_for_update() if lock else query).scalar()

    def _rev_query(self, ref: str) -> Any:
        sa, t = self._sa, self._t
        r = t.revisions
        return (sa.select(r).join(t.plans, t.plans.c.id == r.c.plan_id).where(t.plans.c.ref == ref))

    @staticmethod
    def _revision(row: Any, ref: str) -> RevisionRecord:
        return RevisionRecord(id=row.id, ref=ref, seq=row.seq, taken_at=row.taken_at,
                              fingerprint=row.fingerprint, content_json=row.content,
                              step_count=row.step_count, done_count=row.done_count,
                              source=json.loads(row.source), origin=row.origin)

    # -- plans ---------------------------------------------------------------------------------

    @_guarded
    def register_plan(self, ref: str, backend: str, title: str = "") -> PlanRecord:
        """The plan's record, created on first use; a new non-empty title replaces the old one."""
        sa, p = self._sa, self._t.plans
        for attempt in range(2):
            try:
                with self._tx(write=True) as conn:
                    row = conn.execute(sa.select(p).where(p.c.ref == ref)).first()
                    if row is None:
                        conn.execute(sa.insert(p).values(ref=ref, backend=backend, title=title,
                                                         created_at=datetime.now(UTC)))
                    elif title and row.title != title:
                        conn.execute(sa.update(p).where(p.c.id == row.id).values(title=title))
                    row = conn.execute(sa.select(p).where(p.c.ref == ref)).one()
                    return PlanRecord(row.id, row.ref, row.backend, row.title, row.created_at)
            except sa.exc.IntegrityError:
                if attempt:  # PostgreSQL: another process inserted the same ref first; read it now
                    raise
        raise AssertionError("unreachable")

    @_guarded
    def get_plan(self, ref: str) -> PlanRecord | None:
        p = self._t.plans
        with self._tx() as conn:
            row = conn.execute(self._sa.select(p).where(p.c.ref == ref)).first()
        return PlanRecord(row.id, row.ref, row.backend, row.title, row.created_at) if row else None

    # -- revisions -----------------------------------------------------------------------------

    @_guarded
    def add_revision(self, ref: str, content: dict[str, Any], fingerprint: str, *, taken_at: datetime,
                     source: dict[str, Any] | None = None, step_count: int,
                     done_count: int, origin: str | None = None) -> tuple[RevisionRecord, bool]:
        """Store the next revision of a registered plan, unless it equals the latest one.

        Returns (revision, created); when content and fingerprint equal the latest revision, that
        one is returned with created=False.
        """
        _require_aware(taken_at, "taken_at")
        sa, r = self._sa, self._t.revisions
        text = canonical_json(content)
        # Backend metadata, not compared: tolerate a datetime or Path in it.
        source_text = json.dumps(source or {}, sort_keys=True, ensure_ascii=False, default=str)
        for attempt in range(2):
            try:
                with self._tx(write=True) as conn:
                    plan_id = self._plan_id(conn, ref, lock=True)
                    if plan_id is None:
                        raise NotFound(f"{ref} is not registered in the state store")
                    last = conn.execute(sa.select(r).where(r.c.plan_id == plan_id)
                                        .order_by(r.c.seq.desc()).limit(1)).first()
                    if last is not None and last.fingerprint == fingerprint and last.content == text:
                        return self._revision(last, ref), False
                    seq = last.seq + 1 if last is not None else 1
                    new_id = conn.execute(sa.insert(r).values(
                        plan_id=plan_id, seq=seq, taken_at=taken_at, fingerprint=fingerprint, content=text,
                        step_count=step_count, done_count=done_count, source=source_text, origin=origin,
                    )).inserted_primary_key[0]
                    row = conn.execute(sa.select(r).where(r.c.id == new_id)).one()
                    return self._revision(row, ref), True
            except sa.exc.IntegrityError:
                if attempt:  # UNIQUE(plan_id, seq) is the backstop; the retry reads the new latest
                    raise
        raise AssertionError("unreachable")

    @_guarded
    def revisions(self, ref: str) -> list[RevisionRecord]:
        """All revisions of a plan, oldest first (empty for an unknown plan)."""
        with self._tx() as conn:
            rows = conn.execute(self._rev_query(ref).order_by(self._t.revisions.c.seq)).all()
        return [self._revision(row, ref) for row in rows]

    @_guarded
    def revision(self, ref: str, spec: str | int) -> RevisionRecord:
        """A revision by seq (``"3"``), ``"latest"``, or counting back from latest (``"-1"``, ``"-2"``)."""
        _sa, r = self._sa, self._t.revisions
        text = str(spec).strip()
        number: int | None = None
        if text.lower() != "latest":
            try:
                number = int(text)
            except ValueError:
                raise UsageError(f"revision {text!r}: expected a number, 'latest' or -N "
                                 "(N revisions before latest)") from None
        with self._tx() as conn:
            lo, hi, count = self._span(conn, ref)
            if not count:
                raise NotFound(f"{ref} has no revisions: run `mapsheets snapshot` first")
            query = self._rev_query(ref)
            if number is None:
                query = query.order_by(r.c.seq.desc()).limit(1)
            elif number < 0:
                query = query.order_by(r.c.seq.desc()).offset(-number).limit(1)
            else:
                query = query.where(r.c.seq == number)
            row = conn.execute(query).first()
        if row is None:
            span = f"{lo}" if lo == hi else f"{lo}–{hi}"
            back = f", so the earliest is -{count - 1}" if number < 0 and count > 1 else ""
            raise NotFound(f"{ref} has no revision {number} (it has {span}{back})")
        return self._revision(row, ref)

    @_guarded
    def latest_revisions(self, refs: list[str]) -> dict[str, RevisionRecord]:
        """Each plan's latest revision, for many plans in one query (a digest run's unchanged plans)."""
        sa, t = self._sa, self._t
        r, p = t.revisions, t.plans
        newest = sa.select(r.c.plan_id, sa.func.max(r.c.seq).label("seq")).group_by(r.c.plan_id).subquery()
        query = (sa.select(r, p.c.ref).join(p, p.c.id == r.c.plan_id)
                 .join(newest, (newest.c.plan_id == r.c.plan_id) & (newest.c.seq == r.c.seq))
                 .where(p.c.ref.in_(list(refs))))
        with self._tx() as conn:
            rows = conn.execute(query).all() if refs else []
        return {row.ref: self._revision(row, row.ref) for row in rows}

    def _span(self, conn: Any, ref: str) -> tuple[int | None, int | None, int]:
        sa, t = self._sa, self._t
        r = t.revisions
        return conn.execute(
            sa.select(sa.func.min(r.c.seq), sa.func.max(r.c.seq), sa.func.count(r.c.id))
            .join(t.plans, t.plans.c.id == r.c.plan_id).where(t.plans.c.ref == ref)
        ).one()

    # -- signatures ----------------------------------------------------------------------------

    @_guarded
    def record_signature(self, ref: str, *, name: str, email: str, side: str, signed_at: datetime,
                         fingerprint: str, revision_id: int | None = None) -> SignatureRecord:
        _require_aware(signed_at, "signed_at")
        sa, s = self._sa, self._t.signatures
        with self._tx(write=True) as conn:
            plan_id = self._plan_id(conn, ref)
            if plan_id is None:
                raise NotFound(f"{ref} is not registered in the state store")
            new_id = conn.execute(sa.insert(s).values(
                plan_id=plan_id, name=name, email=email, side=side, signed_at=signed_at,
                fingerprint=fingerprint, revision_id=revision_id)).inserted_primary_key[0]
            row = conn.execute(sa.select(s).where(s.c.id == new_id)).one()
        return _signature(row, ref)

    @_guarded
    def signatures(self, ref: str) -> list[SignatureRecord]:
        """A plan's signatures, oldest first."""
        sa, t = self._sa, self._t
        s = t.signatures
        with self._tx() as conn:
            rows = conn.execute(sa.select(s).join(t.plans, t.plans.c.id == s.c.plan_id)
                                .where(t.plans.c.ref == ref).order_by(s.c.signed_at, s.c.id)).all()
        return [_signature(row, ref) for row in rows]

    # -- audit log -----------------------------------------------------------------------------

    @_guarded
    def log_event(self, kind: str, *, ref: str | None = None, actor: str = "",
                  detail: dict[str, Any] | None = None, at: datetime | None = None) -> EventRecord:
        """Append to the audit log; ``ref`` must be a registered plan, or None for store-wide events."""
        at = at or datetime.now(UTC)
        _require_aware(at, "at")
        sa, e = self._sa, self._t.events
        with self._tx(write=True) as conn:
            plan_id = None
            if ref is not None:
                plan_id = self._plan_id(conn, ref)
                if plan_id is None:
                    raise NotFound(f"{ref} is not registered in the state store")
            new_id = conn.execute(sa.insert(e).values(
                plan_id=plan_id, at=at, actor=actor, kind=kind,
                detail=json.dumps(detail or {}, sort_keys=True, ensure_ascii=False, default=str),
            )).inserted_primary_key[0]
            row = conn.execute(sa.select(e).where(e.c.id == new_id)).one()
        return _event(row, ref)

    @_guarded
    def log_event_once(self, kind: str, *, ref: str, actor: str, detail: dict[str, Any], at: datetime) -> bool:
        """``log_event`` unless this very event (plan, kind, actor, time, detail) is logged already:
        an entry queued while the store could not be written, which two commands may write at once.
        Returns whether it was added."""
        _require_aware(at, "at")
        sa, e = self._sa, self._t.events
        text = json.dumps(detail, sort_keys=True, ensure_ascii=False, default=str)
        with self._tx(write=True) as conn:
            plan_id = self._plan_id(conn, ref, lock=True)
            if plan_id is None:
                raise NotFound(f"{ref} is not registered in the state store")
            same = (e.c.plan_id == plan_id) & (e.c.kind == kind) & (e.c.actor == actor) & (e.c.at == at) \
                & (e.c.detail == text)
            if conn.execute(sa.select(e.c.id).where(same).limit(1)).first() is not None:
                return False
            conn.execute(sa.insert(e).values(plan_id=plan_id, at=at, actor=actor, kind=kind, detail=text))
        return True

    @_guarded
    def events(self, ref: str | None = None, since: datetime | None = None) -> list[EventRecord]:
        """Events oldest first: of one plan (or all when ref is None), strictly after ``since``."""
        sa, t = self._sa, self._t
        e, p = t.events, t.plans
        query = sa.select(e, p.c.ref).outerjoin(p, p.c.id == e.c.plan_id).order_by(e.c.at, e.c.id)
        if ref is not None:
            query = query.where(p.c.ref == ref)
        if since is not None:
            _require_aware(since, "since")
            query = query.where(e.c.at > since)
        with self._tx() as conn:
            rows = conn.execute(query).all()
        return [_event(row, row.ref) for row in rows]

    @_guarded
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
            out[row.ref].append(_event(row, row.ref))
        return out

    @_guarded
    def latest_events(self, kind: str) -> dict[str, EventRecord]:
        """Plan ref -> its latest event of ``kind`` (e.g. which plans are archived, and how)."""
        sa, t = self._sa, self._t
        e, p = t.events, t.plans
        query = (sa.select(e, p.c.ref).join(p, p.c.id == e.c.plan_id).where(e.c.kind == kind)
                 .order_by(e.c.at, e.c.id))
        with self._tx() as conn:
            rows = conn.execute(query).all()
        return {row.ref: _event(row, row.ref) for row in rows}


def _signature(row: Any, ref: str) -> SignatureRecord:
    return SignatureRecord(id=row.id, ref=ref, name=row.name, email=row.email, side=row.side,
                           signed_at=row.signed_at, fingerprint=row.fingerprint, revision_id=row.revision_id)


def _event(row: Any, ref: str | None) -> EventRecord:
    return EventRecord(id=row.id, ref=ref, at=row.at, actor=row.actor, kind=row.kind,
                       detail=json.loads(row.detail))


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (got naive {value!r})")
