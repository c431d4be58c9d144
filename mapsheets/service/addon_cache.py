"""Local plans read once per version for the add-on server: the sidebar asks for the same plan over
and over, and reading an .xlsx with openpyxl costs far more CPU than anything else in a request
(and holds the GIL, so concurrent requests queue behind it).

A reading is kept per file and reused while the file's identity is unchanged: device, inode, size,
modification and change time. Every save (ours, the CLI's, Excel's, LibreOffice's) writes a new
file and renames it over the old one, so another program's write is a new identity, and the next
request reads again. Google plans are not kept: their read is one request with the caller's own
token, and the token is what proves the caller may read the sheet.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

SIZE = 64  # plans kept per process


@dataclass
class Reading:
    """A plan as read from one version of its file: treat as read-only, it is shared."""

    grid: dict[str, list[list[Any]]]
    parsed: Any
    derived: dict[Any, Any] = field(default_factory=dict)

    def memo(self, key: Any, make: Callable[[], Any]) -> Any:
        """A value computed from this reading once (two threads may both compute it: harmless)."""
        try:
            return self.derived[key]
        except KeyError:
            value = self.derived[key] = make()
            return value


def identity(path: str) -> tuple[int, ...] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


class PlanCache:
    """Readings of local plan files by path, least recently used dropped first; thread-safe."""

    def __init__(self, size: int = SIZE) -> None:
        self.size = size
        self.hits = self.misses = 0
        self._entries: OrderedDict[str, tuple[tuple[int, ...], Reading]] = OrderedDict()
        self._lock = threading.Lock()

    def read(self, path: str, load: Callable[[], tuple[Any, Any]]) -> Reading:
        """The reading of ``path`` as it is now: kept, or ``load()`` (grid, parsed) and kept when the
        file was the same version before and after the read."""
        path = os.path.abspath(path)
        before = identity(path)
        if before is not None:
            with self._lock:
                kept = self._entries.get(path)
                if kept is not None and kept[0] == before:
                    self._entries.move_to_end(path)
                    self.hits += 1
                    return kept[1]
        grid, parsed = load()
        reading = Reading(grid, parsed)
        with self._lock:
            self.misses += 1
            if before is not None and identity(path) == before:
                self._entries[path] = (before, reading)
                self._entries.move_to_end(path)
                while len(self._entries) > self.size:
                    self._entries.popitem(last=False)
        return reading

    def forget(self, path: str) -> None:
        """Drop what is kept for ``path`` (after writing it: its identity changed anyway)."""
        with self._lock:
            self._entries.pop(os.path.abspath(path), None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


PLANS = PlanCache()
