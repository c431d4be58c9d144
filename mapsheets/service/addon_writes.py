"""The add-on's writes: generate a plan into the open sheet, add a step, sign, subscribe oneself.

Each is one request scope holding the plan's writer lock: one read (which also authorizes), one
write, then the audit log with the caller's verified email.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from mapsheets.core.addresses import EMAIL
from mapsheets.core.model import GOOGLE, SIDES, Signature, Step
from mapsheets.core.notices import AUDIT_QUEUED as AUDIT_QUEUED  # the codes: for the add-on to word them
from mapsheets.core.notices import CHARACTERS_REMOVED as CHARACTERS_REMOVED
from mapsheets.core.notices import DUE_BEFORE_DEPENDENCY as DUE_BEFORE_DEPENDENCY
from mapsheets.core.notices import DUE_NOT_BUSINESS_DAY as DUE_NOT_BUSINESS_DAY
from mapsheets.core.notices import Notice as Notice
from mapsheets.core.notices import notice
from mapsheets.core.text_gate import admit
from mapsheets.core.vocabulary import PERSON_SIDES
from mapsheets.errors import AlreadyExists, UsageError
from mapsheets.service.addon import EVERY, Caller, audit, aware, read_now, require_caller, writing
from mapsheets.service.signers import may_sign
from mapsheets.service.workbooks import request_scope

if TYPE_CHECKING:
    from mapsheets.adapters.store import Store


def form_text(value: str, field: str, *, required: bool = False, limit: int = 500,
          on_warning: Callable[[Notice], None] | None = None) -> str:
    """A form field through the text gate (core/text_gate.py), then the sidebar's own limits."""
    value = admit((value or "").strip(), field, on_notice=on_warning).strip()
    if required and not value:
        raise UsageError(f"{field.replace('_', ' ')} must not be empty", field=field)
    if len(value) > limit:
        raise UsageError(f"{field.replace('_', ' ')} is longer than {limit} characters", field=field)
    return value


def _email(value: str, field: str) -> str:
    value = (value or "").strip()
    if value and not EMAIL.fullmatch(value):
        raise UsageError(f"{value!r} is not an email address", field=field)
    return value


def _person(name: str, email: str) -> str | None:
    """A role as the templates take it: "Jane Doe <jane@acme.example>"."""
    if name and email:
        return f"{name} <{email}>"
    return name or email or None


@dataclass(frozen=True)
class Generated:
    """A plan generated into the open spreadsheet, and what the person should know."""

    location: str
    title: str
    steps: int
    notices: list[Notice] = field(default_factory=list)


def generate(ref: str, caller: Caller, *, template: str, buyer: str, seller: str, today: date, now: datetime,
             store: Store, credentials: Any = None, start: date | None = None, close: date | None = None,
             holidays: str = "", champion: tuple[str, str] = ("", ""), economic_buyer: tuple[str, str] = ("", ""),
             template_dirs: Sequence[Any] = (), ae_name: str = "") -> Generated:
    """A new plan written into the open spreadsheet (one request); the caller is its seller lead and
    its AE, as "Name <email>" with the name the form gives (else the sign-in profile's)."""
    from mapsheets.errors import NotFound
    from mapsheets.service.calendars import calendar_code
    from mapsheets.service.plans import get_template, new_plan

    said: list[Notice] = []  # what the gate removed from the form's text
    buyer = form_text(buyer, "buyer", required=True, on_warning=said.append)
    seller = form_text(seller, "seller", required=True, on_warning=said.append)
    try:
        tmpl = get_template(form_text(template, "template", required=True), template_dirs)
    except NotFound as exc:
        raise UsageError(str(exc), field="template") from None
    if close is not None and close < (start or today):
        raise UsageError(f"target close {close} is before the start {start or today}", field="close_date")
    wanted = {"ae": _person(form_text(ae_name, "ae_name", on_warning=said.append)
                            or form_text(caller.name, "ae_name", on_warning=said.append), caller.email),
              "champion": _person(form_text(champion[0], "champion_name", on_warning=said.append),
                                  _email(champion[1], "champion_email")),
              "economic_buyer": _person(form_text(economic_buyer[0], "economic_buyer_name", on_warning=said.append),
                                        _email(economic_buyer[1], "economic_buyer_email"))}
    roles = {k: v for k, v in wanted.items() if v and k in tmpl.roles}
    calendar = calendar_code(form_text(holidays, "holidays", limit=20))  # refused naming its field
    with request_scope(credentials), writing(ref):
        try:
            result = new_plan(tmpl.name, ref, buyer=buyer, seller=seller, today=today, start=start, close=close,
                              roles=roles, holidays=calendar, template_dirs=template_dirs, watch_owners=False)
        except AlreadyExists:  # its own words name the CLI's --force, which the add-on has not
            raise AlreadyExists("this spreadsheet already has a plan (or tabs of the same names): generate "
                                "into a new spreadsheet", field="spreadsheet_id") from None
    plan = result.view.plan
    audit(store, ref, plan, "generated", caller, aware(now), {"template": tmpl.name, "steps": len(plan.steps)})
    return Generated(result.location, plan.title, len(plan.steps), said)


def add_step(ref: str, caller: Caller, *, title: str, today: date, now: datetime, store: Store, credentials: Any = None,
             seller_domains: Sequence[str] = (), phase: str = "", side: str = "joint", owners: Sequence[str] = (),
             due: date | None = None, depends_on: Sequence[str] = (), notes: str = "") -> tuple[Step, list[Notice]]:
    """One step appended by someone on the plan; (the step, what the person should know: a due
    date on a weekend or a holiday, kept as they gave it)."""
    from mapsheets.service.steps import add_step as append_step

    said: list[Notice] = []
    title = form_text(title, "title", required=True, on_warning=said.append)
    if side not in SIDES:
        raise UsageError(f"side {side!r} is not one of {', '.join(SIDES)}", field="side")
    notes = form_text(notes, "notes", limit=5000, on_warning=said.append)
    owners = [form_text(o, "owners", limit=200, on_warning=said.append) for o in owners if (o or "").strip()]
    with request_scope(credentials), writing(ref):
        _book, _grid, parsed = read_now(ref)
        plan = parsed.plan
        require_caller(plan, caller, seller_domains, "add steps")
        phases = {s.phase for s in plan.steps if s.phase}
        phase = form_text(phase, "phase", limit=200, on_warning=said.append)
        if phase and phases and phase not in phases:
            raise UsageError(f"phase {phase!r} is not one of the plan's phases", field="phase")
        deps = [d.strip().upper() for d in depends_on if (d or "").strip()]
        missing = [d for d in deps if d not in plan.step_ids]
        if missing:
            raise UsageError(f"no step {missing[0]} in this plan", field="depends_on")
        step = append_step(ref, title=title, today=today, side=side, owners=owners, due=due, phase=phase,
                           depends_on=deps, notes=notes, on_notice=said.append)
    from mapsheets.service.audit_log import written_version

    queued = audit(store, ref, plan, "step added", caller, aware(now),
                    {"id": step.id, "title": step.title, **written_version(ref)})
    if queued:  # the server's own paths and reasons are for its log, not for the person
        said.append(notice(AUDIT_QUEUED, "the step is written; its audit entry is queued until the store can take it"))
    return step, said


def sign(ref: str, caller: Caller, *, now: datetime, store: Store, credentials=None,
         seller_domains: Sequence[str] = (), side: str | None = None) -> tuple[Signature, bool]:
    """The caller signs for their own side with their verified email; (signature, newly written).
    Signing a plan one has signed as it reads now changes nothing."""
    from mapsheets.service.signoff import sign_into

    if side is not None and side not in PERSON_SIDES:
        raise UsageError(f"side {side!r} is not buyer or seller", field="side")
    with request_scope(credentials), writing(ref):
        _book, _grid, parsed = read_now(ref)
        plan = parsed.plan
        who = may_sign(plan, caller.email, side, seller_domains)  # the rule signoff.sign checks again
        # sign() itself adds nothing when this person signed the plan as it reads now.
        signature = sign_into(store, ref, name=who.name or caller.name or caller.email, email=caller.email,
                              side=str(who.side), now=aware(now), method=GOOGLE, seller_domains=seller_domains)
    return signature, not signature.already


def subscribe(ref: str, caller: Caller, *, every: str, now: datetime, store: Store, credentials=None,
              seller_domains: Sequence[str] = ()) -> str:
    """The caller's own digest: daily, weekly or off."""
    from mapsheets.service.digest import unwatch_from, watch_into

    if every not in EVERY:
        raise UsageError(f"{every!r} is not one of {', '.join(EVERY)}", field="every")
    with request_scope(credentials):
        _book, _grid, parsed = read_now(ref)
        require_caller(parsed.plan, caller, seller_domains, "change their subscription")
        audit(store, ref, parsed.plan, "subscription", caller, aware(now), {"every": every})
        if every == "off":
            unwatch_from(store, ref, [caller.email])
        else:
            watch_into(store, ref, [caller.email], every=every, now=aware(now))
    return every


def request_signature(ref: str, caller: Caller, *, to: str, now: datetime, store: Store, mailer, base_url: str,
                      credentials=None, seller_domains: Sequence[str] = (), sender: str | None = None) -> str:
    """Someone on the plan emails a link to sign to ``to`` (who must be on it, for their own side);
    the address it went to."""
    from mapsheets.service import sign_links

    with request_scope(credentials):
        _book, _grid, parsed = read_now(ref)
        require_caller(parsed.plan, caller, seller_domains, "ask for signatures")
        sign_links.request_into(store, ref, form_text(to, "to", required=True), now=aware(now), mailer=mailer,
                                base_url=base_url, sender=sender, seller_domains=seller_domains,
                                requested_by=caller.email)
    return to.strip()
