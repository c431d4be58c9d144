"""Sending recorded digests: the outbox or SMTP, the run's clock and budget, and what a run reports.

Shared by the digest run and by `mapsheets close` (its last digests): each message is recorded
before it is sent, then claimed under a lease, sent within the run's budget and confirmed.

What a mail server's answer means (the rule every surface shows):
- accepted: the delivery is sent; only now does the subscription's "last sent" move.
- 5xx to the RECIPIENT (at RCPT, or at DATA with a mailbox code such as 5.1.1; see
  ``mail.about_recipient``): the address is dead. The message is refused for good, said once, and
  the subscription is bounced (no digests until watched again).
- 5xx to the MESSAGE (its content, size or a policy at DATA, e.g. 554 5.7.1; MAIL FROM refused) and a
  message mapsheets itself refuses (its header check): final for that message only. Said once, never
  resent; the person's next digest goes out as usual.
- 4xx (try again later): pending, one attempt per run, until ``RETRY_RUNS`` runs got a 4xx; then the
  subscription is bounced with the server's reason.
- no answer about the message (no connection, login refused, a drop, a timeout, a full outbox disk):
  pending, one attempt per run, never counted against the person: the server's trouble, not theirs.
A subscriber with a digest still pending gets no new one until it is settled, so retries never pile up.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mapsheets.core.vocabulary import DEFAULT_SENDER as DEFAULT_SENDER  # its old home
from mapsheets.errors import Deferred, Refused, RemoteError

if TYPE_CHECKING:
    from email.message import EmailMessage

    from mapsheets.adapters.mail import Mailer

# Seconds a run may spend sending: a mail server that accepts and never answers must not hold a
# cron run for 30 s per message. What is left stays pending and goes out first next run.
SEND_BUDGET = 120.0
RETRY_RUNS = 3  # runs a server may answer "try again later" (4xx) to one digest before its subscriber is bounced


@dataclass
class RunReport:
    plans: int = 0
    unchanged: int = 0  # plans not read at all: their backend said nothing changed
    not_read: set[str] = field(default_factory=set)  # their refs
    snapshots: int = 0
    sent: list[tuple[str, str]] = field(default_factory=list)  # (to, subject)
    resent: int = 0
    quiet: int = 0  # due, but nothing to tell
    waiting: int = 0  # subscriptions not due yet (before the send hour, or sent this period)
    notes: list[str] = field(default_factory=list)  # worth saying, not failures (a read-only sheet)
    warnings: list[str] = field(default_factory=list)  # said even off a terminal: a plan file not saved (disk full)
    failed: list[str] = field(default_factory=list)
    bounced: list[tuple[str, str]] = field(default_factory=list)  # (to, server reply): refused for good
    deferred: int = 0  # recorded but not sent: the send budget was spent; the next run sends them
    would_send: list[tuple[str, str]] = field(default_factory=list)  # --dry-run
    looked: list[tuple[str, str, bool]] = field(default_factory=list)  # (ref, plan's name, changed) per plan read
    changed: int = 0  # plans with a change for someone: read anew, or stored since a recipient's last digest
    stopped: int = 0  # external recipients not mailed: their plan's deal is dead
    archived: int = 0  # subscriptions skipped: their plan's deal closed (`mapsheets close`)


def default_outbox(env: dict[str, str]) -> Path:
    """Beside the default SQLite state store (the per-user data folder), whatever MAPSHEETS_DB says."""
    from mapsheets.adapters.store import default_url

    url = default_url({k: v for k, v in env.items() if k != "MAPSHEETS_DB"})
    return Path(url.split("///", 1)[-1]).parent / "outbox"


def make_mailer(smtp_url: str | None, outbox: Path | None = None, env: dict[str, str] | None = None) -> Mailer:
    """SMTP when a URL is given, else .eml files in the outbox folder (the embedded default)."""
    import os

    from mapsheets.adapters.mail import mailer_from_url

    return mailer_from_url(smtp_url, outbox or default_outbox(dict(os.environ if env is None else env)))


mailer = make_mailer  # its name before 0.2: a digest run's parameter is also called mailer


def run_clock(now: datetime) -> Callable[[], datetime]:
    """A run's clock: its ``now`` moved on by the time taken since. Leases taken late in a long run
    get their whole length, and a run told another ``now`` (a test's, a replay's) keeps to it."""
    started = time.monotonic()
    return lambda: now + timedelta(seconds=time.monotonic() - started)


@dataclass(frozen=True)
class Delivered:
    """What became of one recorded digest this run (all empty: another run holds its lease)."""

    sent: tuple[str, str] | None = None  # (To, Subject): accepted, a new digest
    resent: bool = False  # accepted, one left pending by an earlier run
    deferred: bool = False  # not tried: the send budget was spent
    bounced: tuple[str, str] | None = None  # (to, server reply): the subscriber gets no more digests
    failed: str | None = None  # refused for this message, or kept pending for the next run

    def into(self, report: RunReport) -> None:
        """Count this in a run's report."""
        report.deferred += self.deferred
        report.resent += self.resent
        if self.sent is not None:
            report.sent.append(self.sent)
        if self.bounced is not None:
            report.bounced.append(self.bounced)
        if self.failed is not None:
            report.failed.append(self.failed)


def deliver(store: Any, mailer: Mailer, delivery: Any, message: EmailMessage, now: datetime, report: RunReport,
            deadline: float, clock: Callable[[], datetime], resend: bool = False,
            retry_runs: int = RETRY_RUNS) -> None:
    """``send_recorded``, counted in ``report``."""
    send_recorded(store, mailer, delivery, message, now, deadline, clock, resend=resend,
                  retry_runs=retry_runs).into(report)


def send_recorded(store: Any, mailer: Mailer, delivery: Any, message: EmailMessage, now: datetime, deadline: float,
                  clock: Callable[[], datetime], *, resend: bool = False, retry_runs: int = RETRY_RUNS) -> Delivered:
    """Send one recorded digest: within the run's send budget (``deadline``), under a lease taken
    on the run's ``clock``, then confirmed; refused for good, or kept pending for the next run
    (the module docstring says which answer leads where)."""
    left = deadline - time.monotonic()
    if left <= 0:  # left pending, unclaimed: the next run sends it first
        return Delivered(deferred=True)
    if not store.digests.claim_delivery(delivery, clock()):  # the lease covers this very send
        return Delivered()
    try:
        mailer.send(message, [delivery.email], timeout=left)
    except Refused as exc:  # never retried; a refused address gets no more digests until watched again
        bounced = delivery.email in exc.addresses
        store.digests.refuse_delivery(delivery, exc.addresses.get(delivery.email) or str(exc), now, bounced=bounced)
        if bounced:
            return Delivered(bounced=(delivery.email, exc.addresses[delivery.email]))
        return Delivered(failed=f"{delivery.message_id}: {exc}")
    except Deferred as exc:  # "try again later": a few runs, then the subscriber is bounced
        gave_up = store.digests.defer_delivery(delivery, exc.reply, now, limit=retry_runs)
        if gave_up:
            return Delivered(bounced=(delivery.email, gave_up))
        return Delivered(failed=f"{delivery.message_id}: {exc} (tried again next run)")
    except RemoteError as exc:  # kept pending: the next run retries it with the same Message-ID
        store.digests.release_delivery(delivery.id, str(exc))
        return Delivered(failed=f"{delivery.message_id}: {exc}")
    store.digests.mark_sent(delivery.id, now)
    if resend:
        return Delivered(resent=True)
    return Delivered(sent=(str(message["To"]), str(message["Subject"])))
