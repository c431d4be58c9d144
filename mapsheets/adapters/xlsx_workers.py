"""Processes that append rows to local plans while the caller goes on (``python -m`` this module).

Not ``multiprocessing``: its start methods either fork a process that may hold threads, sockets
and database connections, or import the caller's script again in every worker (an unguarded cron
script would run twice), and its workers outlive a caller killed with SIGKILL, holding cron's
output pipe open. A worker here is a plain child process that reads jobs from its stdin and
answers on its stdout: when the caller dies, its stdin ends and it exits after the write in hand
(each write is atomic, see ``adapters.xlsx.rewrite``). Jobs and answers are pickles on a private
pipe between two processes of the same user.
"""

from __future__ import annotations

import os
import pickle
import queue
import signal
import subprocess
import sys
import threading
import traceback
from collections.abc import Mapping
from typing import IO, Any

from mapsheets.errors import MapsheetsError, PlanFileError

Answer = tuple[dict[str, Any] | None, MapsheetsError | None]


def append_rows(book: Any, tab: str, rows: list[list[Any]], header: list[str],
                also: Mapping[str, Mapping[tuple[int, int], Any]] | None, source: dict[str, Any]) -> Answer:
    """Append ``rows`` (and set ``also``); (the file's version after the write, or None if it was
    no longer ``source`` before it: someone else saved since the caller read it; the error)."""
    try:
        untouched = book.revision() == source
        book.append_rows(tab, rows, header=header, also=also)
        return (book.revision() if untouched else None), None
    except MapsheetsError as exc:
        return None, exc


class WorkerCrashed(RuntimeError):
    """A worker failed with an error that is not a MapsheetsError: a bug, with its traceback."""


NOT_STARTED = "not started"  # the answer to every job of a worker that never came up


class _Worker:
    def __init__(self) -> None:
        # The caller's import path, so the worker imports the same mapsheets and openpyxl.
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        self.proc = subprocess.Popen([sys.executable, "-m", __name__], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, close_fds=True, env=env)
        assert self.proc.stdin is not None  # stdin=PIPE
        self.stdin: IO[bytes] = self.proc.stdin
        self.answers: queue.SimpleQueue = queue.SimpleQueue()
        self.in_hand = 0
        self.started = False  # said it is ready: from then on, a death may be mid-write
        threading.Thread(target=self._read, daemon=True).start()  # so the worker never blocks on its stdout

    def _read(self) -> None:
        out = self.proc.stdout
        assert out is not None  # stdout=PIPE
        try:
            self.started = pickle.load(out) == "ready"
            while self.started:
                self.answers.put(pickle.load(out))
        except (EOFError, OSError, pickle.UnpicklingError):
            pass
        self.answers.put(None)  # died: every job still in hand is unanswered

    def send(self, job: tuple) -> None:
        self.in_hand += 1
        try:
            pickle.dump(job, self.stdin, protocol=pickle.HIGHEST_PROTOCOL)
            self.stdin.flush()
        except (BrokenPipeError, OSError):
            pass  # answered as died when its answer is asked for

    def answer(self, wait: bool) -> tuple[bool, Any]:
        try:
            got = self.answers.get(block=wait)
        except queue.Empty:
            return False, None
        if got is None:
            self.answers.put(None)  # and for the jobs after it
        self.in_hand -= 1
        return True, got


class WriterPool:
    """``workers`` worker processes, started with the first job; answers come back in job order."""

    def __init__(self, workers: int) -> None:
        self.size = workers
        self._workers: list[_Worker] = []
        self._order: list[_Worker] = []  # which worker has each unanswered job, oldest first

    def submit(self, path: str, tab: str, rows: list[list[Any]], header: list[str],
               also: Mapping[str, Mapping[tuple[int, int], Any]] | None, source: dict[str, Any]) -> None:
        if len(self._workers) < self.size and all(w.in_hand for w in self._workers):
            self._workers.append(_Worker())
        worker = min(self._workers, key=lambda w: w.in_hand)
        worker.send((path, tab, rows, header, also, source))
        self._order.append(worker)

    def answers(self, *, wait: bool) -> list[Answer | str]:
        """The answers of the oldest jobs, in order: those ready, or all of them when ``wait``.
        NOT_STARTED for a job whose worker never started (its file is untouched)."""
        out: list[Answer | str] = []
        while self._order:
            worker = self._order[0]
            ready, got = worker.answer(wait)
            if not ready:
                break
            self._order.pop(0)
            if got is None and not worker.started:  # no job was begun: the caller may write it itself
                got = NOT_STARTED
            elif got is None:  # killed mid-job: the write may or may not be on disk
                got = None, PlanFileError("the process writing it stopped before saying whether it wrote")
            elif got[0] == "crash":
                raise WorkerCrashed(got[1])
            else:
                got = got[1]
            out.append(got)
        return out

    def close(self) -> None:
        """No more jobs: each worker finishes what it has and exits."""
        for worker in self._workers:
            try:
                worker.stdin.close()
            except OSError:
                pass
        for worker in self._workers:
            worker.proc.wait()
        self._workers = []


def _serve() -> None:
    """A worker: jobs from stdin until it ends, an answer for each on stdout."""
    from mapsheets.adapters.xlsx import XlsxWorkbook
    from mapsheets.adapters.xlsx_open import load_openpyxl

    load_openpyxl()  # loaded before it says it is ready: a worker that cannot load it begins no job

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the caller decides
    jobs, answers = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing printed by accident may reach the answer stream
    try:
        pickle.dump("ready", answers)
        answers.flush()
    except BrokenPipeError:  # the caller is gone before we began: nothing to do
        os._exit(0)
    while True:
        try:
            path, tab, rows, header, also, source = pickle.load(jobs)
        except EOFError:
            return
        try:
            answer: tuple = ("done", append_rows(XlsxWorkbook(path), tab, rows, header, also, source))
        except Exception:  # a bug, not a plan problem: the caller raises it
            answer = ("crash", traceback.format_exc())
        try:
            pickle.dump(answer, answers, protocol=pickle.HIGHEST_PROTOCOL)
            answers.flush()
        except BrokenPipeError:  # the caller is gone; the write itself is on disk
            os._exit(0)


if __name__ == "__main__":
    _serve()
