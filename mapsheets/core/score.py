"""The execution score: how well both sides worked the plan, 0-100. Pure.

    score = round(100 × (0.35 × progress + 0.25 × on time + 0.25 × buyer participation + 0.15 × signed))

  - progress: done steps / steps that count (all but n/a);
  - on time: 1 − late / steps that count, where a step is late when it is open past its due date
    (as of ``today``) or was done after it;
  - buyer participation: buyer and joint steps due by ``today`` that are done by their due date
    (done without a date counts as on time), over those due; 1 when none is due yet;
  - signed: sides (buyer, seller) with a signature still valid for the plan as it is, over 2.

A closed plan is judged as of the day it closed, so the score stops moving once the deal is done.
A closing plan is the seller's own (the buyer never sees nor signs it): its score weighs progress
and on time alone, ``round(100 × (0.35 progress + 0.25 on time) / 0.6)``.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import Any

from mapsheets.core.dates import NO_HOLIDAYS
from mapsheets.core.health import overdue_days
from mapsheets.core.model import Plan, Step
from mapsheets.core.vocabulary import PERSON_SIDES

WEIGHTS = {"progress": 0.35, "on_time": 0.25, "buyer": 0.25, "signed": 0.15}
FORMULA = "round(100 × (0.35 progress + 0.25 on time + 0.25 buyer participation + 0.15 signed sides/2))"
SELLER_PARTS = ("progress", "on_time")  # what a closing plan's score weighs
SELLER_FORMULA = "round(100 × (0.35 progress + 0.25 on time) / 0.6)"


@dataclass(frozen=True)
class ExecutionScore:
    score: int  # 0-100
    progress: float
    on_time: float
    buyer: float  # buyer participation
    signed_sides: int  # 0, 1 or 2
    seller_only: bool = False  # a closing plan's: buyer participation and signatures left out

    def to_dict(self) -> dict[str, Any]:
        return {"score": self.score, "progress": round(self.progress, 3), "on_time": round(self.on_time, 3),
                "buyer_participation": None if self.seller_only else round(self.buyer, 3),
                "signed_sides": None if self.seller_only else self.signed_sides,
                "formula": SELLER_FORMULA if self.seller_only else FORMULA}

    def describe(self) -> str:
        line = f"{self.score}/100 (progress {self.progress:.0%}, on time {self.on_time:.0%}"
        if self.seller_only:
            return line + ")"
        return line + f", buyer steps on time {self.buyer:.0%}, signed {self.signed_sides}/2)"


def judged_on(plan: Plan, today: date) -> date:
    """The day a plan is judged as of: the day it closed, or ``today`` while it is open."""
    return plan.closed_on if plan.outcome and plan.closed_on and plan.closed_on < today else today


def _late(step: Step, today: date, holidays: Collection[date]) -> bool:
    if step.status == "done":
        return bool(step.due and step.done_on and step.done_on > step.due)
    return overdue_days(step, today, holidays) > 0


def _on_time(step: Step) -> bool:
    return step.status == "done" and not (step.due and step.done_on and step.done_on > step.due)


def execution_score(plan: Plan, today: date, holidays: Collection[date] = NO_HOLIDAYS) -> ExecutionScore:
    """The plan's execution score as of ``today`` (module docstring)."""
    today = judged_on(plan, today)
    counted = [s for s in plan.steps if s.status != "n/a"]
    total = len(counted)
    progress = sum(s.status == "done" for s in counted) / total if total else 0.0
    on_time = 1 - sum(_late(s, today, holidays) for s in counted) / total if total else 1.0
    buyer_due = [s for s in counted if s.side in ("buyer", "joint") and s.due and s.due <= today]
    buyer = sum(_on_time(s) for s in buyer_due) / len(buyer_due) if buyer_due else 1.0
    # A signature recorded on someone's behalf is not theirs: it does not sign their side.
    sides = {s.side for s in plan.signatures
             if s.side in PERSON_SIDES and s.own and plan.signature_status(s) == "valid"}
    parts = {"progress": progress, "on_time": on_time, "buyer": buyer, "signed": len(sides) / 2}
    seller_only = plan.kind == "closing"
    if seller_only:
        parts = {k: parts[k] for k in SELLER_PARTS}
    weight = sum(WEIGHTS[k] for k in parts)
    score = round(100 * sum(WEIGHTS[k] * v for k, v in parts.items()) / weight)
    return ExecutionScore(score=score, progress=progress, on_time=on_time, buyer=buyer, signed_sides=len(sides),
                          seller_only=seller_only)
