"""Revisions: each plan's snapshots, numbered 1, 2, 3 … without gaps; equal content is stored once."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from mapsheets.adapters.store.base import Repository, guarded, require_aware
from mapsheets.adapters.store.records import RevisionRecord, canonical_json, revision_record
from mapsheets.errors import NotFound, UsageError


class RevisionRepository(Repository):
    """``store.revisions``."""

    @guarded
    def add(self, ref: str, content: dict[str, Any], fingerprint: str, *, taken_at: datetime,
            source: dict[str, Any] | None = None, step_count: int,
            done_count: int, origin: str | None = None) -> tuple[RevisionRecord, bool]:
        """Store the next revision of a registered plan, unless it equals the latest one.

        Returns (revision, created); when content and fingerprint equal the latest revision, that
        one is returned with created=False.
        """
        require_aware(taken_at, "taken_at")
        sa, r = self._sa, self._t.revisions
        text = canonical_json(content)
        # Backend metadata, not compared: tolerate a datetime or Path in it.
        source_text = json.dumps(source or {}, sort_keys=True, ensure_ascii=False, default=str)
        for attempt in range(2):
            try:
                with self._tx(write=True) as conn:
                    plan_id = self._required_plan(conn, ref, lock=True)
                    last = conn.execute(sa.select(r).where(r.c.plan_id == plan_id)
                                        .order_by(r.c.seq.desc()).limit(1)).first()
                    if last is not None and last.fingerprint == fingerprint and last.content == text:
                        return revision_record(last, ref), False
                    seq = last.seq + 1 if last is not None else 1
                    new_id = conn.execute(sa.insert(r).values(
                        plan_id=plan_id, seq=seq, taken_at=taken_at, fingerprint=fingerprint, content=text,
                        step_count=step_count, done_count=done_count, source=source_text, origin=origin,
                    )).inserted_primary_key[0]
                    row = conn.execute(sa.select(r).where(r.c.id == new_id)).one()
                    return revision_record(row, ref), True
            except sa.exc.IntegrityError:
                if attempt:  # UNIQUE(plan_id, seq) is the backstop; the retry reads the new latest
                    raise
        raise AssertionError("unreachable")

    @guarded
    def of(self, ref: str) -> list[RevisionRecord]:
        """All revisions of a plan, oldest first (empty for an unknown plan)."""
        with self._tx() as conn:
            rows = conn.execute(self._query(ref).order_by(self._t.revisions.c.seq)).all()
        return [revision_record(row, ref) for row in rows]

    @guarded
    def get(self, ref: str, spec: str | int) -> RevisionRecord:
        """A revision by seq (``"3"``), ``"latest"``, or counting back from latest (``"-1"``, ``"-2"``)."""
        r = self._t.revisions
        number = _number(spec)
        with self._tx() as conn:
            lo, hi, count = self._span(conn, ref)
            if not count:
                raise NotFound(f"{ref} has no revisions: run `mapsheets snapshot` first")
            query = self._query(ref)
            if number is None:
                query = query.order_by(r.c.seq.desc()).limit(1)
            elif number < 0:
                query = query.order_by(r.c.seq.desc()).offset(-number).limit(1)
            else:
                query = query.where(r.c.seq == number)
            row = conn.execute(query).first()
        if row is None:
            assert number is not None  # "latest" of a plan with revisions always finds one
            span = f"{lo}" if lo == hi else f"{lo}–{hi}"
            back = f", so the earliest is -{count - 1}" if number < 0 and count > 1 else ""
            raise NotFound(f"{ref} has no revision {number} (it has {span}{back})")
        return revision_record(row, ref)

    @guarded
    def latest(self, refs: list[str]) -> dict[str, RevisionRecord]:
        """Each plan's latest revision, for many plans in one query (a digest run's unchanged plans)."""
        sa, t = self._sa, self._t
        r, p = t.revisions, t.plans
        newest = sa.select(r.c.plan_id, sa.func.max(r.c.seq).label("seq")).group_by(r.c.plan_id).subquery()
        query = (sa.select(r, p.c.ref).join(p, p.c.id == r.c.plan_id)
                 .join(newest, (newest.c.plan_id == r.c.plan_id) & (newest.c.seq == r.c.seq))
                 .where(p.c.ref.in_(list(refs))))
        with self._tx() as conn:
            rows = conn.execute(query).all() if refs else []
        return {row.ref: revision_record(row, row.ref) for row in rows}

    @guarded
    def by_id(self, revision_id: int) -> RevisionRecord:
        sa, t = self._sa, self._t
        r = t.revisions
        with self._tx() as conn:
            row = conn.execute(sa.select(r, t.plans.c.ref.label("plan_ref"))
                               .join(t.plans, t.plans.c.id == r.c.plan_id).where(r.c.id == revision_id)).first()
        if row is None:
            raise NotFound(f"no revision with id {revision_id}")
        return revision_record(row, row.plan_ref)

    def _query(self, ref: str) -> Any:
        sa, t = self._sa, self._t
        r = t.revisions
        return sa.select(r).join(t.plans, t.plans.c.id == r.c.plan_id).where(t.plans.c.ref == ref)

    def _span(self, conn: Any, ref: str) -> tuple[int | None, int | None, int]:
        sa, t = self._sa, self._t
        r = t.revisions
        lo, hi, count = conn.execute(
            sa.select(sa.func.min(r.c.seq), sa.func.max(r.c.seq), sa.func.count(r.c.id))
            .join(t.plans, t.plans.c.id == r.c.plan_id).where(t.plans.c.ref == ref)
        ).one()
        return lo, hi, count


def _number(spec: str | int) -> int | None:
    """The seq or -N a revision spec names; None for "latest"."""
    text = str(spec).strip()
    if text.lower() == "latest":
        return None
    try:
        return int(text)
    except ValueError:
        raise UsageError(f"revision {text!r}: expected a number, 'latest' or -N "
                         "(N revisions before latest)") from None
