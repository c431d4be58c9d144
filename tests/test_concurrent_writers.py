"""Several writers on one plan: real processes, real lock files, both backends. Nothing is lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from cli_helpers import run_cli
from digest_helpers import T0, outbox_messages

from mapsheets import service
from mapsheets.adapters import plan_lock
from mapsheets.adapters.gsheets import GoogleWorkbook
from mapsheets.adapters.mail import OutboxMailer
from mapsheets.adapters.xlsx import XlsxWorkbook, load, read_grid, save_atomic
from mapsheets.core.layout import workbook_spec
from mapsheets.core.model import Stakeholder
from mapsheets.errors import PlanBusy, PlanOpen
from mapsheets.service import digest

WRITERS = 20
ROOT = Path(__file__).resolve().parents[1]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _run_together(commands: list[list[str]], timeout: float = 90) -> list[subprocess.CompletedProcess]:
    """Start every command at once (real OS processes), then wait for all of them."""
    procs = [subprocess.Popen([sys.executable, "-m", "mapsheets.cli", *cmd], env=_env(), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for cmd in commands]
    deadline = time.monotonic() + timeout
    done = []
    for p, cmd in zip(procs, commands, strict=True):
        out, err = p.communicate(timeout=max(1.0, deadline - time.monotonic()))
        done.append(subprocess.CompletedProcess(cmd, p.returncode, out, err))
    return done


@pytest.fixture(params=["xlsx", "google"])
def plan_ref(request, plan, tmp_path):
    if request.param == "xlsx":
        path = tmp_path / "acme-map.xlsx"
        XlsxWorkbook(path).create(workbook_spec(plan))
        return str(path)
    request.getfixturevalue("google_env")
    book = GoogleWorkbook.from_env(None)
    book.create(workbook_spec(plan))
    return book.sheet_id


def _grid(ref: str) -> dict:
    """Every tab's rows, without trailing empty ones (a file keeps formatted spare rows); without
    what every write redraws from the plan (the summary lines' values, the Timeline tab)."""
    from mapsheets.core.parse import parse_plan
    from mapsheets.service.workbooks import open_workbook

    grid = open_workbook(ref).read_grid()
    grid.pop("Timeline", None)
    for r, c in parse_plan(grid).location.summary_at.values():
        grid["Plan"][r] = grid["Plan"][r][:c]
    for rows in grid.values():
        while rows and not any(v not in (None, "") for v in rows[-1]):
            rows.pop()
    return grid


def test_twenty_concurrent_add_steps_all_land(plan_ref, plan):
    before = _grid(plan_ref)
    results = _run_together([["add-step", plan_ref, "--title", f"Concurrent step {i}"] for i in range(WRITERS)])
    assert [(r.returncode, r.stderr) for r in results] == [(0, "")] * WRITERS
    view = service.read_plan(plan_ref, today=plan.start_date)
    assert [s.to_dict() for s in view.plan.steps[:len(plan.steps)]] == [s.to_dict() for s in plan.steps]
    added = view.plan.steps[len(plan.steps):]
    assert sorted(s.title for s in added) == sorted(f"Concurrent step {i}" for i in range(WRITERS))
    printed = {r.stdout.split()[1].rstrip(":") for r in results}  # "Added S-XXXX: ..."
    assert {s.id for s in added} == printed and len(printed) == WRITERS
    after = _grid(plan_ref)
    assert {t: rows for t, rows in after.items() if t != "Plan"} \
        == {t: rows for t, rows in before.items() if t != "Plan"}
    width = max(len(r) for r in before["Plan"])
    padded = [(list(r) + [None] * width)[:width] for r in after["Plan"][:len(before["Plan"])]]
    assert padded == [(list(r) + [None] * width)[:width] for r in before["Plan"]]  # nothing above them changed
    assert view.warnings == []


@pytest.fixture
def signers(plan):
    """Twenty buyers on the Team tab: only people on a plan may sign (issue 20)."""
    plan.stakeholders += [Stakeholder(f"Signer {i}", f"signer{i}@acme.example", "buyer", "") for i in range(WRITERS)]


def test_twenty_concurrent_signs_all_land(signers, plan_ref, plan):
    before = _grid(plan_ref)
    results = _run_together([["sign", plan_ref, "--name", f"Signer {i}", "--email", f"signer{i}@acme.example",
                              "--side", "buyer", "--no-record"] for i in range(WRITERS)])
    assert [(r.returncode, r.stderr) for r in results] == [(0, "")] * WRITERS
    view = service.read_plan(plan_ref, today=plan.start_date)
    assert sorted(s.email for s in view.plan.signatures) == sorted(f"signer{i}@acme.example" for i in range(WRITERS))
    assert all(s.fingerprint == plan.fingerprint() for s in view.plan.signatures)
    after = _grid(plan_ref)
    assert {t: rows for t, rows in after.items() if t != "Sign-off"} == \
        {t: rows for t, rows in before.items() if t != "Sign-off"}


def test_add_steps_during_digest_runs_lose_nothing(plan_file, plan, db, tmp_path, monkeypatch):
    """The digest run writes the Changes tab while people add steps: every step and row stays."""
    monkeypatch.setenv("MAPSHEETS_DB", db)
    monkeypatch.setenv("MAPSHEETS_OUTBOX", str(tmp_path / "outbox"))
    digest.watch(str(plan_file), ["ae@globex.example"], now=T0, store_url=db)
    titles = []
    for day in range(1, 4):
        now = T0 + timedelta(days=day)
        step_titles = [f"Day {day} step {i}" for i in range(4)]
        titles += step_titles
        service.add_step(str(plan_file), title=f"Seed {day}", today=plan.start_date)  # a change to log
        titles.append(f"Seed {day}")
        results = _run_together([["digest", "--now", now.isoformat()]]
                                + [["add-step", str(plan_file), "--title", t] for t in step_titles])
        assert [(r.returncode, r.stderr) for r in results] == [(0, "")] * len(results)
    view = service.read_plan(str(plan_file), today=plan.start_date)
    assert sorted(s.title for s in view.plan.steps[len(plan.steps):]) == sorted(titles)
    logged = [row[2] for row in read_grid(plan_file)["Changes"][1:]]
    assert all(any(f'"{f"Seed {d}"}"' in line or f"Seed {d}" in line for line in logged) for d in range(1, 4))


# --- another program saving between our read and our write ------------------------------------

def _person_adds_a_row(path: Path, title: str) -> None:
    """Someone saves the plan with a step row of their own (not through mapsheets: no lock)."""
    book = load(path, data_only=False)
    ws = book["Plan"]
    last = max(c.row for row in ws.iter_rows() for c in row if c.value is not None)
    ws.cell(row=last + 1, column=3).value = title
    save_atomic(book, path)


def test_a_save_by_another_program_meanwhile_is_kept_and_the_step_reapplied(plan_file, plan, monkeypatch):
    import mapsheets.core.parse as parse

    real, calls = parse.parse_plan, []

    def parse_then_someone_saves(grid):
        parsed = real(grid)
        calls.append(1)
        if len(calls) == 1:  # between our read and our write
            _person_adds_a_row(plan_file, "Typed by a person")
        return parsed

    monkeypatch.setattr(parse, "parse_plan", parse_then_someone_saves)
    step = service.add_step(str(plan_file), title="Added by mapsheets", today=plan.start_date)
    monkeypatch.undo()
    titles = [s.title for s in service.read_plan(str(plan_file), today=plan.start_date).plan.steps]
    assert titles[-2:] == ["Typed by a person", "Added by mapsheets"]
    assert step.title == "Added by mapsheets" and len(calls) == 2


def _person_saves_keeping_size_and_mtime(path: Path, step_title: str, new_title: str) -> None:
    """Someone saves the plan with a step renamed, and the file keeps its size (padded with a zip
    comment) and its modification time: only its bytes tell that it changed."""
    before = path.stat()
    book = load(path, data_only=False)
    ws = book["Plan"]
    [cell] = [c for row in ws.iter_rows() for c in row if c.value == step_title]
    cell.value = new_title
    save_atomic(book, path)
    data = path.read_bytes()
    assert data[-22:-18] == b"PK\x05\x06" and len(data) <= before.st_size  # no comment yet, room to pad
    pad = b" " * (before.st_size - len(data))
    path.write_bytes(data[:-2] + len(pad).to_bytes(2, "little") + pad)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)


def test_a_save_meanwhile_that_keeps_size_and_mtime_is_noticed_by_its_bytes(plan_file, plan, monkeypatch):
    import mapsheets.core.parse as parse

    first = plan.steps[0].title
    real, calls = parse.parse_plan, []

    def parse_then_someone_saves(grid):
        parsed = real(grid)
        calls.append(1)
        if len(calls) == 1:  # between our read and our write
            _person_saves_keeping_size_and_mtime(plan_file, first, "Renamed")
        return parsed

    monkeypatch.setattr(parse, "parse_plan", parse_then_someone_saves)
    service.add_step(str(plan_file), title="Added by mapsheets", today=plan.start_date)
    monkeypatch.undo()
    titles = [s.title for s in service.read_plan(str(plan_file), today=plan.start_date).plan.steps]
    assert titles[0] == "Renamed" and titles[-1] == "Added by mapsheets"  # their save kept, ours redone
    assert len(calls) == 2


def test_a_file_that_keeps_changing_is_one_line_and_nothing_written(plan_file, plan, monkeypatch):
    import mapsheets.core.parse as parse

    real = parse.parse_plan

    def parse_then_someone_saves(grid):
        parsed = real(grid)
        _person_adds_a_row(plan_file, "Another edit")
        return parsed

    monkeypatch.setattr(parse, "parse_plan", parse_then_someone_saves)
    with pytest.raises(PlanBusy) as err:
        service.add_step(str(plan_file), title="Never written", today=plan.start_date)
    monkeypatch.undo()
    assert str(err.value).startswith(f"{plan_file}: another program kept saving it") and "\n" not in str(err.value)
    titles = [s.title for s in service.read_plan(str(plan_file), today=plan.start_date).plan.steps]
    assert "Never written" not in titles and titles.count("Another edit") == 5


def test_a_writer_holding_the_lock_too_long_is_one_line(plan_file, plan, monkeypatch):
    from filelock import FileLock

    monkeypatch.setattr(plan_lock, "LOCK_TIMEOUT", 0.3)
    before = plan_file.read_bytes()
    with FileLock(str(plan_lock.lock_path(plan_file))):
        with pytest.raises(PlanBusy) as err:
            service.add_step(str(plan_file), title="Waits", today=plan.start_date)
    assert str(err.value) == (f"{plan_file}: another mapsheets command kept it locked for 0.3 s "
                              f"(.acme-map.xlsx.lock); try again")
    assert plan_file.read_bytes() == before


# --- open in Excel or LibreOffice ----------------------------------------------------------------

_cli = run_cli


def test_open_in_libreoffice_refuses_naming_the_person_and_force_writes(plan_file, plan):
    lock = plan_file.parent / f".~lock.{plan_file.name}#"
    lock.write_text("Jane Doe,jane,laptop,01.12.2026 09:12,file:///home/jane/.config/libreoffice/4;", "utf-8")
    before = plan_file.read_bytes()
    for args in (["add-step", str(plan_file), "--title", "x"],
                 ["sign", str(plan_file), "--name", "Sam", "--email", "sam@globex.example", "--side", "seller",
                  "--no-record"]):
        result = _cli(*args)
        assert (result.returncode, result.stdout) == (1, "")
        assert result.stderr == (f"Error: {plan_file}: is open in LibreOffice (Jane Doe): "
                                 "close it first, or pass --force\n")
    assert plan_file.read_bytes() == before
    forced = _cli("add-step", str(plan_file), "--title", "Written anyway", "--force")
    assert forced.returncode == 0, forced.stderr
    assert service.read_plan(str(plan_file), today=plan.start_date).plan.steps[-1].title == "Written anyway"


@pytest.mark.parametrize("owner_name", ["~$acme-map.xlsx", "~$me-map.xlsx"])
def test_open_in_excel_refuses_naming_the_person(plan_file, plan, owner_name):
    name = b"John Smith"
    (plan_file.parent / owner_name).write_bytes(bytes([len(name)]) + name + b" " * 40 + b"\x00" * 100)
    with pytest.raises(PlanOpen) as err:
        service.add_step(str(plan_file), title="x", today=plan.start_date)
    assert str(err.value) == f"{plan_file}: is open in Excel (John Smith): close it first, or pass --force"


def test_digest_skips_the_sheet_of_an_open_plan_sends_anyway_and_writes_it_next_run(plan_file, plan, db, tmp_path):
    outbox = tmp_path / "outbox"
    digest.watch(str(plan_file), ["ae@globex.example"], now=T0, store_url=db)
    service.add_step(str(plan_file), title="Security review", today=plan.start_date)
    lock = plan_file.parent / f".~lock.{plan_file.name}#"
    lock.write_text("Jane Doe,jane,laptop,01.12.2026 09:12,file:///x;", "utf-8")
    before = plan_file.read_bytes()
    report = digest.run(now=T0 + timedelta(days=1), mailer=OutboxMailer(outbox), store_url=db)
    assert len(report.sent) == 1 and len(outbox_messages(outbox)) == 1
    assert report.notes == [f"{plan_file.resolve()}: is open in LibreOffice (Jane Doe): "
                            "the Changes tab not written, tried again next run"]
    assert plan_file.read_bytes() == before
    lock.unlink()
    digest.run(now=T0 + timedelta(days=2), mailer=OutboxMailer(outbox), store_url=db)  # the next run
    assert any("Security review" in row[2] for row in read_grid(plan_file)["Changes"][1:])


# --- leftovers of a kill ----------------------------------------------------------------------

_KILLED_MID_SAVE = """
import sys, time
from pathlib import Path
from openpyxl.worksheet import _writer
from mapsheets import service

def stuck(self):  # the sheet's XML is in its temporary file: hang here until killed
    Path(sys.argv[2]).write_text("saving")
    time.sleep(60)

_writer.WorksheetWriter.close = stuck
service.add_step(sys.argv[1], title="Never finished", today=__import__("datetime").date(2026, 12, 1))
"""


def test_a_save_killed_midway_leaves_no_plan_data_in_tmp_and_the_next_run_cleans_up(plan_file, plan, tmp_path):
    tmpdir = tmp_path / "system-tmp"
    tmpdir.mkdir()
    flag = tmp_path / "saving.flag"
    env = _env() | {"TMPDIR": str(tmpdir)}
    proc = subprocess.Popen([sys.executable, "-c", _KILLED_MID_SAVE, str(plan_file), str(flag)], env=env)
    try:
        deadline = time.monotonic() + 30
        while not flag.exists():
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=10)
    assert list(tmpdir.iterdir()) == []  # openpyxl's per-sheet files went beside the plan, not to /tmp
    leftovers = sorted(p for p in plan_file.parent.iterdir() if p.name.endswith(".tmp"))
    assert leftovers and all(p.name.startswith(f".{plan_file.name}.") for p in leftovers)
    assert all(p.stat().st_mode & 0o077 == 0 for p in leftovers)  # owner only while holding plan data
    others = [plan_file.parent / ".other.xlsx.0123abcd.tmp", plan_file.parent / f".{plan_file.name}.notours.tmp"]
    for other in others:
        other.write_text("not ours")
    service.add_step(str(plan_file), title="Next run", today=plan.start_date)  # takes the lock: cleans up
    assert not any(p.exists() for p in leftovers)
    assert all(p.exists() for p in others)
    titles = [s.title for s in service.read_plan(str(plan_file), today=plan.start_date).plan.steps]
    assert titles[-1] == "Next run" and "Never finished" not in titles


def test_a_stale_temporary_is_cleaned_by_a_read_once_old(plan_file, plan):
    leftover = plan_file.parent / f".{plan_file.name}.deadbeef.tmp"
    leftover.write_text("plan data")
    service.read_plan(str(plan_file), today=plan.start_date)
    assert leftover.exists()  # could be a save in progress
    old = time.time() - plan_lock.STALE_AFTER - 5
    os.utime(leftover, (old, old))
    service.read_plan(str(plan_file), today=plan.start_date)
    assert not leftover.exists()


def test_concurrent_team_adds_all_land(plan_ref):
    """Six people added to the Team tab at once (real processes): six new rows, no one lost."""
    from mapsheets.service import team as service_team

    before = len(service_team.team(plan_ref))
    done = _run_together([["team", plan_ref, "--add", f"Person {i} <p{i}@acme.example>", "--side", "buyer"]
                          for i in range(6)])
    assert all(p.returncode == 0 for p in done), [p.stderr for p in done]
    people = service_team.team(plan_ref)
    assert len(people) == before + 6
    assert {p.email for p in people} >= {f"p{i}@acme.example" for i in range(6)}


def test_the_same_person_signing_six_times_at_once_gives_one_row(plan_ref, plan, request):
    """Six real processes, one person, one plan: one signature row, on both backends. On Google no
    lock is shared between processes: the double holds the six writes until all six have read the
    plan, so every process computed its row on a sheet without one, and the write must refuse."""
    if not Path(plan_ref).suffix:
        double = request.getfixturevalue("google_env")
        all_read, held = threading.Barrier(6, timeout=60), []

        def hold_until_all_have_read(_body):
            held.append(1)
            if len(held) <= 6:
                all_read.wait()
            return False  # let the request through

        double.on_request("sheets.spreadsheets.batchUpdate", hold_until_all_have_read, applied=False)
    # Jane is the plan's buyer owner: only people on a plan may sign it (issue 20).
    done = _run_together([["sign", plan_ref, "--name", "Jane Doe", "--email", "jane@acme.example",
                           "--side", "buyer", "--no-record"] for _ in range(6)])
    assert [(p.returncode, p.stderr) for p in done] == [(0, "")] * 6
    signatures = service.read_plan(plan_ref, today=plan.start_date).plan.signatures
    assert [s.email for s in signatures] == ["jane@acme.example"]
    assert sum("already" in p.stdout.lower() for p in done) == 5, [p.stdout for p in done]
