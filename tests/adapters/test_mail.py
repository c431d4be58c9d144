"""Mail delivery against a real SMTP server (aiosmtpd on 127.0.0.1), and the outbox folder."""

from __future__ import annotations

import datetime as dt
import email
import socket
import ssl
import threading
from email import policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword
from smtp_servers import free_port

from mapsheets.adapters.mail import (
    Mailer,
    OutboxMailer,
    SmtpMailer,
    build_message,
    mailer_from_url,
    make_msgid,
)
from mapsheets.errors import RemoteError, UsageError

PASSWORD = "s3cr:et/p@ss%w0rd"
PASSWORD_IN_URL = "s3cr%3Aet%2Fp%40ss%25w0rd"
TO = ["dana@acme.test"]  # message()'s recipient: the envelope, given apart from the headers
HTML = "<html><body><p>Plan &amp; changes</p></body></html>"
TEXT = "Plan & changes\n"


class Recorder:
    """An aiosmtpd handler that keeps every message it accepted, as the server received it."""

    def __init__(self):
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.logins: list[tuple[bytes, bytes]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 OK"

    def authenticator(self, server, session, envelope, mechanism, auth_data):
        if isinstance(auth_data, LoginPassword):
            self.logins.append((auth_data.login, auth_data.password))
            return AuthResult(success=auth_data.password == PASSWORD.encode(), handled=False)  # False: reply 535
        return AuthResult(success=False, handled=False)


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1: (server context, client context trusting it)."""
    x509 = pytest.importorskip("cryptography.x509", reason="needs the cryptography package for a test cert")
    import ipaddress

    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    folder = tmp_path_factory.mktemp("tls")
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert_file, key_file)
    client = ssl.create_default_context(cafile=str(cert_file))
    return server, client, cert_file


def serve(handler, **kwargs):
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), **kwargs)
    controller.start()
    return controller


@pytest.fixture
def server():
    recorder = Recorder()
    controller = serve(recorder)
    yield recorder, controller.port
    controller.stop()


def message(to=("dana@acme.test",), msgid="<digest-1@mapsheets.test>", **headers):
    return build_message(sender="MAP digest <digest@globex.test>", to=list(to),
                         subject="[MAP] Acme × Globex: 3 changes", html=HTML, text=TEXT, message_id=msgid,
                         headers=headers or None,
                         date=dt.datetime(2027, 1, 12, 8, 0, tzinfo=dt.UTC))


def received(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=policy.default)


def test_plain_smtp_delivers_a_multipart_message(server):
    recorder, port = server
    mailer = mailer_from_url(f"smtp://127.0.0.1:{port}", Path("unused"))
    assert isinstance(mailer, SmtpMailer) and isinstance(mailer, Mailer)
    mailer.send(message(to=("dana@acme.test", "sam@globex.test"),
                        **{"List-Unsubscribe": "<https://map.test/unsub/1>"}), ["dana@acme.test", "sam@globex.test"])
    [(sender, rcpts, raw)] = recorder.messages
    assert (sender, rcpts) == ("digest@globex.test", ["dana@acme.test", "sam@globex.test"])
    msg = received(raw)
    assert msg["Message-ID"] == "<digest-1@mapsheets.test>"
    assert msg["Subject"] == "[MAP] Acme × Globex: 3 changes"
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["List-Unsubscribe"] == "<https://map.test/unsub/1>"
    assert msg["Date"] == "Tue, 12 Jan 2027 08:00:00 +0000"
    assert msg.get_content_type() == "multipart/alternative"
    parts = list(msg.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]  # HTML last: preferred
    assert parts[0].get_content().splitlines() == TEXT.splitlines()  # CRLF on the wire
    assert parts[1].get_content().strip() == HTML


def test_auth_over_starttls_with_url_encoded_credentials(tls):
    server_ctx, client_ctx, _cert = tls
    recorder = Recorder()
    controller = serve(recorder, tls_context=server_ctx, require_starttls=True,
                       authenticator=recorder.authenticator, auth_require_tls=True)
    try:
        url = f"smtp://mapuser:{PASSWORD_IN_URL}@127.0.0.1:{controller.port}"
        SmtpMailer(url, ssl_context=client_ctx).send(message(), TO)
    finally:
        controller.stop()
    assert recorder.logins == [(b"mapuser", PASSWORD.encode())]  # decoded, and only sent once TLS was up
    assert received(recorder.messages[0][2])["Message-ID"] == "<digest-1@mapsheets.test>"


def test_wrong_password_is_one_line_without_the_password(tls):
    server_ctx, client_ctx, _cert = tls
    recorder = Recorder()
    controller = serve(recorder, tls_context=server_ctx, authenticator=recorder.authenticator)
    try:
        with pytest.raises(RemoteError) as err:
            SmtpMailer(f"smtp://mapuser:wrong-{PASSWORD_IN_URL}@127.0.0.1:{controller.port}",
                       ssl_context=client_ctx).send(message(), TO)
    finally:
        controller.stop()
    text = str(err.value)
    assert "login refused for mapuser" in text and "535" in text
    assert "\n" not in text and "wrong-" not in text and "s3cr" not in text
    assert recorder.messages == []


def test_untrusted_certificate_is_refused(tls):
    server_ctx, _client_ctx, _cert = tls
    recorder = Recorder()
    controller = serve(recorder, tls_context=server_ctx)
    try:
        with pytest.raises(RemoteError, match="CERTIFICATE_VERIFY_FAILED"):
            SmtpMailer(f"smtp://127.0.0.1:{controller.port}").send(message(), TO)  # system CAs only
    finally:
        controller.stop()
    assert recorder.messages == []


def test_password_is_not_sent_in_clear_when_the_server_offers_no_starttls(server):
    recorder, port = server
    with pytest.raises(RemoteError, match="does not offer STARTTLS") as err:
        SmtpMailer(f"smtp://mapuser:{PASSWORD_IN_URL}@127.0.0.1:{port}").send(message(), TO)
    assert "s3cr" not in str(err.value) and recorder.messages == []


def test_starttls_can_be_skipped(tls):
    server_ctx, _client_ctx, _cert = tls
    recorder = Recorder()
    controller = serve(recorder, tls_context=server_ctx)  # offers STARTTLS, with an untrusted cert
    try:
        SmtpMailer(f"smtp://127.0.0.1:{controller.port}?starttls=no").send(message(), TO)
    finally:
        controller.stop()
    assert len(recorder.messages) == 1


def test_implicit_tls_smtps(tls):
    server_ctx, client_ctx, cert = tls
    recorder = Recorder()
    # aiosmtpd only counts STARTTLS as TLS; the whole connection is TLS here.
    controller = serve(recorder, ssl_context=server_ctx, authenticator=recorder.authenticator, auth_require_tls=False)
    try:
        SmtpMailer(f"smtps://mapuser:{PASSWORD_IN_URL}@127.0.0.1:{controller.port}",
                   ssl_context=client_ctx).send(message(), TO)
        # The same trust given in the URL, the way a deployment with a private CA would.
        mailer_from_url(f"smtps://127.0.0.1:{controller.port}?cafile={cert}", Path("unused")).send(
            message(msgid="<digest-2@mapsheets.test>"), TO)
    finally:
        controller.stop()
    assert recorder.logins == [(b"mapuser", PASSWORD.encode())]
    assert [received(raw)["Message-ID"] for _f, _t, raw in recorder.messages] == [
        "<digest-1@mapsheets.test>", "<digest-2@mapsheets.test>"]


class DroppingSMTP(SMTP):
    """Accepts DATA, then hangs up while the message is being sent: a crash or a network cut."""

    async def smtp_DATA(self, arg):
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        await self._reader.read(64)  # some of the message has arrived
        self.transport.abort()


class DroppingController(Controller):
    def factory(self):
        return DroppingSMTP(self.handler, **self.SMTP_kwargs)


def test_server_dropping_the_connection_mid_data_is_a_remote_error_without_password():
    recorder = Recorder()
    controller = DroppingController(recorder, hostname="127.0.0.1", port=free_port(), auth_require_tls=False,
                                    authenticator=recorder.authenticator)
    controller.start()
    try:
        mailer = SmtpMailer(f"smtp://mapuser:{PASSWORD_IN_URL}@127.0.0.1:{controller.port}?starttls=no")
        with pytest.raises(RemoteError) as err:
            mailer.send(message(msgid="<cut@mapsheets.test>"), TO)
    finally:
        controller.stop()
    text = str(err.value)
    assert text.startswith(f"SMTP 127.0.0.1:{controller.port}: ")
    assert "\n" not in text and "s3cr" not in text and PASSWORD_IN_URL not in text
    assert recorder.logins and recorder.messages == []  # logged in, got cut off, nothing delivered
    assert "s3cr" not in repr(mailer)


def test_rejected_message_is_a_remote_error_with_the_servers_reply():
    class Rejecting(Recorder):
        async def handle_DATA(self, server, session, envelope):
            return "554 5.7.1 Message rejected as spam"

    controller = serve(Rejecting())
    try:
        with pytest.raises(RemoteError, match=r"554 5\.7\.1 Message rejected as spam$"):
            SmtpMailer(f"smtp://127.0.0.1:{controller.port}").send(message(), TO)
    finally:
        controller.stop()


def test_connection_refused_is_a_remote_error():
    port = free_port()  # nobody listens here
    with pytest.raises(RemoteError) as err:
        SmtpMailer(f"smtp://mapuser:{PASSWORD_IN_URL}@127.0.0.1:{port}", timeout=5).send(message(), TO)
    text = str(err.value)
    assert text.startswith(f"SMTP 127.0.0.1:{port}: ") and "refused" in text.lower()
    assert "\n" not in text and "s3cr" not in text


def test_outbox_writes_eml_atomically_and_idempotently(tmp_path):
    outbox = tmp_path / "outbox"
    mailer = mailer_from_url(None, outbox)
    assert isinstance(mailer, OutboxMailer) and isinstance(mailer, Mailer)
    msgid = make_msgid("mapsheets.test", key="sub-7/rev-42")
    assert msgid == make_msgid("mapsheets.test", key="sub-7/rev-42") != make_msgid("mapsheets.test", key="sub-7/rev-43")
    mailer.send(message(msgid=msgid), TO)
    [path] = outbox.iterdir()
    assert path.name == msgid.strip("<>") + ".eml"
    first = path.read_bytes()
    assert received(first)["Message-ID"] == msgid
    mailer.send(message(msgid=msgid), TO)  # a rerun after a crash: the same file, no duplicate
    assert list(outbox.iterdir()) == [path] and path.read_bytes() == first

    # Atomic: a failed write leaves neither a half file nor a temp file behind.
    class Exploding:
        def get(self, name):
            return "<boom@mapsheets.test>"

        def get_all(self, name, default=None):
            return TO if name == "to" else default

        def as_bytes(self):
            raise OSError("disk full")

    with pytest.raises(RemoteError, match="outbox .*: disk full"):  # pending, like a failed SMTP send
        mailer.send(Exploding(), TO)
    assert list(outbox.iterdir()) == [path]


def test_outbox_file_names_are_safe_and_distinct(tmp_path):
    mailer = OutboxMailer(tmp_path)
    a, b = mailer.path_for("<../../etc/passwd@x>"), mailer.path_for("<.._.._etc_passwd@x>")
    assert a.parent == b.parent == tmp_path and a != b and "/" not in a.name and not a.name.startswith(".")


def test_concurrent_outbox_writes_of_one_message_leave_one_whole_file(tmp_path):
    mailer = OutboxMailer(tmp_path)
    msg = message(msgid="<same@mapsheets.test>")
    threads = [threading.Thread(target=mailer.send, args=(msg, TO)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [p.name for p in tmp_path.iterdir()] == ["same@mapsheets.test.eml"]
    assert received((tmp_path / "same@mapsheets.test.eml").read_bytes())["Message-ID"] == "<same@mapsheets.test>"


@pytest.mark.parametrize("field, value", [
    ("subject", "Hi\r\nBcc: victim@example.com"), ("subject", "Hi\nthere"),
    ("sender", "a@b.test\nBcc: victim@example.com"), ("to", ["dana@acme.test\r\nBcc: x@y.test"]),
    ("message_id", "<a@b>\r\nX: y"), ("headers", {"List-Unsubscribe": "<https://x>\r\nBcc: x@y.test"}),
    ("headers", {"Bcc": "victim@example.com"}), ("headers", {"Bad Name": "x"}), ("to", []),
    ("to", ["not-an-address"]), ("message_id", "no-angle-brackets@x"),
])
def test_header_injection_is_refused(field, value):
    kwargs = {"sender": "digest@globex.test", "to": ["dana@acme.test"], "subject": "ok", "html": HTML,
              "text": TEXT, "message_id": "<a@b.test>", "headers": None}
    kwargs[field] = value
    with pytest.raises(UsageError):
        build_message(**kwargs)


@pytest.mark.parametrize("url, scheme, port, user", [
    ("smtp://mail.example.com", "smtp", 25, None),
    ("smtp://me%40corp:pw@mail.example.com", "smtp", 587, "me@corp"),
    ("smtps://me:pw@mail.example.com", "smtps", 465, "me"),
    ("smtp://mail.example.com:2525?starttls=no&timeout=3", "smtp", 2525, None),
])
def test_smtp_urls_are_parsed(url, scheme, port, user):
    mailer = SmtpMailer(url)
    assert (mailer.scheme, mailer.host, mailer.port, mailer.user) == (scheme, "mail.example.com", port, user)
    assert "pw" not in repr(mailer)


@pytest.mark.parametrize("url", ["http://mail.example.com", "smtp://", "smtp://host:notaport", "smtp://h?timeout=x"])
def test_bad_smtp_urls_are_usage_errors(url):
    with pytest.raises(UsageError):
        mailer_from_url(url, Path("outbox"))


def test_make_msgid_refuses_a_domain_that_could_break_the_header():
    assert make_msgid("mapsheets.test").endswith("@mapsheets.test>")
    assert make_msgid("mapsheets.test") != make_msgid("mapsheets.test")
    for bad in ("", "a b", "x>\r\nBcc: y", "a@b"):
        with pytest.raises(UsageError):
            make_msgid(bad)


def test_starttls_flag_and_timeout():
    mailer = SmtpMailer("smtp://h:25?starttls=no&timeout=2.5")
    assert (mailer.starttls, mailer.timeout) == (False, 2.5)


def test_a_body_cannot_forge_a_mime_boundary():
    msgid = "<forge@mapsheets.test>"
    first = message(msgid=msgid)
    boundary = first.get_boundary()
    evil = f"\n--{boundary}\nContent-Type: text/html\n\n<a href='https://evil.test'>x</a>\n--{boundary}--\n"
    msg = build_message(sender="digest@globex.test", to=["dana@acme.test"], subject="s", html=HTML + evil,
                        text=TEXT + evil, message_id=msgid)
    assert msg.get_boundary() == boundary  # deterministic from the Message-ID
    parsed = received(msg.as_bytes())
    assert [p.get_content_type() for p in parsed.iter_parts()] == ["text/plain", "text/html"]
    plain, html = parsed.iter_parts()
    assert plain.get_content().splitlines() == (TEXT + evil).splitlines()  # the forged lines stay body text
    assert html.get_content().splitlines() == (HTML + evil).splitlines()
    assert max(len(line) for line in msg.as_bytes().splitlines()) <= 78


def test_a_server_that_never_answers_times_out_as_a_remote_error():
    with socket.socket() as silent:  # accepts connections (backlog) but never greets
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        with pytest.raises(RemoteError, match=rf"^SMTP 127\.0\.0\.1:{port}: .*timed out"):
            SmtpMailer(f"smtp://127.0.0.1:{port}?timeout=0.5").send(message(), TO)
