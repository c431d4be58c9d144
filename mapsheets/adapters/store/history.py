"""The forecast's history (``store.history``): per finished deal and phase, the business days it spent
there and whether it was lost right after; and per plan, the last chance to close a digest told."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple

from mapsheets.adapters.store.base import Repository, guarded, require_aware

# (deal, phase, days, lost after, segment, finished on): PhaseRow, or any tuple of these fields.
Row = tuple[str, str, float, bool, str, date | None]


class PhaseRow(NamedTuple):
    """One finished deal's time in one phase (a tuple: a stage history makes tens of thousands)."""

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
    def keep(self, source: str, rows: Iterable[Row], at: datetime) -> int:
        """Replace what ``source`` kept before with ``rows``; how many rows were kept."""
        require_aware(at, "at")
        sa, h = self._sa, self._t.phase_history
        with self._tx(write=True) as conn:
            conn.execute(sa.delete(h).where(h.c.source == source))
            return self._insert(conn, source, list(rows), at)

    def _insert(self, conn: Any, source: str, rows: list[Row], at: datetime) -> int:
        """One executemany of plain tuples: a stage history keeps a row per deal and phase (50,000 for
        13,000 deals), and SQLAlchemy's per-row parameter handling took a second and a half of it."""
        h, dialect = self._t.phase_history, conn.dialect
        mark = {"qmark": "?", "format": "%s", "pyformat": "%s"}.get(dialect.paramstyle)
        names = ("source", "deal", "phase", "segment", "days", "lost", "finished_on", "kept_at")
        if mark is None or not rows:  # a driver of another style: SQLAlchemy's own insert
            if rows:
                conn.execute(self._sa.insert(h), [dict(zip(names, (source, deal, phase, segment, days, lost, finished,
                                                                   at), strict=True))
                                                  for deal, phase, days, lost, segment, finished in rows])
            return len(rows)

        def processor(name: str) -> Any:
            found = h.c[name].type.bind_processor(dialect)
            return found or (lambda value: value)

        day, flag, when = processor("finished_on"), processor("lost"), processor("kept_at")(at)
        sql = f"INSERT INTO phase_history ({', '.join(names)}) VALUES ({', '.join([mark] * len(names))})"
        conn.exec_driver_sql(sql, [(source, deal, phase, segment, float(days), flag(bool(lost)), day(finished), when)
                                   for deal, phase, days, lost, segment, finished in rows])
        return len(rows)

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
