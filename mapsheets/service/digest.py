"""Change digests: who watches which plan, and the cron-safe run that emails what changed.

The run is safe to start every few minutes and to kill at any point:
1. messages recorded earlier but never confirmed are resent first, with their Message-ID;
2. each due subscription's digest is recorded (pending) in the same transaction that moves the
   recipient's cursor, then sent, then confirmed. A kill before the record loses nothing (nothing
   was sent; the next run builds it again); a kill after it is healed by step 1.
The Changes tab is written before its cursor moves, each row keyed by the revisions it covers, so a
kill in between neither loses rows nor makes the next run write them again.
``run`` takes its ``DigestOptions`` and goes through the steps in ``service.digest_run``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict, Unpack

from mapsheets.adapters.store import open_store
from mapsheets.core.diff import diff
from mapsheets.core.schedule import project
from mapsheets.core.vocabulary import DIGEST_PERIODS
from mapsheets.errors import UsageError, file_error
from mapsheets.service import audience, unreadable
from mapsheets.service.audit_log import flush_quietly
from mapsheets.service.calendars import days_off_or_weekends
from mapsheets.service.delivery import (  # noqa: F401  (RunReport, make_mailer, ...: the digest API)
    DEFAULT_SENDER,
    RETRY_RUNS,
    SEND_BUDGET,
    Delivered,
    RunReport,
    make_mailer,
)
from mapsheets.service.digest_run import (  # noqa: F401  (PERIOD, DIGEST_HOUR, is_due: the digest API)
    CONSIDERED_BATCH,
    DIGEST_HOUR,
    PERIOD,
    DigestOptions,
    PlansDue,
    PlanTurn,
    Prefetched,
    RunContext,
    is_due,
    plan_turn,
    plans_due,
    resend_pending,
)
from mapsheets.service.revisions import canonical_ref, read_snapshot, snapshot_into
from mapsheets.service.sheet_writes import SheetWrites
from mapsheets.service.signoff import check_address
from mapsheets.service.workbooks import deployment_credentials, google_id

if TYPE_CHECKING:
    from mapsheets.adapters.mail import Mailer
    from mapsheets.adapters.store import Store, SubscriptionRecord


def watch(ref: str, emails: Iterable[str], *, every: str = "daily", only_changes: bool = False,
          now: datetime, store_url: str | None = None, link: str | None = None) -> list[Any]:
    """``watch_into`` the state store at ``store_url`` (default: MAPSHEETS_DB, else the per-user file)."""
    return watch_into(open_store(store_url), ref, emails, every=every, only_changes=only_changes, now=now, link=link)


def watch_into(store: Store, ref: str, emails: Iterable[str], *, every: str = "daily", only_changes: bool = False,
               now: datetime, link: str | None = None) -> list[SubscriptionRecord]:
    """Subscribe people to a plan's digest; their first digest covers changes from now on.

    Each of ``emails`` is an address or "Jane Doe <jane@acme.example>" (the name goes in the To header).
    ``link``: where recipients open the plan (an http(s) URL, e.g. the file on a share), kept for
    the plan and used by every digest of it from now on.
    """
    if every not in DIGEST_PERIODS:
        raise UsageError(f"every {every!r} is not daily or weekly", field="every")
    link = audience.check_link(link) if link is not None else None
    names: dict[str, str] = {}
    for text in emails:
        name, email = check_address(text, "emails")
        names[email] = name or names.get(email, "")
    if not names:
        raise UsageError("give at least one email address", field="emails")
    result = snapshot_into(store, ref, now=now, origin="watch")
    key = canonical_ref(ref)
    if google_id(ref) and deployment_credentials():  # read as the cron run will: its listing may be trusted
        unreadable.read_again(store, key, None, now, own=True)
    if store.sources.logged_revision(key) is None:  # the Changes tab logs what changes from here on
        store.sources.set_logged_revision(key, result.revision.id)
    if link is not None:
        store.audit.log(audience.LINK_EVENT, ref=key, actor="watch --link", detail={"url": link}, at=now)
    return store.digests.watch(canonical_ref(ref), list(names), every=every, only_changes=only_changes, now=now,
                               start_revision_id=result.revision.id, names=names)


def unwatch(ref: str, emails: Iterable[str] = (), *, store_url: str | None = None) -> int:
    """Stop the digest of ``ref`` for ``emails`` (everyone when empty); returns how many subscriptions ended."""
    return unwatch_from(open_store(store_url), ref, emails)


def unwatch_from(store: Store, ref: str, emails: Iterable[str] = ()) -> int:
    """Remove ``emails``' subscriptions to the plan (all of them without any); how many went."""
    checked = [check_address(e, "emails")[1] for e in emails]
    return store.digests.unwatch(canonical_ref(ref), checked or None)


def watching(*, store_url: str | None = None) -> list[Any]:
    """Every subscription in the state store, bounced ones included."""
    return open_store(store_url).digests.subscriptions()


class RunSettings(TypedDict, total=False):
    """``DigestOptions`` as keyword arguments of ``run`` (how callers before the options passed them)."""

    dry_run: bool
    sender: str
    stale_update_days: int | None
    tz: tzinfo
    hour: int
    dead_after_days: int
    seller_domains: Iterable[str] | None
    send_budget: float
    write_workers: int | None
    retry_runs: int
    only: str | None


def _every(refs: list[str]) -> Iterable[str]:
    return refs


def run(options: DigestOptions | None = None, *, now: datetime, mailer: Mailer, store_url: str | None = None,
        progress: Callable[[list[str]], Iterable[str]] = _every, **settings: Unpack[RunSettings]) -> RunReport:
    """Send every digest that is due (see the module docstring for why this is kill-safe).

    ``options`` (or the same names as keywords, which win): ``tz`` is the team's time zone: it
    decides the send hour and what "today" and "overdue" mean. A plan more than ``dead_after_days``
    business days past its target close, close step not done, sends its seller-side recipients one
    last digest saying so, and its external ones none (``service.audience`` says who is which).
    ``send_budget``: seconds this run may spend talking to the mail server; past it, digests stay
    pending for the next run. A subscriber whose server refused for good (5xx) gets nothing more
    until watched again. ``write_workers``: processes that write local plans' Changes tabs meanwhile
    (``service.sheet_writes``; None: one per core, up to 4; 0: none, this process writes them).
    ``retry_runs``: runs a server may say "try again later" to one digest before its subscriber is
    bounced (``service.delivery`` has the whole rule). ``progress`` wraps the due plans (a bar).
    """
    options = replace(options or DigestOptions(), **settings)
    if now.tzinfo is None:
        raise UsageError("now needs a time zone (e.g. 2027-01-04T07:00:00+00:00)", field="now")
    options.sender_domain()  # a bad --from fails before anything is read or recorded
    return run_in(open_store(store_url), options, now=now, mailer=mailer, progress=progress)


def run_in(store: Store, options: DigestOptions, *, now: datetime, mailer: Mailer,
           progress: Callable[[list[str]], Iterable[str]] = _every) -> RunReport:
    """``run`` on a store the caller holds (the add-on's trigger run)."""
    domain = options.sender_domain()
    if not options.dry_run:
        flush_quietly(store)  # audit entries queued while the store could not take them
    steps = RunContext.start(store, mailer, options, now, domain)
    resent = resend_pending(steps)
    plans = plans_due(steps)
    refs = list(plans.due)
    known = Prefetched.of(store, refs)
    turns: list[PlanTurn] = []
    # Looked at with nothing to send: marked in one transaction per batch, not one each. (A run
    # killed before the mark considers them again next time, and again finds nothing to send.)
    considered: list[Any] = []
    with SheetWrites(options.write_workers) as writes:  # Changes-tab writes, some by worker processes
        for ref in progress(refs):
            if len(considered) >= CONSIDERED_BATCH:
                store.digests.mark_considered_all(considered, now)
                considered.clear()
            turns.append(plan_turn(steps, ref, plans.due[ref], plans, known, writes))
            considered += [] if options.dry_run else [d.sub for d in turns[-1].digests if d.quiet]
    if considered:
        store.digests.mark_considered_all(considered, now)
    return report(plans, resent, turns, writes.notes, options)


def preview(ref: str, output: Path, *, today: date, since: str | None = None,
            store_url: str | None = None) -> Path:
    """Write the digest a subscriber would get now (changes since revision ``since``) as HTML."""
    from mapsheets.adapters.files import write_text_atomic
    from mapsheets.core.digest import build_digest
    from mapsheets.emails import render_digest
    from mapsheets.service.revisions import load

    live = read_snapshot(ref)[0]
    current = live.plan
    url, location = audience.plan_link(ref, open_store(store_url).audit.events(canonical_ref(ref)))
    before = load(f"{ref}@{since}", store_url=store_url).plan if since else current
    if since:
        from mapsheets.service.revisions import keep_formulas

        keep_formulas(before, live)  # a formula whose result was dropped on save has not changed
    days_off = days_off_or_weekends(current, today)
    digest = build_digest(plan=current, changes=diff(before, current, days_off), today=today,
                          plan_url=url, plan_location=location, previous_close=project(before, today, days_off).close,
                          holidays=days_off, since_label=f"since revision {since}" if since else "now",
                          warnings=live.warnings)
    try:
        write_text_atomic(output, render_digest(digest)[0])
    except OSError as exc:
        raise file_error(output, exc, "a preview", writing=True, error=UsageError) from None
    return output


def report(plans: PlansDue, resent: list[Delivered], turns: list[PlanTurn], writes_notes: list[str],
           options: DigestOptions) -> RunReport:
    """The run's report, from what each step did."""
    out = RunReport(waiting=plans.waiting, archived=plans.archived, notes=list(plans.notes))
    for done in resent:
        done.into(out)
    for turn in turns:
        out.plans += 1
        read = turn.read
        if read is not None:
            out.unchanged += read.unchanged
            out.not_read |= {turn.ref} if read.unchanged else set()
            out.snapshots += read.snapshots
        out.notes += turn.said.notes
        out.warnings += turn.said.warnings
        out.failed += turn.failed
        for sub in turn.digests:
            out.quiet += sub.quiet
            out.stopped += sub.stopped
            if sub.would_send is not None:
                out.would_send.append(sub.would_send)
            if sub.failed is not None:
                out.failed.append(sub.failed)
            if sub.delivered is not None:
                sub.delivered.into(out)
        if turn.looked is not None:
            out.changed += turn.looked[2]
            out.looked.append(turn.looked)
    out.notes += writes_notes
    if out.deferred:
        out.notes.append(f"the send budget ({options.send_budget:g} s) ran out: {out.deferred} digest(s) "
                         "left pending for the next run")
    return out
