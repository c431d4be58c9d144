"""The digest run's Changes-tab writes made by worker processes (service.sheet_writes): the same
rows as a run that writes them itself, and under kills nothing lost, nothing written twice, no
process left behind."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from digest_helpers import T0, outbox_messages
from plan_cells import edit_steps as edit

from mapsheets.adapters import plan_lock
from mapsheets.adapters.mail import OutboxMailer
from mapsheets.adapters.xlsx import read_grid
from mapsheets.service import digest

STATUSES = ["Done", "Blocked", "In progress", "Done", "Blocked", "Done"]


def _plans(folder: Path, plan_file: Path, db: str, count: int) -> list[Path]:
    folder.mkdir()
    paths = []
    for i in range(count):
        path = folder / f"plan-{i}.xlsx"
        shutil.copy(plan_file, path)
        digest.watch(str(path), [f"ae{i}@globex.example"], now=T0, store_url=db)
        paths.append(path)
    return paths


def _edit_each(paths: list[Path]) -> None:
    for i, path in enumerate(paths):  # each plan a different edit, some two
        edit(path, {(i % 4, "Status"): STATUSES[i % len(STATUSES)], **({(5, "Status"): "Done"} if i % 2 else {})})


def test_workers_write_the_rows_a_run_in_one_process_writes(plan_file, tmp_path):
    tabs = {}
    for workers in (2, 0):
        db = f"sqlite:///{tmp_path / f'state-{workers}.db'}"
        paths = _plans(tmp_path / f"plans-{workers}", plan_file, db, 6)
        _edit_each(paths)
        report = digest.run(now=T0 + timedelta(days=1), mailer=OutboxMailer(tmp_path / f"out-{workers}"),
                            store_url=db, write_workers=workers)
        assert len(report.sent) == 6 and report.notes == [] and report.failed == []
        tabs[workers] = [read_grid(p)["Changes"] for p in paths]
        # The cursor moved and our own saves were not taken for edits: the next run reads nothing.
        again = digest.run(now=T0 + timedelta(days=2), mailer=OutboxMailer(tmp_path / f"out-{workers}"),
                           store_url=db, write_workers=workers)
        assert (again.snapshots, again.unchanged) == (0, 6)
        assert [read_grid(p)["Changes"] for p in paths] == tabs[workers]
    assert tabs[2] == tabs[0]
    assert all(len(tab) >= 2 for tab in tabs[2])  # a header and at least one row each
    assert [len(tab) - 1 for tab in tabs[2]] == [1, 2, 1, 2, 1, 2]


def test_a_plan_open_in_libreoffice_is_a_note_from_a_worker_and_written_next_run(plan_file, tmp_path, db):
    paths = _plans(tmp_path / "plans", plan_file, db, 3)
    _edit_each(paths)
    lock = paths[1].parent / f".~lock.{paths[1].name}#"
    lock.write_text("Jane Doe,jane,laptop,01.12.2026 09:12,file:///x;", "utf-8")
    report = digest.run(now=T0 + timedelta(days=1), mailer=OutboxMailer(tmp_path / "out"), store_url=db,
                        write_workers=2)
    assert len(report.sent) == 3
    assert report.notes == [f"{paths[1].resolve()}: is open in LibreOffice (Jane Doe): "
                            "the Changes tab not written, tried again next run"]
    assert "Changes" not in read_grid(paths[1]) and all("Changes" in read_grid(p) for p in (paths[0], paths[2]))
    lock.unlink()
    later = digest.run(now=T0 + timedelta(days=2), mailer=OutboxMailer(tmp_path / "out"), store_url=db,
                       write_workers=2)
    assert later.notes == []
    rows = read_grid(paths[1])["Changes"][1:]
    assert [row[4] for row in rows] == ["blocked", "done"]  # plan 1 had two edits (the After column)
    assert "is now blocked" in rows[0][2] and "is now done" in rows[1][2]


def _workers_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        parent = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("PPid:"))
        if parent == pid and b"mapsheets.adapters.xlsx_workers" in cmdline:
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = next(line for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                     if line.startswith("State:"))
    except (OSError, StopIteration):
        return False
    return " Z " not in state and "zombie" not in state


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc to find the worker processes")
def test_a_run_killed_while_its_worker_writes_leaves_no_process_and_no_twice_written_row(plan_file, tmp_path, db):
    """The run is SIGKILLed while its worker waits for the second plan (another writer holds it),
    the first plan's rows written. The worker then writes the second's rows, finds its caller gone
    and exits; the next run recognises those rows by their key and writes nothing twice."""
    first, second = _plans(tmp_path / "plans", plan_file, db, 2)
    _edit_each([first, second])
    env = {**os.environ, "MAPSHEETS_DB": db, "MAPSHEETS_OUTBOX": str(tmp_path / "out"),
           "MAPSHEETS_DIGEST_WORKERS": "1"}
    env.pop("MAPSHEETS_SMTP_URL", None)
    with plan_lock.locked(second):  # the worker writes the first plan, then waits here
        proc = subprocess.Popen([sys.executable, "-m", "mapsheets.cli", "digest", "--now",
                                 (T0 + timedelta(days=1)).isoformat()],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while "Changes" not in read_grid(first) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "Changes" in read_grid(first), "the worker never wrote the first plan"
        workers = _workers_of(proc.pid)
        assert len(workers) == 1
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        assert "Changes" not in read_grid(second)
    # The lock is free: the worker writes, then exits; the run's output pipes close with it.
    proc.communicate(timeout=30)
    deadline = time.monotonic() + 30
    while _alive(workers[0]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(workers[0])
    written = {path: read_grid(path)["Changes"][1:] for path in (first, second)}
    assert [len(rows) for rows in written.values()] == [1, 2]
    later = subprocess.run([sys.executable, "-m", "mapsheets.cli", "digest", "--now",
                            (T0 + timedelta(days=2)).isoformat()], env=env, capture_output=True, text=True,
                           timeout=60)
    assert later.returncode == 0, later.stderr
    assert {path: read_grid(path)["Changes"][1:] for path in (first, second)} == written


def test_workers_that_cannot_start_leave_the_writes_to_the_run(plan_file, tmp_path, db, monkeypatch):
    """A place where `python -m` does not work (a frozen app, an embedding host): no worker ever
    says it is ready, so no write was begun, and the run makes them itself."""
    paths = _plans(tmp_path / "plans", plan_file, db, 3)
    _edit_each(paths)
    monkeypatch.setattr(sys, "executable", shutil.which("false"))
    report = digest.run(now=T0 + timedelta(days=1), mailer=OutboxMailer(tmp_path / "out"), store_url=db,
                        write_workers=2)
    assert len(report.sent) == 3 and report.failed == []
    assert report.notes == ["the Changes-tab writer processes did not start (their error is above); "
                            "this run wrote the tabs itself"]
    assert [len(read_grid(p)["Changes"]) - 1 for p in paths] == [1, 2, 1]


def test_two_overlapping_runs_write_each_change_once(plan_file, tmp_path, db):
    """Run A has read the plan and handed its rows to its worker, which waits for the plan (another
    writer holds it). Run B, started meanwhile, read the tab before A wrote: it must leave the tab
    to A (which claimed it), not wait for the plan and write the same rows again."""
    [path] = _plans(tmp_path / "plans", plan_file, db, 1)
    _edit_each([path])

    def start(outbox: str, minutes: int) -> subprocess.Popen:
        env = {**os.environ, "MAPSHEETS_DB": db, "MAPSHEETS_OUTBOX": str(tmp_path / outbox),
               "MAPSHEETS_DIGEST_WORKERS": "1"}
        env.pop("MAPSHEETS_SMTP_URL", None)
        return subprocess.Popen([sys.executable, "-m", "mapsheets.cli", "digest", "--now",
                                 (T0 + timedelta(days=1, minutes=minutes)).isoformat()],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    b_waited = False
    with plan_lock.locked(path):
        a = start("out-a", 0)
        deadline = time.monotonic() + 30
        while not list((tmp_path / "out-a").glob("*.eml")) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert list((tmp_path / "out-a").glob("*.eml")), "run A never sent its digest"
        digest.watch(str(path), ["late@globex.example"], now=T0 + timedelta(days=1), store_url=db)  # due for B
        b = start("out-b", 1)
        try:
            b_out, b_err = b.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            b_waited = True
    a_out, a_err = a.communicate(timeout=60)
    if b_waited:
        b_out, b_err = b.communicate(timeout=60)
    assert not b_waited, "run B waited for the plan instead of leaving the tab to run A"
    assert (a.returncode, b.returncode) == (0, 0), (a_err, b_err)
    # A's subscriber got A's digest only; the late one has had no change since subscribing.
    assert [m["To"] for m in outbox_messages(tmp_path / "out-a")] == ["ae0@globex.example"]
    assert outbox_messages(tmp_path / "out-b") == []
    rows = read_grid(path)["Changes"][1:]
    assert len(rows) == 1 and "is now done" in rows[0][2]
    digest.run(now=T0 + timedelta(days=2), mailer=OutboxMailer(tmp_path / "out-c"), store_url=db)
    assert read_grid(path)["Changes"][1:] == rows
