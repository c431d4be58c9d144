"""Sending email: SMTP (``MAPSHEETS_SMTP_URL``) or an outbox folder of ``.eml`` files.

The only module that imports smtplib; messages are built in ``mail_message.py``. Credentials never
reach a log line or an error message: errors name the host and what went wrong, nothing else.
"""

from __future__ import annotations

import hashlib
import logging
import re
import smtplib
import ssl
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol, runtime_checkable
from urllib.parse import parse_qs, unquote, urlsplit

from mapsheets.adapters.files import write_atomic
from mapsheets.adapters.mail_message import (  # noqa: F401  (the names callers import from here)
    build_message,
    format_address,
    header_recipients,
    make_msgid,
    parse_message,
    sender_domain,
)
from mapsheets.errors import Deferred, Refused, RemoteError, UsageError, os_reason

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 30.0


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
        except OSError as exc:  # kept pending like an SMTP failure: fix the folder, the next run sends
            raise RemoteError(f"outbox {self.folder}: {os_reason(exc)}") from None
        try:
            write_atomic(target, message.as_bytes())
        except OSError as exc:  # a full disk: pending like any failed send, the run goes on
            raise RemoteError(f"outbox {self.folder}: {os_reason(exc)}") from None
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
