"""The digest run in steps: resend pending → plans due → one plan's turn → one subscriber's digest.

Each step returns what it did (a small dataclass); ``report`` folds those into the ``RunReport``
the CLI prints. ``service.digest`` has the rule that makes the run safe to kill, and ``run`` itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone, tzinfo
from typing import TYPE_CHECKING, Any

from mapsheets.core.diff import diff
from mapsheets.core.model import Plan
from mapsheets.core.own_writes import TOLD
from mapsheets.core.schedule import project
from mapsheets.core.vocabulary import DIGEST_HOUR as DIGEST_HOUR  # its old home
from mapsheets.core.vocabulary import DIGEST_PERIODS
from mapsheets.errors import MapsheetsError, UsageError
from mapsheets.service import audience, forecast, unreadable
from mapsheets.service.archive import closed_refs
from mapsheets.service.attribution import OWN_WRITE, Attributor
from mapsheets.service.audit_log import check_own_write
from mapsheets.service.calendars import days_off_or_weekends
from mapsheets.service.changes_tab import log_changes
from mapsheets.service.delivery import (
    DEFAULT_SENDER,
    RETRY_RUNS,
    SEND_BUDGET,
    Delivered,
    run_clock,
    send_recorded,
)
from mapsheets.service.digest_reads import PlanRead, Said, changed_google_ids, read_plan
from mapsheets.service.revisions import canonical_ref
from mapsheets.service.sheet_writes import SheetWrites
from mapsheets.service.workbooks import google_id

if TYPE_CHECKING:
    from mapsheets.adapters.mail import Mailer
    from mapsheets.adapters.store import EventRecord, Store, SubscriptionRecord
    from mapsheets.core.digest import Digest

PERIOD = DIGEST_PERIODS  # days between digests (the old name)
# Digests go out with the first run at or after this local hour: a cron every 10 minutes sends
# each daily digest at the same time of day, not drifting by the minutes a run takes.
CONSIDERED_BATCH = 200  # subscriptions marked "looked at" per transaction


@dataclass(frozen=True)
class DigestOptions:
    """How a digest run behaves (``service.digest.run`` says what each one means)."""

    dry_run: bool = False
    sender: str = DEFAULT_SENDER
    stale_update_days: int | None = None
    tz: tzinfo = timezone.utc
    hour: int = DIGEST_HOUR
    dead_after_days: int = audience.DEAD_AFTER_DAYS
    seller_domains: Iterable[str] | None = None
    send_budget: float = SEND_BUDGET
    write_workers: int | None = None
    retry_runs: int = RETRY_RUNS
    only: str | None = None  # this one plan (an add-on trigger's run, with its subscriber's credentials)

    def sender_domain(self) -> str:
        """The Message-ID domain; a bad sender, budget or retry count fails before anything is read."""
        from mapsheets.adapters import mail

        domain = mail.sender_domain(self.sender)
        if not self.send_budget > 0:
            raise UsageError(f"send budget {self.send_budget!r}: give a number of seconds above 0", field="send_budget")
        if not (isinstance(self.retry_runs, int) and self.retry_runs >= 1):
            raise UsageError(f"retry runs {self.retry_runs!r}: give a whole number of runs, 1 or more",
                             field="retry_runs")
        return str(domain)


@dataclass(frozen=True)
class RunContext:
    """What every step of one run shares."""

    store: Store
    mailer: Mailer
    options: DigestOptions
    now: datetime
    domain: str  # of the sender, for Message-IDs
    deadline: float  # time.monotonic() when the send budget runs out
    clock: Callable[[], datetime]  # the run's now, moving on (``delivery.run_clock``)
    history: forecast.History | None = None  # the forecast's, read once a run (issue 24)

    @classmethod
    def start(cls, store: Store, mailer: Mailer, options: DigestOptions, now: datetime, domain: str) -> RunContext:
        """The run's clock and send budget start now."""
        return cls(store, mailer, options, now, domain, time.monotonic() + options.send_budget, run_clock(now),
                   forecast.stored_history(store))

    @property
    def today(self) -> date:
        return self.now.astimezone(self.options.tz).date()

    def send(self, delivery: Any, message: Any, *, resend: bool = False) -> Delivered:
        return send_recorded(self.store, self.mailer, delivery, message, self.now, self.deadline, self.clock,
                             resend=resend, retry_runs=self.options.retry_runs)


def resend_pending(run: RunContext) -> list[Delivered]:
    """Step 1: messages recorded earlier but never confirmed, resent with their own Message-ID."""
    if run.options.dry_run:
        return []
    from mapsheets.adapters import mail

    pending = run.store.digests.pending_deliveries()
    if run.options.only:  # an add-on trigger resends only its own plan's
        mine = {sub.id for sub in run.store.digests.subscriptions(canonical_ref(run.options.only))}
        pending = [d for d in pending if d.subscription_id in mine]
    return [run.send(d, mail.parse_message(d.message), resend=True) for d in pending]


def is_due(subscription: SubscriptionRecord, now: datetime, tz: tzinfo = timezone.utc, hour: int = DIGEST_HOUR) -> bool:
    """Due once the send hour has come on a weekday a period (or more) after the last run that looked.

    No digests at weekends: what piled up goes out on Monday.
    """
    from datetime import timedelta

    local = now.astimezone(tz)
    if local.hour < hour or local.weekday() >= 5:
        return False
    last = subscription.last_run_at
    if last is None:
        return True
    return local.date() >= last.astimezone(tz).date() + timedelta(days=PERIOD[subscription.every])


@dataclass
class PlansDue:
    """Step 2: the plans with a subscriber due, and what the run already knows of them."""

    due: dict[str, list[SubscriptionRecord]] = field(default_factory=dict)
    waiting: int = 0  # subscriptions not due yet
    archived: int = 0  # subscriptions of closed plans
    seen: dict[str, dict[str, Any]] = field(default_factory=dict)  # ref -> the backend version last read
    changed_google: dict[str, dict[str, Any]] | None = None  # Drive's word on Google plans (None: read each)
    notes: list[str] = field(default_factory=list)


def plans_due(run: RunContext) -> PlansDue:
    store, options = run.store, run.options
    # One digest in flight per person: a new one waits until the last is accepted or given up, so
    # a refusing server sees one attempt per person per run, not one more each run.
    in_flight = store.digests.pending_subscriptions()
    found = PlansDue()
    closed = closed_refs(store)  # `mapsheets close` sent their last digest already (re-opened: not)
    only = canonical_ref(options.only) if options.only else None
    for sub in store.digests.subscriptions(only):
        if sub.bounced_at is not None:  # said once, in the run that saw the refusal; `watching` shows it
            continue
        if sub.ref in closed:
            found.archived += 1
        elif is_due(sub, run.now, options.tz, options.hour) and sub.id not in in_flight:
            found.due.setdefault(sub.ref, []).append(sub)
        else:
            found.waiting += 1
    found.seen = store.sources.seen()
    if only:  # read directly with the subscriber's credentials: no Drive listing
        return found
    # Plans the run's own credentials may not open are opened, not trusted to Drive's listing.
    found.seen = unreadable.listable(store, found.seen, [r for r in found.due if google_id(r)], run.now)
    try:
        found.changed_google = changed_google_ids([r for r in found.due if google_id(r) and r in found.seen],
                                                  found.seen)
    except MapsheetsError as exc:  # Drive cannot list: read each Google plan instead
        found.notes.append(f"Drive listing failed, reading every Google plan: {exc}")
    return found


@dataclass(frozen=True)
class Prefetched:
    """What every due plan's turn needs from the store, in three queries rather than three per plan."""

    latest: dict[str, Any]
    logged: dict[str, int | None]
    events: dict[str, list[EventRecord]]

    @classmethod
    def of(cls, store: Store, refs: list[str]) -> Prefetched:
        return cls(store.revisions.latest(refs), store.sources.logged_revisions(refs), store.audit.events_of(refs))


@dataclass
class PlanTurn:
    """Step 3: what one plan's turn did."""

    ref: str
    read: PlanRead | None = None  # None: the plan could not be read
    said: Said = field(default_factory=Said)
    failed: list[str] = field(default_factory=list)  # the plan could not be read
    digests: list[SubscriberDigest] = field(default_factory=list)
    looked: tuple[str, str, bool] | None = None  # (ref, plan's name, changed)


@dataclass
class PlanFacts:
    """One plan as every subscriber's digest of it needs it, worked out once per turn."""

    ref: str
    read: PlanRead
    current: Plan
    days_off: frozenset[date]
    attributor: Attributor
    events: list[Any]  # the plan's events (links, notices), as the turn began
    url: str
    location: str
    domains: frozenset[str]
    dead: int | None  # business days past the target close, when past the limit
    told_dead: set[str]  # seller-side recipients told already
    lost: tuple[str, ...]  # a write of ours someone's save dropped: said once, to the seller side
    closes: dict[tuple[int, date], Any] = field(default_factory=dict)  # (revision id, as of) -> projected close
    chance: forecast.Told = field(default_factory=forecast.Told)  # the chance to close, for the seller side


def plan_turn(run: RunContext, ref: str, subs: list[SubscriptionRecord], plans: PlansDue, known: Prefetched,
              writes: SheetWrites) -> PlanTurn:
    turn = PlanTurn(ref)
    try:
        turn.read = read_plan(run.store, ref, plans.seen, plans.changed_google, run.now, turn.said,
                              dry_run=run.options.dry_run, stored=known.latest.get(ref))
    except MapsheetsError as exc:  # one missing or broken plan must not stop everyone's digest
        if not _told_unreadable(run, ref, exc, turn.said):
            turn.failed.append(f"{ref}: {exc}")
        return turn
    if not run.options.dry_run and google_id(ref):
        unreadable.read_again(run.store, ref, known.events.get(ref), run.now, own=not run.options.only)
    facts = _plan_facts(run, ref, turn.read, known, writes, turn.said)
    if facts.dead and all(audience.is_external(sub.email, facts.domains) for sub in subs):
        turn.said.notes.append(f"{ref}: {facts.dead} business days past its target close; no seller-side recipient "
                               "to tell (MAPSHEETS_SELLER_DOMAINS names the seller's domains)")
    own_lost = _lost_event(run, facts)
    facts.chance = forecast.Told.of(run.store, ref, facts.current, run.today, facts.days_off, run.history)
    for sub in subs:
        turn.digests.append(subscriber_digest(run, facts, sub))
    if any(d.told_chance for d in turn.digests):  # what the next digest says it moved from
        facts.chance.keep(run.store, ref, run.now)
    if own_lost is not None and any(d.told_lost for d in turn.digests):  # recorded: not said again
        run.store.audit.log(TOLD, ref=ref, actor="mapsheets digest", at=run.now, detail={"event": own_lost})
    changed = any(d.changed for d in turn.digests) or turn.read.snapshots > 0
    turn.looked = (ref, facts.current.title or ref, changed)
    return turn


def _told_unreadable(run: RunContext, ref: str, exc: MapsheetsError, said: Said) -> bool:
    """A Google plan the cron run cannot open is told to its seller owner once (and shown in the
    sidebar), not failed every run; an add-on trigger's own failure is its run's to report."""
    if run.options.dry_run or run.options.only or not google_id(ref):
        return False
    return unreadable.handled(run.store, ref, exc, now=run.now, mailer=run.mailer, sender=run.options.sender,
                              notes=said.notes)


def _plan_facts(run: RunContext, ref: str, read: PlanRead, known: Prefetched, writes: SheetWrites,
                said: Said) -> PlanFacts:
    """The plan's Changes tab written (not under dry_run), and what its digests need."""
    current = Plan.from_dict(read.latest.content["plan"])
    days_off = days_off_or_weekends(current, run.today)
    attributor = Attributor(run.store, ref, read.book, days_off)
    if not run.options.dry_run:
        log_changes(run.store, ref, read.book, read.latest, read.source, run.now, days_off, said, read.changes_rows,
                    attributor, read.upkeep, logged=known.logged.get(ref), writes=writes, claim_at=run.clock())
        for written in getattr(read.book, "times", ()):  # so later digests do not credit them to anyone
            run.store.audit.log(OWN_WRITE, ref=ref, actor="mapsheets digest", detail={"modified_time": written},
                                at=run.now)
    # Links and notices: not this turn's.
    events = known.events[ref] if ref in known.events else run.store.audit.events(ref)
    url, location = audience.plan_link(ref, events)
    dead = audience.days_past_close(current, run.today, days_off)
    dead = dead if dead is not None and dead > run.options.dead_after_days else None
    return PlanFacts(ref, read, current, days_off, attributor, events, url, location,
                     audience.seller_domains(current, run.options.seller_domains), dead,
                     audience.notified(events, current) if dead else set(), ())


def _lost_event(run: RunContext, facts: PlanFacts) -> int | None:
    """A write of ours lost to someone's save and not yet told: its event, with ``facts.lost`` set
    to what the seller side's digests say of it."""
    ref = facts.ref
    own = check_own_write(run.store, ref, facts.current, None if google_id(ref) else facts.read.source,
                          events=facts.events, record=not run.options.dry_run)
    if not own.lost or own.told:
        return None
    facts.lost = (own.lost.message(),)
    return int(own.lost.event_id)


@dataclass(frozen=True)
class SubscriberDigest:
    """Step 4: what became of one subscriber's digest."""

    sub: SubscriptionRecord
    quiet: bool = False  # nothing worth sending: marked "looked at" (not under dry_run)
    stopped: bool = False  # an external recipient of a dead deal: not mailed
    changed: bool = False  # there were changes to tell them
    would_send: tuple[str, str] | None = None  # dry_run: (to, subject)
    delivered: Delivered | None = None
    failed: str | None = None  # the message could not be built
    told_lost: bool = False  # the digest recorded for sending says our lost write
    told_chance: bool = False  # the digest recorded for sending says the chance to close


def subscriber_digest(run: RunContext, plan: PlanFacts, sub: SubscriptionRecord) -> SubscriberDigest:
    latest = plan.read.latest
    last = sub.last_revision_id
    up_to_date = last is None or last == latest.id  # most, when few plans changed
    since = latest if last is None or up_to_date else run.store.revisions.by_id(last)
    before = plan.current if up_to_date else Plan.from_dict(since.content["plan"])
    external = audience.is_external(sub.email, plan.domains)
    changes = audience.changes_for(diff(before, plan.current, plan.days_off) if since.id != latest.id else [],
                                   external)
    last_notice = bool(plan.dead and not external and sub.email not in plan.told_dead)
    stopped = bool(plan.dead and external)
    lost = () if external else plan.lost
    if stopped or _quiet(run, plan, sub, changes, lost, last_notice):
        return SubscriberDigest(sub, quiet=True, stopped=stopped)
    digest = _build(run, plan, sub, since, before, changes, lost, last_notice, external)
    if not digest.is_worth_sending:
        return SubscriberDigest(sub, quiet=True, changed=bool(changes))
    if run.options.dry_run:
        return SubscriberDigest(sub, changed=bool(changes), would_send=(sub.email, digest.subject))
    return _send(run, plan, sub, digest, external, last_notice, lost, changed=bool(changes))


def _quiet(run: RunContext, plan: PlanFacts, sub: SubscriptionRecord, changes: list[Any], lost: tuple[str, ...],
           last_notice: bool) -> bool:
    """Nothing for this subscriber, told without building the digest."""
    from mapsheets.core.digest import nothing_to_tell

    if not changes and not lost and (sub.only_changes or (plan.dead and not last_notice)):
        return True
    return nothing_to_tell(plan.current, changes, run.today, closing_notice=last_notice, lost=bool(lost))


def _build(run: RunContext, plan: PlanFacts, sub: SubscriptionRecord, since: Any, before: Plan, changes: list[Any],
           lost: tuple[str, ...], last_notice: bool, external: bool) -> Digest:
    from mapsheets.core.digest import build_digest

    latest = plan.read.latest
    credit = plan.attributor.attribute(since, latest, changes)
    # What this recipient was told: the plan they last got, projected on the day they got it
    # (not when that revision was stored: an unedited plan stores none, yet its projection moves).
    told_on = sub.last_sent_at.astimezone(run.options.tz).date() if sub.last_sent_at else since.taken_at.date()
    if (since.id, told_on) not in plan.closes:
        plan.closes[since.id, told_on] = project(before, told_on, plan.days_off).close
    return build_digest(
        plan=plan.current, changes=changes, today=run.today, plan_url=plan.url, plan_location=plan.location,
        previous_close=plan.closes[since.id, told_on],
        actors=credit.actors, editors=credit.editors, stale_update_days=run.options.stale_update_days,
        last_update=latest.taken_at.date(), holidays=plan.days_off, first=sub.last_sent_at is None,
        warnings=latest.content.get("warnings", []), closed_out=plan.dead if last_notice else None,
        lost=lost, external=external, chance=("", "") if external else plan.chance.words(plan.current, run.today,
                                                                                          plan.days_off))


def _send(run: RunContext, plan: PlanFacts, sub: SubscriptionRecord, digest: Digest, external: bool,
          last_notice: bool, lost: tuple[str, ...], *, changed: bool) -> SubscriberDigest:
    """Record the digest (pending), then send it: a kill in between is healed by the next run's step 1."""
    from mapsheets.adapters import mail
    from mapsheets.emails import render_digest

    options = run.options
    html, text = render_digest(digest)
    message_id = mail.make_msgid(run.domain)
    headers = audience.unsubscribe_headers(options.sender, sub, digest.display_name) if external else None
    try:
        message = mail.build_message(sender=options.sender, to=[mail.format_address(sub.name, sub.email)],
                                     subject=digest.subject, html=html, text=text, message_id=message_id,
                                     date=run.now, headers=headers)
    except MapsheetsError as exc:  # one unsendable message must not stop everyone's digest
        return SubscriberDigest(sub, changed=changed, failed=f"{plan.ref}: digest to {sub.email}: {exc}")
    delivery = run.store.digests.record_delivery(sub, message_id=message_id, to_revision_id=plan.read.latest.id,
                                         message=message.as_string(), now=run.now)
    if delivery is None:  # an overlapping run already took this one
        return SubscriberDigest(sub, changed=changed)
    close = plan.current.target_close  # a plan past its close has one
    if last_notice and close is not None:  # recorded: the next run must not tell them again
        run.store.audit.log(audience.DEAD_NOTICE, ref=plan.ref, actor=sub.email, at=run.now,
                            detail={"target_close": close.isoformat(), "days": plan.dead})
    return SubscriberDigest(sub, changed=changed, told_lost=bool(lost), told_chance=bool(digest.chance),
                            delivered=run.send(delivery, message))
