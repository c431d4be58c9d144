"""A digest run's Changes-tab writes, made by worker processes while the run goes on.

Appending to a local plan is an openpyxl load and save of the whole workbook (about 35 ms for a
25-step plan), all CPU: with 50 changed plans it was half of a 1,000-plan run. Those writes go to
a few worker processes (``adapters.xlsx_workers``) while the run reads, builds and sends the other
digests; what a write leads to (the Changes cursor moved, our own save not taken for an edit) is
still done by the run itself, in the order the writes were asked for, once each is on disk. The
kill-safety of ``changes_tab.log_changes`` is unchanged: the cursor only moves after its rows are
written, and a run killed meanwhile leaves rows the next run recognises by their key.

A Google Sheet (a request, not CPU, and the workbook records the times of its own saves) and
``workers=0`` write in the run's own process. Workers start with the first write: the openpyxl
import each pays is one the run would otherwise pay itself.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from mapsheets.adapters.xlsx_workers import NOT_STARTED, WriterPool, append_rows
from mapsheets.errors import MapsheetsError

MAX_WORKERS = 4

# (after, error): the file's version after our write (None if someone else saved between the
# run's read and the write), or the error that stopped it.
Done = Callable[[dict[str, Any] | None, MapsheetsError | None], None]

__all__ = ["SheetWrites", "append_rows", "default_workers"]


def default_workers() -> int:
    """One per core, up to MAX_WORKERS."""
    return min(MAX_WORKERS, os.cpu_count() or 1)


class SheetWrites:
    """Where ``log_changes`` sends its writes during one run: ``with SheetWrites(n) as writes: ...``
    (n worker processes; None: ``default_workers()``; 0: none)."""

    def __init__(self, workers: int | None = None) -> None:
        self._pool = WriterPool(default_workers() if workers is None else workers)
        self._asked: list[tuple[Done, tuple]] = []  # the writes in the pool, oldest first
        self.notes: list[str] = []

    def append(self, book: Any, tab: str, rows: list[list[Any]], *, header: list[str],
               also: Mapping[str, Mapping[tuple[int, int], Any]] | None, source: dict[str, Any], done: Done) -> None:
        ref = book.worker_ref() if self._pool.size > 0 else None
        if ref is None:
            done(*append_rows(book, tab, rows, header, also, source))
            return
        self._pool.submit(ref, tab, rows, header, also, source)
        self._asked.append((done, (book, tab, rows, header, also, source)))
        self._settle(wait=False)

    def _settle(self, *, wait: bool) -> None:
        for answer in self._pool.answers(wait=wait):
            done, job = self._asked.pop(0)
            if answer == NOT_STARTED:  # e.g. no `python -m` here: this process writes, for the rest of the run
                if self._pool.size:
                    self._pool.size = 0
                    self.notes.append("the Changes-tab writer processes did not start (their error is above); "
                                      "this run wrote the tabs itself")
                answer = append_rows(*job)
            done(*answer)

    def __enter__(self) -> SheetWrites:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *_exc: object) -> None:
        """Report every write; after an error, only let the workers finish: those cursors stay,
        and the next run finds the rows keyed and does not write them twice."""
        try:
            if exc_type is None:
                self._settle(wait=True)
        finally:
            self._pool.close()
