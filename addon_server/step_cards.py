"""My steps as Workspace add-on cards (issue 21 part 2): the caller's open steps on the plan's card,
a step's card to set its status or due date, and what the write changed. Pure, like cards.py."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, tzinfo
from typing import Any

from addon_server.cards import (
    Links,
    button,
    buttons,
    card,
    date_picker,
    esc,
    section,
    selection,
    text,
    text_input,
    with_errors,
)

MINE_CAP = 15  # the plan's card stays under Google's 100 widgets with a page of steps beside


def _step_text(step: Mapping[str, Any], links: Links) -> dict[str, Any]:
    """One step: title, then ID and status above, owners, due and its phase's count below; a button
    opens its card (its values ride along, so opening it costs no read)."""
    due = f"due {step['due']}" if step["due"] else "no due date"
    band = f"{step['phase'] or '(no phase)'}: {step['band']}"
    bottom = " · ".join([", ".join(step["owners"]) or "no owner", due, band])
    widget = text(esc(step["title"]), top=esc(f"{step['id']} · {step['status']}"), bottom=esc(bottom))
    params = {"step": step["id"], "title": step["title"], "status": step["status"], "due": step["due"] or ""}
    widget["decoratedText"]["button"] = button("Update", links.to("step-card"), params)
    return widget


def my_steps_sections(lists: Mapping[str, Any] | None, links: Links) -> list[dict[str, Any]]:
    """"My steps (n)" (theirs, soonest first), then "Next steps" (everyone else's)."""
    if not lists:
        return []
    mine = list(lists["mine"])
    rows = [_step_text(s, links) for s in mine[:MINE_CAP]] or [text("No open steps name you as owner.")]
    if len(mine) > MINE_CAP:
        rows.append(text(esc(f"…and {len(mine) - MINE_CAP} more in the sheet")))
    others = [_step_text(s, links) for s in lists["next"]]
    if lists.get("more"):
        others.append(text(esc(f"…and {lists['more']} more in the sheet")))
    return [section(rows, f"My steps ({len(mine)})"), section(others, "Next steps")]


def step_form(params: Mapping[str, str], statuses: Sequence[str], values: Mapping[str, Any],
              errors: Mapping[str, str], tz: tzinfo, links: Links) -> dict[str, Any]:
    """A step's status (blocked: with a reason) and due date; typed values kept, errors by their field."""
    v = values.get
    keep = {k: params.get(k, "") for k in ("step", "title", "status", "due")}
    due = v("due") if "due" in values else (date.fromisoformat(keep["due"]) if keep["due"] else None)
    fields = [
        ("status", selection("status", "Status", [(s, s) for s in statuses], v("status") or keep["status"])),
        ("reason", text_input("reason", "Reason (when blocked)", v("reason") or "")),
        ("due", date_picker("due", "Due", due, tz)),
    ]
    widgets = with_errors(fields, errors) + [buttons(
        button("Save", links.to("step-status"), keep),
        button("Mark done", links.to("step-status"), {**keep, "mark": "done"}),
        button("Cancel", links.to("home")))]
    return card(f"{keep['step']} {keep['title']}"[:200], [section(widgets)], subtitle=f"now {keep['status']}")


def step_saved(result: Mapping[str, Any], links: Links) -> dict[str, Any]:
    """What the write changed, from its own answer (no second read): the step, the plan's progress,
    the step's band count, and whether the signatures still hold."""
    step, progress = result["step"], result["progress"]
    lines = [f"{step['id']} {step['title']}: {step['status']}" + (f", due {step['due']}" if step["due"] else ""),
             f"Progress: {progress['done']} of {progress['total']} steps done ({progress['percent']}%)",
             f"{step['phase'] or '(no phase)'}: {step['band']}"]
    stale = sum(s == "stale" for s in result["signatures"])
    if stale:
        lines.append(f"{stale} signature(s) now stale: the due date is a commitment, sign again")
    lines += list(result.get("warnings") or [])
    return card("Step updated", [section([text("<br>".join(esc(line) for line in lines)),
                                          buttons(button("Back to the plan", links.to("home")))])])
