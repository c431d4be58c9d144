"""Closing the deal: record the outcome in the plan, tell every subscriber once, archive the plan.

The outcome lives in the overview's Outcome, Closed on and Outcome reason rows: outside the signed
commitments (a signature stays valid when the deal closes). The store then keeps a final revision
and an archive event; digest runs skip archived plans from then on, so nobody, and certainly no one
outside the seller, gets digests of it again. Each subscriber gets one last digest saying how the
deal closed, recorded per person, so running `close` again after a failure tells nobody twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from mapsheets.core.diff import diff
from mapsheets.core.edits import Edit
from mapsheets.core.layout import check_cell_text
from mapsheets.core.model import OUTCOMES, OVERVIEW_FIELDS, Plan
from mapsheets.core.schedule import project
from mapsheets.core.upkeep import parsed_upkeep
from mapsheets.errors import PlanFileError, UsageError
from mapsheets.service import audience
from mapsheets.service.refs import open_workbook, parse_grid
from mapsheets.service.revisions import canonical_ref, open_store, snapshot_into

ARCHIVED = "plan_archived"  # audit event: the deal closed (detail: outcome, closed_on, reason)
CLOSED_NOTICE = "closed_deal_notice"  # audit event: one subscriber had the closed deal's last digest
_FIELDS = ("outcome", "closed_on", "outcome_reason")
_LABEL = {attr: label for attr, label, _t in OVERVIEW_FIELDS}


@dataclass
class CloseResult:
    ref: str
    outcome: str
    closed_on: date
    reason: str
    written: bool  # False: the sheet said so already (a second run)
    revision: int  # the final stored revision's number
    told: list[tuple[str, bool]] = field(default_factory=list)  # (email, external) given the last digest
    failed: list[str] = field(default_factory=list)  # deliveries left pending for the next digest run


def archived(store_url: Any = None) -> dict[str, dict[str, Any]]:
    """Archived plans: canonical ref -> how they closed (outcome, closed_on, reason)."""
    return {ref: e.detail for ref, e in open_store(store_url).latest_events(ARCHIVED).items()}


def close_plan(ref: str, *, outcome: str, today: date, now: datetime, reason: str = "", on: date | None = None,
               store_url: Any = None, mailer=None, sender: str | None = None,
               seller_domains: Iterable[str] | None = None, force: bool = False,
               on_warning: Callable[[str], None] | None = None) -> CloseResult:
    """Record that the deal closed ``outcome`` (won or lost) on ``on`` (default ``today``), store a
    last revision, archive the plan and send its subscribers one last digest (module docstring).
    ``on_warning`` hears of characters the reason held that a cell cannot (removed)."""
    from mapsheets.service.delivery import DEFAULT_SENDER

    if outcome not in OUTCOMES:
        raise UsageError(f"outcome {outcome!r} is not won or lost")
    on = on or today
    if on > today:
        raise UsageError(f"date {on} is in the future: a deal closes on or before today ({today})", field="date")
    reason = " ".join((reason or "").split())
    reason = check_cell_text({"reason": reason}, on_warning=on_warning)["reason"]
    store = open_store(store_url)
    store.check_writable()  # fail before the sheet says closed while the store would not archive it
    book = open_workbook(ref)
    wanted = {"outcome": outcome, "closed_on": on, "outcome_reason": reason}

    def compute(grid) -> tuple[Edit | None, bool]:
        parsed = parse_grid(book, grid)
        plan, loc = parsed.plan, parsed.location
        missing = [_LABEL[a] for a in _FIELDS if a not in loc.overview_at]
        if missing:
            raise PlanFileError(
                f"{book.ref}: the overview has no {', '.join(repr(m) for m in missing)} row: add "
                f"{'them' if len(missing) > 1 else 'it'} above the steps table (label in column B, value in C)")
        if plan.outcome and (plan.outcome, plan.closed_on) != (outcome, on):
            when = f" on {plan.closed_on}" if plan.closed_on else ""
            raise UsageError(f"{book.ref}: already closed {plan.outcome}{when} "
                             f"({loc.overview_cells['outcome']}): clear that cell to close it again")
        if all(getattr(plan, a) == v for a, v in wanted.items()):
            return None, False
        cells = parsed_upkeep(parsed)
        mine = {loc.overview_at[a]: (v or None) for a, v in wanted.items()}
        edit = Edit(tab=loc.tab, cells={**cells.pop(loc.tab, {}), **mine}, also=cells)
        return edit, True

    written = book.modify(compute, force=force)
    key = canonical_ref(ref)
    snap = snapshot_into(store, ref, now=now, origin="close")
    if key not in store.latest_events(ARCHIVED):
        store.log_event(ARCHIVED, ref=key, actor="close", at=now,
                        detail={"outcome": outcome, "closed_on": on.isoformat(), "reason": reason})
    result = CloseResult(ref=book.ref, outcome=outcome, closed_on=on, reason=reason, written=written,
                         revision=snap.revision.seq)
    _last_digests(store, key, snap.revision, now=now, today=today, mailer=mailer, sender=sender or DEFAULT_SENDER,
                  seller_domains=seller_domains, result=result)
    return result


def _last_digests(store, key: str, latest, *, now: datetime, today: date, mailer, sender: str,
                  seller_domains: Iterable[str] | None, result: CloseResult) -> None:
    """Every subscriber not told yet gets the closed deal's last digest: what changed since their
    last one and how the deal closed. Recorded before sending, like every digest (kill-safe)."""
    import time

    from mapsheets.adapters import mail
    from mapsheets.core.digest import build_digest
    from mapsheets.emails import render_digest
    from mapsheets.service.calendars import days_off_or_weekends
    from mapsheets.service.delivery import SEND_BUDGET, RunReport, deliver, run_clock

    current = Plan.from_dict(latest.content["plan"])
    events = store.events(key)
    told = {e.actor for e in events if e.kind == CLOSED_NOTICE}
    subs = [s for s in store.subscriptions(key) if s.bounced_at is None and s.email not in told]
    if not subs:
        return
    if mailer is None:
        raise UsageError("no mailer to send the last digest with")
    days_off = days_off_or_weekends(current, today)
    url, location = audience.plan_link(key, events)
    domains = audience.seller_domains(current, seller_domains)
    domain = mail.sender_domain(sender)
    report, deadline, clock = RunReport(), time.monotonic() + SEND_BUDGET, run_clock(now)
    words = f"{result.outcome} on {result.closed_on}" + (f" ({result.reason})" if result.reason else "")
    for sub in subs:
        since = store.revision_by_id(sub.last_revision_id) if sub.last_revision_id else latest
        before = Plan.from_dict(since.content["plan"])
        changes = diff(before, current, days_off) if since.id != latest.id else []
        digest = build_digest(plan=current, changes=changes, today=today, plan_url=url, plan_location=location,
                              previous_close=project(before, since.taken_at.date(), days_off).close,
                              holidays=days_off, first=sub.last_sent_at is None, outcome=words)
        html, text = render_digest(digest)
        external = audience.is_external(sub.email, domains)
        headers = audience.unsubscribe_headers(sender, sub, digest.display_name) if external else None
        message_id = mail.make_msgid(domain)
        message = mail.build_message(sender=sender, to=[mail.format_address(sub.name, sub.email)],
                                     subject=digest.subject, html=html, text=text, message_id=message_id,
                                     date=now, headers=headers)
        delivery = store.record_delivery(sub, message_id=message_id, to_revision_id=latest.id,
                                         message=message.as_string(), now=now)
        if delivery is None:  # a digest run took this subscriber meanwhile: tell them next time
            continue
        store.log_event(CLOSED_NOTICE, ref=key, actor=sub.email, at=now, detail={"outcome": result.outcome})
        deliver(store, mailer, delivery, message, now, report, deadline, clock)
        result.told.append((sub.email, external))
    result.failed = list(report.failed)
