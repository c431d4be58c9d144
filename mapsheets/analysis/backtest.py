"""Does the forecast mean anything? Finished deals replayed in time order (`forecast --backtest`).

At each deal's entry into each phase, the chance it closes (won) by its target is predicted using
only deals that had finished before that moment: the share of those deals that won from that phase
on, times the chance that the rest of the phases, each drawn from the won deals' time in it (as the
forecast draws them), fit before the target. The target is the close date as planned at that time
(the export's CloseDate) or ``target_days`` business days on.

Two baselines answer the same question at the same moments: the plan's own schedule (1 when the
template's days for the phases left fit before the target, else 0) and the CRM's stage probability
(Salesforce's and HubSpot's default stage percentages). The Brier score is the mean squared
difference between a prediction and what happened (0 is perfect; always saying 50 % scores 0.25).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from mapsheets.analysis.crm_formats import norm
from mapsheets.analysis.stages import Changes, labelled, stage_visits

MIN_DEALS = 20
MIN_PER_DECILE = 30
_EPOCH = np.datetime64("2000-01-03", "D")

# The CRMs' default stage probabilities: what a pipeline report shows beside each deal.
CRM_PROBABILITY = {norm(stage): p for stage, p in {
    "Prospecting": 0.10, "Qualification": 0.10, "Needs Analysis": 0.20, "Value Proposition": 0.50,
    "Id. Decision Makers": 0.60, "Perception Analysis": 0.70, "Proposal/Price Quote": 0.75,
    "Negotiation/Review": 0.90,
    "Appointment scheduled": 0.20, "Qualified to buy": 0.40, "Presentation scheduled": 0.60,
    "Decision maker bought-in": 0.80, "Contract sent": 0.90}.items()}
PREDICTORS = ("model", "plan", "crm")


@dataclass(frozen=True)
class Decile:
    lower: float
    upper: float
    n: int
    predicted: float  # mean prediction in the decile
    observed: float  # share that closed by target
    low: float  # the 90 % interval of the observed share, were the predictions right
    high: float

    @property
    def calibrated(self) -> bool | None:
        """Within its interval; None with fewer than MIN_PER_DECILE predictions (too few to tell)."""
        return None if self.n < MIN_PER_DECILE else self.low <= self.observed <= self.high


@dataclass
class Backtest:
    predictions: pd.DataFrame  # deal, phase, at, target, model, plan, crm, outcome
    skipped: int  # phase entries with too little history before them

    def brier(self) -> dict[str, float]:
        """Per predictor, over the moments every predictor answered; NaN for one that never did (an
        export whose stages have no CRM default probability)."""
        answered = [name for name in PREDICTORS if self.predictions[name].notna().any()]
        scored = self.predictions.dropna(subset=answered)
        return {name: float(np.mean((scored[name] - scored["outcome"]) ** 2)) if name in answered and len(scored)
                else math.nan for name in PREDICTORS}

    def reliability(self, predictor: str = "model") -> list[Decile]:
        p, y = self.predictions[predictor].to_numpy(float), self.predictions["outcome"].to_numpy(float)
        keep = ~np.isnan(p)
        p, y = p[keep], y[keep]
        which = np.minimum((p * 10).astype(int), 9)
        out = []
        for d in range(10):
            inside = which == d
            n = int(inside.sum())
            if not n:
                continue
            predicted = float(p[inside].mean())
            low, high = _interval(n, predicted)
            out.append(Decile(d / 10, (d + 1) / 10, n, predicted, float(y[inside].mean()), low, high))
        return out

    def calibrated(self) -> bool:
        return all(d.calibrated is not False for d in self.reliability())


def backtest(changes: Changes, phases: Sequence[tuple[str, str, int]], *,
             mapping: Mapping[str, str | None] | None = None, holidays: Collection[date] = (),
             target_days: int | None = None, simulations: int = 2000, min_deals: int = MIN_DEALS,
             seed: int = 0) -> Backtest:
    """Replay the finished deals of ``changes``; ``phases`` are the template's (key, name, days)."""
    names = [name for _key, name, _days in phases]
    planned_days = np.array([days for _key, _name, days in phases], dtype=float)
    df, _dropped = labelled(changes, [(k, n) for k, n, _d in phases], mapping)
    off = np.array(sorted(holidays), dtype="datetime64[D]")
    visits = _with_index(stage_visits(df, holidays), off, target_days)
    deals = _finished(visits)
    by_phase = _by_phase(visits, names)
    rng = np.random.default_rng(seed)
    rows, skipped = [], 0
    points = visits[visits["key"].isin(names) & visits["deal"].isin(deals.index) & visits["t"].notna()]
    for point in points.itertuples(index=False):
        j = names.index(point.key)
        model = _predict(by_phase, names[j:], point.t, point.goal - point.t, simulations, min_deals, rng)
        if model is None:
            skipped += 1
            continue
        won, closed = deals.loc[point.deal, "won"], deals.loc[point.deal, "closed"]
        rows.append({"deal": point.deal, "phase": point.key, "at": point.t, "target": point.goal,
                     "model": model, "plan": float(planned_days[j:].sum() <= point.goal - point.t),
                     "crm": CRM_PROBABILITY.get(norm(point.raw), np.nan),
                     "outcome": float(bool(won) and closed <= point.goal)})
    return Backtest(pd.DataFrame(rows, columns=["deal", "phase", "at", "target", *PREDICTORS, "outcome"]), skipped)


def _with_index(visits: pd.DataFrame, off: np.ndarray, target_days: int | None) -> pd.DataFrame:
    """Visits with business-day numbers: ``t`` entered, ``end`` left (NaN: not yet), ``goal`` the
    target, ``next`` the key that followed."""
    t = _index(visits["at"], off)
    if target_days is not None:
        goal = t + target_days
    elif "target" in visits:
        goal = _index(visits["target"], off)
    else:
        raise ValueError("no target: the history has no CloseDate column, so give target_days")
    same = visits["deal"].shift(-1) == visits["deal"]
    return visits.assign(t=t, end=t + visits["days"], goal=goal, next=visits["key"].shift(-1).where(same, ""))


def _index(times: pd.Series, off: np.ndarray) -> pd.Series:
    """Business-day numbers of UTC times (NaN where unknown)."""
    days = times.dt.tz_convert(None).to_numpy().astype("datetime64[D]")
    out = np.full(len(days), np.nan)
    known = ~np.isnat(days)
    rolled = np.busday_offset(days[known], 0, roll="forward", holidays=off)
    out[known] = np.busday_count(_EPOCH, rolled, holidays=off)
    return pd.Series(out, index=times.index)


def _finished(visits: pd.DataFrame) -> pd.DataFrame:
    """Finished deals: won or lost, and the business day they closed."""
    last = visits.drop_duplicates("deal", keep="last").set_index("deal")
    finished = last[last["key"].isin(["\x00won", "\x00lost"])]
    return pd.DataFrame({"won": finished["key"] == "\x00won", "closed": finished["t"]})


@dataclass(frozen=True)
class _PhaseVisits:
    """One phase's visits as arrays: entered, left (NaN: not yet), business days, lost after it."""

    t: np.ndarray
    end: np.ndarray
    days: np.ndarray
    lost: np.ndarray


def _by_phase(visits: pd.DataFrame, names: list[str]) -> dict[str, _PhaseVisits]:
    out = {}
    for name in names:
        v = visits[(visits["key"] == name) & visits["t"].notna()]
        out[name] = _PhaseVisits(v["t"].to_numpy(float), v["end"].to_numpy(float), v["days"].to_numpy(float),
                                 (v["next"] == "\x00lost").to_numpy())
    return out


def _predict(phases: Mapping[str, _PhaseVisits], left: list[str], now: float, horizon: float, n: int,
             min_deals: int, rng: np.random.Generator) -> float | None:
    """P(won by now + horizon) for a deal entering ``left[0]`` ``now``, from what was known ``now``.

    A deal still in a phase ``now`` is known to take at least as long as it has so far (censored,
    Kaplan-Meier), so the deals that finish first do not make phases look short; the chance of
    being lost after a phase is the share lost of those that left it."""
    total = np.zeros(n)
    win = 1.0
    for phase in left:
        v = phases[phase]
        began = v.t < now
        ended = began & (v.end < now)
        if int(ended.sum()) < min_deals:
            return None
        running = began & ~ended
        total += _draw_survival(v.days[ended], now - v.t[running], n, rng)
        win *= 1.0 - float(v.lost[ended].mean())
    return win * float(np.mean(total <= horizon))


def _draw_survival(observed: np.ndarray, censored: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` draws from the Kaplan-Meier estimate of a duration seen ``observed`` times and known to
    exceed each ``censored`` value; what it leaves beyond the longest one seen goes to the longest
    time known (a deal still running counts as long as it has run)."""
    seen = np.unique(observed)
    at_risk = np.array([(observed >= x).sum() + (censored >= x).sum() for x in seen], dtype=float)
    events = np.array([(observed == x).sum() for x in seen], dtype=float)
    cdf = np.append(1.0 - np.cumprod(1.0 - events / at_risk), 1.0)
    times = np.append(seen, max(float(seen[-1]), float(censored.max(initial=0.0))))
    return times[np.searchsorted(cdf, rng.random(n), side="left")]


def _interval(n: int, p: float) -> tuple[float, float]:
    """The 5th and 95th percentiles of the share of successes in ``n`` tries at chance ``p``."""
    if p <= 0 or p >= 1:
        return p, p
    k = np.arange(n + 1)
    log_pmf = (np.array([math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) for i in k])
               + k * math.log(p) + (n - k) * math.log1p(-p))
    cdf = np.cumsum(np.exp(log_pmf))
    return float(np.searchsorted(cdf, 0.05) / n), float(np.searchsorted(cdf, 0.95) / n)
