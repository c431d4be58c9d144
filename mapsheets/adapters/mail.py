"""Sending email: SMTP (``MAPSHEETS_SMTP_URL``) or an outbox folder of ``.eml`` files.

The only module that imports smtplib / email. Credentials never reach a log line or an error
message: errors name the host and what went wrong, nothing else.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import smtplib
import ssl
import tempfile
import uuid
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr
from pathlib import Path
from typing import Protocol, runtime_checkable
from urllib.parse import parse_qs, unquote, urlsplit

from mapsheets.core.addresses import parse_address
from mapsheets.errors import Deferred, Refused, RemoteError, UsageError

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 30.0
# Headers build_message sets itself; callers may not override them through ``headers``.
_RESERVED = {"from", "to", "cc", "bcc", "subject", "message-id", "date", "mime-version", "content-type",
             "content-transfer-encoding", "auto-submitted"}
_HEADER_NAME = re.compile(r"^[!-9;-~]+$")  # RFC 5322 field name: printable ASCII except ':'
_DOMAIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})$")


def make_msgid(domain: str, key: str | None = None) -> str:
    """A Message-ID ``<...@domain>``; the same ``key`` always gives the same ID, so a rerun
    that resends an unconfirmed digest reuses its ID and receivers can drop the duplicate."""
    if not _DOMAIN.match(domain or ""):
        raise UsageError(f"not a mail domain: {domain!r}")
    local = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32] if key is not None else uuid.uuid4().hex
    return f"<{local}@{domain}>"


def sender_domain(sender: str) -> str:
    """The domain of a From address, for Message-IDs; a bad address is an error naming --from."""
    _one_line("--from", sender)
    address = parseaddr(sender)[1]
    domain = address.rpartition("@")[2]
    if "@" not in address or not _DOMAIN.match(domain):
        raise UsageError(f"--from {sender!r} is not an email address")
    return domain


def format_address(name: str, email: str) -> str:
    """``Jane Doe <jane@acme.example>`` (quoted or encoded as the name needs), or the bare address."""
    return formataddr((name, email)) if name else email


def build_message(*, sender: str, to: list[str], subject: str, html: str, text: str, message_id: str,
                  headers: dict[str, str] | None = None, date: datetime | None = None) -> EmailMessage:
    """A multipart/alternative message: the text part first, the HTML part last (preferred).

    ``subject`` and ``headers`` values come from sheets, so they are text, never RFC 2047 encoded
    words: ``=?utf-8?q?Evil=0D=0ABcc:...?=`` reaches the reader as those characters, not as a
    Bcc line. The generated header block is then read back and must say exactly what was set.
    """
    _one_line("subject", subject)
    _one_line("Message-ID", message_id)
    if not re.fullmatch(r"<[^<>\s@]+@[^<>\s@]+>", message_id):
        raise UsageError(f"not a Message-ID: {message_id!r}")
    _one_line("address", sender)
    if "@" not in parseaddr(sender)[1]:  # not parse_address: a local sender (mapsheets@localhost) is fine
        raise UsageError(f"not an email address: {sender!r}")
    named = []
    for address in to:
        _one_line("address", address)
        found = parse_address(address)
        if found is None:
            raise UsageError(f"not an email address: {address!r}")
        named.append(found)
    if not to:
        raise UsageError("a message needs at least one recipient")
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = [_address(email, name) for name, email in named]
    msg["Subject"] = _text("Subject", subject)
    msg["Message-ID"] = message_id
    msg["Date"] = format_datetime(date or datetime.now(UTC))
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: vacation responders stay quiet
    for name, value in (headers or {}).items():
        if not _HEADER_NAME.match(name) or name.lower() in _RESERVED:
            raise UsageError(f"header not allowed: {name!r}")
        _one_line(name, value)
        msg[name] = _Verbatim(name, value) if name.lower() in _URL_LIST_HEADERS else _text(name, value)
    # Quoted-printable: 7-bit safe for any server, short lines, and no body line can contain "=_".
    msg.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    msg.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    # Same inputs, same bytes: a resent digest is identical to the first try; "=_" keeps the
    # boundary out of any quoted-printable body, whatever the sheet says.
    msg.set_boundary("=_" + hashlib.sha256(message_id.encode("utf-8")).hexdigest()[:32])
    _verify_headers(msg, sender=sender, to=[email for _name, email in named], texts={"Subject": subject, **(headers or {})})
    return msg


def _one_line(what: str, value: str) -> None:
    # splitlines() also breaks at \v, \f, \x1c-\x1e, \x85 and \u2028: EmailMessage refuses those too.
    if not isinstance(value, str) or len(value.splitlines()) > 1 or any(c in value for c in "\r\n\0"):
        raise UsageError(f"{what} must be one line of text")


def _address(addr_spec: str, display_name: str = ""):
    """An address as a header object, built from its parts (a name is quoted or encoded as it
    needs), so no text in it can be parsed into another recipient; the read-back check confirms."""
    from email.headerregistry import Address

    try:
        return Address(display_name=display_name, addr_spec=addr_spec.strip())
    except (ValueError, IndexError):
        raise UsageError(f"not an email address: {addr_spec!r}") from None


class _EncodedText(str):
    """An unstructured header the policy must not parse: text that contains ``=?`` is written as
    RFC 2047 encoded words of our own, so a reader decodes it (once) back to exactly that text."""

    def __new__(cls, name: str, text: str) -> _EncodedText:
        obj = super().__new__(cls, text)
        obj.name = name  # header objects have a name; the policy then stores and folds them as is
        return obj

    def fold(self, *, policy) -> str:
        from email.header import Header

        encoded = Header(str(self), "utf-8", header_name=self.name).encode(
            linesep=policy.linesep, maxlinelen=policy.max_line_length or 78)
        return f"{self.name}: {encoded}{policy.linesep}"


# RFC 2369 / 8058 fields: a list of <URL>s, read by mail programs as is. Python's policy would fold a
# URL longer than a line into RFC 2047 encoded words, which no mail program then offers as a link.
_URL_LIST_HEADERS = {"list-unsubscribe", "list-unsubscribe-post", "list-help", "list-subscribe", "list-post",
                     "list-owner", "list-archive"}
_MAX_LINE = 998  # RFC 5322 2.1.1: no line longer, folding aside


class _Verbatim(str):
    """A header written exactly as given on one line: printable ASCII, never folded (RFC 2369:
    no whitespace may be added inside the angle brackets) and never encoded."""

    def __new__(cls, name: str, text: str) -> _Verbatim:
        if not re.fullmatch(r"[ -~]*", text) or "=?" in text:
            raise UsageError(f"{name} must be plain ASCII (percent-encode the URL)")
        if len(name) + 2 + len(text) > _MAX_LINE:
            raise UsageError(f"{name} is longer than a mail header line may be ({_MAX_LINE} characters)")
        obj = super().__new__(cls, text)
        obj.name = name
        return obj

    def fold(self, *, policy) -> str:
        return f"{self.name}: {self}{policy.linesep}"


def _text(name: str, value: str) -> str:
    # Python's parser (and every mail client) decodes "=?charset?q?...?=" in a header it is given.
    return _EncodedText(name, value) if "=?" in value else value


def _verify_headers(msg: EmailMessage, *, sender: str, to: list[str], texts: dict[str, str]) -> None:
    """Read the generated header block back: the same header names, the same recipients, the same
    text. Python 3.11.7 has no ``verify_generated_headers``; this checks more than it would."""
    from email.parser import BytesHeaderParser
    from email.policy import default

    # The header block only: the parts' own headers are ours, and parsing the bodies was most of the cost.
    back = BytesHeaderParser(policy=default.clone(raise_on_defect=True)).parsebytes(msg.as_bytes())
    problem = None
    if [k.lower() for k in back.keys()] != [k.lower() for k in msg.keys()]:
        problem = "header lines"
    elif header_recipients(back) != sorted(a.strip().lower() for a in to):
        problem = "recipients"
    elif parseaddr(str(back["From"]))[1] != parseaddr(sender)[1]:
        problem = "sender"
    else:
        problem = next((name for name, value in texts.items() if str(back[name]) != value), None)
    if problem:
        raise UsageError(f"refusing to build a message whose {problem} would not read back as written")


def header_recipients(message: EmailMessage) -> list[str]:
    """Every address a message's To, Cc and Bcc (and Resent-*) headers name, lower-cased and sorted."""
    from email.utils import getaddresses

    fields = [str(v) for k in ("to", "cc", "bcc", "resent-to", "resent-cc", "resent-bcc")
              for v in message.get_all(k, [])]
    return sorted(addr.lower() for _name, addr in getaddresses(fields) if addr)


@runtime_checkable
class Mailer(Protocol):
    def send(self, message: EmailMessage, to: list[str], *, timeout: float | None = None) -> None:
        """Deliver or store ``message`` for exactly the addresses ``to`` (never what its headers
        say); raise RemoteError when it could not be, Refused when it never will be."""


class OutboxMailer:
    """Writes each message to ``folder/<message-id>.eml``: the default without an SMTP server.

    Atomic (temp file + rename) so a reader never sees half a message, and idempotent: the
    same Message-ID lands in the same file.
    """

    def __init__(self, folder: Path | str):
        self.folder = Path(folder)

    def path_for(self, message_id: str) -> Path:
        core = message_id.strip().strip("<>")
        safe = re.sub(r"[^A-Za-z0-9._@+-]", "_", core)[:150].lstrip(".")
        if safe != core or not safe:  # keep two IDs that sanitise alike apart
            safe = f"{safe}-{hashlib.sha256(core.encode('utf-8')).hexdigest()[:10]}"
        return self.folder / f"{safe}.eml"

    def send(self, message: EmailMessage, to: list[str], *, timeout: float | None = None) -> None:
        message_id = message.get("Message-ID")
        if not message_id:
            raise UsageError("outbox messages need a Message-ID")
        _check_recipients(message, to, f"outbox {self.folder}")  # the file's headers are its envelope
        target = self.path_for(str(message_id))
        try:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)  # digests hold plan text
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-", suffix=".eml")
        except OSError as exc:  # kept pending like an SMTP failure: fix the folder, the next run sends
            raise RemoteError(f"outbox {self.folder}: {exc.strerror or exc.__class__.__name__}") from None
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(message.as_bytes())
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException as exc:
            Path(tmp).unlink(missing_ok=True)
            if isinstance(exc, OSError):  # a full disk: pending like any failed send, the run goes on
                raise RemoteError(f"outbox {self.folder}: {exc.strerror or exc or type(exc).__name__}") from None
            raise
        log.info("wrote %s", target)

    def __repr__(self) -> str:
        return f"OutboxMailer({str(self.folder)!r})"


class SmtpMailer:
    """SMTP delivery from a URL: ``smtp://user:pass@host:587`` or ``smtps://user:pass@host:465``.

    ``smtp://`` upgrades with STARTTLS when the server offers it (``?starttls=no`` skips it) and
    refuses to send a password over a connection that stayed plain. Default ports: 465 for
    smtps, 587 for smtp with a user, else 25. ``?timeout=SECONDS`` and ``?cafile=PATH`` (a private
    CA) are also understood.
    """

    def __init__(self, url: str, *, timeout: float | None = None, ssl_context: ssl.SSLContext | None = None):
        parts = urlsplit(url or "")
        self.scheme = parts.scheme.lower()
        if self.scheme not in ("smtp", "smtps"):
            raise UsageError("MAPSHEETS_SMTP_URL must start with smtp:// or smtps://")
        try:
            port = parts.port
        except ValueError:
            raise UsageError("MAPSHEETS_SMTP_URL has a bad port") from None
        if not parts.hostname:
            raise UsageError("MAPSHEETS_SMTP_URL has no host")
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        self.host = parts.hostname
        self.user = unquote(parts.username) if parts.username else None
        self._password = unquote(parts.password) if parts.password else ""
        self.port = port or (465 if self.scheme == "smtps" else 587 if self.user else 25)
        self.starttls = query.get("starttls", "yes").lower() not in ("no", "false", "0", "off")
        try:
            self.timeout = float(timeout if timeout is not None else query.get("timeout", DEFAULT_TIMEOUT))
        except ValueError:
            raise UsageError("MAPSHEETS_SMTP_URL has a bad timeout") from None
        self._context = ssl_context or _tls_context(query.get("cafile"))

    def __repr__(self) -> str:  # never the password
        who = f"{self.user}@" if self.user else ""
        return f"SmtpMailer('{self.scheme}://{who}{self.host}:{self.port}')"

    def send(self, message: EmailMessage, to: list[str], *, timeout: float | None = None) -> None:
        """Send to exactly ``to``; ``timeout`` (seconds) caps this connection's waits below the URL's.

        What the server answers about this message (MAIL FROM, RCPT, DATA) decides what follows:
        5xx is Refused (for good), 4xx (but 421, the server going away) is Deferred; anything
        else (no connection, EHLO, STARTTLS, login, a drop, a timeout) is a RemoteError about the
        server, not the message, and is retried next run without counting against it.
        """
        where = f"SMTP {self.host}:{self.port}"
        _check_recipients(message, to, where)
        smtp = self._open(min(self.timeout, timeout) if timeout is not None else self.timeout, where)
        try:
            # The envelope is the subscription's, whatever a header says; smtplib drops any Bcc.
            refused = smtp.send_message(message, to_addrs=list(to))
        except smtplib.SMTPRecipientsRefused as e:
            raise self._recipients_refused(e, where) from None
        except smtplib.SMTPServerDisconnected as e:  # also how smtplib reports a read timeout
            raise RemoteError(self._clean(f"{where}: connection lost before the message was accepted ({e})")) from None
        except smtplib.SMTPResponseException as e:  # MAIL FROM or DATA answered with an error
            raise self._answered(e, list(to), where) from None
        except (TimeoutError, smtplib.SMTPException, ssl.SSLError, OSError) as e:
            raise RemoteError(self._clean(f"{where}: {type(e).__name__}: {e}")) from None
        finally:
            _quit(smtp)  # after an accepted message, a failed QUIT must not make it look unsent
        if refused:  # accepted for some: retrying would send the rest twice, so only warn
            log.warning("%s refused %d recipient(s): %s", where, len(refused), ", ".join(sorted(refused)))

    def _open(self, timeout: float, where: str) -> smtplib.SMTP:
        """A connected, greeted (and logged-in) session; any failure is the server's, not a message's."""
        try:
            return self._connect(timeout)
        except smtplib.SMTPAuthenticationError as e:
            raise RemoteError(f"{where}: login refused for {self.user}: {self._reply(e)}") from None
        except smtplib.SMTPServerDisconnected as e:
            raise RemoteError(self._clean(f"{where}: connection lost before the message was sent ({e})")) from None
        except smtplib.SMTPResponseException as e:
            raise RemoteError(f"{where}: {self._reply(e)}") from None
        except (TimeoutError, smtplib.SMTPException, ssl.SSLError, OSError) as e:
            raise RemoteError(self._clean(f"{where}: {type(e).__name__}: {e}")) from None

    def _recipients_refused(self, e: smtplib.SMTPRecipientsRefused, where: str) -> RemoteError:
        replies = {rcpt: self._reply(smtplib.SMTPResponseException(code, text))
                   for rcpt, (code, text) in e.recipients.items()}
        codes = "; ".join(f"{rcpt}: {reply}" for rcpt, reply in replies.items())
        if all(500 <= code < 600 for code, _text in e.recipients.values()):
            return Refused(self._clean(f"{where}: refused for good ({codes})"), replies)
        if all(code == 421 for code, _text in e.recipients.values()):  # the server closing: not about them
            return RemoteError(self._clean(f"{where}: every recipient refused ({codes})"))
        reply = next(iter(replies.values())) if len(replies) == 1 else codes
        return Deferred(self._clean(f"{where}: every recipient refused for now ({codes})"), reply)

    def _answered(self, e: smtplib.SMTPResponseException, to: list[str], where: str) -> RemoteError:
        """The server's error reply to MAIL FROM or DATA, as what it means for this message."""
        reply = self._reply(e)
        if e.smtp_code == 421 or not 400 <= e.smtp_code < 600:
            return RemoteError(f"{where}: {reply}")
        if e.smtp_code < 500:
            return Deferred(f"{where}: {reply}", reply)
        if not isinstance(e, smtplib.SMTPSenderRefused) and len(to) == 1 and about_recipient(e.smtp_code, reply):
            return Refused(f"{where}: {to[0]} refused for good: {reply}", {to[0]: reply})
        return Refused(f"{where}: message refused for good: {reply}")

    def _connect(self, timeout: float) -> smtplib.SMTP:
        if self.scheme == "smtps":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=timeout, context=self._context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=timeout)
        try:
            smtp.ehlo()
            secure = self.scheme == "smtps"
            if not secure and self.starttls and smtp.has_extn("starttls"):
                smtp.starttls(context=self._context)
                smtp.ehlo()
                secure = True
            if self.user:
                if not secure and self.starttls:
                    raise RemoteError(f"SMTP {self.host}:{self.port}: the server does not offer STARTTLS; refusing "
                                      "to send the password in clear text (add ?starttls=no to allow it)")
                smtp.login(self.user, self._password)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _reply(self, e: smtplib.SMTPResponseException) -> str:
        text = e.smtp_error.decode("utf-8", "replace") if isinstance(e.smtp_error, bytes) else str(e.smtp_error)
        return self._clean(f"{e.smtp_code} {text}")

    def _clean(self, text: str) -> str:
        """One line, and no trace of the password (plain or URL-encoded) even if a server echoes it."""
        line = " ".join(text.split())
        if self._password:
            for secret in {self._password, self._password.replace("%", "%25")}:
                line = line.replace(secret, "***")
        return line


# RFC 3463 enhanced status code at the start of a reply's text ("550 5.1.1 no such user").
_ENHANCED = re.compile(r"^\d{3} [245]\.(\d{1,3})\.(\d{1,3})(?!\S)")


def about_recipient(code: int, reply: str) -> bool:
    """Whether a 5xx reply at DATA says the recipient's mailbox is the problem (so the address is
    dead) rather than the message (its content, size or a policy). The enhanced code decides:
    X.1.x addressing and X.2.x mailbox are the recipient's, except a bad sender address (X.1.7,
    X.1.8) and a message too long (X.2.3). Without one, RFC 5321's 550/551/553 name the mailbox."""
    found = _ENHANCED.match(reply)
    if found is None:
        return code in (550, 551, 553)
    subject, detail = found.groups()
    return (subject == "1" and detail not in ("7", "8")) or (subject == "2" and detail != "3")


def _quit(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


def _tls_context(cafile: str | None) -> ssl.SSLContext:
    """The default verifying context, plus a private CA; a bad ``cafile`` is one line naming it."""
    try:
        return ssl.create_default_context(cafile=cafile)
    except OSError as exc:  # also ssl.SSLError: a file that holds no certificate
        reason = "no certificate in it" if isinstance(exc, ssl.SSLError) else exc.strerror or type(exc).__name__
        raise UsageError(f"MAPSHEETS_SMTP_URL: cafile {cafile}: {reason}") from None


def _check_recipients(message: EmailMessage, to: list[str], where: str) -> None:
    """A message whose headers name anyone but ``to`` is never sent (say one recorded by an older
    mapsheets from a hostile sheet): refused for good, so it is not retried forever."""
    if not to:
        raise UsageError("a message needs at least one recipient")
    if header_recipients(message) != sorted(a.strip().lower() for a in to):
        raise Refused(f"{where}: message {message.get('Message-ID', '')} names other recipients in its "
                      "headers than it is for; not sent")


def mailer_from_url(url: str | None, outbox: Path) -> Mailer:
    """SMTP when ``url`` (``MAPSHEETS_SMTP_URL``) is set, else the outbox folder."""
    if not url or not url.strip():
        return OutboxMailer(outbox)
    return SmtpMailer(url.strip())


def parse_message(text: str) -> EmailMessage:
    """A message recorded earlier (``str(message)``), to resend exactly as it was."""
    from email import message_from_string
    from email.policy import default

    return message_from_string(text, policy=default)
