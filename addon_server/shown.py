"""What the sidebar and the Workspace cards are given: the service's answers as JSON, and its
notices worded for people in the add-on (who have no command-line options).

    {"ref": "...", "plan": {"title", "buyer", "seller", "progress", "health", "overdue", "due_soon",
     "target_close", "projected_close", "slip_days", "phases", "next_phase", "steps", "team",
     "signatures", "fingerprint", "step_count", "warnings"} | None,
     "me": {"email", "name", "on_plan", "side", "subscription"},
     "changes": {"first_look", "since", "changes", "text", "summary"}}
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING, Any

from mapsheets.service.addon_writes import AUDIT_QUEUED, CHARACTERS_REMOVED, DUE_NOT_BUSINESS_DAY, Notice

if TYPE_CHECKING:
    from mapsheets.service.addon import Glance, SinceLastLook
    from mapsheets.service.addon_writes import Generated
    from mapsheets.service.plans import PlanView


def glance(shown: Glance) -> dict[str, Any]:
    """``service.addon.summary``'s answer as the sidebar's JSON."""
    me = shown.me
    if shown.view is None:  # "me": the generate form takes the AE's name from the sign-in profile
        return {"plan": None, "ref": shown.ref, "me": {"email": me.email, "name": me.name}}
    plan = plan_summary(shown.view)
    if shown.lost is not None:
        plan["warnings"].append(shown.lost.to_dict())
    return {
        "ref": shown.ref,
        "plan": plan,
        "me": {"email": me.email, "on_plan": me.on_plan, "side": me.side, "name": me.name,
               "subscription": me.subscription},
        "changes": since(shown.since) if shown.since is not None else {},
        "notice": shown.notice,
        "my_steps": shown.my_steps,
        # The seller side's only: for anyone else the key is not there at all.
        **({"forecast": None if shown.forecast is None else {**shown.forecast.to_dict(),
                                                             "text": shown.forecast.sentence()}}
           if shown.shows_forecast else {}),
    }


def plan_summary(view: PlanView) -> dict[str, Any]:
    """The plan at a glance, as of the view's day."""
    plan, health, proj = view.plan, view.health, view.projection
    return {
        "title": plan.title, "buyer": plan.buyer, "seller": plan.seller,
        "progress": {"done": health.done, "total": health.total, "percent": round(100 * health.progress)},
        "health": health.state,
        "overdue": [{"id": s.id, "title": s.title, "due": _iso(s.due), "days": d} for s, d in health.overdue],
        "due_soon": [{"id": s.id, "title": s.title, "due": _iso(s.due)} for s in health.due_soon],
        "target_close": _iso(plan.target_close), "projected_close": _iso(proj.close),
        "slip_days": proj.slip,
        "phases": list(dict.fromkeys(s.phase for s in plan.steps if s.phase)),
        "next_phase": _next_phase(plan.steps),
        "steps": [{"id": s.id, "title": s.title, "status": s.status, "due": _iso(s.due)} for s in plan.steps],
        "team": [{"name": p.name, "email": p.email, "side": p.side, "role": p.role} for p in plan.stakeholders],
        "signatures": [s.to_dict(plan.signature_status(s)) for s in plan.signatures],
        "fingerprint": plan.fingerprint(), "step_count": len(plan.steps),
        "warnings": [w.to_dict() for w in view.warnings],
    }


def since(changed: SinceLastLook) -> dict[str, Any]:
    """What changed since the caller last looked: each change as data and in words."""
    return {"first_look": changed.first_look, "since": changed.since.isoformat() if changed.since else None,
            "changes": [c.to_dict() for c in changed.changes], "text": [c.describe() for c in changed.changes],
            "summary": dict(changed.counts)}


def generated(result: Generated) -> dict[str, Any]:
    out: dict[str, Any] = {"location": result.location, "steps": result.steps, "title": result.title}
    return {**out, "warnings": words(result.notices)} if result.notices else out


def words(notices: Iterable[Notice]) -> list[str]:
    return [word(n) for n in notices]


def word(said: Notice) -> str:
    """A notice for people in the sidebar: the command line's "snap moves it to ..." names its
    --snap, which they do not have, so the day it would move to is said as a fact."""
    if said.code == DUE_NOT_BUSINESS_DAY:
        return (f"Due {said.value('due')} is {said.value('day')}, not a business day: kept as given "
                f"(the next business day is {said.value('next')})")
    if said.code == CHARACTERS_REMOVED:
        field = said.value("field")
        return f"{field[:1].upper()}{field[1:]}: removed {said.value('count')} a cell cannot hold " \
               f"({said.value('removed')})"
    if said.code == AUDIT_QUEUED:  # the server's own paths and reasons are for its log, not for the person
        return "The step is in the sheet; the audit log records it as soon as the server's store can"
    text = str(said)
    return text[:1].upper() + text[1:]


def _next_phase(steps: Iterable[Any]) -> str:
    """The phase of the next open step (earliest due, then sheet order): where a new step most likely goes."""
    open_steps = [(s.due or date.max, i, s.phase) for i, s in enumerate(steps) if s.is_open and s.phase]
    return min(open_steps)[2] if open_steps else ""


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None
