"""The forecast's history (``store.history``): per finished deal and phase, the business days it spent
there and whether it was lost right after; and per plan, the last chance to close a digest told."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from mapsheets.adapters.store.base import Repository, guarded, require_aware


@dataclass(frozen=True)
class PhaseRow:
    """One finished deal's time in one phase."""

    deal: str
    phase: str
    days: float
    lost: bool = False  # lost right after this phase
    segment: str = ""
    finished_on: date | None = None


@dataclass(frozen=True)
class KeptPhase:
    """What is kept for one phase from one source: how many deals, their close dates, when kept."""

    source: str
    phase: str
    segment: str
    deals: int
    lost: int
    first: date | None
    last: date | None
    kept_at: datetime


class HistoryRepository(Repository):
    """``store.history``."""

    @guarded
    def keep(self, source: str, rows: Iterable[PhaseRow], at: datetime) -> int:
        """Replace what ``source`` kept before with ``rows``; how many rows were kept."""
        require_aware(at, "at")
        sa, h = self._sa, self._t.phase_history
        values = [{"source": source, "deal": r.deal, "phase": r.phase, "segment": r.segment, "days": float(r.days),
                   "lost": bool(r.lost), "finished_on": r.finished_on, "kept_at": at} for r in rows]
        with self._tx(write=True) as conn:
            conn.execute(sa.delete(h).where(h.c.source == source))
            if values:
                conn.execute(sa.insert(h), values)
        return len(values)

    @guarded
    def durations(self, segment: str | None = None) -> dict[str, list[tuple[float, bool]]]:
        """Phase → (business days, lost after) of every kept deal (of ``segment`` when given)."""
        sa, h = self._sa, self._t.phase_history
        query = sa.select(h.c.phase, h.c.days, h.c.lost).order_by(h.c.id)
        if segment is not None:
            query = query.where(h.c.segment == segment)
        out: dict[str, list[tuple[float, bool]]] = {}
        with self._tx() as conn:
            for phase, days, lost in conn.execute(query):
                out.setdefault(phase, []).append((float(days), bool(lost)))
        return out

    @guarded
    def kept(self) -> list[KeptPhase]:
        """Per source, segment and phase: deals, lost, first and last close date, when kept."""
        sa, h = self._sa, self._t.phase_history
        lost = sa.func.sum(sa.case((h.c.lost, 1), else_=0))
        query = (sa.select(h.c.source, h.c.segment, h.c.phase, sa.func.count(), lost, sa.func.min(h.c.finished_on),
                           sa.func.max(h.c.finished_on), sa.func.max(h.c.kept_at))
                 .group_by(h.c.source, h.c.segment, h.c.phase).order_by(h.c.source, h.c.segment, h.c.phase))
        with self._tx() as conn:
            rows = conn.execute(query).all()
        return [KeptPhase(source, phase, segment, int(n), int(lost_n or 0), first, last, _aware(kept_at))
                for source, segment, phase, n, lost_n, first, last, kept_at in rows]

    @guarded
    def forget(self) -> int:
        """Clear every kept duration and every last chance told; how many durations were kept."""
        sa, t = self._sa, self._t
        with self._tx(write=True) as conn:
            count = conn.execute(sa.delete(t.phase_history)).rowcount
            conn.execute(sa.delete(t.forecast_told))
        return int(count or 0)

    @guarded
    def last_told(self, ref: str) -> dict[str, Any] | None:
        """The forecast the plan's last digest told (``Forecast.to_dict``), None: none yet."""
        sa, f = self._sa, self._t.forecast_told
        with self._tx() as conn:
            plan_id = self._plan_id(conn, ref)
            if plan_id is None:
                return None
            detail = conn.execute(sa.select(f.c.detail).where(f.c.plan_id == plan_id)).scalar()
        found: dict[str, Any] | None = json.loads(detail) if detail else None
        return found

    @guarded
    def tell(self, ref: str, figures: dict[str, Any], at: datetime) -> None:
        """Keep ``figures`` as the last forecast told for the (registered) plan."""
        require_aware(at, "at")
        sa, f = self._sa, self._t.forecast_told
        chance = figures.get("chance")
        values = {"chance": chance, "detail": json.dumps(figures, sort_keys=True), "at": at}
        with self._tx(write=True) as conn:
            plan_id = self._required_plan(conn, ref)
            if conn.execute(sa.update(f).where(f.c.plan_id == plan_id).values(**values)).rowcount == 0:
                conn.execute(sa.insert(f).values(plan_id=plan_id, **values))


def _aware(value: datetime) -> datetime:
    from datetime import UTC

    return value if value.tzinfo else value.replace(tzinfo=UTC)
