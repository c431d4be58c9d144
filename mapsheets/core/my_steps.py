"""Whose steps come first when someone opens a plan (issue 21 part 2). Pure.

A person's own open steps first, then the rest of the next open steps, each list by due date (no
date last, then sheet order). A step is theirs when its Owners name them: by their email, or by
the name their Team row gives them (an owner written "Jane Doe" is Jane's).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from mapsheets.core.look import phase_progress
from mapsheets.core.model import Plan, Step
from mapsheets.core.people import owner_key, owner_name

NEXT_CAP = 10  # the rest of the next steps shown; the whole list is one click away in the sheet
# What a person may set from the sidebar or a card: n/a stays a decision made in the sheet.
SETTABLE = ("not started", "in progress", "done", "blocked")


@dataclass(frozen=True)
class StepLists:
    mine: list[Step]
    next: list[Step]
    more: int  # open steps past NEXT_CAP, not shown


def owns(step: Step, email: str, name: str = "") -> bool:
    """True when ``step``'s Owners name this person (by email, or by their Team name)."""
    keys = {owner_key(o) for o in step.owners}
    return bool(email) and owner_key(email) in keys or bool(name.strip()) and owner_key(name) in keys


def step_lists(plan: Plan, email: str, name: str = "", cap: int = NEXT_CAP) -> StepLists:
    """The person's open steps, then up to ``cap`` of everyone else's, soonest due first."""
    ordered = [s for _due, _i, s in sorted(((s.due or date.max, i, s) for i, s in enumerate(plan.steps)
                                             if s.is_open), key=lambda t: t[:2])]
    mine = [s for s in ordered if owns(s, email, name)]
    rest = [s for s in ordered if not owns(s, email, name)]
    return StepLists(mine=mine, next=rest[:cap], more=max(0, len(rest) - cap))


def band_count(plan: Plan, phase: str) -> str:
    """The phase band's count as the sheet shows it ("2/5 done")."""
    done, total = phase_progress([s for s in plan.steps if s.phase == phase])
    return f"{done}/{total} done"


def step_view(plan: Plan, step: Step) -> dict[str, object]:
    """One step as the sidebar and the cards show it: owners by name, due, status, its phase's count."""
    return {"id": step.id, "title": step.title, "phase": step.phase, "status": step.status,
            "due": step.due.isoformat() if step.due else None,
            "owners": [owner_name(o, plan.stakeholders) for o in step.owners],
            "band": band_count(plan, step.phase)}


def my_steps(plan: Plan, email: str, name: str = "") -> dict[str, Any]:
    """What "My steps" shows on open: the caller's open steps, then the rest of the next ones."""
    lists = step_lists(plan, email, name)
    return {"mine": [step_view(plan, s) for s in lists.mine], "next": [step_view(plan, s) for s in lists.next],
            "more": lists.more, "statuses": list(SETTABLE)}
