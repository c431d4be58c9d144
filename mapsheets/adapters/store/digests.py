"""Digest state: who watches which plan, what each was last sent, and the outbox of messages.

A digest is recorded (pending, with its Message-ID and whole text) in the same transaction that
moves the recipient's cursor; it is confirmed after the mail server accepts it. A run killed in
between leaves it pending, and the next run resends exactly that message. A subscription's
``delivered_at`` is when a server last accepted one of its digests: what "last sent" means.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from mapsheets.adapters.store.base import Repository, guarded
from mapsheets.core.vocabulary import DIGEST_PERIODS

PERIODS = tuple(DIGEST_PERIODS)
# Longer than any one send can take: a claim this old was left by a run that was killed.
CLAIM_LEASE = timedelta(minutes=15)


@dataclass(frozen=True)
class SubscriptionRecord:
    id: int
    ref: str
    email: str
    every: str
    only_changes: bool
    created_at: datetime
    last_sent_at: datetime | None
    last_revision_id: int | None
    last_run_at: datetime | None = None
    name: str = ""  # as given with the address ("Jane Doe <jane@...>"), for the To header
    bounced_at: datetime | None = None  # refused for good by the subscriber's mail server
    bounce_reason: str = ""
    delivered_at: datetime | None = None  # a mail server last accepted a digest for them (None: never)


@dataclass(frozen=True)
class DeliveryRecord:
    id: int
    subscription_id: int
    message_id: str
    to_revision_id: int
    status: str
    attempts: int
    message: str
    email: str = ""  # the subscriber: the one envelope recipient


class DigestRepository(Repository):
    """``store.digests``: subscriptions, the outbox of deliveries, and bounces."""

    @guarded
    def watch(self, ref: str, emails: list[str], *, every: str, only_changes: bool, now: datetime,
              start_revision_id: int | None = None, names: dict[str, str] | None = None) -> list[SubscriptionRecord]:
        """Subscribe each email to a registered plan; an existing subscription takes the new settings.

        New subscribers' first digest covers what changed after ``start_revision_id``. ``names``
        (email -> name) are kept for the To header; an existing name stays unless a new one is given.
        """
        names = names or {}
        sa, s = self._sa, self._t.subscriptions
        with self._tx(write=True) as conn:
            plan_id = self._required_plan(conn, ref)
            for email in emails:
                row = conn.execute(sa.select(s.c.id).where(s.c.plan_id == plan_id, s.c.email == email)).first()
                if row is None:
                    conn.execute(sa.insert(s).values(plan_id=plan_id, email=email, every=every,
                                                     only_changes=only_changes, created_at=now,
                                                     last_revision_id=start_revision_id, name=names.get(email, "")))
                else:
                    named = {"name": names[email]} if names.get(email) else {}
                    conn.execute(sa.update(s).where(s.c.id == row.id).values(every=every, only_changes=only_changes,
                                                                              **named))
                    # Watching again after a bounce: the person says the address works now.
                    conn.execute(sa.delete(self._t.bounces).where(self._t.bounces.c.subscription_id == row.id))
        return [sub for sub in self.subscriptions(ref) if sub.email in emails]

    @guarded
    def unwatch(self, ref: str, emails: list[str] | None = None) -> int:
        """Remove subscriptions to a plan (all of them without ``emails``); how many were removed."""
        sa, s = self._sa, self._t.subscriptions
        with self._tx(write=True) as conn:
            plan_id = self._required_plan(conn, ref)
            query = sa.delete(s).where(s.c.plan_id == plan_id)
            if emails is not None:
                query = query.where(s.c.email.in_(emails))
            removed: int = conn.execute(query).rowcount
            return removed

    @guarded
    def subscriptions(self, ref: str | None = None) -> list[SubscriptionRecord]:
        sa, t = self._sa, self._t
        s, p, b, d = t.subscriptions, t.plans, t.bounces, t.deliveries
        delivered = (sa.select(sa.func.max(d.c.sent_at)).where(d.c.subscription_id == s.c.id, d.c.status == "sent")
                     .scalar_subquery())
        query = (sa.select(s, p.c.ref, b.c.at.label("bounced_at"), b.c.reason.label("bounce_reason"),
                           delivered.label("delivered_at"))
                 .join(p, p.c.id == s.c.plan_id).outerjoin(b, b.c.subscription_id == s.c.id)
                 .order_by(p.c.ref, s.c.email))
        if ref is not None:
            query = query.where(p.c.ref == ref)
        with self._tx() as conn:
            rows = conn.execute(query).all()
        return [SubscriptionRecord(r.id, r.ref, r.email, r.every, bool(r.only_changes), r.created_at,
                                   r.last_sent_at, r.last_revision_id, r.last_run_at, r.name, r.bounced_at,
                                   r.bounce_reason or "", r.delivered_at) for r in rows]

    @guarded
    def record_delivery(self, subscription: SubscriptionRecord, *, message_id: str, to_revision_id: int,
                        message: str, now: datetime) -> DeliveryRecord | None:
        """Record a digest as pending and move the recipient's cursor past it, atomically.

        Compare-and-set on the cursor: if another run moved it since ``subscription`` was read,
        nothing is recorded and None comes back, so overlapping cron runs never both send.
        """
        sa, t = self._sa, self._t
        d, s = t.deliveries, t.subscriptions
        with self._tx(write=True) as conn:
            moved = conn.execute(sa.update(s).where(s.c.id == subscription.id, self._unchanged(subscription))
                                 .values(last_sent_at=now, last_run_at=now, last_revision_id=to_revision_id)).rowcount
            if not moved:
                return None
            conn.execute(sa.insert(d).values(
                subscription_id=subscription.id, message_id=message_id,
                from_revision_id=subscription.last_revision_id, to_revision_id=to_revision_id, created_at=now,
                status="pending", attempts=0, last_error="", message=message))
            row = conn.execute(self._deliveries().where(d.c.message_id == message_id)).one()
        return _delivery(row)

    def _deliveries(self) -> Any:
        d, s = self._t.deliveries, self._t.subscriptions
        return self._sa.select(d, s.c.email).join(s, s.c.id == d.c.subscription_id)

    def _unchanged(self, subscription: SubscriptionRecord) -> Any:
        ran = self._t.subscriptions.c.last_run_at
        return ran.is_(None) if subscription.last_run_at is None else ran == subscription.last_run_at

    @guarded
    def mark_considered(self, subscription: SubscriptionRecord, now: datetime) -> bool:
        """A run looked at this subscription and had nothing to send: its next slot is a period on."""
        sa, s = self._sa, self._t.subscriptions
        with self._tx(write=True) as conn:
            return bool(conn.execute(sa.update(s).where(s.c.id == subscription.id, self._unchanged(subscription))
                                     .values(last_run_at=now)).rowcount == 1)

    @guarded
    def mark_considered_all(self, subscriptions: list[SubscriptionRecord], now: datetime) -> None:
        """``mark_considered`` for many, in one transaction and two statements (one commit, one
        compiled statement, not one each); those another run moved meanwhile are left as they are."""
        sa, s = self._sa, self._t.subscriptions
        never = [sub.id for sub in subscriptions if sub.last_run_at is None]
        again = [{"sub_id": sub.id, "was": sub.last_run_at} for sub in subscriptions if sub.last_run_at is not None]
        with self._tx(write=True) as conn:
            for at in range(0, len(never), 500):  # bound parameters per statement stay well under any limit
                conn.execute(sa.update(s).where(s.c.id.in_(never[at:at + 500]), s.c.last_run_at.is_(None))
                             .values(last_run_at=now))
            if again:
                same = (s.c.id == sa.bindparam("sub_id"), s.c.last_run_at == sa.bindparam("was"))
                conn.execute(sa.update(s).where(*same).values(last_run_at=now), again)

    @guarded
    def claim_delivery(self, delivery: DeliveryRecord, now: datetime, lease: timedelta = CLAIM_LEASE) -> bool:
        """Take a pending delivery for sending; False if another run holds it (or already sent it).

        A claim older than ``lease`` belongs to a run that died; it may be taken over.
        """
        sa, d = self._sa, self._t.deliveries
        free = sa.or_(d.c.claimed_at.is_(None), d.c.claimed_at < now - lease)
        with self._tx(write=True) as conn:
            return bool(conn.execute(sa.update(d).where(d.c.id == delivery.id, d.c.status == "pending", free)
                                     .values(attempts=d.c.attempts + 1, claimed_at=now)).rowcount == 1)

    @guarded
    def release_delivery(self, delivery_id: int, error: str) -> None:
        """Sending failed: keep it pending for the next run, and say why."""
        sa, d = self._sa, self._t.deliveries
        with self._tx(write=True) as conn:
            conn.execute(sa.update(d).where(d.c.id == delivery_id).values(claimed_at=None, last_error=error[:500]))

    @guarded
    def defer_delivery(self, delivery: DeliveryRecord, error: str, now: datetime, *, limit: int) -> str | None:
        """The server said "try again later" (4xx): pending for the next run, unless this was the
        ``limit``-th run it said so; then the subscriber is bounced, and the reason comes back."""
        sa, d = self._sa, self._t.deliveries
        with self._tx(write=True) as conn:
            conn.execute(sa.update(d).where(d.c.id == delivery.id)
                         .values(deferrals=d.c.deferrals + 1, claimed_at=None, last_error=error[:500]))
            count = conn.execute(sa.select(d.c.deferrals).where(d.c.id == delivery.id)).scalar()
            if count < limit:
                return None
            reason = f"{error} (still refused after {count} runs)"
            self._refuse(conn, delivery, reason, now, bounced=True)
        return reason

    @guarded
    def refuse_delivery(self, delivery: DeliveryRecord, error: str, now: datetime, *, bounced: bool) -> None:
        """Refused for good: the delivery is never retried; with ``bounced``, neither is its
        subscriber (no digests, and its other pending ones dropped) until watched again."""
        with self._tx(write=True) as conn:
            self._refuse(conn, delivery, error, now, bounced=bounced)

    def _refuse(self, conn: Any, delivery: DeliveryRecord, error: str, now: datetime, *, bounced: bool) -> None:
        sa, d, b = self._sa, self._t.deliveries, self._t.bounces
        conn.execute(sa.update(d).where(d.c.id == delivery.id)
                     .values(status="refused", claimed_at=None, last_error=error[:500]))
        if not bounced:
            return
        conn.execute(sa.update(d).where(d.c.subscription_id == delivery.subscription_id, d.c.status == "pending")
                     .values(status="refused", last_error=error[:500]))
        if conn.execute(sa.update(b).where(b.c.subscription_id == delivery.subscription_id)
                        .values(at=now, reason=error[:500])).rowcount == 0:
            conn.execute(sa.insert(b).values(subscription_id=delivery.subscription_id, at=now, reason=error[:500]))

    @guarded
    def pending_deliveries(self) -> list[DeliveryRecord]:
        d = self._t.deliveries
        with self._tx() as conn:
            rows = conn.execute(self._deliveries().where(d.c.status == "pending").order_by(d.c.id)).all()
        return [_delivery(r) for r in rows]

    @guarded
    def pending_subscriptions(self) -> set[int]:
        """Subscriptions with a digest recorded and not yet accepted or refused."""
        d = self._t.deliveries
        with self._tx() as conn:
            return set(conn.execute(self._sa.select(d.c.subscription_id).where(d.c.status == "pending")).scalars())

    @guarded
    def mark_sent(self, delivery_id: int, now: datetime) -> None:
        sa, d = self._sa, self._t.deliveries
        with self._tx(write=True) as conn:
            conn.execute(sa.update(d).where(d.c.id == delivery_id).values(status="sent", sent_at=now, last_error=""))


def _delivery(row: Any) -> DeliveryRecord:
    return DeliveryRecord(id=row.id, subscription_id=row.subscription_id, message_id=row.message_id,
                          to_revision_id=row.to_revision_id, status=row.status, attempts=row.attempts,
                          message=row.message, email=row.email)
