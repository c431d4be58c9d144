"""adapters.xlsx_workers: answers in job order, a bug's traceback raised, a killed worker said."""

from __future__ import annotations

import os
import signal
import time

import pytest

from mapsheets.adapters import plan_lock
from mapsheets.adapters.xlsx import XlsxWorkbook, read_grid
from mapsheets.adapters.xlsx_workers import NOT_STARTED, WorkerCrashed, WriterPool
from mapsheets.errors import PlanFileError

HEADER = ["When", "What"]


def _pool_of(plan_file, tmp_path, count):
    paths = []
    for i in range(count):
        path = tmp_path / f"p{i}.xlsx"
        path.write_bytes(plan_file.read_bytes())
        paths.append(path)
    return paths


def test_answers_come_back_in_job_order_with_each_file_version(plan_file, tmp_path):
    paths = _pool_of(plan_file, tmp_path, 5)
    pool = WriterPool(2)
    try:
        for i, path in enumerate(paths):
            pool.submit(str(path), "Log", [[f"row {i}", i]], HEADER, None, XlsxWorkbook(path).revision())
        answers = pool.answers(wait=True)
    finally:
        pool.close()
    assert [error for _after, error in answers] == [None] * 5
    assert [after for after, _error in answers] == [XlsxWorkbook(p).revision() for p in paths]
    assert [read_grid(p)["Log"] for p in paths] == [[HEADER, [f"row {i}", i]] for i in range(5)]
    assert len(pool._workers) == 0  # closed: every worker exited


def test_a_file_saved_since_the_read_answers_no_version(plan_file, tmp_path):
    pool = WriterPool(1)
    try:
        pool.submit(str(plan_file), "Log", [["x", 1]], HEADER, None, {"modified_ns": 0, "size": 0})
        [(after, error)] = pool.answers(wait=True)
    finally:
        pool.close()
    assert (after, error) == (None, None) and read_grid(plan_file)["Log"][1] == ["x", 1]


def test_a_bug_in_a_worker_is_raised_with_its_traceback(plan_file):
    pool = WriterPool(1)
    try:
        pool.submit(str(plan_file), "Log", [[{"not": "a cell value"}]], HEADER, None, {})
        with pytest.raises(WorkerCrashed) as err:
            pool.answers(wait=True)
    finally:
        pool.close()
    assert "Traceback" in str(err.value) and "ValueError" in str(err.value)


@pytest.mark.parametrize("when", ["before it is ready", "mid-job"])
def test_a_killed_worker_is_an_answer_for_that_job_and_the_next(plan_file, tmp_path, when):
    paths = _pool_of(plan_file, tmp_path, 2)
    pool = WriterPool(1)
    try:
        with plan_lock.locked(paths[0]):  # the worker waits here, and is killed waiting
            for path in paths:
                pool.submit(str(path), "Log", [["x", 1]], HEADER, None, {})
            worker = pool._workers[0]
            deadline = time.monotonic() + 30
            while when == "mid-job" and not worker.started and time.monotonic() < deadline:
                time.sleep(0.02)
            assert pool.answers(wait=False) == []
            os.kill(worker.proc.pid, signal.SIGKILL)
            answers = pool.answers(wait=True)
    finally:
        pool.close()
    if not worker.started:  # killed while starting: no job begun, each NOT_STARTED (the caller writes them)
        assert when == "before it is ready" and answers == [NOT_STARTED, NOT_STARTED]
        return
    assert [after for after, _e in answers] == [None, None]
    assert all(isinstance(e, PlanFileError) and "stopped before saying whether it wrote" in str(e)
               for _a, e in answers)
    assert all("Log" not in read_grid(p) for p in paths)
