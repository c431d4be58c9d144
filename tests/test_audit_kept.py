"""The audit log is part of the write (issue 17, seen 6): with a read-only or full state store,
add-step used to write the sheet, exit 0, say nothing, and keep no entry (0 of 5 recorded).

Now an entry the store cannot take is queued beside it (one warning) and written by the next
command that can; one that cannot even be queued is one error line and exit 1, after "Added"."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from cli_helpers import run_cli
from test_disk_full import fill, small_disk  # noqa: F401  (the fixture: a real 200 KB tmpfs)

from mapsheets.adapters.store import Store

REPO = Path(__file__).resolve().parents[1]


_cli = run_cli


def _added(db: str, plan: Path) -> list[str]:
    done = _cli("audit", str(plan), "--json", db=db)
    assert done.returncode == 0, done.stderr
    return [e["details"]["title"] for e in json.loads(done.stdout) if e["action"] == "step added"]


def test_a_read_only_store_queues_each_entry_and_the_next_command_that_can_writes_them(plan_file, tmp_path):
    path = tmp_path / "state.db"
    writable = f"sqlite:///{path}"
    Store(writable).close()
    read_only = f"sqlite:///file:{path}?mode=ro&uri=true"  # unwritable even for root, unlike chmod
    titles = [f"Step {i}" for i in range(5)]
    for title in titles:
        done = _cli("add-step", str(plan_file), "--title", title, db=read_only)
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("Added ")
        [warning] = done.stderr.splitlines()  # said, in one line
        assert warning.startswith("warning: the audit entry (step added) could not be stored (")
        assert "readonly" in warning and "state.db.pending-audit" in warning
    assert len(list((tmp_path / "state.db.pending-audit").glob("*.json"))) == 5
    # The store can take writes again: the next command writes the queue in, oldest first, once.
    assert _added(writable, plan_file) == titles
    assert list((tmp_path / "state.db.pending-audit").glob("*.json")) == []
    assert _added(writable, plan_file) == titles


def test_two_commands_writing_the_queue_at_once_store_each_entry_once(plan_file, tmp_path):
    path = tmp_path / "state.db"
    Store(f"sqlite:///{path}").close()
    read_only = f"sqlite:///file:{path}?mode=ro&uri=true"
    for i in range(3):
        assert _cli("add-step", str(plan_file), "--title", f"Step {i}", db=read_only).returncode == 0
    with ThreadPoolExecutor(3) as pool:
        runs = list(pool.map(lambda _: _added(f"sqlite:///{path}", plan_file), range(3)))
    assert runs == [["Step 0", "Step 1", "Step 2"]] * 3


def test_a_full_store_disk_is_one_error_line_after_the_step_is_written(small_disk, plan_file):  # noqa: F811
    db = f"sqlite:///{small_disk / 'state.db'}"
    assert _cli("snapshot", str(plan_file), db=db).returncode == 0  # a store in use, then the disk fills
    fill(small_disk)
    outcomes = []
    for i in range(5):
        done = _cli("add-step", str(plan_file), "--title", f"Step {i}", db=db)
        outcomes.append(done.returncode)
        assert done.stdout.startswith("Added "), done
        [error] = done.stderr.splitlines()
        assert error.startswith(f"Error: {plan_file}: written, but its audit entry (step added) was lost: ")
        assert "Traceback" not in done.stderr
    assert outcomes == [1] * 5  # never silent
