"""Start-up, `new` and `show` speed of the CLI, as a user feels them (wall time of real processes).

Targets (issue 2): `mapsheets --help` under 0.15 s; `mapsheets new` for a 25-step plan under 0.5 s.
Issue 13: `mapsheets show` of that plan under 0.15 s, beside `python -c pass` (the floor on this
machine). Issue 23: `show` of the same plan with a holiday calendar (US) at most 150 ms and at most 7 × the
floor, from the holiday cache; the first call with an empty cache (as after a package upgrade) is printed too.
Bytecode is cached (in a temporary folder) as an installed package has it, even where
PYTHONDONTWRITEBYTECODE is set. Prints figures; asserts nothing.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = 15
ENV = dict(os.environ)


def once(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, env=ENV)
    return time.perf_counter() - start


def wall(cmd: list[str]) -> float:
    """Median wall time of ``cmd`` over RUNS runs, after one warm-up (which also caches bytecode)."""
    subprocess.run(cmd, check=True, capture_output=True, env=ENV)
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, env=ENV)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def template_25(folder: Path) -> None:
    """A 25-step mutual template: five stages of five chained steps."""
    lines = ["kind: mutual", 'title: "MAP: {{ buyer }} × {{ seller }}"', "stages:"]
    lines += [f"  - {{key: s{i}, name: Stage {i}, days: 10}}" for i in range(5)]
    lines.append("steps:")
    prev = None
    for n in range(25):
        dep = f", depends_on: [k{prev}]" if prev is not None else ""
        side = ("buyer", "seller", "joint")[n % 3]
        lines.append(f'  - {{key: k{n}, stage: s{n // 5}, title: "Step {n} for {{{{ buyer }}}}", side: {side}, '
                     f'owner: "owner{n}@example.com", days: 2{dep}}}')
        prev = n
    (folder / "bench-25.yaml").write_text("\n".join(lines) + "\n")


def main() -> None:
    # The console script beside this Python (a version manager's shim on PATH adds its own start-up).
    beside = Path(sys.executable).with_name("mapsheets")
    exe = str(beside) if beside.exists() else shutil.which("mapsheets")
    if exe is None:
        sys.exit("mapsheets is not installed: pip install -e .")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        ENV.pop("PYTHONDONTWRITEBYTECODE", None)
        ENV["PYTHONPYCACHEPREFIX"] = str(folder / "pycache")
        ENV["XDG_DATA_HOME"] = str(folder / "data")  # a state store of its own, not the user's
        ENV.pop("MAPSHEETS_DB", None)
        template_25(folder)
        out = folder / "plan.xlsx"
        python_floor = wall([sys.executable, "-c", "pass"])
        help_time = wall([exe, "--help"])
        new_time = wall([exe, "new", "--template", "bench-25", "--templates", str(folder), "--buyer", "Acme",
                         "--seller", "Globex", "--start-date", "2026-12-01", "--close-date", "2027-06-30",
                         "-o", str(out), "--force"])
        show_time = wall([exe, "show", str(out)])
        show_json_time = wall([exe, "show", str(out), "--json"])
        us = folder / "plan-us.xlsx"
        subprocess.run([exe, "new", "--template", "bench-25", "--templates", str(folder), "--buyer", "Acme",
                        "--seller", "Globex", "--start-date", "2026-12-01", "--close-date", "2027-06-30",
                        "--holidays", "US", "-o", str(us), "--force"], check=True, capture_output=True, env=ENV)
        ENV["MAPSHEETS_CACHE_DIR"] = str(folder / "cache")  # empty: the first call fills it
        show_us_cold = once([exe, "show", str(us)])
        show_us_time = wall([exe, "show", str(us)])
    print(f"python -c pass (floor)      {python_floor * 1000:7.1f} ms")
    print(f"mapsheets --help            {help_time * 1000:7.1f} ms   (target < 150 ms)")
    print(f"mapsheets new (25 steps)    {new_time * 1000:7.1f} ms   (target < 500 ms)")
    print(f"mapsheets show (25 steps)   {show_time * 1000:7.1f} ms   (target < 150 ms; "
          f"{(show_time - python_floor) * 1000:.0f} ms above the floor)")
    print(f"mapsheets show --json       {show_json_time * 1000:7.1f} ms")
    print(f"mapsheets show, US holidays {show_us_time * 1000:7.1f} ms   (target <= 150 ms and <= 7x the floor: "
          f"{show_us_time / python_floor:.1f}x; first call, empty cache: {show_us_cold * 1000:.0f} ms)")


if __name__ == "__main__":
    main()
