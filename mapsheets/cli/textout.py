"""Plain-text renderings for the terminal (the CLI's presentation, kept out of the commands)."""

from __future__ import annotations

import shlex

from mapsheets.core import qualify
from mapsheets.core.health import overdue_days
from mapsheets.core.people import owner_name
from mapsheets.core.text import business_days


def _slip_words(days: int | None) -> str:
    if days is None:
        return ""
    if days > 0:
        return f" ({business_days(days)} late)"
    if days < 0:
        return f" ({business_days(-days)} early)"
    return " (on target)"


def plan_summary(view, limit: int | None = 10, forecast=None) -> str:
    plan, health, proj = view.plan, view.health, view.projection
    lines = [plan.title or "(untitled plan)", f"{plan.kind} plan · buyer {plan.buyer} · seller {plan.seller}"]
    leads = ", ".join(x for x in (plan.seller_lead, plan.buyer_lead) if x)
    if leads:
        lines.append(f"Owners: {leads}")
    pct = round(100 * health.progress)
    lines.append(f"Progress: {health.done}/{health.total} steps done ({pct}%) · "
                 f"overdue {len(health.overdue)} · blocked {len(health.blocked)} · {health.state}"
                 + ("" if health.state == "on track" else f" ({health.reason})"))
    if plan.outcome:
        closed = f" on {plan.closed_on.isoformat()}" if plan.closed_on else ""
        why = f" ({plan.outcome_reason})" if plan.outcome_reason else ""
        lines.append(f"Outcome: closed {plan.outcome}{closed}{why}")
    lines.append(f"Execution score: {view.score.describe()}")
    target = plan.target_close.isoformat() if plan.target_close else "not set"
    projected = proj.close.isoformat() if proj.close else "unknown"
    lines.append(f"Target close: {target} · projected close: {projected}{_slip_words(proj.slip)}")
    if forecast is not None:
        risk = f" · most risk in {forecast.risk_phase}" if forecast.chance is not None and forecast.risk_phase else ""
        lines.append(forecast.sentence() + risk)
    if plan.kind == "closing" or any(plan.qualification.values()):
        lines.append(f"Qualification: {qualify.summary(plan.qualification)}")
    for label, link in (("Mutual plan", plan.mutual_plan), ("Closing plan", plan.closing_plan)):
        if link:
            lines.append(f"{label}: {link}")
    open_steps = sorted((s for s in plan.steps if s.is_open), key=lambda s: (s.due is None, s.due or view.today))
    if open_steps:
        lines.append("")
        lines.append("Next steps:")
        for step in open_steps[:limit]:
            late = overdue_days(step, view.today, view.days_off)
            flag = (f"  OVERDUE {business_days(late)}" if late
                    else "  BLOCKED" if step.status == "blocked" else "")
            due = step.due.isoformat() if step.due else "not computed" if "Due" in step.formulas else "no date   "
            owners = ", ".join(owner_name(o, plan.stakeholders) for o in step.owners) or "no owner"
            lines.append(f"  {step.id}  {due}  {step.title}  [{step.side}] {owners}{flag}")
        if limit is not None and len(open_steps) > limit:
            lines.append(f"  … and {len(open_steps) - limit} more (--all lists them)")
    lines += _signatures(view)
    return "\n".join(lines)


def _signatures(view) -> list[str]:
    """Who signed, when, and whether the plan still says what they signed."""
    plan = view.plan
    if not plan.signatures:
        return []
    lines = ["", "Signatures:"]
    for s in plan.signatures:
        status = plan.signature_status(s)
        when = f"{s.signed_at:%Y-%m-%d}" if s.signed_at else "no date"
        lines.append(f"  {s.name or s.email} ({s.side or 'no side'})  signed {when}  {status}  [{s.by_line()}]")
        if status == "stale" and s.email:
            lines.append(f"    what changed since: mapsheets diff {shlex.quote(view.ref)} --since-signature {s.email}")
    return lines
