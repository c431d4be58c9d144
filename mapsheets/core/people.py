"""People in a plan: "Jane Doe <jane@acme.example>" in Owners, matched to Team rows by email. Pure.

An owner written with an email follows its Team row: renaming Jane in the Team tab renames her in
every step she owns, and a diff compares owners by email where they have one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # names for annotations only: model.py imports this module
    from mapsheets.core.model import Plan, Stakeholder

from mapsheets.core.vocabulary import EMAIL

EMAIL_IN = EMAIL  # the old name: one pattern for the package (vocabulary.EMAIL)


def split_person(text: str) -> tuple[str, str]:
    """(name, email) of "Jane Doe <jane@acme.example>", "jane@acme.example" or "Jane Doe"."""
    text = text.strip()
    found = EMAIL_IN.search(text)
    if not found:
        return text, ""
    email = found[0]
    name = text.replace(f"<{email}>", "").replace(f"({email})", "").replace(email, "").strip(" <>,")
    return name or email, email


def owner_label(person: Stakeholder) -> str:
    """How an owner who is on the team is written in Owners: "Name <email>" where there is an email."""
    if person.email and person.name and person.name.casefold() != person.email.casefold():
        return f"{person.name} <{person.email}>"
    return person.email or person.name


def owner_key(entry: str) -> str:
    """Who an Owners entry means: their email where it has one, else the name (case and spaces folded)."""
    found = EMAIL_IN.search(entry)
    return found[0].casefold() if found else " ".join(entry.split()).casefold()


def owner_keys(names: list[str]) -> set[str]:
    """Who a list of owners means: "Jane <jane@x>" and "Jane Smith <jane@x>" are one person."""
    return {owner_key(n) for n in names}


def owner_name(entry: str, team: Sequence[Stakeholder] = ()) -> str:
    """The name to show for an Owners entry: the Team row's for its email, else the name written."""
    person = find_person(team, entry)
    return person.name if person and person.name else split_person(entry)[0]


def find_person(team: Sequence[Stakeholder], who: str) -> Stakeholder | None:
    """The Team row ``who`` (an email, a name, or "Name <email>") means: by email first, then by name."""
    name, email = split_person(who)
    if email:
        hit = next((p for p in team if p.email and p.email.casefold() == email.casefold()), None)
        if hit or name.casefold() == email.casefold():
            return hit
    folded = " ".join(name.split()).casefold()
    return next((p for p in team if " ".join(p.name.split()).casefold() == folded), None)


def link_owner(entry: str, team: Sequence[Stakeholder]) -> str:
    """An owner as written on write: a Team member with an email becomes "Name <email>"."""
    person = find_person(team, entry)
    return owner_label(person) if person and person.email else entry


def placeholder_renames(plan: Plan, placeholders: Mapping[str, str]) -> dict[str, str]:
    """Owner key of a template placeholder ("acme corp security lead") -> the label of the one Team
    member now holding that role, where someone renamed the placeholder's Team row by hand."""
    on_team = {owner_key(p.name) for p in plan.stakeholders}
    out = {}
    for role, placeholder in placeholders.items():
        if not placeholder.strip() or owner_key(placeholder) in on_team:
            continue  # still on the team as written, or nothing to follow
        holders = [p for p in plan.stakeholders if p.role.casefold() == role.casefold() and (p.name or p.email)]
        if len(holders) == 1:
            out[owner_key(placeholder)] = owner_label(holders[0])
    return out


def follow_team(plan: Plan) -> None:
    """On read: an owner written as "Name <email>" takes the current name of the Team row with that email."""
    for step in plan.steps:
        step.owners = [_current(o, plan.stakeholders) for o in step.owners]


def _current(entry: str, team: list[Stakeholder]) -> str:
    name, email = split_person(entry)
    if not email or name.casefold() == email.casefold():
        return entry  # a bare email or a bare name stays as typed
    person = find_person(team, email)
    return owner_label(person) if person and person.name else entry
