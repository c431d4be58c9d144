"""Plan operations: the API the CLI and the add-on backend call (templates, new, read; adding a step
is ``steps.py``)."""

from __future__ import annotations

import math
import os
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from email.utils import formataddr
from pathlib import Path
from typing import Any

from mapsheets.adapters import files
from mapsheets.core import schedule
from mapsheets.core import templates as tpl
from mapsheets.core.addresses import find_email
from mapsheets.core.dates import (
    DATE_ORDERS,
    add_business_days,
    date_order_for,
    normal_date_order,
)
from mapsheets.core.edits import Edit
from mapsheets.core.health import Health, assess
from mapsheets.core.layout import (
    STEP_HEADERS,
    VISIBILITY,
    check_cell_text,
    workbook_spec,
)
from mapsheets.core.model import Plan, Stakeholder, Step, new_step_id
from mapsheets.core.parse import ParsedPlan, ParseWarning
from mapsheets.core.people import link_owner, owner_name, split_person
from mapsheets.core.upkeep import changed_only, parsed_upkeep
from mapsheets.errors import MapsheetsError, NotFound, ScheduleError, UsageError
from mapsheets.service.calendars import (
    calendar_code,
    days_off_or_weekends,
    holiday_dates,
    locale_calendar,
    looks,
    plan_holidays,
)
from mapsheets.service.workbooks import new_workbook, open_workbook, parse_grid, read_parsed


@dataclass(frozen=True)
class TemplateInfo:
    name: str
    kind: str
    description: str
    steps: int
    stages: list[dict[str, Any]]  # key, name, days: the keys a --durations file may use
    source: str
    roles: list[str] = field(default_factory=list)  # keys `new --role` and `team --role` fill


def load_templates(template_dirs: Sequence[Path] = ()) -> dict[str, tpl.Template]:
    return {name: tpl.parse_template(text, name, source)
            for name, (source, text) in files.template_sources(list(template_dirs)).items()}


def list_templates(template_dirs: Sequence[Path] = ()) -> list[TemplateInfo]:
    """Every template mapsheets knows (its own, then ``template_dirs`` and MAPSHEETS_TEMPLATES), described."""
    return [TemplateInfo(t.name, t.kind, t.description, len(t.steps),
                         [{"key": s.key, "name": s.name, "days": s.days} for s in t.stages], t.source,
                         list(t.roles))
            for t in load_templates(template_dirs).values()]


def get_template(name: str, template_dirs: Sequence[Path] = ()) -> tpl.Template:
    """The template called ``name``, loaded and validated; NotFound lists the ones there are."""
    sources = files.template_sources(list(template_dirs))
    if name not in sources:
        raise NotFound(f"unknown template {name!r} (available: {', '.join(sorted(sources))})")
    source, text = sources[name]
    return tpl.parse_template(text, name, source)


@dataclass
class PlanView:
    """A plan as read now: the plan, what could not be read, and what today makes of it."""

    plan: Plan
    warnings: list[ParseWarning]
    projection: schedule.Projection
    health: Health
    today: date
    ref: str = ""
    parsed: ParsedPlan | None = field(default=None, repr=False)
    days_off: frozenset[date] = frozenset()  # the plan's holidays: what "business day" means here

    @property
    def score(self):
        """The execution score (core.score), judged as of the close for a closed plan."""
        from mapsheets.core.score import execution_score

        return execution_score(self.plan, self.today, self.days_off)

    def to_dict(self) -> dict[str, Any]:
        """The stable JSON contract of ``mapsheets show --json``."""
        out = self.plan.to_dict()
        out["projected_close"] = self.projection.close.isoformat() if self.projection.close else None
        out["projected_slip_days"] = self.projection.slip
        out["progress"] = {"done": self.health.done, "total": self.health.total,
                           "overdue": len(self.health.overdue), "blocked": len(self.health.blocked)}
        out["health"] = self.health.state
        out["health_reason"] = self.health.reason
        out["execution_score"] = self.score.to_dict()
        out["warnings"] = [w.to_dict() for w in self.warnings]
        out["ref"] = self.ref
        return out


@dataclass
class NewPlanResult:
    """What ``new_plan`` made: the plan as written, how it fits its target close, where it is."""

    view: PlanView
    fit: schedule.Fit
    location: str
    watchers: list[str] = field(default_factory=list)  # plan owners subscribed to its digest
    watch_error: str | None = None  # the plan exists; only the subscription failed
    calendar_locale: str | None = None  # the locale setting the calendar was told from; None: given
    notes: list[str] = field(default_factory=list)  # said once, e.g. durations rounded up


def build_plan(template: tpl.Template, *, buyer: str, seller: str, start: date, close: date | None = None,
               backward: bool = False, durations: dict[str, int] | None = None,
               roles: dict[str, str] | None = None, title: str | None = None, holidays: str = "",
               rng: random.Random | None = None, date_order: str | None = None) -> tuple[Plan, schedule.Fit]:
    """A new Plan from a template, scheduled in business days; pure apart from the ID randomness.

    ``date_order`` (MDY, DMY, YMD) defaults to how the holiday calendar's country writes dates.
    """
    holidays, order = _checked_inputs(template, buyer=buyer, seller=seller, start=start, close=close,
                                      backward=backward, durations=durations, holidays=holidays,
                                      date_order=date_order)
    buyer, seller = buyer.strip(), seller.strip()
    values = {"buyer": buyer, "seller": seller, "start_date": start, "close_date": close}
    context = tpl.render_context(template, values, roles)
    tasks = tpl.tasks(template, durations)
    close_key = next((s.key for s in template.steps if s.closes), None)
    days_off = holiday_dates(holidays, range(start.year - 1, (close or start).year + 4))
    try:
        if backward and close is not None:  # (backward without a close date was refused above)
            due = schedule.schedule_backward(tasks, close, days_off, close_key=close_key,
                                             stages=[s.key for s in template.stages])
        else:
            due = schedule.schedule_forward(tasks, start, days_off)
    except OverflowError:
        raise ScheduleError(f"the schedule runs past the calendar from {start} (check the dates)") from None
    fit = schedule.fit(tasks, due, start, close, days_off, close_key=close_key)

    ids: dict[str, str] = {}
    for ts in template.steps:
        ids[ts.key] = new_step_id(set(ids.values()), rng)

    def render(text: str, path: str) -> str:
        return tpl.render_text(text, context, template.source, path)

    overview = {k: render(v, f"overview.{k}") for k, v in template.overview.items()}
    go_live = None
    if template.go_live_days is not None:
        go_live = add_business_days(close or fit.finish, template.go_live_days, days_off)
    plan = Plan(
        kind=template.kind, title=title or render(template.title, "title"), buyer=buyer,
        seller=seller, problem=overview.get("problem", ""), solution=overview.get("solution", ""),
        start_date=fit.start, target_close=close, go_live=go_live, calendar=holidays.strip().upper(),
        date_order=order,
        buying_process=overview.get("buying_process", ""),
        seller_lead=render(template.leads["seller"], "leads.seller") if "seller" in template.leads else "",
        buyer_lead=render(template.leads["buyer"], "leads.buyer") if "buyer" in template.leads else "",
        template=template.name, steps=_new_steps(template, ids, due, render),
        close_step=next((ids[s.key] for s in template.steps if s.closes), ""),
        stakeholders=[_person(render(m["name"], f"team[{i}].name"), m.get("email", ""), m["side"], m["role"])
                      for i, m in enumerate(template.team)],
    )
    for step in plan.steps:  # owners on the team with an email follow their Team row
        step.owners = [link_owner(o, plan.stakeholders) for o in step.owners]
    if template.kind == "closing" or any(ts.visibility for ts in template.steps):
        plan.step_columns = [*STEP_HEADERS, VISIBILITY]  # says which steps `convert` may show the buyer
        for ts, step in zip(template.steps, plan.steps, strict=True):
            step.extra[VISIBILITY] = "shared" if ts.shown_to_buyer(template.kind) else "internal"
    return plan, fit


def _checked_inputs(template: tpl.Template, *, buyer: str, seller: str, start: date, close: date | None,
                    backward: bool, durations: dict[str, int] | None, holidays: str,
                    date_order: str | None) -> tuple[str, str]:
    """build_plan's arguments refused where wrong; the holiday calendar's code and the date order to use."""
    for name, value in (("buyer", buyer), ("seller", seller)):
        if not value.strip():
            raise UsageError(f"{name} must not be empty", field=name)
    if close is not None and close < start:
        raise ScheduleError(f"close date {close} is before start date {start}")
    if backward and close is None:
        raise UsageError("close date is needed to schedule backward from it", field="close_date")
    holidays = calendar_code(holidays)  # "USA" would name the calendar USA and read dates day first
    order = date_order_for(holidays) if date_order is None else normal_date_order(date_order) if date_order else ""
    if order is None:
        raise UsageError(f"date order {date_order!r} is not one of {', '.join(DATE_ORDERS)}", field="date_order")
    stage_keys = {s.key for s in template.stages}
    unknown = sorted(set(durations or {}) - stage_keys)
    if unknown:
        raise UsageError(f"durations: unknown stage {unknown[0]!r} (stages: {', '.join(sorted(stage_keys))})")
    return holidays, order


def _new_steps(template: tpl.Template, ids: dict[str, str], due: Mapping[str, date],
               render: Callable[[str, str], str]) -> list[Step]:
    """The template's steps with their new IDs and due dates, their text rendered."""
    return [Step(
        id=ids[ts.key], title=render(ts.title, f"steps[{i}].title"),
        phase=template.stage(ts.stage).name, side=ts.side,
        owners=[render(o, f"steps[{i}].owner") for o in ts.owners], due=due[ts.key],
        depends_on=[ids[d] for d in ts.depends_on],
        notes=render(ts.notes, f"steps[{i}].notes") if ts.notes else "",
    ) for i, ts in enumerate(template.steps)]


def _person(name: str, email: str, side: str, role: str) -> Stakeholder:
    """A team member; a role filled as "Jane Doe <jane@acme.example>" gives name and email apart."""
    if not email:
        name, email = split_person(name)
    return Stakeholder(name=name, email=email, side=side, role=role)


def new_plan(template: str, output: str | None, *, buyer: str, seller: str, today: date,
             start: date | None = None, close: date | None = None, backward: bool = False,
             durations_file: Path | None = None, roles: dict[str, str] | None = None,
             title: str | None = None, force: bool = False, template_dirs: Sequence[Path] = (),
             google: bool = False, watch_owners: bool = False, store_url: str | None = None,
             holidays: str | None = "", date_order: str | None = None) -> NewPlanResult:
    """Create a plan; with ``watch_owners``, its seller-side owner (where an email address) gets
    its daily digest. ``holidays=None`` takes the calendar of the user's locale; ``date_order=None``
    the order its country writes dates in."""
    notes: list[str] = []
    buyer, seller, title = check_cell_text({"buyer": buyer, "seller": seller, "title": title},
                                           on_warning=notes.append).values()
    roles = {k.removeprefix("role "): v for k, v in check_cell_text(
        {f"role {k}": v for k, v in (roles or {}).items()}, field="roles", on_warning=notes.append).items()}
    tmpl = get_template(template, template_dirs)
    durations = stage_durations(tmpl, durations_file, notes) if durations_file else None
    locale_setting = None
    if holidays is None:
        holidays, locale_setting = locale_calendar(os.environ)
    plan, fit = build_plan(tmpl, buyer=buyer, seller=seller, start=start or today, close=close,
                           backward=backward, durations=durations, roles=roles, title=title, holidays=holidays,
                           date_order=date_order)
    book = new_workbook(output, google=google)
    location = book.create(workbook_spec(plan, today, days_off_or_weekends(plan, today)), force=force)
    result = NewPlanResult(view=view_of(plan, [], today, ref=location), fit=fit, location=location,
                           calendar_locale=locale_setting, notes=notes)
    if watch_owners:
        result.watchers, result.watch_error = watch_seller_owners(plan, book.ref if google else location,
                                                                  store_url=store_url)
    return result


def watch_seller_owners(plan: Plan, ref: str, *, store_url: str | None) -> tuple[list[str], str | None]:
    """Subscribe the plan's seller-side owner to its digest: ([emails], None), or ([], why not).

    Buyer contacts are subscribed when the plan is shared with them (``share``, the add-on, ``watch``):
    before that the plan is the seller's draft and a digest would point them at nothing.
    """
    from mapsheets.service.digest import watch  # the store: only when someone is subscribed

    email = find_email(plan.seller_lead)
    if not email:
        return [], None
    # By name where the overview or the Team tab gives one: the digest's To line greets them so.
    name = owner_name(plan.seller_lead, plan.stakeholders)
    try:
        watch(ref, [formataddr((name if name != email else "", email))], now=datetime.now(timezone.utc),
              store_url=store_url)
    except MapsheetsError as exc:
        return [], str(exc)
    return [email], None


def stage_durations(tmpl: tpl.Template, durations_file: Path, notes: list[str]) -> dict[str, int]:
    """A durations table for ``tmpl``'s stages (by key or name), in whole business days; rounding
    is said once in ``notes``."""
    durations: dict[str, int] = {}
    rounded = []
    for stage, days in files.read_durations(durations_file).items():
        key = tmpl.stage_key(stage)
        if key is None:
            known = ", ".join(f"{s.key} ({s.name})" for s in tmpl.stages)
            raise UsageError(f"{durations_file}: unknown stage {stage!r} (stages of {tmpl.name}: {known})")
        durations[key] = math.ceil(days)  # a step takes whole business days
        if durations[key] != days:
            rounded.append(f"{tmpl.stage(key).name} {days} → {durations[key]}")
    if rounded:
        notes.append(f"{durations_file}: durations rounded up to whole business days: {', '.join(rounded)}")
    return durations


def view_of(plan: Plan, warnings: list[ParseWarning], today: date, ref: str = "",
            parsed: ParsedPlan | None = None) -> PlanView:
    """The plan as of ``today``; a closed plan as it stood the day it closed (its health stops moving)."""
    from mapsheets.core.score import judged_on

    today = judged_on(plan, today)
    try:
        days_off = plan_holidays(plan, today)
    except UsageError as exc:  # someone typed a calendar we do not know: say where, count weekends only
        cell = parsed.location.overview_cells.get("calendar", "Plan") if parsed else "Plan"
        warnings = [*warnings, ParseWarning(cell, str(exc))]
        days_off = frozenset()
    return PlanView(plan=plan, warnings=warnings, projection=schedule.project(plan, today, days_off),
                    health=assess(plan, today, holidays=days_off), today=today, ref=ref, parsed=parsed,
                    days_off=days_off)


def read_plan(ref: str, *, today: date) -> PlanView:
    """The plan as read now; its warnings also say when mapsheets' own last write to it is gone
    (``core.own_writes``)."""
    from mapsheets.service.audit_log import lost_write

    book = open_workbook(ref)
    _grid, parsed = read_parsed(book)
    lost = lost_write(book, parsed)
    return view_of(parsed.plan, [*parsed.warnings, *([lost] if lost else [])], today, ref=book.ref, parsed=parsed)


def fix_ids(ref: str, today: date | None = None) -> int:
    """Write into the sheet the IDs rows typed without one were given on read (one read, and one
    write only when there is something to fill); returns how many were filled."""
    book = open_workbook(ref)

    def compute(grid):  # under the plan's lock: the rows are the ones written to
        parsed = parse_grid(book, grid)
        loc = parsed.location
        if not loc.missing_ids or "ID" not in loc.columns:
            return None, 0
        # The signatures' Status, bands, summary and Timeline too, as every write does.
        upkeep = changed_only(parsed_upkeep(parsed, looks(parsed, today)), grid)
        return Edit(loc.tab, cells=upkeep.pop(loc.tab, {}), also=upkeep), len(loc.missing_ids)

    return book.modify(compute)


def timeline_picture(ref: str, output: Path, *, today: date) -> Path:
    """The plan's timeline drawn to ``output`` (.png or .svg); needs the ``timeline`` extra."""
    from mapsheets.adapters import chart
    from mapsheets.core.look import timeline_chart

    output = Path(output)
    if output.suffix.lower() not in chart.FORMATS:
        raise UsageError(f"{output}: the picture must be .png or .svg")
    _grid, parsed = read_parsed(open_workbook(ref))
    return chart.draw(timeline_chart(parsed.plan, today), output)
