"""Signing by email link, for buyers who install nothing (issue 20 part 4).

``request`` emails a single-use link that expires (default 14 days). Its token (adapters/link_tokens.py)
is bound to the plan, the person, their side and the fingerprint when sent, signed with a secret
derived from the deployment's signing key. The page (addon_server/signing.py) shows the plan and
one button; signing writes a sealed signature with the method "email link", an audit event with
the time and the client address, and emails the signer a receipt. A link already used, expired or
not made by us shows no plan data. Audit events: signature_requested, signature_link_opened,
signed_by_link (each with the link's nonce).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from html import escape
from typing import TYPE_CHECKING, Any

from mapsheets.core.model import EMAIL_LINK, Plan
from mapsheets.errors import PermissionDenied, UsageError
from mapsheets.service import seals

if TYPE_CHECKING:
    from mapsheets.adapters.store import Store

LINK_DAYS = 14
REQUESTED, OPENED, USED = "signature_requested", "signature_link_opened", "signed_by_link"


@dataclass
class Link:
    """A link as its token says, and where it stands now: ok, used, expired or invalid."""

    state: str
    ref: str = ""
    email: str = ""
    name: str = ""
    side: str = ""
    fingerprint: str = ""  # when sent
    revision: int | None = None  # the stored version of the plan when sent
    nonce: str = ""
    plan: Plan | None = None  # as it reads now (state ok only)
    changes: list[str] = field(default_factory=list)  # since the link was sent, in the plan's words


def _secret() -> bytes:
    return seals.keyring(create=True).secret(b"signing links")


def _aware(now: datetime) -> datetime:
    return now if now.tzinfo else now.replace(tzinfo=timezone.utc)


def request(ref: str, to: str, *, now: datetime, mailer, base_url: str, sender: str | None = None,
            store_url: str | None = None, days: int = LINK_DAYS, seller_domains: Sequence[str] = (),
            requested_by: str = "") -> str:
    """Email ``to`` ("Jane Doe <jane@acme.example>") a link to sign the plan as it reads now; the URL.
    Only someone who may sign (service/signers.py) gets one, for their own side."""
    from mapsheets.adapters.store import open_store

    return request_into(open_store(store_url), ref, to, now=now, mailer=mailer, base_url=base_url, sender=sender,
                        days=days, seller_domains=seller_domains, requested_by=requested_by)


def request_into(store: Store, ref: str, to: str, *, now: datetime, mailer, base_url: str, sender: str | None = None,
                 days: int = LINK_DAYS, seller_domains: Sequence[str] = (), requested_by: str = "") -> str:
    """``request``, the request and its plan recorded in ``store``."""
    from mapsheets.adapters import link_tokens
    from mapsheets.service.revisions import canonical_ref, snapshot_into
    from mapsheets.service.signers import may_sign
    from mapsheets.service.signoff import check_address

    name, email = check_address(to, "to")
    if days < 1:
        raise UsageError("a link lasts at least one day", field="days")
    now = _aware(now)
    store.check_writable()
    stored = snapshot_into(store, ref, now=now, origin="signature request")
    plan = stored.snapshot.plan
    try:
        who = may_sign(plan, email, None, seller_domains)
    except PermissionDenied as exc:
        exc.field = "to"  # about the recipient, not whoever asks
        raise
    key, nonce = canonical_ref(ref), secrets.token_urlsafe(9)
    payload = {"p": key, "e": email, "n": name or who.name, "s": who.side, "f": plan.fingerprint(),
               "r": stored.revision.id, "x": nonce, "d": days}
    url = f"{base_url.rstrip('/')}/sign/{link_tokens.make(_secret(), payload, now.timestamp())}"
    store.audit.log(REQUESTED, ref=key, actor=requested_by, at=now,
                    detail={"to": email, "side": who.side, "fingerprint": plan.fingerprint(), "nonce": nonce,
                            "expires": (now + timedelta(days=days)).isoformat()})
    expires = f"{now + timedelta(days=days):%Y-%m-%d}"
    _mail(mailer, sender, name or who.name, email, f"Please sign the plan: {plan.title}", nonce,
          [f"{plan.seller} asks you to sign \"{plan.title}\" for the {who.side} side.",
           "Open the link to read what you are signing and sign it with one button:"],
          url, [f"The link works once, until {expires}. Signing is not legally binding: it says you agree "
                f"to the plan as it reads."])
    return url


def look(token: str, *, now: datetime, store: Store | None = None, client: str = "", record: bool = True) -> Link:
    """Where the link stands, with the plan and what changed since it was sent when it is good.
    ``store``: the deployment's (default: the state store at MAPSHEETS_DB, else the per-user file)."""
    from mapsheets.adapters import link_tokens
    from mapsheets.adapters.store import open_store

    now = _aware(now)
    try:  # genuine first; its own lifetime (in the token) next
        payload = link_tokens.read(_secret(), token, max_age=None, now=now.timestamp())
    except link_tokens.LinkTampered:
        return Link("invalid")
    link = _link("ok", payload)
    days = payload.get("d")
    try:
        link_tokens.read(_secret(), token, max_age=(days if isinstance(days, int) else LINK_DAYS) * 86400,
                         now=now.timestamp())
    except link_tokens.LinkExpired:
        link.state = "expired"
        return link
    store = store if store is not None else open_store()
    if store.plans.get(link.ref) is None:  # ours, but of a plan this deployment's store does not know
        return Link("invalid")
    if any(e.kind == USED and e.detail.get("nonce") == link.nonce for e in store.audit.events(link.ref)):
        link.state = "used"
        return link
    _current(link, store)
    if record:
        store.audit.log(OPENED, ref=link.ref, actor=link.email, at=now, detail={"nonce": link.nonce, "client": client})
    return link


def _link(state: str, payload: dict[str, Any]) -> Link:
    text = {k: v if isinstance(v, str) else "" for k, v in payload.items()}
    revision = payload.get("r")
    return Link(state, ref=text.get("p", ""), email=text.get("e", ""), name=text.get("n", ""), side=text.get("s", ""),
                fingerprint=text.get("f", ""), revision=revision if isinstance(revision, int) else None,
                nonce=text.get("x", ""))


def _current(link: Link, store: Store) -> None:
    """The plan as it reads now and, when its commitments changed since sending, what changed."""
    from mapsheets.core.diff import diff
    from mapsheets.service.workbooks import open_workbook, read_parsed

    link.plan = read_parsed(open_workbook(link.ref))[1].plan
    if link.plan.fingerprint() != link.fingerprint and link.revision is not None:
        sent = next((r for r in store.revisions.of(link.ref) if r.id == link.revision), None)
        if sent is not None:
            link.changes = [c.describe() for c in diff(Plan.from_dict(sent.content["plan"]), link.plan)
                            if not c.kind.startswith("signature_")]


def sign(token: str, *, seen: str, now: datetime, mailer, client: str = "", sender: str | None = None,
         store: Store | None = None, seller_domains: Sequence[str] = ()) -> tuple[Link, bool]:
    """Sign through the link the version the signer saw (``seen``, its fingerprint); (link, signed).
    Not signed when the plan changed since the page was shown: the page shows what changed."""
    from mapsheets.adapters.store import open_store
    from mapsheets.service.signoff import sign_into

    store = store if store is not None else open_store()
    link = look(token, now=now, store=store, record=False)
    if link.state != "ok" or link.plan is None or link.plan.fingerprint() != seen:
        return link, False
    now = _aware(now)
    signature = sign_into(store, link.ref, name=link.name or link.email, email=link.email, side=link.side, now=now,
                          method=EMAIL_LINK, seller_domains=seller_domains)
    store.audit.log(USED, ref=link.ref, actor=link.email, at=now,
                    detail={"nonce": link.nonce, "client": client, "fingerprint": signature.fingerprint})
    plan = link.plan
    _mail(mailer, sender, link.name, link.email, f"You signed: {plan.title}", link.nonce + ".receipt",
          [f"You signed \"{plan.title}\" for the {link.side} side at {signature.signed_at:%Y-%m-%d %H:%M} UTC.",
           f"Plan fingerprint: {signature.fingerprint}", f"Seal: {signature.seal}"], None,
          ["Anyone can check this signature with the deployment's public key (mapsheets verify)."])
    return link, True


def again(token: str, *, now: datetime, mailer, base_url: str, sender: str | None = None,
          store: Store | None = None, seller_domains: Sequence[str] = ()) -> str:
    """A new link to the address of a used or expired one; the address it went to."""
    from mapsheets.adapters.store import open_store

    store = store if store is not None else open_store()
    link = look(token, now=now, store=store, record=False)
    if link.state not in ("used", "expired") or not link.email:
        raise UsageError("this link cannot be renewed: ask the sender for a new one")
    request_into(store, link.ref, f"{link.name} <{link.email}>" if link.name else link.email, now=now,
                 mailer=mailer, base_url=base_url, sender=sender, seller_domains=seller_domains,
                 requested_by=link.email)
    return link.email


def _mail(mailer, sender: str | None, name: str, email: str, subject: str, key: str, lines: list[str],
          url: str | None, after: list[str]) -> None:
    from mapsheets.adapters.mail import build_message, format_address, make_msgid, sender_domain
    from mapsheets.service.delivery import DEFAULT_SENDER

    sender = sender or DEFAULT_SENDER
    text = "\n\n".join([*lines, *([url] if url else []), *after]) + "\n"
    link = f'<p><a href="{escape(url)}">Read and sign the plan</a></p>' if url else ""
    html = "".join(f"<p>{escape(x)}</p>" for x in lines) + link + "".join(f"<p>{escape(x)}</p>" for x in after)
    message = build_message(sender=sender, to=[format_address(name, email)], subject=subject, html=html,
                            text=text, message_id=make_msgid(sender_domain(sender), key))
    mailer.send(message, [email])
