"""The Workspace add-on's cards: small pure functions from service answers to Google's card JSON
(Card v1 as the Workspace add-ons reference documents it). No plan logic here: what to show comes
from mapsheets.service.addon*, already computed.

Google ignores widgets past 100 in a card, so a card holds at most MAX_WIDGETS: the summary first,
steps paged (STEP_PAGE a card), long lists cut with a count of the rest.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, tzinfo
from typing import Any

from addon_server.events import date_ms
from mapsheets.core.vocabulary import DIGEST_EVERY
from mapsheets.core.vocabulary import SIDES as SIDE_NAMES

MAX_WIDGETS = 100
STEP_PAGE = 40
LIST_CAP = 5
CHANGE_LINES = 10  # change descriptions per widget
CHANGE_CAP = 300  # 30 widgets
SUMMARY_CHANGES = 100  # 10 widgets beside the summary and a page of steps
ERROR_COLOR = "#B3261E"
SIDES = tuple((side.capitalize(), side) for side in sorted(SIDE_NAMES, key=lambda side: side != "joint"))  # joint first
EVERY = tuple((every.capitalize(), every) for every in DIGEST_EVERY)


@dataclass(frozen=True)
class Links:
    """Absolute endpoint URLs for buttons (an HTTP add-on's action function is a URL)."""

    base: str

    def to(self, name: str) -> str:
        return f"{self.base}/workspace/{name}"


# -- responses ------------------------------------------------------------------------------------

def push(card: dict[str, Any]) -> dict[str, Any]:
    """What a trigger (homepage, file scope granted) returns."""
    return {"action": {"navigations": [{"pushCard": card}]}}


def update(card: dict[str, Any]) -> dict[str, Any]:
    """What a card action returns: the card replaced in place."""
    return {"renderActions": {"action": {"navigations": [{"updateCard": card}]}}}


def request_file_scope() -> dict[str, Any]:
    """Ask Sheets to show the "allow access to this file" dialog (drive.file for the open sheet)."""
    return {"renderActions": {"hostAppAction": {"editorAction": {"requestFileScopeForActiveDocument": {}}}}}


# -- widgets --------------------------------------------------------------------------------------

def esc(text: Any) -> str:
    return html.escape(str(text if text is not None else ""), quote=False)


def card(title: str, sections: Sequence[dict[str, Any]], subtitle: str = "") -> dict[str, Any]:
    header = {"title": title[:200]}
    if subtitle:
        header["subtitle"] = subtitle[:200]
    return {"header": header, "sections": [s for s in sections if s["widgets"]]}


def section(widgets: Iterable[dict[str, Any]], header: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {"widgets": list(widgets)}
    if header:
        out["header"] = header
    return out


def text(body: str, top: str = "", bottom: str = "") -> dict[str, Any]:
    """decoratedText; ``body`` is card HTML (escape what it quotes)."""
    out: dict[str, Any] = {"text": body or " ", "wrapText": True}
    if top:
        out["topLabel"] = top
    if bottom:
        out["bottomLabel"] = bottom
    return {"decoratedText": out}


def error(message: str) -> dict[str, Any]:
    return text(f'<font color="{ERROR_COLOR}">{esc(message)}</font>')


def text_input(name: str, label: str, value: str = "", hint: str = "", multiline: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, "label": label, "type": "MULTIPLE_LINE" if multiline else "SINGLE_LINE"}
    if value:
        out["value"] = value
    if hint:
        out["hintText"] = hint
    return {"textInput": out}


def selection(name: str, label: str, options: Sequence[tuple[str, str]], selected: str = "",
              kind: str = "DROPDOWN") -> dict[str, Any]:
    chosen = selected if selected in {v for _t, v in options} else (options[0][1] if options else "")
    return {"selectionInput": {"name": name, "label": label, "type": kind,
                               "items": [{"text": t, "value": v, "selected": v == chosen} for t, v in options]}}


def date_picker(name: str, label: str, value: date | None, tz: tzinfo) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, "label": label, "type": "DATE_ONLY"}
    if value is not None:
        out["valueMsEpoch"] = date_ms(value, tz)
    return {"dateTimePicker": out}


def button(label: str, url: str, params: Mapping[str, str] | None = None) -> dict[str, Any]:
    action: dict[str, Any] = {"function": url}
    if params:
        action["parameters"] = [{"key": k, "value": str(v)} for k, v in params.items()]
    return {"text": label, "onClick": {"action": action}}


def buttons(*items: dict[str, Any]) -> dict[str, Any]:
    return {"buttonList": {"buttons": list(items)}}


def widget_count(built: dict[str, Any]) -> int:
    return sum(len(s["widgets"]) for s in built["sections"])


def with_errors(fields: Sequence[tuple[str, dict[str, Any]]], errors: Mapping[str, str]) -> list[dict[str, Any]]:
    """Each field's widget, its error (if any) right below it; errors for no field on top."""
    names = {n for n, _w in fields}
    out = [error(m) for f, m in errors.items() if f not in names]
    for name, widget in fields:
        out.append(widget)
        if name in errors:
            out.append(error(errors[name]))
    return out


# -- screens --------------------------------------------------------------------------------------

def message(title: str, body: str, links: Links) -> dict[str, Any]:
    return card(title, [section([text(esc(body)), buttons(button("Back to the plan", links.to("home")))])])


def file_scope(links: Links) -> dict[str, Any]:
    """The open spreadsheet is not shared with the add-on yet (drive.file): ask for it."""
    return card("mapsheets", [section([
        text("mapsheets works on the spreadsheet you have open, and only on it. Allow it to read and "
             "write this file to see its plan, or to generate one here."),
        buttons(button("Allow access to this spreadsheet", links.to("request-file-scope"))),
    ])])


def refused(reason: str, links: Links) -> dict[str, Any]:
    """The open spreadsheet cannot be read as a plan (damaged, past the limits): why, and no Generate,
    since generating over it would fail or hide what is there."""
    return card("This spreadsheet cannot be read as a plan", [section([
        error(reason),
        text("mapsheets leaves it as it is. Repair it (or open another spreadsheet), then try again."),
        buttons(button("Try again", links.to("home"))),
    ])])


def needs(what: str, links: Links) -> dict[str, Any]:
    """A scope the event lacks (no userIdToken: userinfo.email; no userOAuthToken): ask for it."""
    return card("mapsheets needs your permission", [section([
        text(esc(f"mapsheets needs {what}. Allow it when Google asks, then try again.")),
        buttons(button("Allow access to this spreadsheet", links.to("request-file-scope")),
                button("Try again", links.to("home"))),
    ])])


def summary(data: dict[str, Any], links: Links, page: int = 0) -> dict[str, Any]:
    """The plan at a glance (from service.addon.summary), then one page of its steps."""
    plan, me, changed = data["plan"], data["me"], data.get("changes") or {}
    progress = plan["progress"]
    glance = [
        text(f"<b>{progress['done']}</b> of {progress['total']} steps done ({progress['percent']}%)",
             top="Progress", bottom=f"Health: {esc(plan['health'])}"),
        text(esc(f"target {plan['target_close'] or '—'}, projected {plan['projected_close'] or '—'}"
                 + (f" ({plan['slip_days']:+d} days)" if plan.get("slip_days") else "")), top="Close"),
    ]
    if data.get("forecast"):  # the service sends it to the seller side only
        glance.append(text(esc(data["forecast"]["text"]), top="Chance to close"))
    if data.get("notice"):  # the scheduled digest run cannot open this sheet: where people look, first
        glance.insert(0, text(esc(data["notice"]), top="Digests"))
    overdue = plan.get("overdue") or []
    if overdue:
        lines = [f"{esc(s['id'])} {esc(s['title'])} ({s['days']} days late)" for s in overdue[:LIST_CAP]]
        more = len(overdue) - LIST_CAP
        glance.append(text("<br>".join(lines) + (f"<br>…and {more} more" if more > 0 else ""),
                           top=f"Overdue ({len(overdue)})"))
    if changed.get("text"):
        glance += _change_lines(changed["text"], SUMMARY_CHANGES, top="What changed since you last looked")
    standing = (f"{me['name'] or me['email']}: {me['side'] or 'no side'}" if me["on_plan"]
                else f"{me['email']} is not on this plan (Team tab)")
    glance.append(text(esc(standing), top="You", bottom=f"Email digest: {esc(me['subscription'])}"))
    signed = plan.get("signatures") or []
    if signed:
        glance.append(text("<br>".join(esc(f"{s.get('side')}: {s.get('name') or s.get('email')} "
                                           f"({s.get('status')}, {s.get('by') or 'method not recorded'})")
                                       for s in signed[:LIST_CAP]),
                           top="Signatures"))
    actions = buttons(
        button("Add step", links.to("step-form"), {"phases": "\n".join(plan.get("phases") or []),
                                                   "next_phase": plan.get("next_phase") or ""}),
        button("Sign", links.to("sign")),
        button("Ask for a signature", links.to("ask-form")),
        button("What changed", links.to("changes")),
        button("Email me changes", links.to("email-form"), {"every": me["subscription"]}),
    )
    steps = plan.get("steps") or []
    pages = max(1, -(-len(steps) // STEP_PAGE))
    page = min(max(page, 0), pages - 1)
    shown = steps[page * STEP_PAGE:(page + 1) * STEP_PAGE]
    rows = [text(esc(s["title"]), top=esc(f"{s['id']} · {s['status'] or 'open'}"),
                 bottom=esc(f"due {s['due']}") if s.get("due") else "") for s in shown]
    pager = []
    if page > 0:
        pager.append(button("Previous steps", links.to("home"), {"page": str(page - 1)}))
    if page + 1 < pages:
        pager.append(button("Next steps", links.to("home"), {"page": str(page + 1)}))
    if pager:
        rows.append(buttons(*pager))
    title = f"Steps {page * STEP_PAGE + 1}–{page * STEP_PAGE + len(shown)} of {len(steps)}" if steps else "Steps"
    return card(plan["title"], [section(glance + [actions]), section(rows, title)],
                subtitle=f"{plan['buyer']} × {plan['seller']}")


def generate_form(templates: Sequence[str], values: Mapping[str, Any], errors: Mapping[str, str], tz: tzinfo,
                  links: Links) -> dict[str, Any]:
    """No plan in this spreadsheet yet: the generate form, typed values kept, errors by their field."""
    v = values.get
    fields = [
        ("template", selection("template", "Template", [(t, t) for t in templates], v("template") or "")),
        ("buyer", text_input("buyer", "Buyer (company)", v("buyer") or "")),
        ("seller", text_input("seller", "Seller (company)", v("seller") or "")),
        ("ae_name", text_input("ae_name", "Your name (the AE)", v("ae_name") or "")),
        ("start_date", date_picker("start_date", "Start", v("start_date"), tz)),
        ("close_date", date_picker("close_date", "Target close", v("close_date"), tz)),
        ("champion_name", text_input("champion_name", "Champion's name", v("champion_name") or "")),
        ("champion_email", text_input("champion_email", "Champion's email", v("champion_email") or "")),
        ("economic_buyer_name", text_input("economic_buyer_name", "Economic buyer's name",
                                           v("economic_buyer_name") or "")),
        ("economic_buyer_email", text_input("economic_buyer_email", "Economic buyer's email",
                                            v("economic_buyer_email") or "")),
        ("holidays", text_input("holidays", "Holidays", v("holidays") or "", hint="country code, e.g. US")),
    ]
    widgets = with_errors(fields, errors) + [buttons(button("Generate MAP", links.to("generate")))]
    return card("New Mutual Action Plan", [section(widgets)], subtitle="This spreadsheet has no plan yet")


def step_form(phases: Sequence[str], values: Mapping[str, Any], errors: Mapping[str, str], tz: tzinfo,
              links: Links) -> dict[str, Any]:
    v = values.get
    phase = (selection("phase", "Phase", [(p, p) for p in phases], v("phase") or "") if phases
             else text_input("phase", "Phase", v("phase") or ""))
    fields = [
        ("title", text_input("title", "Step", v("title") or "")),
        ("phase", phase),
        ("side", selection("side", "Side", SIDES, v("side") or "joint")),
        ("owners", text_input("owners", "Owners", v("owners") or "", hint="names or emails, comma-separated")),
        ("due", date_picker("due", "Due", v("due"), tz)),
        ("depends_on", text_input("depends_on", "Depends on", v("depends_on") or "", hint="step IDs, e.g. S-1A2B")),
        ("notes", text_input("notes", "Notes", v("notes") or "", multiline=True)),
    ]
    keep = {"phases": "\n".join(phases)}
    widgets = with_errors(fields, errors) + [buttons(button("Add step", links.to("add-step"), keep),
                                                      button("Cancel", links.to("home")))]
    return card("Add a step", [section(widgets)])


def step_added(step: Mapping[str, Any], links: Links, warnings: Sequence[str] = ()) -> dict[str, Any]:
    due = f", due {step['due']}" if step.get("due") else ""
    lines = [f"{step['id']} {step['title']}{due}", *warnings]  # a weekend or holiday due date, kept as given
    return card("Step added", [section([text("<br>".join(esc(line) for line in lines)),
                                        buttons(button("Back to the plan", links.to("home")))])])


def signed(signature: Mapping[str, Any], written: bool, links: Links) -> dict[str, Any]:
    who = signature.get("name") or signature.get("email")
    body = (f"{who} signed for the {signature.get('side')} side." if written
            else f"{who} had already signed the plan as it reads now: nothing changed.")
    return message("Signed" if written else "Already signed", body, links)


def _change_lines(lines: Sequence[str], cap: int, top: str = "") -> list[dict[str, Any]]:
    """Change descriptions, CHANGE_LINES to a widget, at most ``cap`` of them, then a count of the rest."""
    cut = list(lines)[:cap]
    out = [text("<br>".join(esc(t) for t in cut[i:i + CHANGE_LINES]), top=top if i == 0 else "")
           for i in range(0, len(cut), CHANGE_LINES)]
    if len(lines) > cap:
        out.append(text(esc(f"…and {len(lines) - cap} more: see the plan's Changes tab")))
    return out


def changes(changed: Mapping[str, Any], links: Links) -> dict[str, Any]:
    lines = list(changed.get("text") or [])
    if changed.get("first_look"):
        widgets = [text("This is your first look at this plan: from now on you see what changed since.")]
    elif not lines:
        widgets = [text(esc(f"Nothing changed since you last looked ({changed.get('since') or 'never'})."))]
    else:
        widgets = _change_lines(lines, CHANGE_CAP)
    widgets.append(buttons(button("Back to the plan", links.to("home"))))
    return card("What changed", [section(widgets)],
                subtitle=f"since {changed['since'][:10]}" if changed.get("since") else "")


def email_form(every: str, links: Links, errors: Mapping[str, str] | None = None) -> dict[str, Any]:
    fields = [("every", selection("every", "Email me what changed", EVERY, every or "off", kind="RADIO_BUTTON"))]
    widgets = with_errors(fields, errors or {}) + [buttons(button("Save", links.to("subscription")),
                                                            button("Cancel", links.to("home")))]
    return card("Email me changes", [section(widgets)])


def ask_form(to: str, links: Links, errors: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Whom to email a link to sign (issue 20): a buyer signs without installing anything."""
    fields = [("to", text_input("to", "Who signs (on the plan)", to, hint="e.g. Jane Doe <jane@acme.example>"))]
    widgets = with_errors(fields, errors or {}) + [
        buttons(button("Email a link to sign", links.to("request-signature")), button("Cancel", links.to("home")))]
    return card("Ask for a signature", [section(widgets)])


def subscribed(every: str, links: Links, shared_with: str = "") -> dict[str, Any]:
    body = "You get no digest for this plan." if every == "off" else f"You get a {every} email of what changed."
    if shared_with:  # said, since the sheet's sharing changed
        body += f" The sheet is shared with {shared_with}, the account that sends digests, so it can read it."
    return message("Email digest saved", body, links)


__all__ = ["Links", "MAX_WIDGETS", "STEP_PAGE", "ask_form", "changes", "email_form", "file_scope", "generate_form",
           "message", "needs", "push", "refused", "request_file_scope", "signed", "step_added", "step_form",
           "subscribed", "summary", "update", "widget_count"]
