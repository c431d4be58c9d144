"""Registered plans: one row per plan ref (an absolute path or a Google sheet ID)."""

from __future__ import annotations

from datetime import UTC, datetime

from mapsheets.adapters.store.base import Repository, guarded
from mapsheets.adapters.store.records import PlanRecord


class PlanRepository(Repository):
    """``store.plans``."""

    @guarded
    def register(self, ref: str, backend: str, title: str = "") -> PlanRecord:
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

    @guarded
    def get(self, ref: str) -> PlanRecord | None:
        p = self._t.plans
        with self._tx() as conn:
            row = conn.execute(self._sa.select(p).where(p.c.ref == ref)).first()
        return PlanRecord(row.id, row.ref, row.backend, row.title, row.created_at) if row else None

    @guarded
    def refs(self) -> list[str]:
        """Every registered plan's ref, in the order they were registered."""
        p = self._t.plans
        with self._tx() as conn:
            return [row.ref for row in conn.execute(self._sa.select(p.c.ref).order_by(p.c.id))]
