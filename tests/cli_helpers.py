"""The one way tests run the command: in process with click's runner, or as a real subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

REPO = Path(__file__).resolve().parents[1]


def invoke_cli(*args: object, db: str | None = None, env: Mapping[str, str | None] | None = None,
               catch_exceptions: bool = True) -> Result:
    """``mapsheets ARGS`` in this process: click's Result (exit_code; stdout and stderr apart, output
    both). Arguments become text; ``db`` adds ``--db DB`` at the end."""
    from mapsheets.cli import cli

    argv = [str(a) for a in args] + (["--db", db] if db else [])
    return CliRunner().invoke(cli, argv, env=env, catch_exceptions=catch_exceptions)


def run_cli(*args: str | bytes | Path, db: str | None = None, env: Mapping[str, str] | None = None,
            timeout: float = 120, text: bool = True) -> subprocess.CompletedProcess[Any]:
    """``python -m mapsheets.cli ARGS`` in a subprocess importing this checkout. ``db`` sets
    MAPSHEETS_DB, ``env`` adds to the environment; bytes arguments reach it as those bytes."""
    environ = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""), **(env or {})}
    if db:
        environ["MAPSHEETS_DB"] = db
    argv = [sys.executable, "-m", "mapsheets.cli", *(os.fsdecode(a) if isinstance(a, bytes) else str(a) for a in args)]
    return subprocess.run(argv, capture_output=True, text=text, env=environ, timeout=timeout, check=False)
