"""The onboarding hand-off: what customer success needs on day one, from the plan. Pure.

Sections: the deal (outcome, go-live), stakeholders and roles, the problem and success criteria,
commitments made during the deal (steps with notes, and the steps that promise something after
the close), open items. ``markdown`` renders them; every piece of text from the sheet is escaped,
so a cell cannot add a link, an image, HTML or a table column.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from mapsheets.core.dates import NO_HOLIDAYS, business_days_between
from mapsheets.core.health import overdue_days
from mapsheets.core.model import Plan, Step
from mapsheets.core.people import owner_name

_SUCCESS = re.compile(r"success criteria|success metric|required capabilit|metrics", re.IGNORECASE)
# Markdown's inline special characters (raw HTML and entities are neutralised apart), and what makes
# a line a list item, heading or quote when it comes first.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]!|~#>])")
_MD_LIST_START = re.compile(r"^([-+=])|^(\d+)([.)])")


@dataclass
class Handoff:
    title: str
    deal: list[tuple[str, str]]  # label, value
    stakeholders: list[tuple[str, str, str, str]]  # name, email, side, role
    problem: str
    solution: str
    success: list[str]  # success criteria: steps about them, with their notes
    commitments: list[str]
    open_items: list[str]
    go_live: str
    rows: list[list[Any]] = field(default_factory=list)  # the same, as rows for a Handoff tab


def md_text(text: Any) -> str:
    """Sheet text as literal Markdown: special characters escaped, HTML neutralised, one line."""
    flat = " ".join(str(text if text is not None else "").split())
    flat = flat.replace("&", "&amp;").replace("<", "&lt;")
    flat = _MD_SPECIAL.sub(r"\\\1", flat)
    return _MD_LIST_START.sub(lambda m: "\\" + m[1] if m[1] else m[2] + "\\" + m[3], flat)


def _owners(step: Step, plan: Plan) -> str:
    return ", ".join(owner_name(o, plan.stakeholders) for o in step.owners) or "no owner"


def _step_line(step: Step, plan: Plan) -> str:
    when = f"done {step.done_on}" if step.status == "done" and step.done_on else (
        f"due {step.due}" if step.due else step.status)
    text = f"{step.title} ({step.phase or 'no phase'}, {step.side}, {_owners(step, plan)}, {when})"
    return text + (f": {step.notes}" if step.notes else "")


def build(plan: Plan, today: date, holidays: Collection[date] = NO_HOLIDAYS) -> Handoff:
    """The hand-off of ``plan`` as of ``today``."""
    outcome = f"closed {plan.outcome}" + (f" on {plan.closed_on}" if plan.closed_on else "") if plan.outcome else "open"
    go_live = str(plan.go_live) if plan.go_live else "not set"
    if plan.go_live and plan.closed_on and plan.go_live >= plan.closed_on:
        go_live += f" ({business_days_between(plan.closed_on, plan.go_live, holidays)} business days after the close)"
    deal = [("Buyer", plan.buyer), ("Seller", plan.seller), ("Outcome", outcome)]
    if plan.outcome_reason:
        deal.append(("Why", plan.outcome_reason))
    deal += [("Target close", str(plan.target_close or "not set")), ("Go-live", go_live),
             ("Seller lead", plan.seller_lead), ("Buyer lead", plan.buyer_lead)]
    counted = [s for s in plan.steps if s.status != "n/a"]
    success = [_step_line(s, plan) for s in counted if _SUCCESS.search(s.title)]
    close = plan.step(plan.close_step) if plan.close_step else None
    after = [s for s in counted if close is not None and close.id in s.depends_on or
             (close is not None and close.due and s.due and s.due > close.due)]
    commitments = [_step_line(s, plan) for s in counted if s.notes and s not in after]
    commitments += [_step_line(s, plan) for s in after]
    open_items = []
    for step in counted:
        if step.is_open:
            late = overdue_days(step, today, holidays)
            open_items.append(_step_line(step, plan) + (f" — overdue {late} business days" if late else ""))
    people = [(p.name, p.email, p.side, p.role) for p in plan.stakeholders]
    out = Handoff(title=plan.title, deal=deal, stakeholders=people, problem=plan.problem, solution=plan.solution,
                  success=success, commitments=commitments, open_items=open_items, go_live=go_live)
    out.rows = _rows(out)
    return out


def _rows(h: Handoff) -> list[list[Any]]:
    rows: list[list[Any]] = [["Section", "Item", "Detail"]]
    rows += [["Deal", label, value] for label, value in h.deal]
    rows += [["Stakeholders", name, " · ".join(x for x in (email, side, role) if x)] for name, email, side, role
             in h.stakeholders]
    rows += [["Problem", "Problem we are solving", h.problem], ["Problem", "Proposed solution", h.solution]]
    rows += [["Success criteria", "", line] for line in h.success]
    rows += [["Commitments", "", line] for line in h.commitments]
    rows += [["Open items", "", line] for line in h.open_items]
    return rows


def markdown(h: Handoff) -> str:
    """The hand-off as a Markdown document."""
    out = [f"# Hand-off: {md_text(h.title) or 'untitled plan'}", ""]
    out += [f"- **{label}:** {md_text(value) or '—'}" for label, value in h.deal]
    out += ["", "## Stakeholders and roles", ""]
    if h.stakeholders:
        out += ["| Name | Email | Side | Role |", "| --- | --- | --- | --- |"]
        out += ["| " + " | ".join(md_text(v) or "—" for v in person) + " |" for person in h.stakeholders]
    else:
        out.append("Nobody is on the Team tab.")
    out += ["", "## The problem and success criteria", "",
            f"**Problem we are solving:** {md_text(h.problem) or 'not written down'}", "",
            f"**Proposed solution:** {md_text(h.solution) or 'not written down'}", "", "Success criteria:", ""]
    out += _items(h.success, "No step names the success criteria.")
    out += ["", "## Commitments made during the deal", ""]
    out += _items(h.commitments, "No step carries a note or follows the close.")
    out += ["", "## Open items", ""]
    out += _items(h.open_items, "None: every step is done.")
    out += ["", "## Go-live", "", md_text(h.go_live), ""]
    return "\n".join(out)


def _items(lines: list[str], empty: str) -> list[str]:
    return [f"- {md_text(line)}" for line in lines] if lines else [empty]
