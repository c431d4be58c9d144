"""A plan that is a symbolic link: every write goes to the file the link points to, under that
file's lock, and the link stays a link. `serve --dev` reads and writes nothing outside its plans
folder through a link. (Issue 17, seen 7: the link was replaced by a new file and the real plan
never got the step, though "Added" was printed.)"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import requests
from cli_helpers import run_cli

from mapsheets.service import read_plan
from tests.server_process import DevServer

REPO = Path(__file__).resolve().parents[1]
TODAY = date(2026, 12, 1)
AE = {"X-Mapsheets-Dev-User": "ae@globex.example"}
GENERATE = {"template": "enterprise-map", "buyer": "Acme Corp", "seller": "Globex", "close_date": "2027-03-31",
            "start_date": "2026-12-01"}


_cli = run_cli


def _titles(path: Path) -> list[str]:
    return [s.title for s in read_plan(str(path), today=TODAY).plan.steps]


def test_add_step_on_a_symlinked_plan_writes_the_real_file_and_keeps_the_link(plan_file, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    link = shared / "acme.xlsx"
    link.symlink_to(plan_file)
    done = _cli("add-step", str(link), "--title", "Security review")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Added ")
    assert link.is_symlink() and os.readlink(link) == str(plan_file)
    assert "Security review" in _titles(plan_file)  # the real plan has it
    # The lock and any temporary sit beside the real file, none beside the link.
    assert sorted(p.name for p in shared.iterdir()) == ["acme.xlsx"]


def test_a_relative_link_chain_is_followed_to_the_file(plan_file, tmp_path):
    (tmp_path / "a.xlsx").symlink_to(plan_file.name)  # relative, then a second hop
    (tmp_path / "b.xlsx").symlink_to("a.xlsx")
    assert _cli("add-step", str(tmp_path / "b.xlsx"), "--title", "Legal review").returncode == 0
    assert (tmp_path / "a.xlsx").is_symlink() and (tmp_path / "b.xlsx").is_symlink()
    assert "Legal review" in _titles(plan_file)


def test_a_link_loop_is_one_line_and_writes_nothing(tmp_path):
    loop = tmp_path / "loop.xlsx"
    loop.symlink_to("loop.xlsx")
    done = _cli("add-step", str(loop), "--title", "X")
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert loop.is_symlink() and os.readlink(loop) == "loop.xlsx"


def test_the_dev_server_writes_through_a_link_inside_its_folder_and_refuses_one_leading_out(tmp_path):
    plans = tmp_path / "plans"
    plans.mkdir()
    real = plans / "deal.xlsx"
    outside = tmp_path / "private.xlsx"
    server = DevServer(plans, f"sqlite:///{tmp_path / 'state.db'}", tmp_path / "server.log")
    try:
        assert requests.post(f"{server.url}/api/generate", json={"spreadsheet_id": "deal", **GENERATE},
                             headers=AE, timeout=60).status_code == 201
        (plans / "alias.xlsx").symlink_to("deal.xlsx")  # inside the folder: fine
        outside.write_bytes(real.read_bytes())
        (plans / "leak.xlsx").symlink_to(outside)  # leads out of the folder
        before = outside.read_bytes()
        added = requests.post(f"{server.url}/api/steps", json={"spreadsheet_id": "alias", "title": "Via the link"},
                              headers=AE, timeout=60)
        read = requests.post(f"{server.url}/api/summary", json={"spreadsheet_id": "leak"}, headers=AE, timeout=60)
        wrote = requests.post(f"{server.url}/api/steps", json={"spreadsheet_id": "leak", "title": "Out"},
                              headers=AE, timeout=60)
        grid = requests.get(f"{server.url}/dev/grid", params={"sheet": "leak"}, timeout=60)
    finally:
        server.stop()
    assert added.status_code == 201, added.text
    assert (plans / "alias.xlsx").is_symlink() and "Via the link" in _titles(real)
    assert read.status_code == 403 and "outside the plans folder" in read.json()["error"]
    assert "Acme" not in read.text  # nothing of the outside file was read out
    assert wrote.status_code == 403
    assert grid.status_code == 403 and "Acme" not in grid.text
    assert outside.read_bytes() == before and (plans / "leak.xlsx").is_symlink()
