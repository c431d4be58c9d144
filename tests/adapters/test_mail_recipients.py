"""Mail that must not reach anyone else: sheet text in headers, envelopes apart from headers,
addresses refused for good, and who may read the outbox. A real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import pytest
from test_mail import HTML, TEXT, TO, Recorder, message, received, serve, server  # noqa: F401 (fixture)

from mapsheets.adapters.mail import OutboxMailer, SmtpMailer, build_message
from mapsheets.errors import RemoteError


def test_sheet_text_that_looks_like_an_encoded_word_stays_that_text():
    """``=?utf-8?q?...=0D=0A...?=`` in a sheet cell must not become a header line (RFC 2047 decoding)."""
    evil = "[MAP] =?utf-8?q?Evil=0D=0ABcc:_attacker@evil.example?= × Globex: 1 change"
    header = "=?utf-8?b?WA0KQ2M6IGF0dGFja2VyQGV2aWwuZXhhbXBsZQ==?="  # "X\r\nCc: attacker@evil.example"
    msg = build_message(sender="digest@globex.test", to=["dana@acme.test"], subject=evil, html=HTML, text=TEXT,
                        message_id="<evil@mapsheets.test>", headers={"X-Plan": header})
    for raw in (msg.as_bytes(), msg.as_string().encode()):
        back = received(raw)
        assert [k.lower() for k in back.keys()] == ["from", "to", "subject", "message-id", "date",
                                                    "auto-submitted", "x-plan", "mime-version", "content-type"]
        assert (back["Subject"], back["X-Plan"], back["To"]) == (evil, header, "dana@acme.test")
        assert max(len(line) for line in raw.splitlines()) <= 78


def test_a_message_naming_other_recipients_than_its_envelope_is_never_sent(server, tmp_path):
    """A digest recorded by an older mapsheets from a hostile sheet (a Bcc line in it) is refused
    for good, by SMTP and the outbox alike, instead of reaching the extra address or being retried."""
    from mapsheets.adapters.mail import parse_message
    from mapsheets.errors import Refused

    recorder, port = server
    legacy = parse_message(message().as_string().replace("To: dana@acme.test\n",
                                                         "To: dana@acme.test\nBcc: attacker@evil.test\n"))
    for mailer in (SmtpMailer(f"smtp://127.0.0.1:{port}"), OutboxMailer(tmp_path / "outbox")):
        with pytest.raises(Refused, match="names other recipients in its headers than it is for") as err:
            mailer.send(legacy, TO)
        assert err.value.addresses == {}
    assert recorder.messages == [] and not (tmp_path / "outbox").exists()


def test_the_envelope_is_the_list_given_not_the_headers(server):
    recorder, port = server
    SmtpMailer(f"smtp://127.0.0.1:{port}").send(message(to=("Dana@Acme.test",)), ["Dana@Acme.test"])
    [(_sender, rcpts, _raw)] = recorder.messages
    assert rcpts == ["Dana@Acme.test"]


def test_a_recipient_refused_for_good_is_a_refused_error_with_the_reply():
    from mapsheets.errors import Refused

    class Refusing(Recorder):
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            if address == "gone@acme.test":
                return "550 5.1.1 <gone@acme.test>: Recipient address rejected"
            if address == "busy@acme.test":
                return "451 4.3.0 try again later"
            envelope.rcpt_tos.append(address)
            return "250 OK"

    controller = serve(Refusing())
    try:
        mailer = SmtpMailer(f"smtp://127.0.0.1:{controller.port}")
        with pytest.raises(Refused) as err:
            mailer.send(message(to=("gone@acme.test",)), ["gone@acme.test"])
        assert err.value.addresses == {"gone@acme.test": "550 5.1.1 <gone@acme.test>: Recipient address rejected"}
        with pytest.raises(RemoteError) as err:  # 4xx: worth trying again later
            mailer.send(message(to=("busy@acme.test",)), ["busy@acme.test"])
        assert not isinstance(err.value, Refused) and "451" in str(err.value)
    finally:
        controller.stop()


def test_the_outbox_is_private_to_its_user(tmp_path):
    import os
    import stat

    old = os.umask(0o022)
    try:
        OutboxMailer(tmp_path / "outbox").send(message(), TO)
    finally:
        os.umask(old)
    [eml] = (tmp_path / "outbox").iterdir()
    assert stat.S_IMODE((tmp_path / "outbox").stat().st_mode) == 0o700
    assert stat.S_IMODE(eml.stat().st_mode) == 0o600
