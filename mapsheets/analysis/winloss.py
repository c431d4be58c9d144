"""The win/loss table and what a sales manager wants from it, with pandas (imported here only).

Input is plain records (``core.winloss``); output is plain rows and sentences, so writing the
.xlsx stays in the xlsx adapter and this module does no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from mapsheets.core.text import business_days, plural
from mapsheets.core.winloss import STEP_COLUMNS

PLAN_COLUMNS = ("plan", "title", "buyer", "seller", "outcome", "closed_on", "map_date", "days_map_to_close",
                "signed", "signed_sides", "execution_score", "buyer_steps_on_time", "steps", "done", "reason",
                "signatures")
# A phase is named in the findings when its median slip differs this much between won and lost.
NOTABLE_GAP = 2


@dataclass
class WinLoss:
    tables: dict[str, list[list[Any]]] = field(default_factory=dict)  # sheet name -> header + rows
    findings: list[str] = field(default_factory=list)
    csv: str = ""  # the step table (one row per step of every plan) as CSV text


def _rows(frame: pd.DataFrame) -> list[list[Any]]:
    def cell(value: Any) -> Any:
        if value is None or (not isinstance(value, (list, str)) and pd.isna(value)):
            return None
        return value.item() if hasattr(value, "item") else value

    return [list(frame.columns)] + [[cell(v) for v in row] for row in frame.itertuples(index=False)]


def analyse(plans: Sequence[dict[str, Any]], steps: Sequence[dict[str, Any]]) -> WinLoss:
    """The tables (steps, plans, slip by phase and side) and the findings across closed plans."""
    plan_df = pd.DataFrame(list(plans), columns=list(PLAN_COLUMNS))
    step_df = pd.DataFrame(list(steps), columns=list(STEP_COLUMNS))
    step_df["slip_business_days"] = pd.to_numeric(step_df["slip_business_days"], errors="coerce")
    slipped = step_df.dropna(subset=["slip_business_days"])
    by_phase = (slipped.groupby(["phase", "side", "outcome"], sort=True)["slip_business_days"]
                .agg(["median", "mean", "count"]).reset_index()
                .rename(columns={"median": "median_slip", "mean": "mean_slip", "count": "steps"}))
    by_phase["mean_slip"] = by_phase["mean_slip"].round(1)
    buyer = step_df[(step_df["side"] == "buyer") & step_df["on_time"].notna()]
    on_time = buyer.assign(on_time=buyer["on_time"].astype(bool)).groupby("outcome")["on_time"].mean()
    result = WinLoss()
    result.tables = {"Win-loss": _rows(step_df), "Plans": _rows(plan_df), "Slip by phase": _rows(by_phase)}
    result.findings = _findings(plan_df, slipped, on_time)
    result.tables["Findings"] = [["finding"]] + [[f] for f in result.findings]
    result.csv = _neutralised(step_df).to_csv(index=False, lineterminator="\n")
    return result


def _neutralised(frame: pd.DataFrame) -> pd.DataFrame:
    """Text a spreadsheet would run as a formula ("=HYPERLINK(...)", "+cmd") opens as text: a leading '."""
    from mapsheets.core.cell_input import as_csv_text

    return frame.map(as_csv_text)


def _findings(plans: pd.DataFrame, slipped: pd.DataFrame, on_time: pd.Series) -> list[str]:
    out: list[str] = []
    won, lost = (plans["outcome"] == "won").sum(), (plans["outcome"] == "lost").sum()
    out.append(f"{plural(len(plans), 'closed plan')}: {won} won, {lost} lost")
    medians = slipped.groupby(["phase", "outcome"])["slip_business_days"].median().unstack()
    if {"won", "lost"} <= set(medians.columns):
        gaps = (medians["lost"] - medians["won"]).dropna().sort_values(ascending=False)
        for phase, gap in gaps.items():
            if gap < NOTABLE_GAP or len(out) >= 4:
                break
            out.append(f"{phase} slipped a median {business_days(medians.loc[phase, 'lost'])} in lost deals, "
                       f"{business_days(medians.loc[phase, 'won'])} in won")
    if {"won", "lost"} <= set(on_time.index):
        out.append(f"Buyer steps were done on time {on_time['won']:.0%} of the time in won deals, "
                   f"{on_time['lost']:.0%} in lost")
    for outcome, group in plans.groupby("outcome"):
        signed = int(group["signed"].sum())
        out.append(f"{outcome.capitalize()} deals: signed by both sides {signed}/{len(group)}, median "
                   f"{group['days_map_to_close'].median():g} days from MAP to close, median execution score "
                   f"{group['execution_score'].median():g}")
    return out
