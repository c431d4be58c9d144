"""The chance a plan closes by its target, as said (pure, no numpy): the figures
``analysis.forecast`` simulates, and how they read. Kept apart so a figure computed once can be
read back and said without loading the simulation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any


@dataclass(frozen=True)
class Forecast:
    """What the simulation says about one plan; ``chance`` is None when there is too little history."""

    target: date | None
    chance: float | None  # P(close on or before target), 0..1
    p50: date | None
    p90: date | None
    deals: int  # past deals behind the figures (the fewest of any phase the plan needs)
    risk_phase: str | None  # the phase with the largest share of the gap between P90 and the plan
    reason: str = ""  # why there is no percentage
    simulations: int = 0

    def sentence(self) -> str:
        """"Chance to close by 2027-03-31: 64% · likely 2027-03-24 (P50), 2027-04-21 at worst one
        time in ten (P90) · from 212 past deals", or why there is no chance to tell."""
        if self.chance is None or self.p50 is None or self.p90 is None:
            return f"No chance to close shown: {self.reason}"
        head = f"Chance to close by {self.target.isoformat()}: {self.chance:.0%}" if self.target else \
            "No target close to measure against"
        return (f"{head} · likely {self.p50.isoformat()} (P50), {self.p90.isoformat()} at worst one time in ten "
                f"(P90) · from {self.deals} past deals")

    def to_dict(self) -> dict[str, object]:
        return {"target": self.target.isoformat() if self.target else None,
                "chance": None if self.chance is None else round(self.chance, 4),
                "p50": self.p50.isoformat() if self.p50 else None, "p90": self.p90.isoformat() if self.p90 else None,
                "deals": self.deals, "risk_phase": self.risk_phase, "reason": self.reason,
                "simulations": self.simulations}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Forecast:
        def day(value: Any) -> date | None:
            return date.fromisoformat(value) if value else None

        return cls(day(data.get("target")), data.get("chance"), day(data.get("p50")), day(data.get("p90")),
                   int(data.get("deals") or 0), data.get("risk_phase"), str(data.get("reason") or ""),
                   int(data.get("simulations") or 0))
