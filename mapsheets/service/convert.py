"""Closing plan → MAP: the seller's private plan, once qualified, gives the buyer's mutual plan.

The MAP is a new document; the closing plan stays the seller's and only gains the link to it.
"""

from __future__ import annotations

import copy
import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from mapsheets.core import qualify
from mapsheets.core.carry import join, spans
from mapsheets.core.dates import add_business_days, business_days_between
from mapsheets.core.edits import Edit
from mapsheets.core.layout import STEP_COLUMNS, VISIBILITY, check_cell_text, workbook_spec
from mapsheets.core.machine import field_cells
from mapsheets.core.model import Plan, Stakeholder, Step, new_step_id
from mapsheets.core.parse import ParsedPlan
from mapsheets.core.people import link_owner, split_person
from mapsheets.core.schedule import topological
from mapsheets.core.templates import Template
from mapsheets.core.templates import tasks as tpl_tasks
from mapsheets.core.upkeep import changed_only, parsed_upkeep
from mapsheets.errors import UsageError
from mapsheets.service.calendars import days_off_or_weekends, holiday_dates
from mapsheets.service.plans import PlanView, build_plan, get_template, stage_durations, view_of, watch_seller_owners
from mapsheets.service.signoff import check_address
from mapsheets.service.workbooks import google_id, new_workbook, open_workbook, parse_grid, read_parsed

CONVERTED = "converted"  # the audit-log event
# Steps-table columns carried cell for cell from the closing plan into the MAP.
_CARRIED = tuple(label for attr, label, _w in STEP_COLUMNS if attr != "depends_on")
_SHARED_WORDS = {"shared", "share", "mutual", "external", "buyer", "public", "visible", "yes", "y", "x", "✓", "✅"}


@dataclass
class ConvertResult:
    """The MAP ``convert`` made of a closing plan: where it is, which steps came from where, who watches it."""

    location: str  # the MAP
    view: PlanView  # the MAP as written
    carried: list[str]  # IDs of the closing plan's shared steps, now in the MAP too
    added: list[str]  # IDs of the MAP template's buyer-side and joint steps
    internal: int  # closing-plan steps left out
    missing: list[str]  # MEDDPICC rows still empty (not blocking)
    forced: list[str] = field(default_factory=list)  # what the gate wanted and --force let through
    shared_with: list[str] = field(default_factory=list)
    watchers: list[str] = field(default_factory=list)
    watch_error: str | None = None  # the MAP exists; only the subscription failed
    notes: list[str] = field(default_factory=list)


def is_shared(step: Step) -> bool:
    """A closing-plan step reaches the MAP only when its Visibility cell says shared."""
    return str(step.extra.get(VISIBILITY) or "").strip().lower() in _SHARED_WORDS


def convert(ref: str, output: str | None, *, today: date, now: datetime, champion: str | None = None,
            economic_buyer: str | None = None, template: str = "enterprise-map",
            durations_file: Path | None = None, google: bool = False, share: bool = False,
            force: bool = False, template_dirs: Sequence[Path] = (), store_url: str | None = None,
            watch_owners: bool = True) -> ConvertResult:
    """Make the MAP of closing plan ``ref`` at ``output`` (or a new Google Sheet), link the two, and
    record it in the audit log; with ``share``, share the sheet with the buying committee and
    subscribe them to its digest; with ``watch_owners`` its seller-side owner is subscribed as ``new``
    subscribes. ``force`` lets an unqualified deal through (recorded) and
    overwrites an existing ``output`` file."""
    if share and not google and not (output and google_id(output)):
        raise UsageError("share needs a Google Sheet: a local .xlsx is shared by sending the file", field="share")
    people = {"champion": champion, "economic_buyer": economic_buyer}
    given = {field: check_address(text, field) for field, text in people.items() if text and text.strip()}
    book = open_workbook(ref)
    grid, parsed = read_parsed(book)
    closing = parsed.plan
    _check_closing(book.ref, parsed, today, force)
    q = closing.qualification
    who, gaps = _ready(book.ref, q, given, force)
    tmpl = get_template(template, template_dirs)
    if tmpl.kind != "mutual":
        raise UsageError(f"{template!r} is a {tmpl.kind} plan template, not a MAP template", field="template")
    notes: list[str] = []
    durations = stage_durations(tmpl, durations_file, notes) if durations_file else None

    from mapsheets.adapters.store import open_store
    from mapsheets.service.revisions import canonical_ref, snapshot_into

    store = open_store(store_url)
    store.check_writable()  # the audit log must take the event before any document is made
    mutual, carried, added = build_map(closing, parsed, grid[parsed.location.tab], tmpl, who=who, today=today,
                                       durations=durations, closing_ref=_address(book.ref, closing), notes=notes)
    days_off = days_off_or_weekends(mutual, today)
    location = new_workbook(output, google=google).create(workbook_spec(mutual, today, days_off), force=force)
    for step in mutual.steps:  # the carried steps were written cell for cell; the plan reads as parsed
        if step.id in carried:
            step.unparsed = dict(closing.step(step.id).unparsed)
    map_ref = location if google_id(location) else str(Path(location).resolve())
    _link(book, map_ref)
    snapshot_into(store, ref, now=now, origin="convert")
    missing = [qualify.LABELS[k].lower() for k in qualify.missing(q) if not who.get(k)]
    store.audit.log(CONVERTED, ref=canonical_ref(ref), actor=closing.seller_lead or "mapsheets convert", at=now,
                    detail={"mutual_plan": map_ref, "template": tmpl.name, "forced": gaps, "missing": missing,
                            "carried": carried, "added": len(added)})
    result = ConvertResult(location=location, view=view_of(mutual, [], today, ref=location),
                           carried=carried,
                           added=added, internal=len(closing.steps) - len(carried), missing=missing,
                           forced=gaps, notes=notes)
    if watch_owners:
        result.watchers, result.watch_error = watch_seller_owners(mutual, location, store_url=store_url)
    if share:
        _share_with_committee(result, mutual, location, now, store_url)
    return result


def _check_closing(ref: str, parsed: Any, today: date, force: bool) -> None:
    """A closing plan, not converted yet (unless forced), with a target close still ahead."""
    closing = parsed.plan
    if closing.kind != "closing":
        raise UsageError(f"{ref}: is a mutual plan already (convert turns a closing plan into one)")
    if closing.mutual_plan and not force:
        raise UsageError(f"{ref}: converted already, its mutual plan is {closing.mutual_plan} "
                         "(--force makes another)")
    cell = parsed.location.overview_cells.get("target_close", "the overview's Target close")
    if closing.target_close is None:
        raise UsageError(f"{cell}: no target close: the MAP is scheduled up to it")
    if closing.target_close < today:
        raise UsageError(f"{cell}: the target close {closing.target_close} is past: move it first")


def _ready(ref: str, q: dict[str, str], given: dict[str, tuple[str, str]],
           force: bool) -> tuple[dict[str, tuple[str, str] | None], list[str]]:
    """The champion and economic buyer, and what qualification lacks (refused unless ``force``)."""
    who = {"champion": given.get("champion") or _person(q.get("champion", "")),
           "economic_buyer": given.get("economic_buyer") or _person(q.get("economic_buyer", ""))}
    gaps = [qualify.LABELS[k].lower() for k in ("champion", "economic_buyer") if not who[k]]
    gaps += [qualify.LABELS[k].lower() for k in ("identified_pain", "metrics") if not q.get(k, "").strip()]
    if gaps and not force:
        raise UsageError(f"{ref}: not ready for a MAP: no {', no '.join(gaps)} (name the people with "
                         "--champion/--economic-buyer or in the Qualification block, fill the rest there; "
                         "--force converts anyway and says so in the audit log)")
    return who, gaps


def _link(book: Any, map_ref: str) -> None:
    """The closing plan names its MAP (on the hidden tab), under the plan's lock; IDs and Sign-off
    statuses kept true as every write does."""
    def compute(grid: Any) -> tuple[Edit, Any]:
        fresh = parse_grid(book, grid)
        upkeep = changed_only(parsed_upkeep(fresh), grid)
        for tab, cells in field_cells(fresh.location, {"mutual_plan": map_ref}).items():
            upkeep.setdefault(tab, {}).update(cells)
        tab = fresh.location.tab
        return Edit(tab, cells=upkeep.pop(tab, {}), also=upkeep), fresh

    book.modify(compute)


def _share_with_committee(result: ConvertResult, mutual: Plan, location: str, now: datetime,
                          store_url: str | None) -> None:
    from mapsheets.service.digest import watch
    from mapsheets.service.sharing import share as share_sheet

    committee = [p for p in mutual.stakeholders if p.side == "buyer" and p.email]
    result.shared_with = share_sheet(location, [p.email for p in committee])
    labels = [f"{p.name} <{p.email}>" if p.name and p.name != p.email else p.email for p in committee]
    if labels:
        watch(location, labels, now=now, store_url=store_url)
        result.watchers += [p.email for p in committee if p.email not in result.watchers]


def _person(text: str) -> tuple[str, str] | None:
    """(name, email) of a block cell such as "Jane Doe <jane@acme.example>" or "Jane Doe"; None: blank."""
    return split_person(text) if text.strip() else None


def _address(ref: str, closing: Plan) -> str:
    """How the MAP names its closing plan: a Google Sheet by its address, a local file by its title
    (a path on the seller's disk means nothing to the buyer and says too much)."""
    sheet_id = google_id(ref)
    return f"https://docs.google.com/spreadsheets/d/{sheet_id}" if sheet_id else closing.title


def build_map(closing: Plan, parsed: ParsedPlan, rows: list[list[Any]], tmpl: Template, *,
              who: dict[str, tuple[str, str] | None],
              today: date, durations: dict[str, int] | None, closing_ref: str,
              notes: list[str]) -> tuple[Plan, list[str], list[str]]:
    """The MAP: the template's buyer-side and joint steps and the closing plan's shared steps (cell
    for cell), one step per purpose, phases in the template's order, scheduled forward from today;
    returns it, the carried IDs and the IDs of the template steps it kept."""
    shared = [s for s in closing.steps if is_shared(s)]
    keep = [s for s in tmpl.steps if s.side in ("buyer", "joint") and s.shown_to_buyer(tmpl.kind)]
    subset = dataclasses.replace(tmpl, steps=tuple(_through(keep, tmpl.steps)))
    roles = _team_roles(closing, tmpl)
    roles.update({k: f"{p[0]} <{p[1]}>" if p[1] else p[0] for k, p in who.items() if p and k in tmpl.roles})
    if "ae" in tmpl.roles and closing.seller_lead:
        roles["ae"] = closing.seller_lead  # the AE stays seller lead
    mutual, durations = _fitted(subset, closing, roles, today, durations, notes)
    mutual.step_columns, mutual.qualification = [], {}
    for step in mutual.steps:
        step.extra.pop(VISIBILITY, None)
    for key, role in (("champion", "Champion"), ("economic_buyer", "Economic buyer")):
        p = who[key]
        if p and key not in tmpl.roles and not any(m.email and m.email == p[1] for m in mutual.stakeholders):
            mutual.stakeholders.append(Stakeholder(name=p[0], email=p[1], side="buyer", role=role))
    if who["champion"] and "champion" not in tmpl.roles:
        mutual.buyer_lead = roles.get("champion") or link_owner(who["champion"][0], mutual.stakeholders)
    pain, metrics = closing.qualification.get("identified_pain", ""), closing.qualification.get("metrics", "")
    mutual.problem = (f"{pain.rstrip(' .')}. Measured by: {metrics}" if pain and metrics
                      else pain or metrics or closing.problem)
    mutual.solution, mutual.buying_process = closing.solution, closing.buying_process
    mutual.calendar, mutual.date_order, mutual.closing_plan = closing.calendar, closing.date_order, closing_ref
    check_cell_text({"the MAP's problem statement": mutual.problem})

    taken = {s.id for s in shared}
    renamed = {}
    for step in mutual.steps:  # a clash with a carried ID is unlikely, never impossible
        if step.id in taken:
            renamed[step.id] = new_step_id(taken | mutual.step_ids)
            step.id = renamed[step.id]
    for step in mutual.steps:
        step.depends_on = [renamed.get(d, d) for d in step.depends_on]
    mutual.close_step = renamed.get(mutual.close_step, mutual.close_step)
    days = {step.id: task.days for step, task in zip(mutual.steps, tpl_tasks(subset, durations), strict=False)}
    carried = [_carried(s, parsed, rows, taken) for s in shared]
    closing_spans = spans(list(dict.fromkeys(s.phase for s in closing.steps)))
    joined = join(mutual.steps, carried, {s.id: closing_spans.get(s.phase, (0.0, 1.0)) for s in shared})
    for step in carried:
        step.unparsed.pop("Phase", None)  # the MAP's phase, not the closing plan's stage
    titles = {s.id: s.title for s in closing.steps}
    notes += [f'"{titles[cid]}" carried over in place of the template step "{title}"'
              for cid, title in joined.merged.items()]
    mutual.steps = joined.steps
    mutual.close_step = joined.replaced.get(mutual.close_step, mutual.close_step)
    _forward(mutual, days, today, holiday_dates(closing.calendar, range(today.year - 1, today.year + 6)), notes)
    _bring_people(mutual, closing)
    dated = [d for s in mutual.steps for d in (s.due, s.done_on) if d is not None]
    mutual.start_date = min([today, *dated])  # the plan starts with its first step
    added = [s.id for s in mutual.steps if s.id in days and s.id not in joined.replaced]
    return mutual, [s.id for s in shared], added


def _forward(plan: Plan, days: dict[str, int], today: date, days_off, notes: list[str]) -> None:
    """Every open step due as soon as what it waits for allows, from today (a carried step with no
    template twin takes the typical length of its phase's steps); done steps keep their dates and
    let what waits for them start today."""
    by_id = {s.id: s for s in plan.steps}
    typical = {}
    for phase in {s.phase for s in plan.steps}:
        lengths = [days[s.id] for s in plan.steps if s.phase == phase and s.id in days]
        typical[phase] = round(sum(lengths) / len(lengths)) if lengths else 1
    end: dict[str, date] = {}
    for sid in topological([s.id for s in plan.steps], {s.id: s.depends_on for s in plan.steps}, strict=False):
        step = by_id[sid]
        begin = max([today] + [end[d] for d in step.depends_on if d in end])
        if step.status == "done":
            end[sid] = max(today, step.done_on or step.due or today)
            continue
        step.due = add_business_days(begin, days.get(sid, typical[step.phase]), days_off)
        step.unparsed.pop("Due", None)  # rescheduled: the date typed in the closing plan no longer holds
        end[sid] = step.due
    close = by_id.get(plan.close_step)
    if close is not None and close.due and plan.target_close and close.due > plan.target_close:
        late = business_days_between(plan.target_close, close.due, days_off)
        notes.append(f"the close step is due {close.due}, {late} business days after the target close "
                     f"{plan.target_close}: move the target close or shorten stages (--durations)")


def _team_roles(closing: Plan, tmpl: Template) -> dict[str, str]:
    """The MAP template's roles filled by the closing plan's real people of the same role (its SE)."""
    key_of = {}
    for member in tmpl.team:
        found = re.search(r"roles\.(\w+)", member.get("name", ""))
        if found:
            key_of[member.get("role", "").strip().lower()] = found[1]
    return {key_of[p.role.strip().lower()]: f"{p.name} <{p.email}>" if p.name else p.email
            for p in closing.stakeholders if p.email and p.role.strip().lower() in key_of}


def _bring_people(mutual: Plan, closing: Plan) -> None:
    """Every person on the closing plan's Team tab, and every owner of a carried step with an
    address, is on the MAP's Team tab with their side and role."""
    def known(p: Stakeholder) -> bool:
        return any((p.email and m.email.lower() == p.email.lower()) or (not p.email and m.name == p.name)
                   for m in mutual.stakeholders)

    for person in closing.stakeholders:
        if person.name or person.email:
            if not known(person):
                mutual.stakeholders.append(dataclasses.replace(person))
    sides = {m.email.split("@")[-1].lower(): m.side for m in mutual.stakeholders if "@" in m.email}
    for step in mutual.steps:
        for owner in step.owners:
            name, email = split_person(owner)
            side = sides.get(email.split("@")[-1].lower()) if email else None
            person = Stakeholder(name=name or email, email=email, side=side or "", role="")
            if email and side and not known(person):
                mutual.stakeholders.append(person)


def _carried(step: Step, parsed: ParsedPlan, rows: list[list[Any]], carried_ids: set[str]) -> Step:
    """A shared step as the closing plan has it: its cells as typed (status, dates, owners, notes),
    its own ID; dependencies only on steps the buyer sees too; no seller-only columns."""
    out = copy.deepcopy(step)
    loc = parsed.location
    grid_row = rows[loc.step_rows[step.id]]
    out.unparsed = {label: grid_row[loc.columns[label]] for label in _CARRIED
                    if label in loc.columns and loc.columns[label] < len(grid_row) and label != "ID"}
    if not any(ch.isalpha() for ch in str(out.unparsed.get("Status") or "x")):
        out.unparsed.pop("Status")  # "✅": the MAP says "done", which every print font has
    out.extra = {}
    out.depends_on = [d for d in step.depends_on if d in carried_ids]
    return out


def _through(keep, steps) -> list:
    """Kept template steps, depending through the ones left out on what those depended on."""
    by_key = {s.key: s for s in steps}
    kept = {s.key for s in keep}

    def deps(key: str, seen: frozenset[str]) -> list[str]:
        out: list[str] = []
        for d in by_key[key].depends_on:
            if d in seen:
                continue
            out += [d] if d in kept else deps(d, seen | {d})
        return list(dict.fromkeys(out))

    return [dataclasses.replace(s, depends_on=tuple(deps(s.key, frozenset({s.key})))) for s in keep]


def _fitted(subset: Template, closing: Plan, roles: dict[str, str], today: date,
            durations: dict[str, int] | None, notes: list[str]) -> tuple[Plan, dict[str, int]]:
    """Built forward from today with the learned durations; where the close step would land after
    the target close, the stages shrink until it does not. Returns the plan and the stage days used."""
    close = closing.target_close
    assert close is not None  # convert refuses a closing plan without one
    days_off = holiday_dates(closing.calendar, range(today.year - 1, close.year + 4))
    wanted = {s.key: s.days for s in subset.stages} | dict(durations or {})
    shrank = False
    for _attempt in range(40):
        plan, fit = build_plan(subset, buyer=closing.buyer, seller=closing.seller, start=today, close=close,
                               durations=wanted, roles=roles, holidays=closing.calendar,
                               date_order=closing.date_order)
        if fit.fits is not False:  # fits, or no target close to fit
            break
        have = max(business_days_between(today, close, days_off), 1)
        need = max(business_days_between(today, fit.finish, days_off), 1)
        shrunk = {k: int(v * min(have / need, 0.95)) for k, v in wanted.items()}
        if shrunk == wanted:
            break
        wanted, shrank = shrunk, True
    if shrank:
        notes.append("stages shortened to fit between today and the target close")
    return plan, wanted
