"""Change digests: who watches which plan, and the cron-safe run that emails what changed.

The run is safe to start every few minutes and to kill at any point:
1. messages recorded earlier but never confirmed are resent first, with their Message-ID;
2. each due subscription's digest is recorded (pending) in the same transaction that moves the
   recipient's cursor, then sent, then confirmed. A kill before the record loses nothing (nothing
   was sent; the next run builds it again); a kill after it is healed by step 1.
The Changes tab is written before its cursor moves, each row keyed by the revisions it covers, so a
kill in between neither loses rows nor makes the next run write them again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mapsheets.adapters.store import open_store
from mapsheets.core.diff import diff
from mapsheets.core.model import Plan
from mapsheets.core.own_writes import TOLD
from mapsheets.core.schedule import project
from mapsheets.errors import MapsheetsError, NotFound, UsageError
from mapsheets.service import audience, forecast
from mapsheets.service.attribution import OWN_WRITE, Attributor, OwnWrites
from mapsheets.service.audit_log import check_own_write, flush_quietly
from mapsheets.service.calendars import days_off_or_weekends
from mapsheets.service.changes_tab import changes_upkeep, fill_ids, log_changes
from mapsheets.service.delivery import (  # noqa: F401  (RunReport, make_mailer, ...: the digest API)
    DEFAULT_SENDER,
    RETRY_RUNS,
    SEND_BUDGET,
    RunReport,
    deliver,
    make_mailer,
    run_clock,
)
from mapsheets.service.lifecycle_close import closed_refs
from mapsheets.service.refs import google_id, open_workbook
from mapsheets.service.revisions import canonical_ref, read_snapshot, snapshot_into
from mapsheets.service.sheet_writes import SheetWrites
from mapsheets.service.signoff import check_address

if TYPE_CHECKING:
    from mapsheets.adapters.store import Store, SubscriptionRecord

PERIOD = {"daily": 1, "weekly": 7}  # days between digests
# Digests go out with the first run at or after this local hour: a cron every 10 minutes sends
# each daily digest at the same time of day, not drifting by the minutes a run takes.
DIGEST_HOUR = 7
CONSIDERED_BATCH = 200  # subscriptions marked "looked at" per transaction


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
    if every not in PERIOD:
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
    return open_store(store_url).digests.subscriptions()


def is_due(subscription, now: datetime, tz=timezone.utc, hour: int = DIGEST_HOUR) -> bool:
    """Due once the send hour has come on a weekday a period (or more) after the last run that looked.

    No digests at weekends: what piled up goes out on Monday.
    """
    local = now.astimezone(tz)
    if local.hour < hour or local.weekday() >= 5:
        return False
    last = subscription.last_run_at
    if last is None:
        return True
    return local.date() >= last.astimezone(tz).date() + timedelta(days=PERIOD[subscription.every])


def _changed_google_ids(refs: list[str], seen: dict[str, dict]) -> dict[str, dict] | None:
    """Google plans modified since we last looked, from one Drive files.list (paged), not N opens.

    Returns sheet ID -> its new source (as ``GoogleWorkbook.revision()`` gives it), or None when
    some plan was never seen and all must be read.
    """
    known = [seen[r]["modified_time"] for r in refs if r in seen and seen[r].get("modified_time")]
    if not refs or len(known) < len(refs):
        return None  # some plan was never seen: read them all this once
    from mapsheets.adapters.gsheets import GoogleWorkbook, find_plans

    files = find_plans(GoogleWorkbook.from_env(None).client, modified_after=min(known))
    return {f["id"]: {"modified_time": f.get("modifiedTime"), "version": f.get("version"),
                      "modified_by": (f.get("lastModifyingUser") or {}).get("emailAddress")}
            for f in files if f.get("modifiedTime") != seen.get(f["id"], {}).get("modified_time")}


def run(*, now: datetime, mailer, store_url: str | None = None, dry_run: bool = False,
        sender: str = DEFAULT_SENDER, stale_update_days: int | None = None, tz=timezone.utc,
        hour: int = DIGEST_HOUR, progress: Callable[[Iterable], Iterable] = lambda items: items,
        dead_after_days: int = audience.DEAD_AFTER_DAYS, seller_domains: Iterable[str] | None = None,
        send_budget: float = SEND_BUDGET, write_workers: int | None = None, retry_runs: int = RETRY_RUNS) -> RunReport:
    """Send every digest that is due (see the module docstring for why this is kill-safe).

    ``tz`` is the team's time zone: it decides the send hour and what "today" and "overdue" mean.
    A plan more than ``dead_after_days`` business days past its target close, close step not done,
    sends its seller-side recipients one last digest saying so, and its external ones none
    (``service.audience`` says who is which). ``send_budget``: seconds this run may spend talking
    to the mail server; past it, digests stay pending for the next run. A subscriber whose server
    refused for good (5xx) gets nothing more until watched again. ``write_workers``: processes that
    write local plans' Changes tabs meanwhile (``service.sheet_writes``; None: one per core, up to
    4; 0: none, this process writes them). ``retry_runs``: runs a server may say "try again later"
    to one digest before its subscriber is bounced (``service.delivery`` has the whole rule).
    """
    from mapsheets.adapters import mail
    from mapsheets.core.digest import build_digest, chance_words, nothing_to_tell
    from mapsheets.emails import render_digest

    if now.tzinfo is None:
        raise UsageError("now needs a time zone (e.g. 2027-01-04T07:00:00+00:00)", field="now")
    domain = mail.sender_domain(sender)  # a bad --from fails before anything is read or recorded
    if not send_budget > 0:
        raise UsageError(f"send budget {send_budget!r}: give a number of seconds above 0", field="send_budget")
    if not (isinstance(retry_runs, int) and retry_runs >= 1):
        raise UsageError(f"retry runs {retry_runs!r}: give a whole number of runs, 1 or more", field="retry_runs")
    store = open_store(store_url)
    if not dry_run:
        flush_quietly(store)  # audit entries queued while the store could not take them
    report = RunReport()
    clock = run_clock(now)
    deadline = time.monotonic() + send_budget
    if not dry_run:
        for delivery in store.digests.pending_deliveries():
            deliver(store, mailer, delivery, mail.parse_message(delivery.message), now, report, deadline, clock,
                    resend=True, retry_runs=retry_runs)
    # One digest in flight per person: a new one waits until the last is accepted or given up, so
    # a refusing server sees one attempt per person per run, not one more each run.
    in_flight = store.digests.pending_subscriptions()

    due: dict[str, list[Any]] = {}
    closed = closed_refs(store)  # `mapsheets close` sent their last digest already (re-opened: not)
    for sub in store.digests.subscriptions():
        if sub.bounced_at is not None:  # said once, in the run that saw the refusal; `watching` shows it
            continue
        if sub.ref in closed:
            report.archived += 1
            continue
        if is_due(sub, now, tz, hour) and sub.id not in in_flight:
            due.setdefault(sub.ref, []).append(sub)
        else:
            report.waiting += 1
    seen = store.sources.seen()
    try:
        changed_google = _changed_google_ids([r for r in due if google_id(r)], seen)
    except MapsheetsError as exc:  # Drive cannot list: read each Google plan instead
        report.notes.append(f"Drive listing failed, reading every Google plan: {exc}")
        changed_google = None
    today = now.astimezone(tz).date()
    # Looked at with nothing to send: marked in one transaction per batch, not one each. (A run
    # killed before the mark considers them again next time, and again finds nothing to send.)
    considered: list[Any] = []
    # What every due plan's turn needs from the store, in three queries rather than three per plan.
    refs = list(due)
    latest_of, logged_of = store.revisions.latest(refs), store.sources.logged_revisions(refs)
    events_of = store.audit.events_of(refs)
    history = forecast.stored_history(store)  # the chance to close, for the seller side (issue 24)
    with SheetWrites(write_workers) as writes:  # Changes-tab writes, some by worker processes
        for ref in progress(refs):
            if len(considered) >= CONSIDERED_BATCH:
                store.digests.mark_considered_all(considered, now)
                considered.clear()
            report.plans += 1
            read_before = report.snapshots
            found = False  # a change for at least one recipient
            try:
                latest, book, source, changes_rows, upkeep = _refresh(store, ref, seen, changed_google, now, report,
                                                                      dry_run, latest_of.get(ref))
            except MapsheetsError as exc:  # one missing or broken plan must not stop everyone's digest
                report.failed.append(f"{ref}: {exc}")
                continue
            current = Plan.from_dict(latest.content["plan"])
            days_off = days_off_or_weekends(current, today)
            attributor = Attributor(store, ref, book, days_off)
            if not dry_run:
                log_changes(store, ref, book, latest, source, now, days_off, report, changes_rows, attributor, upkeep,
                            logged=logged_of.get(ref), writes=writes, claim_at=clock())
                for written in getattr(book, "times", ()):  # so later digests do not credit them to anyone
                    store.audit.log(OWN_WRITE, ref=ref, actor="mapsheets digest", detail={"modified_time": written},
                                    at=now)
            events = events_of[ref] if ref in events_of else store.audit.events(ref)  # links, notices: not this turn's
            own = check_own_write(store, ref, current, None if google_id(ref) else source, events=events,
                                  record=not dry_run)
            lost = (own.lost.message(),) if own.lost and not own.told else ()  # said once, to the seller side
            told_lost = False
            url, location = audience.plan_link(ref, events)
            domains = audience.seller_domains(current, seller_domains)
            dead = audience.days_past_close(current, today, days_off)
            dead = dead if dead is not None and dead > dead_after_days else None
            told = audience.notified(events, current) if dead else set()
            if dead and all(audience.is_external(sub.email, domains) for sub in due[ref]):
                report.notes.append(f"{ref}: {dead} business days past its target close; no seller-side recipient "
                                    "to tell (MAPSHEETS_SELLER_DOMAINS names the seller's domains)")
            closes: dict[tuple[int, date], Any] = {}  # (revision id, as of) -> its projected close, once per plan
            chance = forecast.chance_of(current, today, days_off, history)
            last_chance = store.history.last_told(ref) if chance else None
            previous_chance, told_chance = (last_chance or {}).get("chance"), False
            for sub in due[ref]:
                up_to_date = sub.last_revision_id in (None, latest.id)  # most, when few plans changed
                since = latest if up_to_date else store.revisions.by_id(sub.last_revision_id)
                before = current if up_to_date else Plan.from_dict(since.content["plan"])
                external = audience.is_external(sub.email, domains)
                diffs = diff(before, current, days_off) if since.id != latest.id else []
                changes = audience.changes_for(diffs, external)
                last_notice = bool(dead and not external and sub.email not in told)
                if dead and external:
                    report.stopped += 1
                sub_lost = () if external else lost
                quiet = not changes and not sub_lost
                if ((dead and external) or (quiet and (sub.only_changes or (dead and not last_notice)))
                        or nothing_to_tell(current, changes, today, closing_notice=last_notice, lost=bool(sub_lost))):
                    report.quiet += 1
                    if not dry_run:
                        considered.append(sub)
                    continue
                found = found or bool(changes)
                credit = attributor.attribute(since, latest, changes)
                # What this recipient was told: the plan they last got, projected on the day they got it
                # (not when that revision was stored: an unedited plan stores none, yet its projection moves).
                told_on = sub.last_sent_at.astimezone(tz).date() if sub.last_sent_at else since.taken_at.date()
                if (since.id, told_on) not in closes:
                    closes[since.id, told_on] = project(before, told_on, days_off).close
                digest = build_digest(
                    plan=current, changes=changes, today=today, plan_url=url, plan_location=location,
                    previous_close=closes[since.id, told_on],
                    actors=credit.actors, editors=credit.editors, stale_update_days=stale_update_days,
                    last_update=latest.taken_at.date(), holidays=days_off, first=sub.last_sent_at is None,
                    warnings=latest.content.get("warnings", []), closed_out=dead if last_notice else None,
                    lost=sub_lost, external=external, chance=("", "") if external or chance is None else
                    chance_words(chance, previous_chance, current, today, days_off))
                if not digest.is_worth_sending:
                    report.quiet += 1
                    if not dry_run:
                        considered.append(sub)
                    continue
                if dry_run:
                    report.would_send.append((sub.email, digest.subject))
                    continue
                html, text = render_digest(digest)
                message_id = mail.make_msgid(domain)
                headers = audience.unsubscribe_headers(sender, sub, digest.display_name) if external else None
                try:
                    message = mail.build_message(sender=sender, to=[mail.format_address(sub.name, sub.email)],
                                                 subject=digest.subject, html=html, text=text, message_id=message_id,
                                                 date=now, headers=headers)
                except MapsheetsError as exc:  # one unsendable message must not stop everyone's digest
                    report.failed.append(f"{ref}: digest to {sub.email}: {exc}")
                    continue
                delivery = store.digests.record_delivery(sub, message_id=message_id, to_revision_id=latest.id,
                                                         message=message.as_string(), now=now)
                if delivery is not None and last_notice:  # recorded: the next run must not tell them again
                    store.audit.log(audience.DEAD_NOTICE, ref=ref, actor=sub.email, at=now,
                                    detail={"target_close": current.target_close.isoformat(), "days": dead})
                if delivery is not None:  # None: an overlapping run already took this one
                    told_lost = told_lost or bool(sub_lost)
                    told_chance = told_chance or bool(chance and not external)
                    deliver(store, mailer, delivery, message, now, report, deadline, clock, retry_runs=retry_runs)
            if told_chance and chance and chance.chance is not None:  # what the next digest says it moved from
                store.history.tell(ref, chance.to_dict(), now)
            if told_lost:  # recorded for delivery: later digests do not say it again
                store.audit.log(TOLD, ref=ref, actor="mapsheets digest", at=now, detail={"event": own.lost.event_id})
            changed = found or report.snapshots > read_before
            report.changed += changed
            report.looked.append((ref, current.title or ref, changed))
    report.notes += writes.notes
    if considered:
        store.digests.mark_considered_all(considered, now)
    if report.deferred:
        report.notes.append(f"the send budget ({send_budget:g} s) ran out: {report.deferred} digest(s) "
                            "left pending for the next run")
    return report


@dataclass(frozen=True)
class _Unsaved:
    """The live plan under --dry-run, shaped like a stored revision but never stored."""

    content: dict[str, Any]
    taken_at: datetime
    source: dict[str, Any]
    id: int = -1


def _refresh(store: Store, ref: str, seen: dict, changed_google: dict[str, dict] | None, now: datetime,
             report: RunReport, dry_run: bool, stored=None):
    """(latest revision, workbook, source read, Changes tab rows or None when not read, cells our
    writes also set): a snapshot first, unless the backend says nothing changed.

    Under dry_run the live plan is read but nothing is stored.
    """
    sheet_id = google_id(ref)
    book = OwnWrites(open_workbook(ref))
    if sheet_id is not None and changed_google is not None and ref in seen:
        unchanged = sheet_id not in changed_google
        source = seen[ref] if unchanged else changed_google[sheet_id]
    else:
        source = book.revision()
        unchanged = seen.get(ref) == source
    if unchanged:
        report.unchanged += 1
        report.not_read.add(ref)
        return stored or store.revisions.get(ref, "latest"), book, source, None, {}
    snap = read_snapshot(ref, book=book, source=source)
    if dry_run:
        try:
            stored = store.revisions.get(ref, "latest").content
        except NotFound:
            stored = None
        report.snapshots += stored != snap[0].content()  # counted as a real run would store it
        return _Unsaved(content=snap[0].content(), taken_at=now, source=source), book, source, None, {}
    result = snapshot_into(store, ref, now=now, snapshot=snap, origin="digest")
    report.snapshots += result.created
    source = fill_ids(store, ref, book, result.snapshot, source, now, report)
    return result.revision, book, source, snap[0].changes_rows, changes_upkeep(result.snapshot, now.date())


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
        raise UsageError(f"{output}: cannot write ({exc.strerror or exc.__class__.__name__})") from None
    return output
