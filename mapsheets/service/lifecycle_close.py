"""Closing the deal: record the outcome in the plan, tell every subscriber once, archive the plan.

The outcome lives in the overview's Outcome, Closed on and Outcome reason rows: outside the signed
commitments (a signature stays valid when the deal closes). The store then keeps a final revision
and an archive event; digest runs skip archived plans from then on, so nobody, and certainly no one
outside the seller, gets digests of it again. Each subscriber gets one last digest saying how the
deal closed, recorded per person with what they were told, so running `close` again after a
failure tells nobody twice.

The reason is internal: seller-side recipients read the outcome and its reason; external ones a
closing note that says "won" at most, never "lost" nor the reason, plus the seller's own buyer-facing
``message`` if given. A corrected outcome (``correct``, or `close` after the cell was cleared by hand)
re-archives the plan and tells whoever was told something else what holds now; ``reopen`` clears
the outcome and tells them the plan is open again (digest runs resume).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from mapsheets.adapters.store import open_store
from mapsheets.core.diff import diff
from mapsheets.core.edits import Edit
from mapsheets.core.layout import MACHINE_FIELDS, check_cell_text
from mapsheets.core.machine import field_cells
from mapsheets.core.model import OUTCOMES, OVERVIEW_FIELDS, Plan
from mapsheets.core.schedule import project
from mapsheets.core.upkeep import parsed_upkeep
from mapsheets.errors import PlanFileError, UsageError
from mapsheets.service import audience
from mapsheets.service.revisions import canonical_ref, snapshot_into
from mapsheets.service.workbooks import open_workbook, parse_grid

if TYPE_CHECKING:
    from mapsheets.adapters.store import Store

if TYPE_CHECKING:
    from mapsheets.adapters.mail import Mailer

ARCHIVED = "plan_archived"  # audit event: the deal closed (detail: outcome, closed_on, reason, message);
# outcome "" when the plan was re-opened
CLOSED_NOTICE = "closed_deal_notice"  # audit event: one subscriber had the closed deal's last digest
# (detail: outcome, words: what they were told)
_FIELDS = ("outcome", "closed_on", "outcome_reason")
_LABEL = {attr: label for attr, label, _t in OVERVIEW_FIELDS}


@dataclass
class CloseResult:
    """What ``close_plan`` or ``reopen_plan`` did: the outcome written, the revision kept, who was told."""

    ref: str
    outcome: str
    closed_on: date | None  # None: re-opened
    reason: str
    written: bool  # False: the sheet said so already (a second run)
    revision: int  # the final stored revision's number
    told: list[tuple[str, bool]] = field(default_factory=list)  # (email, external) given the last digest
    failed: list[str] = field(default_factory=list)  # deliveries left pending for the next digest run
    message: str = ""  # the seller's buyer-facing words, sent to everyone
    corrected: dict[str, Any] | None = None  # how the plan was archived before, when this corrects it


def archived(store_url: str | None = None) -> dict[str, dict[str, Any]]:
    """Archived plans: canonical ref -> how they closed (outcome, closed_on, reason)."""
    return closed_refs(open_store(store_url))


def closed_refs(store: Store) -> dict[str, dict[str, Any]]:
    """The same, from an open store: a plan re-opened since its last close is not archived."""
    return {ref: e.detail for ref, e in store.audit.latest(ARCHIVED).items() if e.detail.get("outcome")}


def close_plan(ref: str, *, outcome: str, today: date, now: datetime, reason: str = "", on: date | None = None,
               message: str = "", correct: bool = False, store_url: str | None = None, mailer: Mailer | None = None,
               sender: str | None = None, seller_domains: Iterable[str] | None = None,
               force: bool = False, on_warning: Callable[[str], None] | None = None) -> CloseResult:
    """Record that the deal closed ``outcome`` (won or lost) on ``on`` (default ``today``), store a
    last revision, archive the plan and send its subscribers one last digest (module docstring).
    A plan closed otherwise already is refused unless ``correct``. ``on_warning`` hears of
    characters the reason or message held that a cell cannot (removed)."""
    if outcome not in OUTCOMES:
        raise UsageError(f"outcome {outcome!r} is not won or lost")
    on = on or today
    if on > today:
        raise UsageError(f"date {on} is in the future: a deal closes on or before today ({today})", field="date")
    reason, message = " ".join((reason or "").split()), " ".join((message or "").split())
    admitted = check_cell_text({"reason": reason, "message": message}, on_warning=on_warning)
    reason, message = admitted["reason"], admitted["message"]
    store = open_store(store_url)
    store.check_writable()  # fail before the sheet says closed while the store would not archive it
    book = open_workbook(ref)

    def refuse(plan, loc) -> None:
        if plan.outcome and (plan.outcome, plan.closed_on) != (outcome, on) and not correct:
            when = f" on {plan.closed_on}" if plan.closed_on else ""
            raise UsageError(f"{book.ref}: already closed {plan.outcome}{when} ({loc.overview_cells['outcome']}): "
                             "--correct changes the outcome and tells whoever heard the first one")

    written = _write_outcome(book, {"outcome": outcome, "closed_on": on, "outcome_reason": reason}, refuse, force)
    key = canonical_ref(ref)
    snap = snapshot_into(store, ref, now=now, origin="close")
    detail = {"outcome": outcome, "closed_on": on.isoformat(), "reason": reason, "message": message}
    before = store.audit.latest(ARCHIVED).get(key)
    previous = before.detail if before and before.detail.get("outcome") else None
    if before is None or any(before.detail.get(k, "") != v for k, v in detail.items()):
        store.audit.log(ARCHIVED, ref=key, actor="close", at=now,
                        detail={**detail, **({"corrects": previous} if previous else {})})
    else:
        previous = None  # archived like this already: a second run, not a correction
    result = CloseResult(ref=book.ref, outcome=outcome, closed_on=on, reason=reason, written=written,
                         revision=snap.revision.seq, message=message, corrected=previous)
    _tell(store, key, snap.revision, now=now, today=today, mailer=mailer, sender=sender,
          seller_domains=seller_domains, result=result)
    return result


def reopen_plan(ref: str, *, today: date, now: datetime, store_url: str | None = None, mailer: Mailer | None = None,
                sender: str | None = None, seller_domains: Iterable[str] | None = None,
                force: bool = False) -> CloseResult:
    """Withdraw a closing: clear the outcome rows (if not cleared by hand already), end the archive
    so digest runs resume, and tell whoever heard the outcome that it no longer holds."""
    store = open_store(store_url)
    store.check_writable()
    book = open_workbook(ref)
    written = _write_outcome(book, {"outcome": "", "closed_on": None, "outcome_reason": ""}, None, force)
    key = canonical_ref(ref)
    before = store.audit.latest(ARCHIVED).get(key)
    previous = before.detail if before and before.detail.get("outcome") else None
    if previous is None and not written:
        raise UsageError(f"{book.ref} is not closed: nothing to re-open")
    snap = snapshot_into(store, ref, now=now, origin="close")
    if previous is not None:
        store.audit.log(ARCHIVED, ref=key, actor="close", at=now,
                        detail={"outcome": "", "closed_on": "", "reason": "", "message": "", "corrects": previous})
    result = CloseResult(ref=book.ref, outcome="", closed_on=None, reason="", written=written,
                         revision=snap.revision.seq, corrected=previous)
    _tell(store, key, snap.revision, now=now, today=today, mailer=mailer, sender=sender,
          seller_domains=seller_domains, result=result)
    return result


def _write_outcome(book, wanted: dict[str, Any], refuse, force: bool) -> bool:
    """Write the overview's outcome rows as ``wanted`` (with the sheet's upkeep); False when they
    said so already. ``refuse(plan, location)`` may raise first."""

    def compute(grid) -> tuple[Edit | None, bool]:
        parsed = parse_grid(book, grid)
        plan, loc = parsed.plan, parsed.location
        missing = [_LABEL[a] for a in _FIELDS if a not in loc.overview_at and a not in MACHINE_FIELDS]
        if missing:
            raise PlanFileError(
                f"{book.ref}: the overview has no {', '.join(repr(m) for m in missing)} row: add "
                f"{'them' if len(missing) > 1 else 'it'} above the steps table (label in column B, value in C)")
        if refuse:
            refuse(plan, loc)
        if all(getattr(plan, a) == v for a, v in wanted.items()):
            return None, False
        cells = parsed_upkeep(parsed)
        for tab, mine in field_cells(loc, wanted).items():  # the reason on the hidden tab
            cells.setdefault(tab, {}).update(mine)
        return Edit(tab=loc.tab, cells=cells.pop(loc.tab, {}), also=cells), True

    return book.modify(compute, force=force)


def _words(result: CloseResult, external: bool) -> str:
    """How the deal closed, for one recipient: the reason is internal, and "lost" is for the seller."""
    if not result.outcome:
        return ""
    if external:
        return f"won on {result.closed_on}" if result.outcome == "won" else f"on {result.closed_on}"
    return f"{result.outcome} on {result.closed_on}" + (f" ({result.reason})" if result.reason else "")


def _told(result: CloseResult) -> dict[str, str]:
    """What a closing notice tells, whoever reads it: the same again is no news."""
    return {"outcome": result.outcome, "closed_on": result.closed_on.isoformat() if result.closed_on else "",
            "reason": result.reason, "message": result.message}


def _correction(result: CloseResult, heard: dict[str, Any], external: bool) -> str:
    """The sentence telling someone that what they heard of the closing no longer holds."""
    said = "" if external else f" ({heard.get('words') or heard.get('outcome')})"
    if not result.outcome:
        return (f"The plan is open again: the earlier closing note{said} no longer holds, "
                "and digests of this plan resume.")
    return f"Correction: this replaces the earlier closing note{said}."


def _tell(store: Store, key: str, latest, *, now: datetime, today: date, mailer, sender: str | None,
          seller_domains: Iterable[str] | None, result: CloseResult) -> None:
    """Every subscriber told nothing yet, or told something else, gets the closed deal's last digest
    (or, re-opened, a digest saying so): what changed since their last one and how the deal closed.
    Recorded before sending, like every digest (kill-safe)."""
    import time

    from mapsheets.adapters import mail
    from mapsheets.core.digest import build_digest
    from mapsheets.emails import render_digest
    from mapsheets.service.calendars import days_off_or_weekends
    from mapsheets.service.delivery import DEFAULT_SENDER, SEND_BUDGET, RunReport, deliver, run_clock

    current = Plan.from_dict(latest.content["plan"])
    events = store.audit.events(key)
    heard = {e.actor: e.detail for e in events if e.kind == CLOSED_NOTICE}  # oldest first: the last one wins
    domains = audience.seller_domains(current, seller_domains)
    todo = []
    for sub in store.digests.subscriptions(key):
        external = audience.is_external(sub.email, domains)
        words, before = _words(result, external), heard.get(sub.email)
        if sub.bounced_at is not None or (before is None and not result.outcome):
            continue
        if before is not None and all(before.get(k, v) == v for k, v in _told(result).items()):
            continue  # told this already (a second run; older notices recorded the outcome only)
        todo.append((sub, external, words, _correction(result, before, external) if before else ""))
    if not todo:
        return
    if mailer is None:
        raise UsageError("no mailer to send the last digest with")
    sender = sender or DEFAULT_SENDER
    days_off = days_off_or_weekends(current, today)
    url, location = audience.plan_link(key, events)
    domain = mail.sender_domain(sender)
    report, deadline, clock = RunReport(), time.monotonic() + SEND_BUDGET, run_clock(now)
    for sub, external, words, correction in todo:
        since = store.revisions.by_id(sub.last_revision_id) if sub.last_revision_id else latest
        before_plan = Plan.from_dict(since.content["plan"])
        changes = diff(before_plan, current, days_off) if since.id != latest.id else []
        changes = audience.changes_for(changes, external)  # the note above says what the buyer may hear
        digest = build_digest(plan=current, changes=changes, today=today, plan_url=url, plan_location=location,
                              previous_close=project(before_plan, since.taken_at.date(), days_off).close,
                              holidays=days_off, first=sub.last_sent_at is None, outcome=words,
                              correction=correction, message=result.message)
        html, text = render_digest(digest)
        headers = audience.unsubscribe_headers(sender, sub, digest.display_name) if external else None
        message_id = mail.make_msgid(domain)
        message = mail.build_message(sender=sender, to=[mail.format_address(sub.name, sub.email)],
                                     subject=digest.subject, html=html, text=text, message_id=message_id,
                                     date=now, headers=headers)
        delivery = store.digests.record_delivery(sub, message_id=message_id, to_revision_id=latest.id,
                                                 message=message.as_string(), now=now)
        if delivery is None:  # a digest run took this subscriber meanwhile: tell them next time
            continue
        store.audit.log(CLOSED_NOTICE, ref=key, actor=sub.email, at=now,
                        detail={**_told(result), "words": words})
        deliver(store, mailer, delivery, message, now, report, deadline, clock)
        result.told.append((sub.email, external))
    result.failed = list(report.failed)
