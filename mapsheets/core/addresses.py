"""Email addresses as people type them: ``jane@acme.example`` or ``Jane Doe <jane@acme.example>``.

The one address pattern of the package (``vocabulary.EMAIL``): plans (roles, owners), sign-off, digests and
mail use it.
"""

from __future__ import annotations

import re

from mapsheets.core.vocabulary import EMAIL as EMAIL  # callers import it from here too

# The name takes everything before the one "<" (its spaces are stripped after): linear time, like EMAIL.
_NAMED = re.compile(rf"^(?P<name>[^<>]*)<\s*(?P<email>{EMAIL.pattern})\s*>$")


def find_email(text: str) -> str | None:
    """The first email address anywhere in ``text`` ("Jane Doe <jane@acme.example>, CFO")."""
    found = EMAIL.search(text or "")
    return found[0] if found else None


def parse_address(text: str) -> tuple[str, str] | None:
    """(name, email) when ``text`` is one address, bare or as ``Name <email>``; else None.

    The name is "" for a bare address; quotes around it are dropped.
    """
    text = (text or "").strip()
    if EMAIL.fullmatch(text):
        return "", text
    named = _NAMED.match(text)
    if named is None:
        return None
    return named["name"].strip().strip("\"'").strip(), named["email"]
