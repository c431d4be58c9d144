"""The package as an installer and a user see it: `python -m mapsheets`, its metadata."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib import metadata


def test_python_dash_m_mapsheets_runs_the_cli(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAPSHEETS_")}
    out = subprocess.run([sys.executable, "-m", "mapsheets", "--help"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("Usage: mapsheets [OPTIONS] COMMAND")
    made = subprocess.run([sys.executable, "-m", "mapsheets", "new", "-t", "closing-plan", "--buyer", "Acme",
                           "--seller", "Globex", "--start-date", "2027-01-04", "--no-watch", "-o", "p.xlsx"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith("Created p.xlsx")
    failed = subprocess.run([sys.executable, "-m", "mapsheets", "show", "missing.xlsx"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=60)
    assert failed.returncode == 1 and failed.stderr.startswith("Error: ") and "Traceback" not in failed.stderr


def test_metadata_is_filled_as_a_published_package():
    """Read from the installed metadata (CI installs with `pip install -e .` first)."""
    meta = metadata.metadata("mapsheets")
    assert meta["Summary"].startswith("Build and keep Mutual Action Plans")
    assert meta["Author"] == "mapsheets contributors" or "mapsheets contributors" in (meta["Author-email"] or "")
    assert meta["License-Expression"] == "MIT"
    classifiers = meta.get_all("Classifier") or []
    for wanted in ("Environment :: Console", "Topic :: Office/Business", "Programming Language :: Python :: 3.11",
                   "Programming Language :: Python :: 3.12", "Programming Language :: Python :: 3.13"):
        assert wanted in classifiers
    assert any(c.startswith("Development Status :: ") for c in classifiers)
    assert any(c.startswith("Intended Audience :: ") for c in classifiers)
    assert "mutual action plan" in meta["Keywords"]
    urls = dict(u.split(", ", 1) for u in meta.get_all("Project-URL") or [])
    assert set(urls) >= {"Homepage", "Repository", "Issues", "Documentation"}
    assert all(u.startswith("https://github.com/mapsheets/mapsheets") for u in urls.values())
    assert any(r.startswith("platformdirs") for r in metadata.requires("mapsheets") or [])
