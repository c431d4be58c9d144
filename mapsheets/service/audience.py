"""Who a digest is for and what it may point them to: inside or outside the seller, the plan's link,
unsubscribe headers, and when a dead deal stops mailing the buyer.

Inside or outside: an address is the seller's own when its domain is one of
``MAPSHEETS_SELLER_DOMAINS`` (comma-separated, e.g. ``globex.example,globex.co.uk``); without that
setting, when its domain is the domain of a seller-side email in the plan (the seller lead, or a
seller row of the Team tab). Everyone else is external: their digests carry ``List-Unsubscribe``,
and a dead deal stops mailing them.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import date
from email.utils import parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import quote

from mapsheets.core.dates import business_days_between
from mapsheets.core.model import Plan
from mapsheets.errors import UsageError
from mapsheets.service.workbooks import google_id

LINK_EVENT = "digest_link"  # audit event: `watch --link URL` (detail: url)
DEAD_NOTICE = "dead_deal_notice"  # audit event: the last digest of a dead deal went to one person
DEAD_AFTER_DAYS = 20


def seller_domains(plan: Plan, configured: Iterable[str] | None = None) -> frozenset[str]:
    """The seller's own email domains (module docstring)."""
    given = {d.strip().lower().lstrip("@") for d in configured or () if d.strip()}
    if given:
        return frozenset(given)
    emails = [plan.seller_lead] + [s.email for s in plan.stakeholders if s.side == "seller"]
    return frozenset(d for d in (_domain(e) for e in emails) if d)


def is_external(email: str, domains: Collection[str]) -> bool:
    return _domain(email) not in domains


def sees_forecast(side: str | None) -> bool:
    """The chance to close is the seller's pipeline judgement: the buyer co-owns the plan, but not
    the seller's odds on it. Only the seller side (a Team-tab seller, an inside address) sees it."""
    return side == "seller"


# How the deal closed is the seller's business: `close` tells the buyer in words of its own.
OUTCOME_FIELDS = ("outcome", "closed_on", "outcome_reason")


def changes_for(changes: list[Any], external: bool) -> list[Any]:
    """The changes one recipient may read: someone outside the seller never sees the outcome rows."""
    if not external:
        return changes
    return [c for c in changes if not (c.kind == "overview_changed" and c.field in OUTCOME_FIELDS)]


def _domain(address: str) -> str:
    email = parseaddr(address or "")[1]
    return email.rpartition("@")[2].lower() if "@" in email else ""


UNSUBSCRIBE_TITLE = 80  # characters of the plan's title in the unsubscribe mail's subject
UNSUBSCRIBE_URL = 900  # the header is one line, and a mail header line holds at most 998 characters


def unsubscribe_headers(sender: str, subscription: Any, title: str) -> dict[str, str]:
    """RFC 2369 / 8058 headers: a mailto to the sender whose subject names the subscription."""
    address = quote(parseaddr(sender)[1], safe="@!$'*+")  # RFC 6068: ASCII, anything else percent-encoded
    for named in (title[:UNSUBSCRIBE_TITLE], ""):  # a title that would make the line too long is left out
        about = f" from {named}" if named.strip() else ""
        words = " ".join(f"unsubscribe {subscription.email}{about} (subscription {subscription.id})".split())
        mailto = f"mailto:{address}?subject={quote(words, safe='')}"
        if len(mailto) <= UNSUBSCRIBE_URL:
            break
    return {"List-Unsubscribe": f"<{mailto}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def check_link(url: str) -> str:
    from mapsheets.emails.render import safe_href

    link = safe_href(url)
    if link is None:
        raise UsageError(f"link {url!r} is not an http(s) URL", field="link")
    return link


def plan_link(ref: str, events: Iterable[Any]) -> tuple[str, str]:
    """(a link recipients can open or "", where the plan lives in words).

    A link given with ``watch --link`` wins; a Google Sheet has its own; a local file has none
    (``file:///`` opens nothing on anyone else's computer): its name says where it is.
    """
    links = [e.detail.get("url") for e in events if e.kind == LINK_EVENT and e.detail.get("url")]
    if links:
        return links[-1], links[-1]
    sheet_id = google_id(ref)
    if sheet_id:
        url = f"https://docs.google.com/spreadsheets/d/{sheet_id}/edit"
        return url, url
    return "", f"{Path(ref).name} (a file kept by the plan's owner; no link)"


def days_past_close(plan: Plan, today: date, holidays: Collection[date]) -> int | None:
    """Business days since the target close of a plan whose close step is not done; None otherwise."""
    if plan.target_close is None or plan.target_close >= today:
        return None
    close = plan.step(plan.close_step) if plan.close_step else None
    finished = ("done", "n/a")
    if close.status in finished if close is not None else all(s.status in finished for s in plan.steps):
        return None
    return business_days_between(plan.target_close, today, holidays)


def notified(events: Iterable[Any], plan: Plan) -> set[str]:
    """Who already had the last digest for this plan's current target close."""
    target = plan.target_close.isoformat() if plan.target_close else None
    return {e.actor for e in events if e.kind == DEAD_NOTICE and e.detail.get("target_close") == target}
