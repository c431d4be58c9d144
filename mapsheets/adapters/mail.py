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
from mapsheets.errors import RemoteError, UsageError

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
    """A multipart/alternative message: the text part first, the HTML part last (preferred)."""
    _one_line("subject", subject)
    _one_line("Message-ID", message_id)
    if not re.fullmatch(r"<[^<>\s@]+@[^<>\s@]+>", message_id):
        raise UsageError(f"not a Message-ID: {message_id!r}")
    _one_line("address", sender)
    if "@" not in parseaddr(sender)[1]:  # not parse_address: a local sender (mapsheets@localhost) is fine
        raise UsageError(f"not an email address: {sender!r}")
    for address in to:
        _one_line("address", address)
        if parse_address(address) is None:
            raise UsageError(f"not an email address: {address!r}")
    if not to:
        raise UsageError("a message needs at least one recipient")
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    msg["Subject"] = subject
    msg["Message-ID"] = message_id
    msg["Date"] = format_datetime(date or datetime.now(UTC))
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: vacation responders stay quiet
    for name, value in (headers or {}).items():
        if not _HEADER_NAME.match(name) or name.lower() in _RESERVED:
            raise UsageError(f"header not allowed: {name!r}")
        _one_line(name, value)
        msg[name] = value
    # Quoted-printable: 7-bit safe for any server, short lines, and no body line can contain "=_".
    msg.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    msg.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    # Same inputs, same bytes: a resent digest is identical to the first try; "=_" keeps the
    # boundary out of any quoted-printable body, whatever the sheet says.
    msg.set_boundary("=_" + hashlib.sha256(message_id.encode("utf-8")).hexdigest()[:32])
    return msg


def _one_line(what: str, value: str) -> None:
    if not isinstance(value, str) or "\r" in value or "\n" in value or "\0" in value:
        raise UsageError(f"{what} must be one line of text")


@runtime_checkable
class Mailer(Protocol):
    def send(self, message: EmailMessage) -> None:
        """Deliver or store ``message``; raise RemoteError when it could not be."""


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

    def send(self, message: EmailMessage) -> None:
        message_id = message.get("Message-ID")
        if not message_id:
            raise UsageError("outbox messages need a Message-ID")
        target = self.path_for(str(message_id))
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
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

    def send(self, message: EmailMessage) -> None:
        where = f"SMTP {self.host}:{self.port}"
        try:
            with self._connect() as smtp:
                refused = smtp.send_message(message)
        except smtplib.SMTPAuthenticationError as e:
            raise RemoteError(f"{where}: login refused for {self.user}: {self._reply(e)}") from None
        except smtplib.SMTPRecipientsRefused as e:
            codes = "; ".join(f"{rcpt}: {code}" for rcpt, (code, _msg) in e.recipients.items())
            raise RemoteError(self._clean(f"{where}: every recipient refused ({codes})")) from None
        except smtplib.SMTPServerDisconnected as e:  # also how smtplib reports a read timeout
            raise RemoteError(self._clean(f"{where}: connection lost before the message was accepted ({e})")) from None
        except smtplib.SMTPResponseException as e:
            raise RemoteError(f"{where}: {self._reply(e)}") from None
        except (TimeoutError, smtplib.SMTPException, ssl.SSLError, OSError) as e:
            raise RemoteError(self._clean(f"{where}: {type(e).__name__}: {e}")) from None
        if refused:  # accepted for some: retrying would send the rest twice, so only warn
            log.warning("%s refused %d recipient(s): %s", where, len(refused), ", ".join(sorted(refused)))

    def _connect(self) -> smtplib.SMTP:
        if self.scheme == "smtps":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=self._context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
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


def _tls_context(cafile: str | None) -> ssl.SSLContext:
    """The default verifying context, plus a private CA; a bad ``cafile`` is one line naming it."""
    try:
        return ssl.create_default_context(cafile=cafile)
    except OSError as exc:  # also ssl.SSLError: a file that holds no certificate
        reason = "no certificate in it" if isinstance(exc, ssl.SSLError) else exc.strerror or type(exc).__name__
        raise UsageError(f"MAPSHEETS_SMTP_URL: cafile {cafile}: {reason}") from None


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
