"""The sidebar reads a local plan once per version of its file, and still sees every write made by
another program (the CLI, or bytes rewritten in place with the old modification time put back)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.server.conftest import GENERATE, SHEET, headers

AE = "ae@globex.example"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def reads(monkeypatch):
    """How many times the .xlsx adapter really read a workbook (the real function, counted)."""
    from mapsheets.adapters import xlsx
    from mapsheets.service.addon_cache import PLANS

    PLANS.clear()
    count = {"n": 0}
    real = xlsx.read_grid

    def counted(*args, **kwargs):
        count["n"] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(xlsx, "read_grid", counted)
    return count


def _summary(client, issuer):
    answer = client.post("/api/summary", json={"spreadsheet_id": SHEET}, headers=headers(issuer, AE))
    assert answer.status_code == 200, answer.json
    assert answer.headers["Server-Timing"].startswith("app;dur=")  # what benchmarks/bench_addon.py reads
    return answer.json


def _cli_add_step(path: Path, title: str) -> None:
    subprocess.run([sys.executable, "-m", "mapsheets.cli", "add-step", str(path), "--title", title],
                   check=True, capture_output=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60)


def _titles(answer) -> list[str]:
    return [s["title"] for s in answer["plan"]["steps"]]


def test_summary_reads_the_file_once_per_version(client, issuer, plans_dir, reads):
    assert client.post("/api/generate", json={"spreadsheet_id": SHEET, **GENERATE},
                       headers=headers(issuer, AE)).status_code == 201
    first = _summary(client, issuer)
    for _ in range(5):
        assert _summary(client, issuer)["plan"] == first["plan"]
    assert reads["n"] == 1

    # A write through the add-on itself: the next look reads the new version.
    assert client.post("/api/steps", json={"spreadsheet_id": SHEET, "title": "Through the sidebar"},
                       headers=headers(issuer, AE)).status_code == 201
    assert "Through the sidebar" in _titles(_summary(client, issuer))


def test_another_programs_write_is_seen(client, issuer, plans_dir, reads):
    plan = plans_dir / f"{SHEET}.xlsx"
    assert client.post("/api/generate", json={"spreadsheet_id": SHEET, **GENERATE},
                       headers=headers(issuer, AE)).status_code == 201
    _summary(client, issuer)

    _cli_add_step(plan, "From the command line")
    assert "From the command line" in _titles(_summary(client, issuer))

    # Bytes rewritten in place (same inode), the old modification time put back.
    old = plan.stat()
    other = plans_dir / "copy.xlsx"
    shutil.copyfile(plan, other)
    _cli_add_step(other, "Rewritten in place")
    with open(plan, "r+b") as out:
        out.write(other.read_bytes())
        out.truncate()
    os.utime(plan, ns=(old.st_atime_ns, old.st_mtime_ns))
    assert plan.stat().st_ino == old.st_ino and plan.stat().st_mtime_ns == old.st_mtime_ns
    assert "Rewritten in place" in _titles(_summary(client, issuer))
