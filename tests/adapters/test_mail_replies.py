"""What a mail server's error reply means for one message (a real aiosmtpd server on 127.0.0.1), and
the RFC 2369 / 8058 list headers as they go on the wire."""

from __future__ import annotations

import pytest
from test_mail import HTML, TEXT, TO, Recorder, message, serve

from mapsheets.adapters.mail import SmtpMailer, about_recipient, build_message
from mapsheets.errors import Deferred, Refused, RemoteError


def answering(*, rcpt: str | None = None, data: str | None = None, mail_from: str | None = None):
    class Answering(Recorder):
        async def handle_MAIL(self, server, session, envelope, address, mail_options):
            if mail_from:
                return mail_from
            envelope.mail_from = address
            return "250 OK"

        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            if rcpt:
                return rcpt
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server, session, envelope):
            return data or await super().handle_DATA(server, session, envelope)

    return Answering()


@pytest.mark.parametrize(("stage", "reply", "kind", "bounces"), [
    ("data", "550 5.1.1 <dana@acme.test>: no such user", Refused, True),
    ("data", "550 no such mailbox", Refused, True),  # no enhanced code: RFC 5321's 550 is the mailbox
    ("data", "552 5.2.2 mailbox full", Refused, True),
    ("data", "554 5.7.1 message content rejected", Refused, False),
    ("data", "550 5.7.1 rejected as spam", Refused, False),  # 550, but the code says policy
    ("data", "552 5.2.3 message too large", Refused, False),
    ("data", "554 transaction failed", Refused, False),
    ("mail_from", "553 5.1.8 sender domain does not exist", Refused, False),
    ("rcpt", "550 5.1.1 no such user", Refused, True),
    ("data", "451 4.7.1 greylisted, try again later", Deferred, False),
    ("rcpt", "450 4.2.1 mailbox busy", Deferred, False),
    ("data", "421 4.3.2 shutting down", RemoteError, False),  # the server going away: not about this message
])
def test_each_reply_means_what_its_code_says(stage, reply, kind, bounces):
    controller = serve(answering(**{stage: reply}))
    try:
        with pytest.raises(RemoteError) as err:
            SmtpMailer(f"smtp://127.0.0.1:{controller.port}").send(message(), TO)
    finally:
        controller.stop()
    assert type(err.value) is kind, err.value
    assert str(err.value).endswith(reply) or reply in str(err.value)
    if kind is Refused:  # the recipient named only when it is the address that is dead
        assert err.value.addresses == ({TO[0]: reply} if bounces else {})
    if kind is Deferred:
        assert err.value.reply == reply


def test_recipient_codes_follow_rfc_3463():
    assert about_recipient(550, "550 5.1.1 no such user") and about_recipient(550, "550 5.2.1 disabled")
    assert not about_recipient(550, "550 5.1.7 bad sender address syntax")
    assert not about_recipient(554, "554 5.6.0 content") and not about_recipient(550, "550 5.7.1 policy")
    assert about_recipient(553, "553 mailbox name not allowed") and not about_recipient(554, "554 no")


def list_lines(raw: bytes) -> list[str]:
    text = raw.decode("ascii")  # every byte of the header block is ASCII
    head = text.split("\n\n", 1)[0].replace("\r\n", "\n")
    lines, inside = [], False
    for line in head.split("\n"):  # a List-* line and any folded continuation of it
        inside = line.lower().startswith("list-") or (inside and line.startswith((" ", "\t")))
        lines += [line] if inside else []
    return lines


def test_list_unsubscribe_goes_out_as_written_not_as_encoded_words():
    """Mail programs offer unsubscribe only for a plain ``<mailto:...>``: Python folds a value longer
    than a line into ``=?utf-8?q?=3Cmailto...?=``, which none of them reads."""
    mailto = ("<mailto:deals@globex.example?subject=unsubscribe%20cfo%40acme.example%20from%20Acme%20Corp"
              "%20%C3%97%20Globex%20%28subscription%2012%29>")
    msg = build_message(sender="deals@globex.example", to=["cfo@acme.example"], subject="s", html=HTML, text=TEXT,
                        message_id="<u@globex.example>",
                        headers={"List-Unsubscribe": mailto, "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"})
    for raw in (msg.as_bytes(), msg.as_string().encode()):
        assert list_lines(raw) == [f"List-Unsubscribe: {mailto}", "List-Unsubscribe-Post: List-Unsubscribe=One-Click"]
        assert b"=?" not in raw


def test_a_list_header_that_is_not_plain_ascii_is_refused():
    from mapsheets.errors import UsageError

    for value in ("<mailto:x@y.example?subject=ünsubscribe>", "<https://x.example/" + "a" * 1000 + ">"):
        with pytest.raises(UsageError, match="List-Unsubscribe"):
            build_message(sender="d@globex.example", to=["c@acme.example"], subject="s", html=HTML, text=TEXT,
                          message_id="<v@globex.example>", headers={"List-Unsubscribe": value})


def test_the_digest_unsubscribe_header_is_plain_for_a_plain_and_a_long_unicode_title():
    from mapsheets.service.audience import unsubscribe_headers

    class Subscription:
        email, id = "cfo@acme.example", 7

    for title in ("Acme plan", "Ünïcode ✓ plan " * 200):
        headers = unsubscribe_headers("Deals <deals+map@globex.example>", Subscription, title)
        msg = build_message(sender="deals@globex.example", to=["cfo@acme.example"], subject="s", html=HTML,
                            text=TEXT, message_id="<w@globex.example>", headers=headers)
        [line, post] = list_lines(msg.as_bytes())
        assert line.startswith("List-Unsubscribe: <mailto:deals+map@globex.example?subject=unsubscribe%20cfo%40")
        assert line.endswith("%28subscription%207%29>") and len(line) <= 998
        assert post == "List-Unsubscribe-Post: List-Unsubscribe=One-Click"
