"""Digests and hostile mail: sheet text that tries to add recipients, servers that refuse an
address for good, and servers that accept a connection and never answer. Real SMTP on loopback
(aiosmtpd), real workbooks on both backends."""

from __future__ import annotations

import contextlib
import email
import email.policy
import itertools
import socket
import time
from dataclasses import replace
from datetime import timedelta

import pytest
from cli_helpers import invoke_cli
from digest_helpers import T0, outbox_messages
from smtp_servers import smtp_server as serving

from mapsheets.adapters.mail import OutboxMailer, SmtpMailer
from mapsheets.core.model import Stakeholder
from mapsheets.service import digest
from mapsheets.service.workbooks import open_workbook, read_parsed

SUBSCRIBERS = ["ae@globex.example", "champion@acme.example"]
EVIL_WORD = "=?utf-8?q?Evil=0D=0ABcc:_attacker@evil.example?="
HOSTILE = [
    EVIL_WORD,
    "=?utf-8?b?WA0KQ2M6IGF0dGFja2VyMkBldmlsLmV4YW1wbGU=?=",  # "X\r\nCc: attacker2@evil.example"
    "Acme\r\nBcc: attacker3@evil.example",
    "<attacker4@evil.example>, Mallory <attacker5@evil.example>",
    '"Evil, Inc." <attacker6@evil.example>; To: attacker7@evil.example',
    "=?utf-8?q?x?= =?utf-8?q?=0ATo:_attacker8@evil.example?=",
]
ATTACKERS = [f"attacker{n}@evil.example" for n in ("", 2, 3, 4, 5, 6, 7, 8)]
ADDRESS_HEADERS = ("to", "cc", "bcc", "resent-to", "resent-cc", "resent-bcc", "sender", "reply-to")


class Recorder:
    """aiosmtpd handler keeping each message with its envelope; refuses some addresses for good."""

    def __init__(self, refuse: dict[str, str] | None = None):
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []
        self.refuse = refuse or {}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        parsed = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        self.messages.append((list(envelope.rcpt_tos), parsed))
        return "250 OK"


@pytest.fixture
def smtp_server():
    with contextlib.ExitStack() as servers:
        yield lambda refuse=None: servers.enter_context(serving(Recorder(refuse)))


def hostile(plan, *, named: bool):
    """Every overview and team text field holds an attack; ``named=False`` leaves buyer and seller
    empty so the plan title is what the subject shows."""
    pick = itertools.cycle(HOSTILE)
    overview = {f: next(pick) for f in ("title", "buyer", "seller", "problem", "solution", "buying_process",
                                       "seller_lead", "buyer_lead")}
    if not named:
        overview.update(buyer="", seller="")
    team = [Stakeholder(name=next(pick), email=next(pick), side=s.side, role=next(pick)) for s in plan.stakeholders]
    steps = [replace(s, title=HOSTILE[i % len(HOSTILE)], notes=HOSTILE[-1 - i % len(HOSTILE)], owners=[HOSTILE[3]])
             for i, s in enumerate(plan.steps)]
    return replace(plan, **overview, stakeholders=team, steps=steps)


def make_plans(backend, plan, tmp_path, google_env):
    from mapsheets.core.layout import workbook_spec

    refs = []
    for named in (True, False):
        spec = workbook_spec(hostile(plan, named=named))
        if backend == "xlsx":
            from mapsheets.adapters.xlsx import write_workbook

            path = tmp_path / f"hostile-{named}.xlsx"
            write_workbook(path, spec)
            refs.append(str(path))
        else:
            from google.oauth2.credentials import Credentials

            from mapsheets.adapters.gsheets import GoogleWorkbook, make_client

            book = GoogleWorkbook(None, make_client(Credentials(token="t"), google_env.root))
            book.create(spec)
            refs.append(book.sheet_id)
    return refs


def mark_first_step_done(ref):
    book = open_workbook(ref)
    _grid, parsed = read_parsed(book)
    step = parsed.plan.steps[0]
    book.update_cells("Plan", {(parsed.location.step_rows[step.id], parsed.location.columns["Status"]): "Done"})


def assert_only_subscribers(to_header_and_envelope):
    """Each digest names exactly one subscriber, in its headers and (SMTP) its envelope; together, all."""
    seen = []
    for envelope, message in to_header_and_envelope:
        header_addresses = sorted(a.addr_spec for h in ADDRESS_HEADERS for v in message.get_all(h, [])
                                  for a in v.addresses)
        assert len(header_addresses) == 1 and header_addresses[0] in SUBSCRIBERS, message.items()
        assert envelope in (None, header_addresses)
        assert not any(name.lower() in ADDRESS_HEADERS[1:] for name in message.keys())
        subject = str(message["Subject"])
        assert "\r" not in subject and "\n" not in subject and "attacker" not in str(message.get("To"))
        raw = message.as_string()
        assert not any(f"\n{h}:" in raw.lower() for h in ("bcc", "cc", "resent-to")), raw[:2000]
        seen.append(header_addresses[0])
    assert sorted(seen) == sorted(SUBSCRIBERS * 2)  # two plans, two subscribers each
    return seen


@pytest.mark.parametrize("backend", ["xlsx", "google"])
@pytest.mark.parametrize("transport", ["smtp", "outbox"])
def test_sheet_text_never_adds_a_recipient(backend, transport, plan, db, tmp_path, request, smtp_server):
    google_env = request.getfixturevalue("google_env") if backend == "google" else None
    refs = make_plans(backend, plan, tmp_path, google_env)
    for ref in refs:
        digest.watch(ref, SUBSCRIBERS, now=T0, store_url=db)
    if google_env is not None:
        google_env.clock.advance(hours=1)
    for ref in refs:
        mark_first_step_done(ref)
    if transport == "smtp":
        server = smtp_server()
        report = digest.run(now=T0 + timedelta(days=1), mailer=SmtpMailer(server.url), store_url=db)
        received = server.messages
    else:
        outbox = tmp_path / "outbox"
        report = digest.run(now=T0 + timedelta(days=1), mailer=OutboxMailer(outbox), store_url=db)
        received = [(None, m) for m in outbox_messages(outbox)]
    assert report.failed == [] and len(report.sent) == 4
    assert_only_subscribers(received)
    subjects = [str(m["Subject"]) for _e, m in received]
    # The encoded word is shown as the text it is, never decoded into a header line.
    assert any(EVIL_WORD in s for s in subjects), subjects
    assert all(s.startswith("[MAP] ") for s in subjects)


cli = invoke_cli


def test_an_address_refused_for_good_is_told_once_then_skipped_until_watched_again(plan_file, db, smtp_server):
    server = smtp_server(refuse={"champion@acme.example": "550 5.1.1 champion@acme.example: no such user"})
    digest.watch(str(plan_file), SUBSCRIBERS, now=T0, store_url=db)
    mark_first_step_done(str(plan_file))
    day1 = T0 + timedelta(days=1)
    result = cli("digest", "--now", day1.isoformat(), "--smtp", server.url, "--db", db)
    assert result.exit_code == 0, result.output
    assert ("bounced: champion@acme.example refused for good (550 5.1.1 champion@acme.example: no such user); "
            "no more digests to it until you `watch` it again") in result.stderr
    assert [envelope for envelope, _m in server.messages] == [["ae@globex.example"]]
    listing = cli("watching", "--db", db).output
    assert "champion@acme.example  daily  last sent" in listing
    assert "bounced: 550 5.1.1 champion@acme.example: no such user on 2026-12-02" in listing

    # Later runs neither retry the refused digest nor build new ones for the address, and say nothing.
    book = open_workbook(str(plan_file))
    _grid, parsed = read_parsed(book)
    step = parsed.plan.steps[1]
    book.update_cells("Plan", {(parsed.location.step_rows[step.id], parsed.location.columns["Status"]): "Done"})
    result = cli("digest", "--now", (day1 + timedelta(days=1)).isoformat(), "--smtp", server.url, "--db", db)
    assert result.exit_code == 0 and "bounced" not in result.output + result.stderr
    assert [envelope for envelope, _m in server.messages] == [["ae@globex.example"]] * 2
    from mapsheets.adapters.store import Store

    with Store(db) as store:
        assert store.digests.pending_deliveries() == []

    # Watching it again says the address works now: digests resume.
    server.refuse.clear()
    digest.watch(str(plan_file), ["champion@acme.example"], now=day1, store_url=db)
    assert "bounced" not in cli("watching", "--db", db).output
    report = digest.run(now=day1 + timedelta(days=2), mailer=SmtpMailer(server.url), store_url=db)
    assert report.bounced == [] and [to for to, _s in report.sent] == ["champion@acme.example"]


def test_a_server_that_never_answers_costs_the_send_budget_not_30s_a_message(plan_file, db, smtp_server):
    digest.watch(str(plan_file), SUBSCRIBERS + ["third@acme.example"], now=T0, store_url=db)
    mark_first_step_done(str(plan_file))
    with socket.socket() as silent:  # accepts connections (backlog) but never greets
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        hung = SmtpMailer(f"smtp://127.0.0.1:{silent.getsockname()[1]}")  # the default 30 s timeout
        started = time.monotonic()
        # 3 s: the budget counts from the run's start, and reading the plan on a loaded machine takes a while
        report = digest.run(now=T0 + timedelta(days=1), mailer=hung, store_url=db, send_budget=3.0)
        took = time.monotonic() - started
    assert took < 10, took  # one send cut at the budget, not 3 × 30 s
    assert len(report.failed) == 1 and "timed out" in report.failed[0] and report.deferred == 2
    assert any("send budget (3 s) ran out: 2 digest(s) left pending" in n for n in report.notes)
    # Nothing lost: the next run, with a server that answers, sends all three first.
    server = smtp_server()
    retry = digest.run(now=T0 + timedelta(days=1, minutes=10), mailer=SmtpMailer(server.url), store_url=db)
    assert retry.resent == 3 and retry.failed == [] and retry.deferred == 0
    assert sorted(e[0] for e, _m in server.messages) == sorted(SUBSCRIBERS + ["third@acme.example"])


def test_one_unsendable_message_does_not_stop_everyone_elses_digest(plan, db, tmp_path):
    """A subscriber name that cannot go into a header safely (an encoded word hiding a Bcc) fails
    that one digest, named in the report; every other digest still goes out."""
    import shutil

    from mapsheets.adapters.xlsx import write_workbook
    from mapsheets.core.layout import workbook_spec

    first, second = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    write_workbook(first, workbook_spec(plan))
    shutil.copy(first, second)
    digest.watch(str(first), ["=?utf-8?q?X=0D=0ABcc:_e@evil.example?= <bob@acme.example>"], now=T0, store_url=db)
    digest.watch(str(second), ["carol@acme.example"], now=T0, store_url=db)
    for path in (first, second):
        mark_first_step_done(str(path))
    report = digest.run(now=T0 + timedelta(days=1), mailer=OutboxMailer(tmp_path / "outbox"), store_url=db)
    assert [to for to, _subject in report.sent] == ["carol@acme.example"]
    assert len(report.failed) == 1 and "bob@acme.example" in report.failed[0]
    assert [m["To"] for m in outbox_messages(tmp_path / "outbox")] == ["carol@acme.example"]
