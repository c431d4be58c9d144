"""The `mapsheets` script leaves without the interpreter's teardown (cli.base.run): exit codes,
output, exit handlers and other threads are as a normal exit would leave them."""

from __future__ import annotations

import subprocess
import sys

import pytest


def _run(code: str, *args: str, tmp_path=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=60,
                          cwd=tmp_path)


RUN = "import sys; from mapsheets.cli import run; sys.argv[0] = 'mapsheets'; run(prog_name='mapsheets')"


@pytest.mark.parametrize("args, code", [(["--version"], 0), (["show", "no-such.xlsx"], 1), (["no-such-command"], 1)])
def test_exit_status_and_output_are_those_of_the_command(args, code, tmp_path):
    done = _run(RUN, *args, tmp_path=tmp_path)
    assert done.returncode == code, done.stderr
    if code:
        assert done.stderr.startswith("Error: ") and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    else:
        assert done.stdout.startswith("mapsheets, version ")


def test_long_output_reaches_a_pipe_whole(tmp_path):
    done = _run(RUN, "templates", "--json", tmp_path=tmp_path)
    assert done.returncode == 0
    import json

    assert len(json.loads(done.stdout)) >= 3  # every byte arrived: the JSON parses


def test_exit_handlers_run_and_a_running_thread_is_waited_for(tmp_path):
    marker, thread_marker = tmp_path / "atexit-ran", tmp_path / "thread-done"
    code = (f"import atexit, threading, time, pathlib\n"
            f"atexit.register(lambda: pathlib.Path({str(marker)!r}).write_text('ran'))\n"
            f"def work():\n    time.sleep(0.5); pathlib.Path({str(thread_marker)!r}).write_text('done')\n"
            f"threading.Thread(target=work).start()\n" + RUN.replace("; ", "\n"))
    done = _run(code, "--version", tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    assert marker.read_text() == "ran" and thread_marker.read_text() == "done"
    alone = _run(f"import atexit, pathlib\natexit.register(lambda: pathlib.Path({str(marker)!r}).write_text('again'))\n"
                 + RUN.replace("; ", "\n"), "--version", tmp_path=tmp_path)
    assert alone.returncode == 0 and marker.read_text() == "again"
