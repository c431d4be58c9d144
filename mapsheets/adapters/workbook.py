"""What every plan backend offers (.xlsx on disk, a Google Sheet): the service is typed against this.

A structural ``Protocol``: the backends do not inherit from it, and the service's wrappers (read
once per request, remember own writes) satisfy it by forwarding. Where backends differ the
difference is a method with an answer for each (``edits()`` is None where a file keeps no
history; ``share()`` refuses a local file), never a check of which backend it is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from mapsheets.core.edits import Edit
    from mapsheets.core.layout import WorkbookSpec

Grid = dict[str, list[list[Any]]]  # tab title -> rows of cell values
Cells = Mapping[tuple[int, int], Any]  # (0-based row, column) -> value


@runtime_checkable
class Workbook(Protocol):
    """A plan workbook: read every tab, write it whole, set cells, append rows, one locked edit."""

    @property
    def ref(self) -> str:
        """How messages name the plan: the file path or the sheet's URL."""
        ...

    def read_grid(self) -> Grid:
        """Every tab's values."""
        ...

    def create(self, spec: WorkbookSpec, *, force: bool = False) -> str:
        """Write the whole plan; returns where it is."""
        ...

    def update_cells(self, tab: str, cells: Cells, *, also: Mapping[str, Cells] | None = None,
                     force: bool = False) -> None:
        """Set cells of ``tab`` (and of other tabs in ``also``) in one write."""
        ...

    def append_rows(self, tab: str, rows: list[list[Any]], *, header: list[str],
                    also: Mapping[str, Cells] | None = None, force: bool = False) -> None:
        """Rows after the tab's last row; the tab (with ``header``) made if missing."""
        ...

    def modify(self, compute: Callable[[Grid], tuple[Edit | None, Any]], *, force: bool = False,
               grid: Grid | None = None) -> Any:
        """One read-modify-write: ``compute(grid)`` gives (edit or None, result); returns the result."""
        ...

    def revision(self) -> dict[str, Any]:
        """What identifies this version, for change detection."""
        ...

    def edits(self) -> list[dict[str, Any]] | None:
        """Who saved when ({modified_time, by}, oldest first), or None where nobody can be named."""
        ...

    def share(self, email: str, role: str = "writer", message: str | None = None) -> None:
        """Give a person access (or refuse, where the backend cannot)."""
        ...

    def worker_ref(self) -> str | None:
        """What a worker process (``adapters.xlsx_workers``) opens to write this workbook for us, or
        None: its writes stay in this process (a request, not CPU; and the digest run reads the
        time of each of its own saves right after it)."""
        ...


__all__ = ["Cells", "Grid", "Workbook"]
