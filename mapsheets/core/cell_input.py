"""What people type into a plan's cells, understood: statuses, sides, outcomes, lists of people
and of step IDs, header labels, and IDs for rows typed without one. Pure."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from mapsheets.core.model import ID_ALPHABET, ID_PREFIX
from mapsheets.core.text import plural  # noqa: F401  (its old home)
from mapsheets.core.vocabulary import SIDES


def norm(value: Any) -> str:
    """A label or word as compared: lower case, spaces, underscores, colons and stars folded."""
    return re.sub(r"[\s_:*]+", " ", str(value)).strip().lower() if value is not None else ""


# Header synonyms people use, normalised -> step field.
STEP_HEADER_SYNONYMS: dict[str, str] = {
    "id": "id", "step id": "id", "#": "id", "ref": "id",
    "phase": "phase", "stage": "phase", "milestone": "phase",
    "step": "title", "title": "title", "task": "title", "action": "title", "activity": "title",
    "side": "side", "party": "side", "responsible party": "side",
    "owners": "owners", "owner": "owners", "who": "owners", "responsible": "owners", "assignee": "owners",
    "due": "due", "due date": "due", "target date": "due", "deadline": "due", "date": "due",
    "status": "status", "state": "status",
    "done on": "done_on", "completed on": "done_on", "completed": "done_on", "date completed": "done_on",
    "depends on": "depends_on", "dependencies": "depends_on", "depends": "depends_on", "after": "depends_on",
    "notes": "notes", "note": "notes", "comments": "notes", "comment": "notes",
}

_STATUS_WORDS = {
    "done": ("done", "complete", "completed", "finished", "closed", "yes", "signed", "100%",
             "✅", "✔", "✔️", "✓", "☑", "☑️"),
    "in progress": ("in progress", "wip", "started", "ongoing", "doing", "in-progress", "underway",
                    "working", "active", "🔄", "⏳", "🟡"),
    "not started": ("not started", "todo", "to do", "to-do", "open", "pending", "planned", "new",
                    "not yet", "tbd", "0%"),
    "blocked": ("blocked", "stuck", "on hold", "on-hold", "waiting", "⛔", "🚫", "🛑", "🔴"),
    "n/a": ("n/a", "na", "not applicable", "skipped", "skip", "cancelled", "canceled", "dropped", "-", "—"),
}
_STATUS_SYNONYMS = {word: status for status, words in _STATUS_WORDS.items() for word in words}


def status_spellings(status: str) -> tuple[str, ...]:
    """Every spelling read as ``status`` (lower case), so the sheet's colours agree with the reader."""
    return _STATUS_WORDS[status]

_SIDE_SYNONYMS = {
    "buyer": "buyer", "customer": "buyer", "client": "buyer", "prospect": "buyer", "buy": "buyer",
    "seller": "seller", "vendor": "seller", "supplier": "seller", "us": "seller", "sell": "seller",
    "joint": "joint", "both": "joint", "mutual": "joint", "shared": "joint", "all": "joint",
}
# Owners are split at "," ";" and line breaks, and at "/", "&" or "and" between spaces.
_RUNS = re.compile(r"\s+|[,;]+")
_JOIN_WORD = re.compile(r"(?:/|&|and)(?=\s)")
_SPLIT_IDS = re.compile(r"[,;\s]+")


def parse_status(value: Any) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return "not started"
    if isinstance(value, bool):
        return "done" if value else "not started"
    return _STATUS_SYNONYMS.get(norm(value).replace(" / ", "/"))


def match_phase(typed: str, phases: list[str]) -> tuple[str | None, str | None]:
    """(the plan's spelling of ``typed``, matched ignoring case and spacing; or None, and the
    nearest phase to suggest for a typo, or None)."""
    import difflib

    by_norm = {norm(p): p for p in phases}
    if norm(typed) in by_norm:
        return by_norm[norm(typed)], None
    near = difflib.get_close_matches(norm(typed), list(by_norm), n=1, cutoff=0.6)
    return None, by_norm[near[0]] if near else None


_OUTCOME_WORDS = {"won": "won", "win": "won", "closed won": "won", "lost": "lost", "loss": "lost",
                  "closed lost": "lost"}


def parse_outcome(value: Any) -> str | None:
    """"won" or "lost" from what people type ("Closed Won", "LOST"); None when it is neither."""
    return _OUTCOME_WORDS.get(norm(value).replace("-", " "))


def parse_side(value: Any, buyer: str = "", seller: str = "") -> str | None:
    text = norm(value)
    if not text:
        return "joint"
    if text in SIDES:  # the words themselves win over a company so named
        return text
    if buyer and text == norm(buyer):
        return "buyer"
    if seller and text == norm(seller):
        return "seller"
    return _SIDE_SYNONYMS.get(text)


def split_people(value: Any) -> list[str]:
    """Owners as written: "Jane, Bob / Ann and Lee" -> four people. One pass over the text's runs of
    spaces and separators, so a long cell is read in linear time (the pattern it replaces,
    ``[,;\\n]+|\\s+/\\s+|…``, backtracked quadratically over long runs of spaces; issue 17)."""
    if value is None:
        return []
    text = str(value)
    parts, start, skip_to = [], 0, 0
    for run in _RUNS.finditer(text):
        at, end = run.span()
        if at < skip_to:
            continue  # the spaces after a joining word: part of that separator
        word = _JOIN_WORD.match(text, end) if run[0][0] not in ",;" else None
        # A joining word counts after spaces that are not only line breaks (a break splits first).
        if word and run[0].strip("\n"):
            parts.append(text[start:at])
            spaces = _RUNS.match(text, word.end())  # there are some: the word's lookahead saw them
            start = skip_to = spaces.end() if spaces else word.end()
        elif run[0][0] in ",;" or "\n" in run[0]:
            parts.append(text[start:at])
            start = end
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def split_ids(value: Any) -> list[str]:
    if value is None:
        return []
    return [p.strip().upper() for p in _SPLIT_IDS.split(str(value)) if p.strip()]


def derived_step_id(seed: str, taken: set[str]) -> str:
    """An ID for a row that has none, stable across reads of the same content."""
    for salt in range(1000):
        digest = hashlib.sha256(f"{seed}|{salt}".encode()).digest()
        candidate = ID_PREFIX + "".join(ID_ALPHABET[b % 32] for b in digest[:4])
        if candidate not in taken:
            return candidate
    raise AssertionError("unreachable: 1000 clashing IDs")


def text(value: Any) -> str:
    """A cell as text: stripped, a whole float without its .0."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def as_csv_text(value: Any) -> Any:
    """Text a spreadsheet would run as a formula ("=HYPERLINK(...)", "+cmd") opens as text: a leading '."""
    return "'" + value if isinstance(value, str) and value[:1] in FORMULA_STARTS else value


def from_csv_text(value: str) -> str:
    """What ``as_csv_text`` wrote, read back."""
    return value[1:] if value[:1] == "'" and value[1:2] in FORMULA_STARTS else value
