"""Per plan, what the digest run keeps between runs (the ``plan_sources`` table): what the backend
said last time we looked (to skip plans that did not change), the last revision written to the
plan's Changes tab, and the claim on writing that tab."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from mapsheets.adapters.store.base import Repository, guarded
from mapsheets.adapters.store.digests import CLAIM_LEASE


class SourceRepository(Repository):
    """``store.sources``."""

    @guarded
    def seen(self) -> dict[str, dict[str, Any]]:
        """Per plan ref, what its backend said last time we looked (for skipping unchanged plans)."""
        sa, t = self._sa, self._t
        with self._tx() as conn:
            rows = conn.execute(sa.select(t.plans.c.ref, t.plan_sources.c.source)
                                .join(t.plan_sources, t.plan_sources.c.plan_id == t.plans.c.id)).all()
        return {r.ref: json.loads(r.source) for r in rows}

    @guarded
    def set_seen(self, ref: str, source: dict[str, Any], now: datetime) -> None:
        sa, ps = self._sa, self._t.plan_sources
        text = json.dumps(source, sort_keys=True, default=str)
        with self._tx(write=True) as conn:
            plan_id = self._required_plan(conn, ref)
            if conn.execute(sa.update(ps).where(ps.c.plan_id == plan_id)
                            .values(source=text, checked_at=now)).rowcount == 0:
                conn.execute(sa.insert(ps).values(plan_id=plan_id, source=text, checked_at=now))

    @guarded
    def logged_revision(self, ref: str) -> int | None:
        """The last revision whose changes were written to the plan's Changes tab."""
        sa, t = self._sa, self._t
        with self._tx() as conn:
            logged: int | None = conn.execute(sa.select(t.plan_sources.c.logged_revision_id)
                                              .join(t.plans, t.plans.c.id == t.plan_sources.c.plan_id)
                                              .where(t.plans.c.ref == ref)).scalar()
        return logged

    @guarded
    def logged_revisions(self, refs: list[str]) -> dict[str, int | None]:
        """``logged_revision`` of many plans in one query."""
        sa, t = self._sa, self._t
        with self._tx() as conn:
            rows = conn.execute(sa.select(t.plans.c.ref, t.plan_sources.c.logged_revision_id)
                                .join(t.plans, t.plans.c.id == t.plan_sources.c.plan_id)
                                .where(t.plans.c.ref.in_(list(refs)))).all() if refs else []
        return {ref: None for ref in refs} | {row.ref: row.logged_revision_id for row in rows}

    @guarded
    def set_logged_revision(self, ref: str, revision_id: int, *, expected: int | None = None,
                            check: bool = False) -> bool:
        """Move the Changes-tab cursor; with ``check``, only from ``expected`` (False: another run did)."""
        sa, ps = self._sa, self._t.plan_sources
        with self._tx(write=True) as conn:
            plan_id = self._required_plan(conn, ref)
            query = sa.update(ps).where(ps.c.plan_id == plan_id)
            if check:
                col = ps.c.logged_revision_id
                query = query.where(col.is_(None) if expected is None else col == expected)
            return bool(conn.execute(query.values(logged_revision_id=revision_id)).rowcount == 1)

    @guarded
    def claim_changes(self, ref: str, now: datetime, lease: timedelta = CLAIM_LEASE) -> bool:
        """Take the writing of the plan's Changes tab; False while another run holds it. A claim
        older than ``lease`` belongs to a run that died (its rows, if written, are keyed)."""
        sa, ps = self._sa, self._t.plan_sources
        free = sa.or_(ps.c.changes_claimed_at.is_(None), ps.c.changes_claimed_at < now - lease)
        with self._tx(write=True) as conn:
            plan_id = self._required_plan(conn, ref)
            return bool(conn.execute(sa.update(ps).where(ps.c.plan_id == plan_id, free)
                                     .values(changes_claimed_at=now)).rowcount == 1)

    @guarded
    def release_changes(self, ref: str) -> None:
        sa, ps = self._sa, self._t.plan_sources
        with self._tx(write=True) as conn:
            plan_id = self._required_plan(conn, ref)
            conn.execute(sa.update(ps).where(ps.c.plan_id == plan_id).values(changes_claimed_at=None))
