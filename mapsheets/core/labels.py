"""The sheet's own labels for plan fields, as a change is worded (pure): diff.py reports changes by
field, change_text.py words them, machine.py reads the hidden tab by them."""

from __future__ import annotations

from mapsheets.core.model import OVERVIEW_FIELDS, overview_key

# Step fields in report order, with the sheet label used in wording (and for unparsed cells).
STEP_FIELDS: tuple[tuple[str, str], ...] = (
    ("id", "ID"), ("phase", "Phase"), ("title", "Step"), ("side", "Side"), ("owners", "Owners"),
    ("due", "Due"), ("status", "Status"), ("done_on", "Done on"), ("depends_on", "Depends on"),
    ("notes", "Notes"),
)
STEP_LABEL = dict(STEP_FIELDS)
# By attribute, and as a diff names the field (the calendar keeps its outside name, "holidays").
OVERVIEW_LABEL = {key: label for attr, label, _typ in OVERVIEW_FIELDS for key in (attr, overview_key(attr))}
