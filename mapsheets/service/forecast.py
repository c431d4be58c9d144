"""The chance a plan closes by its target (issue 24), from the history the state store keeps.

``analysis.forecast`` simulates; this module finds the history (``store.history``, read with sqlite3
when it can so `show` pays no SQLAlchemy import) and says it in `show` and the digest.
A plan's phases are its steps' ``phase`` names, matched to the kept phases by name. The pipeline
view is ``service.pipeline``.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mapsheets.adapters.store import Store
    from mapsheets.analysis.forecast import Forecast
    from mapsheets.core.model import Plan
    from mapsheets.service.plans import PlanView



@dataclass(frozen=True)
class History:
    """Per phase, the business days each kept deal spent there, and the share lost right after it."""

    days: dict[str, list[float]]
    lost_after: dict[str, float]

    @classmethod
    def of(cls, rows: Mapping[str, Sequence[tuple[float, bool]]]) -> History:
        return cls({p: [d for d, _l in r] for p, r in rows.items()},
                   {p: sum(lost for _d, lost in r) / len(r) for p, r in rows.items() if r})


def kept_history(store_url: str | None = None) -> History | None:
    """The kept history, None when nothing is kept (or no store exists: a read makes none)."""
    from mapsheets.adapters.store import existing_url, open_store, quick

    url = store_url or existing_url(os.environ)
    if url is None:
        return None
    rows = quick.phase_history(url)
    if rows is None:  # not a file sqlite3 can read as is: the Store (which migrates an older one)
        rows = open_store(url).history.durations()
    return History.of(rows) if rows else None


def plan_forecast(view: PlanView, history: History | None, *, simulations: int | None = None) -> Forecast | None:
    """The forecast of an open plan; None for a closed plan or when no history is kept."""
    return chance_of(view.plan, view.today, view.days_off, history, simulations=simulations)


def chance_of(plan: Plan, today: date, days_off: Collection[date], history: History | None, *,
              simulations: int | None = None) -> Forecast | None:
    """``plan_forecast`` of a plan and its calendar (the digest's, which has no view)."""
    if history is None or plan.outcome:
        return None  # and numpy is not imported: `show` without history loads none
    from mapsheets.analysis.forecast import SIMULATIONS, forecast

    return forecast(plan, history.days, today, days_off, simulations=simulations or SIMULATIONS,
                    lost_after=history.lost_after)


def stored_history(store: Store) -> History | None:
    """The kept history of an open store (the digest run's), None when nothing is kept."""
    rows = store.history.durations()
    return History.of(rows) if rows else None


def forecast_of(view: PlanView, *, store_url: str | None = None) -> Forecast | None:
    """`show`'s forecast: the plan against the kept history. The figure is kept in the user's cache
    folder, keyed by the plan as read, the day and the history's version, so a second `show` that
    day reads it back without loading the simulation (numpy's import alone costs ~80 ms)."""
    import json

    from mapsheets.adapters import holiday_cache
    from mapsheets.adapters.store import existing_url, quick
    from mapsheets.core.chance import Forecast

    url = store_url or existing_url(os.environ)
    version = quick.history_version(url) if url else ""
    if not version or view.plan.outcome:  # nothing kept, or not a file sqlite3 reads: compute as ever
        return None if version == "" else plan_forecast(view, kept_history(store_url))
    key = json.dumps([CACHE_FORMAT, view.plan.to_dict(), view.today.isoformat(), version], sort_keys=True,
                     default=str)
    folder = holiday_cache.cache_dir(os.environ)
    kept = holiday_cache.read_json(folder, "forecast", key)
    if isinstance(kept, dict):
        return Forecast.from_dict(kept)
    found = plan_forecast(view, kept_history(store_url))
    if found is not None:
        holiday_cache.write_json(folder, "forecast", key, found.to_dict())
    return found


CACHE_FORMAT = 1  # bump when the kept figure's shape or the simulation changes


@dataclass(frozen=True)
class Told:
    """One plan's chance to close in a digest run, and the chance the last digest told."""

    now: Forecast | None = None
    previous: float | None = None

    @classmethod
    def of(cls, store: Store, ref: str, plan: Plan, today: date, days_off: Collection[date],
           history: History | None) -> Told:
        chance = chance_of(plan, today, days_off, history)
        told = store.history.last_told(ref) if chance is not None else None
        return cls(chance, (told or {}).get("chance"))

    def words(self, plan: Plan, today: date, days_off: Collection[date]) -> tuple[str, str]:
        """What a seller-side digest says (``core.digest.chance_words``); ("", "") with no history."""
        from mapsheets.core.digest import chance_words

        return ("", "") if self.now is None else chance_words(self.now, self.previous, plan, today, days_off)

    def keep(self, store: Store, ref: str, at: datetime) -> None:
        """A digest told it: the figure the next one says it moved from (none when there was no percentage)."""
        if self.now is not None and self.now.chance is not None:
            store.history.tell(ref, self.now.to_dict(), at)
