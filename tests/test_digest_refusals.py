"""A mail server that refuses, across several real `mapsheets digest` runs (aiosmtpd on loopback):
each digest is tried once per run, never piles up, a 5xx is final, a 4xx is given up after the
limit, and `watching` says "last sent" only for what a server accepted."""

from __future__ import annotations

import email
import email.policy
import threading
from collections import Counter
from datetime import timedelta
from types import SimpleNamespace

import pytest
from cli_helpers import run_cli
from digest_helpers import T0
from plan_cells import edit_steps as edit
from smtp_servers import free_port, smtp_server

from mapsheets.adapters.mail import OutboxMailer, SmtpMailer, build_message
from mapsheets.adapters.store import Store
from mapsheets.service import digest

OK, GONE, SPAM, BUSY = "ok@globex.example", "gone@acme.example", "spam@acme.example", "busy@acme.example"
# Four runs on four weekdays (Wednesday to Friday, then Monday): each one is due.
RUNS = [T0 + timedelta(days=d) for d in (1, 2, 3, 6)]


class Refusing:
    """Accepts OK's mail; answers GONE's at DATA with a mailbox code (the address is dead), SPAM's
    at DATA with a content code (this message is refused, the address is fine), and BUSY's at RCPT
    with "try again later". Counts every RCPT and every message that reached DATA."""

    def __init__(self):
        self.rcpts: list[str] = []
        self.data: list[tuple[str, str]] = []  # (recipient, Message-ID)
        self.accepted: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self.lock:
            self.rcpts.append(address)
        if address == BUSY:
            return "450 4.2.1 mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        [to] = envelope.rcpt_tos
        msgid = email.message_from_bytes(envelope.original_content, policy=email.policy.default)["Message-ID"]
        with self.lock:
            self.data.append((to, msgid))
        if to == GONE:
            return "550 5.1.1 <gone@acme.example>: mailbox unavailable"
        if to == SPAM:
            return "554 5.7.1 message content rejected"
        with self.lock:
            self.accepted.append((to, msgid))
        return "250 OK"


@pytest.fixture
def refusing():
    with smtp_server(Refusing()) as handler:
        yield handler


def mapsheets(db: str, *args: str, smtp_url: str = ""):
    return run_cli(*args, db=db, env={"MAPSHEETS_SMTP_URL": smtp_url})


def line_of(listing: str, address: str) -> str:
    [line] = [line for line in listing.splitlines() if line.startswith(address + " ")]
    return line


def test_refusing_server_over_four_runs_one_attempt_each_final_5xx_bounded_4xx(plan_file, db, refusing):
    digest.watch(str(plan_file), [OK, GONE, SPAM, BUSY], now=T0, store_url=db)
    stderrs = []
    for run, now in enumerate(RUNS):
        edit(plan_file, {(run, "Status"): "Done"})  # something to tell in every run
        rcpts_before, data_before = len(refusing.rcpts), len(refusing.data)
        done = mapsheets(db, "digest", "--now", now.isoformat(), smtp_url=refusing.url)
        stderrs.append(done.stderr)
        tried = Counter(refusing.rcpts[rcpts_before:])
        # One attempt per message per run: never an earlier failure again beside a new digest.
        assert max(tried.values()) == 1, (run, tried)
        assert tried[OK] == 1 and tried[SPAM] == 1  # both still get a digest each run
        assert tried[GONE] == (1 if run == 0 else 0)  # 550 5.1.1: dead at once
        assert tried[BUSY] == (1 if run < 3 else 0)  # 450: runs 1-3, then given up
        assert len(refusing.data) - data_before == 3 - (run > 0)  # OK, SPAM (and GONE in run 1)
    # A message refused for its content is never resent: each SPAM digest is a new message.
    spam_ids = [msgid for to, msgid in refusing.data if to == SPAM]
    assert len(spam_ids) == 4 and len(set(spam_ids)) == 4
    # Each bounce is said once, in the run that decided it; a content refusal is a failure, not a bounce.
    assert [f"bounced: {GONE}" in err for err in stderrs] == [True, False, False, False]
    assert [f"bounced: {BUSY}" in err for err in stderrs] == [False, False, True, False]
    assert "450 4.2.1 mailbox busy, try again later (still refused after 3 runs)" in stderrs[2]
    assert all(f"bounced: {SPAM}" not in err and "554 5.7.1 message content rejected" in err for err in stderrs)

    listing = mapsheets(db, "watching").stdout
    last_accepted = RUNS[-1].strftime("%Y-%m-%d %H:%M")
    assert f"last sent {last_accepted}" in line_of(listing, OK) and "bounced" not in line_of(listing, OK)
    for address in (GONE, SPAM, BUSY):  # never accepted: never "last sent"
        assert "last sent never" in line_of(listing, address), listing
    assert "bounced: 550 5.1.1 <gone@acme.example>: mailbox unavailable" in line_of(listing, GONE)
    assert "bounced: 450 4.2.1 mailbox busy" in line_of(listing, BUSY)
    assert "bounced" not in line_of(listing, SPAM)  # the address is fine: its next digest goes out
    with Store(db) as store:
        assert store.digests.pending_deliveries() == []


def test_a_message_mapsheets_refuses_does_not_bounce_its_subscriber(plan_file, db, tmp_path):
    """A digest recorded by an older mapsheets whose headers name someone else is refused by our own
    check before it leaves: that message is final, the subscriber keeps getting digests."""
    digest.watch(str(plan_file), [SPAM], now=T0, store_url=db)
    outbox = tmp_path / "outbox"
    with Store(db) as store:
        [sub] = store.digests.subscriptions()
        legacy = build_message(sender="mapsheets@localhost", to=[SPAM], subject="old", html="<p>x</p>", text="x",
                               message_id="<legacy@localhost>")
        text = legacy.as_string().replace(f"To: {SPAM}\n", f"To: {SPAM}\nBcc: attacker@evil.example\n")
        store.digests.record_delivery(sub, message_id="<legacy@localhost>", to_revision_id=sub.last_revision_id,
                                      message=text, now=T0)
    edit(plan_file, {(0, "Status"): "Done"})
    report = digest.run(now=RUNS[0], mailer=OutboxMailer(outbox), store_url=db)
    assert report.bounced == [] and any("names other recipients" in f for f in report.failed)
    [sub] = digest.watching(store_url=db)
    assert sub.bounced_at is None
    edit(plan_file, {(1, "Status"): "Done"})
    later = digest.run(now=RUNS[1], mailer=OutboxMailer(outbox), store_url=db)
    assert [to for to, _subject in later.sent] == [SPAM] and later.failed == []
    assert [p.name for p in outbox.glob("legacy*")] == []  # the refused one never went out


def test_a_delivery_already_sent_cannot_be_claimed_again(plan_file, db, tmp_path):
    digest.watch(str(plan_file), [OK], now=T0, store_url=db)
    edit(plan_file, {(0, "Status"): "Done"})
    digest.run(now=RUNS[0], mailer=OutboxMailer(tmp_path / "outbox"), store_url=db)
    [(delivery_id, status, attempts)] = _deliveries(db)
    assert (status, attempts) == ("sent", 1)
    with Store(db) as store:
        # Long after any lease: a sent digest is still not anyone's to send.
        assert store.digests.claim_delivery(SimpleNamespace(id=delivery_id), RUNS[0] + timedelta(days=30)) is False
        assert store.digests.pending_deliveries() == []
    assert _deliveries(db) == [(delivery_id, "sent", 1)]
    # A run after the lease (the same day: no new digest due) sends nothing again.
    later = digest.run(now=RUNS[0] + timedelta(minutes=20), mailer=OutboxMailer(tmp_path / "outbox"), store_url=db)
    assert later.resent == 0 and later.sent == [] and len(list((tmp_path / "outbox").glob("*.eml"))) == 1


def test_a_pending_digest_is_claimed_once_until_its_lease_runs_out(plan_file, db, tmp_path):
    digest.watch(str(plan_file), [OK], now=T0, store_url=db)
    with Store(db) as store:
        [sub] = store.digests.subscriptions()
        delivery = store.digests.record_delivery(sub, message_id="<p@localhost>", to_revision_id=sub.last_revision_id,
                                                 message="x", now=T0)
        assert store.digests.claim_delivery(delivery, T0) is True
        assert store.digests.claim_delivery(delivery, T0 + timedelta(minutes=5)) is False  # another run holds it
        assert store.digests.claim_delivery(delivery, T0 + timedelta(hours=1)) is True  # that run died
        store.digests.mark_sent(delivery.id, T0)
        assert store.digests.claim_delivery(delivery, T0 + timedelta(days=1)) is False


def test_the_4xx_limit_is_a_run_count_and_a_server_outage_does_not_count(plan_file, db, refusing):
    """No connection at all is the server's trouble, not the person's: it never bounces anyone."""
    digest.watch(str(plan_file), [BUSY], now=T0, store_url=db)
    edit(plan_file, {(0, "Status"): "Done"})
    nobody = SmtpMailer(f"smtp://127.0.0.1:{free_port()}", timeout=5)
    for day in range(5):
        report = digest.run(now=RUNS[0] + timedelta(minutes=day), mailer=nobody, store_url=db)
        assert report.bounced == [] and len(report.failed) == 1
    tried = digest.run(now=RUNS[0] + timedelta(minutes=10), mailer=SmtpMailer(refusing.url), store_url=db,
                       retry_runs=2)
    assert tried.bounced == [] and refusing.rcpts == [BUSY]
    given_up = digest.run(now=RUNS[0] + timedelta(minutes=20), mailer=SmtpMailer(refusing.url), store_url=db,
                          retry_runs=2)
    assert [to for to, _reason in given_up.bounced] == [BUSY] and refusing.rcpts == [BUSY, BUSY]


def _deliveries(db: str) -> list[tuple[int, str, int]]:
    """(id, status, attempts) of every recorded digest, as the database holds them."""
    import sqlalchemy as sa

    engine = sa.create_engine(db)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text("SELECT id, status, attempts FROM deliveries ORDER BY id"))]
    finally:
        engine.dispose()


