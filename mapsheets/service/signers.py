"""Who may sign which side of a plan: one rule for the CLI, the sidebar and the cards.

The signer is on the plan (a row of the Team tab or one of the two plan owners) and signs their own
side. With seller domains (``MAPSHEETS_SELLER_DOMAINS``), an email's domain decides its side, since
anyone can type "seller" into the Team tab; else the Team tab (or the owner cell) does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mapsheets.core.addresses import find_email
from mapsheets.core.model import Plan
from mapsheets.core.vocabulary import PERSON_SIDES
from mapsheets.errors import PermissionDenied


@dataclass(frozen=True)
class Member:
    """The caller as the plan knows them: on it or not, and for which side they may sign."""

    on_plan: bool
    side: str | None  # buyer | seller | None (unknown, or joint)
    name: str


def member(plan: Plan, email: str, seller_domains: Sequence[str] = ()) -> Member:
    """The Team tab's people and the two plan owners are on the plan, on the side the module says."""
    email = email.strip().lower()
    side, name, on_plan = None, "", False
    for person in plan.stakeholders:
        if person.email.strip().lower() == email:
            on_plan, name = True, person.name
            side = person.side if person.side in PERSON_SIDES else side
    for lead, lead_side in ((plan.seller_lead, "seller"), (plan.buyer_lead, "buyer")):
        found = find_email(lead or "")
        if found and found.lower() == email:
            on_plan, side = True, side or lead_side
            name = name or lead.replace(f"<{found}>", "").replace(found, "").strip(" <>,")
    domains = {d.strip().lower().lstrip("@") for d in seller_domains if d.strip()}
    if domains and on_plan:
        side = "seller" if email.rpartition("@")[2] in domains else "buyer"
    return Member(on_plan=on_plan, side=side, name=name)


def require_member(plan: Plan, email: str, seller_domains: Sequence[str], what: str) -> Member:
    who = member(plan, email, seller_domains)
    if not who.on_plan:
        raise PermissionDenied(f"{email} is not on this plan (Team tab or plan owners): cannot {what}",
                               field="email")
    return who


def may_sign(plan: Plan, email: str, side: str | None, seller_domains: Sequence[str] = ()) -> Member:
    """The signer as the plan knows them, when they may sign ``side`` (None: their own); else refused."""
    who = require_member(plan, email, seller_domains, "sign")
    if who.side is None:
        raise PermissionDenied(f"{email} has no buyer or seller side on the Team tab: cannot sign", field="side")
    if side is not None and side != who.side:
        raise PermissionDenied(f"{email} is on the {who.side} side: cannot sign for the {side} side", field="side")
    return who
