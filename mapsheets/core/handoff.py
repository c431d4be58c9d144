"""The onboarding hand-off: what customer success needs on day one, from the plan. Pure.

Sections: the deal (outcome, go-live), stakeholders and roles, the problem and success criteria,
the qualification (MEDDPICC: metrics, decision criteria and process, paper process, pain),
commitments made during the deal (steps with notes, and the steps that promise something after
the close), open items. A deal closed won has its close step done, whatever the sheet says yet.
``markdown`` renders them; every piece of text from the sheet is escaped with Markdown's own
backslash escapes (never HTML entities, which plain-text readers show as typed), so a cell renders
as the text typed and cannot add a link, an image, HTML or a table column.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from mapsheets.core.dates import NO_HOLIDAYS
from mapsheets.core.health import overdue_days
from mapsheets.core.model import Plan, Step
from mapsheets.core.people import owner_name
from mapsheets.core.qualify import LABELS as QUALIFICATION_LABELS
from mapsheets.core.text import business_days

_SUCCESS = re.compile(r"success criteria|success metric|required capabilit|metrics", re.IGNORECASE)
# What customer success needs of the qualification, in this order.
QUALIFICATION_SHOWN = ("metrics", "decision_criteria", "decision_process", "paper_process", "identified_pain")
# Markdown's inline syntax characters ("<" opens HTML and autolinks), an "&" that would read as an
# entity, and what makes a line a list item, heading or quote when it comes first.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~<])|&(?=#?\w+;)")
_MD_LINE_START = re.compile(r"^([-+=#>])|^(\d+)([.)])")


@dataclass
class Handoff:
    title: str
    deal: list[tuple[str, str]]  # label, value
    stakeholders: list[tuple[str, str, str, str]]  # name, email, side, role
    qualification: list[tuple[str, str]]  # MEDDPICC label, text: the ones in QUALIFICATION_SHOWN
    problem: str
    solution: str
    success: list[str]  # success criteria: steps about them, with their notes
    commitments: list[str]
    open_items: list[str]
    go_live: str
    rows: list[list[Any]] = field(default_factory=list)  # the same, as rows for a Handoff tab


def md_text(text: Any) -> str:
    """Sheet text as literal Markdown, one line: it renders as typed (no entities), with Markdown's
    syntax characters backslash-escaped so it cannot make a link, an image, HTML or a table column."""
    flat = " ".join(str(text if text is not None else "").split())
    flat = _MD_SPECIAL.sub(lambda m: "\\" + (m[1] or "&"), flat)
    return _MD_LINE_START.sub(lambda m: "\\" + m[1] if m[1] else m[2] + "\\" + m[3], flat)


def _owners(step: Step, plan: Plan) -> str:
    return ", ".join(owner_name(o, plan.stakeholders) for o in step.owners) or "no owner"


def _step_line(step: Step, plan: Plan) -> str:
    when = f"done {step.done_on}" if step.status == "done" and step.done_on else (
        f"due {step.due}" if step.due else step.status)
    text = f"{step.title} ({step.phase or 'no phase'}, {step.side}, {_owners(step, plan)}, {when})"
    return text + (f": {step.notes}" if step.notes else "")


def build(plan: Plan, today: date, holidays: Collection[date] = NO_HOLIDAYS,
          qualification: Mapping[str, str] | None = None) -> Handoff:
    """The hand-off of ``plan`` as of ``today``; ``qualification``: the MEDDPICC rows when they live
    elsewhere (a MAP's closing plan), else the plan's own."""
    plan = _closed_won(plan)
    outcome = f"closed {plan.outcome}" + (f" on {plan.closed_on}" if plan.closed_on else "") if plan.outcome else "open"
    go_live = str(plan.go_live) if plan.go_live else "not set"
    qualified = plan.qualification if qualification is None else qualification
    meddpicc = [(QUALIFICATION_LABELS[k], str(qualified.get(k) or "").strip()) for k in QUALIFICATION_SHOWN]
    deal = [("Buyer", plan.buyer), ("Seller", plan.seller), ("Outcome", outcome)]
    if plan.outcome_reason:
        deal.append(("Why", plan.outcome_reason))
    deal += [("Target close", str(plan.target_close or "not set")), ("Go-live", go_live),
             ("Seller lead", plan.seller_lead), ("Buyer lead", plan.buyer_lead)]
    close = plan.step(plan.close_step) if plan.close_step else None
    if close is not None:
        deal.append(("Close step", _step_line(close, plan)))
    counted = [s for s in plan.steps if s.status != "n/a"]
    success = [_step_line(s, plan) for s in counted if _SUCCESS.search(s.title)]
    after = [s for s in counted if close is not None and close.id in s.depends_on or
             (close is not None and close.due and s.due and s.due > close.due)]
    commitments = [_step_line(s, plan) for s in counted if s.notes and s not in after]
    commitments += [_step_line(s, plan) for s in after]
    open_items = []
    for step in counted:
        if step.is_open:
            late = overdue_days(step, today, holidays)
            open_items.append(_step_line(step, plan) + (f" — overdue {business_days(late)}" if late else ""))
    people = [(p.name, p.email, p.side, p.role) for p in plan.stakeholders]
    out = Handoff(title=plan.title, deal=deal, stakeholders=people, qualification=meddpicc,
                  problem=plan.problem, solution=plan.solution,
                  success=success, commitments=commitments, open_items=open_items, go_live=go_live)
    out.rows = _rows(out)
    return out


def _closed_won(plan: Plan) -> Plan:
    """A deal closed won has signed: its close step reads done (on the close day, unless the sheet
    has its own Done on), even before anyone updates the sheet."""
    close = plan.step(plan.close_step) if plan.close_step else None
    if plan.outcome != "won" or close is None or close.status == "done":
        return plan
    done = dataclasses.replace(close, status="done", done_on=close.done_on or plan.closed_on)
    return dataclasses.replace(plan, steps=[done if s is close else s for s in plan.steps])


def _rows(h: Handoff) -> list[list[Any]]:
    rows: list[list[Any]] = [["Section", "Item", "Detail"]]
    rows += [["Deal", label, value] for label, value in h.deal]
    rows += [["Stakeholders", name, " · ".join(x for x in (email, side, role) if x)] for name, email, side, role
             in h.stakeholders]
    rows += [["Problem", "Problem we are solving", h.problem], ["Problem", "Proposed solution", h.solution]]
    rows += [["Qualification", label, text] for label, text in h.qualification]
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
    out += ["", "## Qualification (MEDDPICC)", ""]
    out += [f"- **{label}:** {md_text(text) or 'not written down'}" for label, text in h.qualification]
    out += ["", "## Commitments made during the deal", ""]
    out += _items(h.commitments, "No step carries a note or follows the close.")
    out += ["", "## Open items", ""]
    out += _items(h.open_items, "None: every step is done.")
    out += ["", "## Go-live", "", md_text(h.go_live), ""]
    return "\n".join(out)


def _items(lines: list[str], empty: str) -> list[str]:
    return [f"- {md_text(line)}" for line in lines] if lines else [empty]
