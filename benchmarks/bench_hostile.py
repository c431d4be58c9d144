"""Time and peak memory of `mapsheets show` on workbooks a buyer could send (issue 8, item 9).

Target: the 200,000-row workbook and the one cell at XFD1048576 are refused in under 1 s and
100 MB (the whole process, Python's start included). Each run is a fresh child process; its peak
memory is RUSAGE_CHILDREN's maxrss, read in a fresh wrapper so no earlier child counts.
Prints figures; asserts nothing. `--unlimited` also reads the 200,000 rows with the limits raised,
to show what the limits save (tens of seconds and more than a GB).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from mapsheets.testing import hostile_xlsx as hostile  # noqa: E402

RUNS = 5
_WRAPPER = """
import resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run([sys.executable, "-m", "mapsheets.cli", "show", sys.argv[1]], capture_output=True, text=True)
took = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(took, peak, done.returncode, (done.stderr.strip().splitlines() or [""])[-1][:110], sep="\\t")
"""


def show(path: Path, env: dict[str, str]) -> tuple[float, float, int, str]:
    out = subprocess.run([sys.executable, "-c", _WRAPPER, str(path)], capture_output=True, text=True, env=env,
                         check=True).stdout.rstrip("\n")
    took, peak, code, line = out.split("\t")
    return float(took), float(peak), int(code), line


def bench(label: str, path: Path, env: dict[str, str], runs: int = RUNS) -> None:
    results = [show(path, env) for _ in range(runs)]
    took = statistics.median(r[0] for r in results)
    peak = max(r[1] for r in results)
    _t, _p, code, line = results[-1]
    print(f"{label:<34} {took:6.2f} s  {peak:7.1f} MB  exit {code}  {line}")


def main() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for name in ("MAPSHEETS_MAX_UNCOMPRESSED_MB", "MAPSHEETS_MAX_ROWS", "MAPSHEETS_MAX_COLUMNS"):
        env.pop(name, None)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        rows = hostile.many_rows(folder / "rows-200000.xlsx", 200_000)
        far = hostile.far_cell(folder / "far-cell.xlsx")
        bomb = hostile.shared_strings_bomb(folder / "shared-strings-bomb.xlsx", 1000)
        floor = statistics.median(
            float(subprocess.run([sys.executable, "-c", "import time, subprocess, sys; s = time.perf_counter(); "
                                  "subprocess.run([sys.executable, '-c', 'pass']); print(time.perf_counter() - s)"],
                                 capture_output=True, text=True, check=True).stdout) for _ in range(RUNS))
        print(f"{'python -c pass (floor)':<34} {floor:6.2f} s")
        print(f"200,000 rows x 10 columns: {rows.stat().st_size / 1e6:.1f} MB on disk; "
              f"shared-strings bomb: {bomb.stat().st_size / 1e6:.1f} MB on disk, 1 GB unpacked")
        bench("show 200,000-row workbook", rows, env)
        bench("show far cell (XFD1048576)", far, env)
        bench("show 1 GB shared-strings bomb", bomb, env)
        if "--unlimited" in sys.argv:
            raised = {**env, "MAPSHEETS_MAX_ROWS": "1000000", "MAPSHEETS_MAX_UNCOMPRESSED_MB": "10000"}
            bench("show 200,000 rows, limits raised", rows, raised, runs=1)


if __name__ == "__main__":
    main()
