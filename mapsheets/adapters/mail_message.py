"""Email messages as mapsheets writes them: headers built from parts and read back strictly (no
header injection from sheet text), List-* headers written verbatim, recorded messages parsed back.
The sending half is ``mail.py``."""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr

from mapsheets.core.addresses import parse_address
from mapsheets.errors import UsageError

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
    _verify_headers(msg, sender=sender, to=[email for _name, email in named],
                    texts={"Subject": subject, **(headers or {})})
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

    name: str

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

    name: str

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




def parse_message(text: str) -> EmailMessage:
    """A message recorded earlier (``str(message)``), to resend exactly as it was."""
    from email import message_from_string
    from email.policy import default

    return message_from_string(text, policy=default)
