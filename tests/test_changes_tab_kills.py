"""The Changes tab under real SIGKILLs of `mapsheets digest`, day after day: killed just before its
rows reach the sheet, or after they did and before the cursor moved, no day's rows are lost and none
is written twice; and a run's late cursor move never undoes another run's."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import timedelta

from digest_helpers import T0

from mapsheets.service import digest

# Weekdays after T0 (a Tuesday): digests are not due at weekends, so the tab is not written then.
DAYS = [1, 2, 3, 6, 7, 8]
# Day -> where the run dies: "before" the append reaches the sheet, or "after" it did (rows in,
# cursor not moved). Twice in a row too.
KILLS = {1: "after", 2: "before", 3: "after", 6: "after", 7: "before"}


def _run_digest(db: str, outbox, day: int, double, kill: str | None):
    env = {**os.environ, "MAPSHEETS_DB": db, "MAPSHEETS_OUTBOX": str(outbox)}
    env.pop("MAPSHEETS_SMTP_URL", None)
    when = (T0 + timedelta(days=day)).isoformat()
    proc = subprocess.Popen([sys.executable, "-m", "mapsheets.cli", "digest", "--now", when],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if kill:
        def kill_at_append(body) -> bool:
            if not any("appendCells" in r for r in (body or {}).get("requests", [])):
                return False
            os.kill(proc.pid, signal.SIGKILL)
            return True

        double.on_request("sheets.spreadsheets.batchUpdate", kill_at_append, applied=kill == "after")
    out, err = proc.communicate(timeout=60)
    double.reset()  # a hook the run never reached must not fire in the next one
    return proc.returncode, out, err


def test_changes_tab_rows_survive_kills_around_the_write(google_env, plan, db, tmp_path):
    from google.oauth2.credentials import Credentials

    from mapsheets.adapters.gsheets import GoogleWorkbook, make_client
    from mapsheets.core.layout import column_letter, workbook_spec

    client = make_client(Credentials(token="t"), google_env.root)
    book = GoogleWorkbook(None, client)
    book.create(workbook_spec(plan))
    digest.watch(book.sheet_id, ["ae@globex.example"], now=T0, store_url=db)
    spec = workbook_spec(plan).sheet("Plan")
    status_col = column_letter(spec.rows[spec.header_row].index("Status"))
    for n, day in enumerate(DAYS):
        google_env.clock.advance(hours=1)  # a person marks one more step done each day
        cell = f"Plan!{status_col}{spec.record_rows()[n] + 1}"
        client.request("put", f"https://sheets.googleapis.com/v4/spreadsheets/{book.sheet_id}/values/{cell}",
                       params={"valueInputOption": "USER_ENTERED"}, json={"values": [["Done"]]})
        google_env.clock.advance(hours=1)
        code, _out, err = _run_digest(db, tmp_path / "outbox", day, google_env, KILLS.get(day))
        assert code == (-signal.SIGKILL if day in KILLS else 0), err

    rows = google_env.values(book.sheet_id, "Changes!A1:F100")
    assert rows[0] == ["When", "Who", "What changed", "Before", "After", "mapsheets"]
    # Every day's step exactly once, in the order the days came (the last run was not killed).
    assert [row[2] for row in rows[1:]] == [f'"{s.title}" is now done' for s in plan.steps[:len(DAYS)]]
    assert all(row[2].endswith("is now done") for row in rows[1:])


def test_a_changes_write_never_moves_the_cursor_back_after_another_run_moved_it_on(plan_file, db):
    """Run A writes "1→2" through a worker process and moves its cursor only once that write is on
    disk. Meanwhile its claim outlives the lease and run B logs through revision 3. A's cursor move
    is a compare-and-set from 1: it must leave B's 3, or the next run logs 2→3 a second time."""
    from plan_cells import edit_steps

    from mapsheets.adapters.store import Store
    from mapsheets.adapters.xlsx import XlsxWorkbook
    from mapsheets.service.changes_tab import log_changes
    from mapsheets.service.digest import RunReport
    from mapsheets.service.revisions import snapshot
    from mapsheets.service.sheet_writes import SheetWrites

    ref, store = str(plan_file.resolve()), Store(db)
    digest.watch(str(plan_file), ["ae@globex.example"], now=T0, store_url=db)
    revs = [snapshot(str(plan_file), now=T0, store_url=db).revision]
    log_changes(store, ref, XlsxWorkbook(plan_file), revs[0], {}, T0, frozenset(), RunReport())
    assert store.sources.logged_revision(ref) == revs[0].id
    for n, hours in ((0, 1), (1, 2)):
        edit_steps(plan_file, {(n, "Status"): "Done"})
        revs.append(snapshot(str(plan_file), now=T0 + timedelta(hours=hours), store_url=db).revision)
    with SheetWrites(1) as writes:
        log_changes(store, ref, XlsxWorkbook(plan_file), revs[1], {}, T0 + timedelta(hours=1), frozenset(),
                    RunReport(), writes=writes)  # A: its cursor moves when this block ends
        assert store.sources.logged_revision(ref) == revs[0].id
        log_changes(store, ref, XlsxWorkbook(plan_file), revs[2], {}, T0 + timedelta(hours=3), frozenset(),
                    RunReport(), claim_at=T0 + timedelta(hours=3))  # B, once A's claim is past its lease
        assert store.sources.logged_revision(ref) == revs[2].id
    assert store.sources.logged_revision(ref) == revs[2].id  # A's late move did not take it back to revision 2
