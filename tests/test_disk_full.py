"""A full disk, for real: a 200 KB tmpfs, filled up. Saving a plan and writing the outbox each fail
with one line, lose nothing, and (for the outbox) leave the digest pending for the next run."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from digest_helpers import T0
from plan_cells import edit_steps as edit

from mapsheets.adapters.mail import OutboxMailer
from mapsheets.service import digest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def small_disk(tmp_path):
    """A 200 KB tmpfs; skipped where mounting is not permitted (not root, or a container without it)."""
    where = tmp_path / "small-disk"
    where.mkdir()
    mount = shutil.which("mount")
    if mount is None:
        pytest.skip("no `mount` command: cannot make a small disk to fill")
    done = subprocess.run([mount, "-t", "tmpfs", "-o", "size=200k", "tmpfs", str(where)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({done.stderr.strip() or done.returncode}): "
                    "disk-full case not run")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


def fill(folder: Path) -> Path:
    """Use up every free byte of the disk holding ``folder``."""
    filler = folder / "filler"
    with open(filler, "wb", buffering=0) as fh:
        try:
            while True:
                fh.write(b"\0" * 4096)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    return filler


def test_saving_a_plan_on_a_full_disk_is_one_line_and_keeps_the_file(small_disk, plan_file):
    plan = small_disk / "plan.xlsx"
    shutil.copy(plan_file, plan)
    fill(small_disk)
    before = plan.read_bytes()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    # A real process: the ZipFile.__del__ traceback of today's main only shows as the interpreter exits.
    done = subprocess.run([sys.executable, "-m", "mapsheets.cli", "add-step", str(plan), "--title", "Security review"],
                          capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 1, done
    assert done.stderr == f"Error: {plan}: cannot write (No space left on device)\n"
    assert plan.read_bytes() == before
    # No temporary left (the lock file stays by design: removing it would let two writers in).
    assert sorted(p.name for p in small_disk.iterdir() if p.name != ".plan.xlsx.lock") == ["filler", "plan.xlsx"]


def test_a_full_outbox_disk_leaves_the_digest_pending_and_the_run_goes_on(small_disk, plan_file, db, tmp_path):
    digest.watch(str(plan_file), ["ae@globex.example"], now=T0, store_url=db)
    edit(plan_file, {(0, "Status"): "Done"})
    outbox = small_disk / "outbox"
    outbox.mkdir()
    filler = fill(small_disk)
    report = digest.run(now=T0 + timedelta(days=1), mailer=OutboxMailer(outbox), store_url=db)
    assert report.sent == []
    assert report.failed and all("No space left on device" in f and str(outbox) in f for f in report.failed)
    assert list(outbox.iterdir()) == []  # no half-written message, no temporary
    # Not left claimed until a lease runs out: the next run, minutes later, sends it once space is back.
    filler.unlink()
    later = digest.run(now=T0 + timedelta(days=1, minutes=10), mailer=OutboxMailer(outbox), store_url=db)
    assert later.resent == 1 and later.failed == []
    assert len(list(outbox.glob("*.eml"))) == 1


@pytest.mark.parametrize("workers", ["0", "2"])  # written by this process, and by a writer process
@pytest.mark.parametrize("free_kb", [0, 4, 8, 16])
def test_a_digest_on_a_full_disk_says_one_line_per_plan_and_no_traceback(small_disk, plan_file, db, tmp_path, free_kb,
                                                                         workers):
    """The plan's Changes tab cannot be saved: one warning line naming the plan, even off a terminal
    (cron), never openpyxl's "Exception ignored in: <generator object WorksheetWriter.get_stream>"
    (with a few KB free the save fails half way through a sheet); the digest still goes out."""
    plan = small_disk / "plan.xlsx"
    shutil.copy(plan_file, plan)
    digest.watch(str(plan), ["ae@globex.example"], now=T0, store_url=db)
    edit(plan, {(0, "Status"): "Done"})
    filler = fill(small_disk)
    os.truncate(filler, max(filler.stat().st_size - free_kb * 1024, 0))
    before = plan.read_bytes()
    env = {**os.environ, "PYTHONPATH": str(REPO), "MAPSHEETS_DB": db}
    done = subprocess.run([sys.executable, "-m", "mapsheets.cli", "digest",
                           "--now", (T0 + timedelta(days=1)).isoformat(),
                           "--outbox", str(tmp_path / "outbox"), "--workers", workers],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done
    assert done.stderr == (f"warning: {plan}: could not write the Changes tab: {plan}: cannot write "
                           "(No space left on device)\n"), done.stderr
    assert plan.read_bytes() == before
    assert sorted(p.name for p in small_disk.iterdir() if p.name != ".plan.xlsx.lock") == ["filler", "plan.xlsx"]
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 1  # the digest went out all the same
