"""The Changes tab's rows, written for people: when, who, the change as the digest words it, the
value before and after; the revisions a row covers go last, in a narrow grey column only mapsheets
reads (how a run killed mid-write knows the rows it already wrote).

Tabs written before the header was in words ("When (UTC)", "What", "Step", "Kind", "Revisions")
still work: rows are laid out by the header the tab has, and the cursor is found under either name.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # diff imports the layout, which takes its widths from here
    from mapsheets.core.diff import Change

WHEN, WHO, WHAT, BEFORE, AFTER, CURSOR = "When", "Who", "What changed", "Before", "After", "mapsheets"
CHANGES_HEADER = [WHEN, WHO, WHAT, BEFORE, AFTER, CURSOR]
OLD_CHANGES_HEADER = ["When (UTC)", "Who", "What", "Step", "Kind", "Revisions"]
CURSOR_LABELS = (CURSOR, "Revisions")  # where the revision key is, in new tabs and old ones
# Label -> width in characters: the change gets the room, the cursor as little as it needs.
CHANGES_WIDTHS = {WHEN: 17, WHO: 26, WHAT: 60, BEFORE: 22, AFTER: 22, CURSOR: 9}
VALUE_LIMIT = 120  # a Before/After longer than this is cut: the full text is in the plan's revisions


def shown_value(value: Any) -> Any:
    """A Before/After cell: dates stay dates (formatted, never a serial), lists read as text, a
    whole step (added or removed) as nothing, since the change's words say it."""
    if value is None or isinstance(value, (dict, bool)) or value == "":
        return None
    if isinstance(value, (date, datetime, int, float)):
        return value
    text = ", ".join(str(v) for v in value) if isinstance(value, (list, tuple)) else str(value)
    return text if len(text) <= VALUE_LIMIT else text[: VALUE_LIMIT - 1] + "…"


def change_cells(when: datetime, who: str, change: Change, key: str) -> dict[str, Any]:
    """One change's cells by label, under the new header and the old one alike."""
    return {WHEN: when, "When (UTC)": when, WHO: who, WHAT: change.describe(), "What": change.describe(),
            BEFORE: shown_value(change.old), AFTER: shown_value(change.new),
            "Step": change.step_id or "", "Kind": change.kind, CURSOR: key, "Revisions": key}


def changes_rows(header: Sequence[Any], cells: Iterable[dict[str, Any]]) -> list[list[Any]]:
    """Rows in the order of ``header`` (the tab's own, or CHANGES_HEADER for a new tab); a label
    mapsheets does not know stays empty."""
    labels = [str(h).strip() if h is not None else "" for h in header]
    if not set(labels) & (set(CHANGES_HEADER) | set(OLD_CHANGES_HEADER)):
        labels = CHANGES_HEADER  # a header cleared or typed over: the rows still say everything
    return [[row.get(label) for label in labels] for row in cells]


def cursor_column(header: Sequence[Any]) -> int:
    """The column holding the revision key: found by name, else the last of the old layout."""
    labels = [str(h).strip() if h is not None else "" for h in header]
    return next((labels.index(name) for name in CURSOR_LABELS if name in labels), len(OLD_CHANGES_HEADER) - 1)
