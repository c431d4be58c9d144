"""Per finished deal and phase, the business days it spent there: what the forecast draws from
(issue 24), kept in the state store by `stages`. Pure, over changes already read."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import date
from typing import NamedTuple

import pandas as pd

from mapsheets.analysis.stages import Changes, labelled, last_given, stage_visits


class DealPhase(NamedTuple):
    """The fields and order of ``store.history``'s PhaseRow: kept as they are, no copy."""

    deal: str  # the CRM's ID
    phase: str
    days: float
    lost: bool  # lost right after this phase
    segment: str  # the deal's last value of the segment column ("" : none asked)
    finished_on: date | None


def deal_phases(changes: Changes, *, holidays: Collection[date] = (),
                template_stages: Sequence[tuple[str, str]] | None = None,
                mapping: Mapping[str, str | None] | None = None, by_segment: bool = False) -> list[DealPhase]:
    """Each finished (won or lost) deal's business days per phase; a phase whose start or end is
    unknown for the deal is left out for it. Several visits of one phase add up."""
    ids = pd.factorize(changes.frame["deal"])[1]  # labelled numbers deals the same way
    df, _dropped = labelled(changes, template_stages, mapping)
    visits = stage_visits(df, holidays)
    same = visits["deal"].shift(-1) == visits["deal"]
    visits = visits.assign(next=visits["key"].shift(-1).where(same, ""))
    last = visits.drop_duplicates("deal", keep="last").set_index("deal")
    finished = last[last["key"].isin(["\x00won", "\x00lost"])]
    phases = visits[visits["deal"].isin(finished.index) & ~visits["key"].str.startswith(("\x00", "\x01"))]
    per = phases.assign(unknown=phases["days"].isna(), lost=phases["next"] == "\x00lost").groupby(
        ["deal", "key"], sort=False).agg(days=("days", "sum"), unknown=("unknown", "any"), lost=("lost", "any"))
    per = per[~per["unknown"]].reset_index()
    if per.empty:  # no deal finished yet: nothing to keep
        return []
    closed = per["deal"].map(finished["at"]).dt.date.astype(object).where(lambda d: d.notna(), None)
    segment = (per["deal"].map(df.groupby("deal", sort=False)["segment"].agg(last_given))
               if by_segment and "segment" in df else pd.Series("", index=per.index))
    deals = ids.astype(str)[per["deal"].to_numpy()].tolist()
    columns = (deals, per["key"].astype(str).tolist(), per["days"].astype(float).tolist(),
               per["lost"].astype(bool).tolist(), segment.astype(str).tolist(), closed.tolist())
    return [DealPhase(*row) for row in zip(*columns, strict=True)]
