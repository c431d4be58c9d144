"""The plan written back to the CRM record it belongs to: `mapsheets crm link` and `crm push`.

A plan is linked to one Salesforce opportunity or HubSpot deal, kept in the plan (the hidden tab's
"CRM record" row) and in the store. A push writes the plan's link, health, projected close,
execution score, signed by both sides and next open step to the fields the settings name; the store
remembers what was written, so a push with nothing changed sends nothing. One request per record,
one request for many (Salesforce sObject Collections, HubSpot batch update).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from mapsheets.core.cell_input import norm
from mapsheets.core.edits import Edit
from mapsheets.core.machine import field_cells
from mapsheets.core.upkeep import changed_only, parsed_upkeep
from mapsheets.errors import MapsheetsError, UsageError
from mapsheets.service.plans import PlanView, read_plan
from mapsheets.service.revisions import canonical_ref, open_store
from mapsheets.service.workbooks import google_id, open_workbook, parse_grid

# What a push can write, by the label the settings use: MAPSHEETS_SALESFORCE_FIELDS=Health:MAP_Health__c,...
LABELS = {"link": "Link", "health": "Health", "projected_close": "Projected close",
          "execution_score": "Execution score", "signed": "Signed", "next_step": "Next step"}
SETTINGS = {"salesforce": "MAPSHEETS_SALESFORCE_FIELDS", "hubspot": "MAPSHEETS_HUBSPOT_PROPERTIES"}
DEFAULT_FIELDS = {"salesforce": {"next_step": "NextStep"}, "hubspot": {"next_step": "hs_next_step"}}
NEXT_STEP_MAX = 255  # Salesforce's NextStep is Text(255)
RECORD_ID = {"salesforce": re.compile(r"^006[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?$"), "hubspot": re.compile(r"^\d{1,20}$")}


@dataclass
class Pushed:
    """One plan's push: what was sent (empty: nothing had changed) or why it failed."""

    ref: str
    crm: str
    record_id: str
    sent: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    notes: list[str] = field(default_factory=list)


def link_plan(ref: str, *, crm: str, record_id: str, now: datetime, store_url: str | None = None) -> str:
    """Remember that plan ``ref`` belongs to ``crm``'s record ``record_id``, in the plan and the store;
    the value written ("salesforce:006…")."""
    record_id = record_id.strip()
    if not RECORD_ID[crm].match(record_id):
        what = ("--opportunity: a Salesforce opportunity ID is 15 or 18 letters and digits starting 006"
                if crm == "salesforce" else "--deal: a HubSpot deal ID is digits")
        raise UsageError(f"{record_id!r}: not a record ID ({what})")
    store = open_store(store_url)
    store.check_writable()
    value = f"{crm}:{record_id}"
    book = open_workbook(ref)

    def compute(grid: Any) -> tuple[Edit | None, Any]:
        fresh = parse_grid(book, grid)
        if fresh.plan.crm_record == value:
            return None, fresh
        upkeep = changed_only(parsed_upkeep(fresh), grid)
        for tab, cells in field_cells(fresh.location, {"crm_record": value}).items():  # on the hidden tab
            upkeep.setdefault(tab, {}).update(cells)
        tab = fresh.location.tab
        return Edit(tab, cells=upkeep.pop(tab, {}), also=upkeep), fresh

    fresh = book.modify(compute)
    key = canonical_ref(ref)
    store.plans.register(key, "google" if google_id(ref) else "xlsx", fresh.plan.title)
    store.crm_links.link(key, crm, record_id, now)
    return value


def field_names(crm: str, env: Mapping[str, str]) -> dict[str, str]:
    """What → the CRM field it goes to: the default (next step → NextStep / hs_next_step), then the
    setting's "Label:Field" pairs; an empty field ("Next step:") writes that one nowhere."""
    names = dict(DEFAULT_FIELDS[crm])
    by_label = {norm(label): key for key, label in LABELS.items()}
    setting = SETTINGS[crm]
    for item in (env.get(setting) or "").split(","):
        if not item.strip():
            continue
        label, sep, name = item.partition(":")
        key = by_label.get(norm(label))
        if not sep or key is None:
            raise UsageError(f"{setting}: {item.strip()!r}: expected Label:Field with a label of "
                             f"{', '.join(LABELS.values())}")
        if name.strip():
            names[key] = name.strip()
        else:
            names.pop(key, None)
    return names


def plan_values(view: PlanView, ref: str, link: str | None) -> dict[str, Any]:
    """What a push says about the plan, by what (keys of LABELS); the link only when there is one."""
    plan = view.plan
    score = view.score
    url = f"https://docs.google.com/spreadsheets/d/{google_id(ref)}/edit" if google_id(ref) else link
    values: dict[str, Any] = {
        "health": view.health.state,
        "projected_close": view.projection.close.isoformat() if view.projection.close else None,
        "execution_score": score.score,
        "signed": "yes" if score.signed_sides == 2 else "no",
        "next_step": next_step(plan.steps),
    }
    if url:
        values["link"] = url
    return values


def next_step(steps: Sequence[Any]) -> str | None:
    """The open step due first (then the first in the table): title, owners, due date; at most 255 characters."""
    open_steps = [(s.due or date.max, i, s) for i, s in enumerate(steps) if s.is_open]
    if not open_steps:
        return None
    step = min(open_steps, key=lambda t: (t[0], t[1]))[2]
    text: str = step.title + (f" ({', '.join(step.owners)})" if step.owners else "") + (
        f", due {step.due.isoformat()}" if step.due else "")
    return text if len(text) <= NEXT_STEP_MAX else text[:NEXT_STEP_MAX - 1] + "…"


def push_plans(refs: Sequence[str] = (), *, today: date, now: datetime, link: str | None = None,
               env: Mapping[str, str] | None = None, store_url: str | None = None) -> list[Pushed]:
    """Push ``refs`` (none: every linked plan) to their CRM records; per plan, what was sent or why not."""
    env = os.environ if env is None else env
    store = open_store(store_url)
    links = {rec.ref: rec for rec in store.crm_links.of()}
    keys = [canonical_ref(r) for r in refs] or list(links)
    shown = dict(zip(keys, refs, strict=False)) if refs else {k: k for k in keys}
    results: list[Pushed] = []
    batches: dict[str, dict[str, tuple[Pushed, dict[str, Any]]]] = {"salesforce": {}, "hubspot": {}}
    names: dict[str, dict[str, str]] = {}
    for key in keys:
        ref = shown[key]
        try:
            crm, record_id, pushed = _linked(store, ref, key, links, now)
            names.setdefault(crm, field_names(crm, env))
            view = read_plan(ref, today=today)
            values = plan_values(view, ref, link)
        except MapsheetsError as exc:
            results.append(Pushed(ref, "", "", error=str(exc)))
            continue
        result = Pushed(ref, crm, record_id)
        if "link" not in values and "link" in names[crm]:
            result.notes.append("no link: the plan is a file, give --link URL to write one")
        wanted = {names[crm][k]: v for k, v in values.items() if k in names[crm]}
        result.sent = {f: v for f, v in wanted.items() if (pushed or {}).get(f, object()) != v}
        results.append(result)
        if result.sent:
            batches[crm][record_id] = (result, {**(pushed or {}), **wanted})
    for crm, batch in batches.items():
        if batch:
            _send(crm, batch, env, store, now)
    return results


def _linked(store: Any, ref: str, key: str, links: Mapping[str, Any], now: datetime) -> tuple[str, str, Any]:
    """The plan's CRM record: from the store, else from the plan's own row (then remembered)."""
    if key in links:
        rec = links[key]
        return rec.crm, rec.record_id, rec.pushed
    plan = read_plan(ref, today=now.date()).plan
    crm, _, record_id = plan.crm_record.partition(":")
    if crm not in RECORD_ID or not record_id:
        raise UsageError(f"{ref}: not linked to a CRM record (mapsheets crm link PLAN --opportunity ID | --deal ID)")
    store.plans.register(key, "google" if google_id(ref) else "xlsx", plan.title)
    store.crm_links.link(key, crm, record_id, now)
    return crm, record_id, None


def _send(crm: str, batch: Mapping[str, tuple[Pushed, dict[str, Any]]], env: Mapping[str, str], store: Any,
          now: datetime) -> None:
    """One request for the batch; the store remembers what each record now holds."""
    changes = {rid: result.sent for rid, (result, _all) in batch.items()}
    try:
        if crm == "salesforce":
            from mapsheets.adapters import salesforce

            failed = salesforce.update_opportunities(env, changes)
        else:
            from mapsheets.adapters import hubspot

            hubspot.update_deals(env, changes)
            failed = {}
    except MapsheetsError as exc:
        failed = {rid: str(exc) for rid in changes}
    for rid, (result, written) in batch.items():
        if rid in failed:
            result.error, result.sent = failed[rid], {}
        else:
            store.crm_links.set_pushed(canonical_ref(result.ref), written, now)


def push_if_linked(ref: str, *, today: date, now: datetime, store_url: str | None = None) -> str | None:
    """After `close` or `convert`: push a linked plan, best effort; one line when that failed (None: pushed,
    or not linked)."""
    try:
        key = canonical_ref(ref)
        if not open_store(store_url).crm_links.of(key) and not read_plan(ref, today=today).plan.crm_record:
            return None
        done = push_plans([ref], today=today, now=now, store_url=store_url)
    except MapsheetsError as exc:
        return f"CRM not updated: {exc}"
    errors = [p.error for p in done if p.error]
    return f"CRM not updated: {errors[0]}" if errors else None


def carry_link(closing_ref: str, closing_record: str, map_ref: str, *, today: date, now: datetime,
               store_url: str | None = None) -> list[str]:
    """After `convert`: the MAP takes over the closing plan's CRM record and is pushed there (best
    effort); a line saying so, or why not (none when the closing plan was not linked)."""
    try:
        found = open_store(store_url).crm_links.of(canonical_ref(closing_ref))
        crm, _, record_id = (f"{found[0].crm}:{found[0].record_id}" if found else closing_record).partition(":")
        if crm not in RECORD_ID or not record_id:
            return []
        value = link_plan(map_ref, crm=crm, record_id=record_id, now=now, store_url=store_url)
    except MapsheetsError as exc:
        return [f"CRM not updated: {exc}"]
    failed = push_if_linked(map_ref, today=today, now=now, store_url=store_url)
    return [failed or f"linked to {value} as the closing plan was, and pushed there"]
