"""An edit of one tab, as the service computes it from a fresh read and a backend applies it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Edit:
    """Cells set in place, and rows added after the last row of a table.

    A file backend writes ``rows`` from ``next_row`` (the first free row its locked read found);
    Google appends them to the table whose header is ``header_row`` itself, so two people adding
    at once never get the same row. Rows map 0-based column -> value.
    """

    tab: str
    cells: dict[tuple[int, int], Any] = field(default_factory=dict)
    rows: list[dict[int, Any]] = field(default_factory=list)
    next_row: int = 0
    header_row: int = 0
    # Cells of other tabs set in the same write (a signature's Status on Sign-off).
    also: dict[str, dict[tuple[int, int], Any]] = field(default_factory=dict)
    # Non-empty: this edit is written at most once across processes (a person's signature of one
    # version). A file backend's lock and re-read under it already ensure that; Google refuses the
    # second write itself, and the edit is computed again on a fresh read.
    once: str = ""
    # Set: ``rows`` go in here instead (a step inside its phase's band), pushing the rows below down;
    # ``cells`` are as read, before the insert. A backend that cannot insert safely appends.
    insert_at: int | None = None

    def placed(self) -> dict[tuple[int, int], Any]:
        """Every cell with its row, appended rows at ``next_row``: what a file backend writes."""
        cells = dict(self.cells)
        for i, row in enumerate(self.rows):
            cells.update({(self.next_row + i, c): v for c, v in row.items()})
        return cells

    def inserted(self) -> dict[tuple[int, int], Any]:
        """The same once ``len(rows)`` rows are inserted at ``insert_at``: cells below moved down,
        the rows in the gap."""
        at, n = self.insert_at, len(self.rows)
        assert at is not None
        cells = {(r + n if r >= at else r, c): v for (r, c), v in self.cells.items()}
        for i, row in enumerate(self.rows):
            cells.update({(at + i, c): v for c, v in row.items()})
        return cells
