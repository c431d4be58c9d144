"""Digest delivery against a real SMTP server on loopback, with real SIGKILLs of the
`mapsheets digest` process at the worst moments: nothing lost, nothing sent twice."""

from __future__ import annotations

import email
import email.policy
import os
import signal
import subprocess
import sys
import threading
from datetime import datetime, timedelta

import pytest
from digest_helpers import T0, html_of
from plan_cells import edit_steps as edit
from smtp_servers import smtp_server

from mapsheets.adapters.mail import SmtpMailer
from mapsheets.service import digest


class Recorder:
    """aiosmtpd handler: keeps what it accepted; can SIGKILL the client at a chosen moment."""

    def __init__(self):
        self.received: list[email.message.EmailMessage] = []
        self.kill_pid: int | None = None
        self.kill_on: str | None = None  # "ehlo": before anything is sent; "data": sent, not confirmed
        self.drop_data = False
        self.lock = threading.Lock()
        self.hold = False  # the next client waits at EHLO until `released` is set
        self.held, self.released = threading.Event(), threading.Event()

    def _maybe_kill(self, moment: str) -> None:
        if self.kill_on == moment and self.kill_pid:
            os.kill(self.kill_pid, signal.SIGKILL)
            self.kill_on = None

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        self._maybe_kill("ehlo")
        if self.hold:
            import asyncio

            self.hold = False
            self.held.set()
            await asyncio.get_running_loop().run_in_executor(None, self.released.wait, 30)
        return responses

    async def handle_DATA(self, server, session, envelope):
        if self.drop_data:
            self.drop_data = False
            server.transport.close()  # the connection drops mid-send
            return "421 dropped"
        with self.lock:
            self.received.append(email.message_from_bytes(envelope.original_content, policy=email.policy.default))
        self._maybe_kill("data")  # the server has it; the client dies before hearing 250
        return "250 OK"


@pytest.fixture
def smtp():
    with smtp_server(Recorder()) as handler:
        yield handler


def run_cli(db: str, smtp_url: str, now: datetime, smtp: Recorder | None = None, kill_on: str | None = None):
    env = {**os.environ, "MAPSHEETS_DB": db, "MAPSHEETS_SMTP_URL": smtp_url}
    proc = subprocess.Popen([sys.executable, "-m", "mapsheets.cli", "digest", "--now", now.isoformat()],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if smtp is not None:
        smtp.kill_pid, smtp.kill_on = proc.pid, kill_on
    out, err = proc.communicate(timeout=60)
    return proc.returncode, out, err


def _changed_plan(plan_file, db):
    digest.watch(str(plan_file), ["ae@globex.example", "champion@acme.example"], now=T0, store_url=db)
    edit(plan_file, {(0, "Status"): "Done"})


def test_killed_after_the_server_took_it_resends_the_same_message_only(plan_file, db, smtp):
    _changed_plan(plan_file, db)
    code, _out, _err = run_cli(db, smtp.url, T0 + timedelta(days=1), smtp, kill_on="data")
    assert code == -signal.SIGKILL
    first_ids = [m["Message-ID"] for m in smtp.received]
    assert len(first_ids) == 1  # killed right after the first message reached the server
    # Within the claim lease the message is left alone (the killed run might still be sending)...
    run_cli(db, smtp.url, T0 + timedelta(days=1, minutes=5))
    assert [m["Message-ID"] for m in smtp.received][:1] == first_ids and len(smtp.received) == 2
    # ...after it, the unconfirmed message goes out again.
    code, out, err = run_cli(db, smtp.url, T0 + timedelta(days=1, minutes=20))
    assert code == 0, err
    ids = [m["Message-ID"] for m in smtp.received]
    # No loss: both recipients have their digest. No duplicate: the unconfirmed one went out again
    # with its own Message-ID (receivers fold it into one), nothing else was sent twice.
    assert sorted({m["To"] for m in smtp.received}) == ["ae@globex.example", "champion@acme.example"]
    assert len(set(ids)) == 2 and ids.count(first_ids[0]) == 2 and len(ids) == 3
    code, _out, _err = run_cli(db, smtp.url, T0 + timedelta(days=1, minutes=40))
    assert len(smtp.received) == 3  # and a later run sends nothing


def test_killed_after_recording_before_sending_loses_nothing(plan_file, db, smtp):
    _changed_plan(plan_file, db)
    code, _out, _err = run_cli(db, smtp.url, T0 + timedelta(days=1), smtp, kill_on="ehlo")
    assert code == -signal.SIGKILL and smtp.received == []
    code, _out, err = run_cli(db, smtp.url, T0 + timedelta(days=1, minutes=20))
    assert code == 0, err
    assert sorted(m["To"] for m in smtp.received) == ["ae@globex.example", "champion@acme.example"]
    assert len({m["Message-ID"] for m in smtp.received}) == 2


def test_connection_dropped_mid_send_is_retried_next_run(plan_file, db, smtp):
    digest.watch(str(plan_file), ["ae@globex.example"], now=T0, store_url=db)
    edit(plan_file, {(0, "Status"): "Done"})
    smtp.drop_data = True
    report = digest.run(now=T0 + timedelta(days=1), mailer=SmtpMailer(smtp.url), store_url=db)
    assert report.sent == [] and len(report.failed) == 1 and smtp.received == []
    retry = digest.run(now=T0 + timedelta(days=1, minutes=5), mailer=SmtpMailer(smtp.url), store_url=db)
    assert retry.resent == 1 and len(smtp.received) == 1
    assert "is now done" in html_of(smtp.received[0])


def test_two_overlapping_runs_never_both_send_one_digest(plan_file, db, smtp):
    """Run A has read the subscriptions and is stuck sending the first digest; run B, started
    meanwhile, records and sends the second; A then reaches the second with what it read before B
    moved that recipient's cursor. The compare-and-set in record_delivery must turn A away."""
    _changed_plan(plan_file, db)
    env = {**os.environ, "MAPSHEETS_DB": db, "MAPSHEETS_SMTP_URL": smtp.url}
    now = (T0 + timedelta(days=1)).isoformat()
    smtp.hold = True
    run_a = subprocess.Popen([sys.executable, "-m", "mapsheets.cli", "digest", "--now", now],
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert smtp.held.wait(30), "run A never reached the mail server"
        code, _out, err = run_cli(db, smtp.url, T0 + timedelta(days=1, minutes=1))
        assert code == 0, err
        assert [m["To"] for m in smtp.received] == ["champion@acme.example"]  # B: only what A had not taken
    finally:
        smtp.released.set()
    _out, err = run_a.communicate(timeout=60)
    assert run_a.returncode == 0, err
    assert sorted(m["To"] for m in smtp.received) == ["ae@globex.example", "champion@acme.example"]
