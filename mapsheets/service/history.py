"""The forecast's history in the state store (issue 24): what `stages` and `report winloss` keep of
each finished deal (business days per phase, lost after it), `mapsheets history` and its --forget."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING

from mapsheets.adapters.store import open_store

if TYPE_CHECKING:
    from mapsheets.adapters.store import Store
    from mapsheets.adapters.store.history import KeptPhase
    from mapsheets.analysis.stages import Changes
    from mapsheets.core.model import Plan

WINLOSS = "winloss"


def keep_stage_history(changes: Changes, source: str, *, now: datetime, holidays: Collection[date] = (),
                       template_stages: Sequence[tuple[str, str]] | None = None,
                       mapping: dict[str, str | None] | None = None, by_segment: bool = False,
                       store_url: str | None = None) -> int:
    """Keep each finished deal's business days per phase of a stage history, replacing what the same
    ``source`` (e.g. "stages OpportunityHistory.csv") kept before; how many rows were kept."""
    from mapsheets.analysis.phase_history import deal_phases

    rows = deal_phases(changes, holidays=holidays, template_stages=template_stages, mapping=mapping,
                       by_segment=by_segment)
    return open_store(store_url).history.keep(source, rows, now)


def keep_winloss_history(store: Store, closed: Iterable[tuple[str, Sequence[tuple[date, Plan]], Collection[date]]],
                         *, now: datetime) -> int:
    """Keep each closed plan's business days per phase it finished (``core.winloss.phase_times``),
    replacing what an earlier report kept of the same plan. ``closed``: (ref, revisions, holidays)."""
    from mapsheets.adapters.store.history import PhaseRow
    from mapsheets.core.winloss import phase_times

    count = 0
    for ref, revisions, holidays in closed:
        finished = revisions[-1][1].closed_on or revisions[-1][0]
        rows = [PhaseRow(ref, phase, days, lost, "", finished)
                for phase, days, lost in phase_times(revisions, holidays)]
        count += store.history.keep(f"{WINLOSS} {ref}", rows, now)
    return count


def kept(store_url: str | None = None) -> list[KeptPhase]:
    """What the store keeps, per source, segment and phase (`mapsheets history`)."""
    from mapsheets.adapters.store import store_exists

    if store_url is None and not store_exists():
        return []  # a listing makes no store
    return open_store(store_url).history.kept()


def forget(store_url: str | None = None) -> int:
    """Clear the kept history and the last forecasts told; how many deal-phase rows went."""
    return open_store(store_url).history.forget()

