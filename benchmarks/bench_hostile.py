"""Time and peak memory of `mapsheets show` on workbooks a buyer could send (issue 8, item 9).

Target: the 200,000-row workbook and the one cell at XFD1048576 are refused in under 1 s and
100 MB (the whole process, Python's start included). Each run is a fresh child process; its peak
memory is RUSAGE_CHILDREN's maxrss, read in a fresh wrapper so no earlier child counts.
Prints figures; asserts nothing. `--unlimited` also reads the 200,000 rows with the limits raised,
to show what the limits save (tens of seconds and more than a GB).

Issue 17, part 10: `add-step` (target under 3 s and 250 MB) on a plan just under the write limit
(5,000 rows in all, MAPSHEETS_MAX_WRITE_ROWS), on one of 20,000 rows (the row limit: refused in one
line), and on that one with the write limit raised (what the limit saves). A copy per run.
`--no-big` leaves these out (building the 20,000-row plan takes a minute or two).
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
BIG_STEPS = 19_960  # with the title, overview, header and phase bands: just under 20,000 rows
WRITE_STEPS = 2_400  # with their Timeline rows: just under the write limit of 5,000 rows in all
_WRAPPER = """
import resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run([sys.executable, "-m", "mapsheets.cli", *sys.argv[1:]], capture_output=True, text=True)
took = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(took, peak, done.returncode, (done.stderr.strip().splitlines() or [""])[-1][:110], sep="\\t")
"""


def show(path: Path, env: dict[str, str], command: tuple[str, ...] = ("show",)) -> tuple[float, float, int, str]:
    out = subprocess.run([sys.executable, "-c", _WRAPPER, *command, str(path)], capture_output=True, text=True,
                         env=env, check=True).stdout.rstrip("\n")
    took, peak, code, line = out.split("\t")
    return float(took), float(peak), int(code), line


def bench(label: str, path: Path, env: dict[str, str], runs: int = RUNS) -> None:
    results = [show(path, env) for _ in range(runs)]
    took = statistics.median(r[0] for r in results)
    peak = max(r[1] for r in results)
    _t, _p, code, line = results[-1]
    print(f"{label:<34} {took:6.2f} s  {peak:7.1f} MB  exit {code}  {line}")


def big_plan(path: Path, steps: int = BIG_STEPS) -> Path:
    """The enterprise template grown to ``steps`` steps, each phase's steps together (one band each)."""
    import dataclasses
    import random
    from datetime import date

    from mapsheets.adapters.xlsx import write_workbook
    from mapsheets.core.layout import workbook_spec
    from mapsheets.core.model import new_step_id
    from mapsheets.service import build_plan, get_template

    plan, _fit = build_plan(get_template("enterprise-map"), buyer="Acme Corp", seller="Globex",
                            start=date(2026, 12, 1), close=date(2027, 3, 31), rng=random.Random(7))
    rng, base, taken = random.Random(11), list(plan.steps), set(plan.step_ids)
    while len(plan.steps) < steps:
        model = base[len(plan.steps) % len(base)]
        taken.add(sid := new_step_id(taken, rng))
        plan.steps.append(dataclasses.replace(model, id=sid, depends_on=[], title=f"{model.title} #{len(plan.steps)}",
                                              notes=f"Notes of step {len(plan.steps)}"))
    order = {phase: i for i, phase in enumerate(dict.fromkeys(s.phase for s in plan.steps))}
    plan.steps.sort(key=lambda s: order[s.phase])
    write_workbook(path, workbook_spec(plan))
    return path


def bench_add_step(folder: Path, env: dict[str, str], runs: int = 3) -> None:
    """add-step near the write limit (MAPSHEETS_MAX_WRITE_ROWS, 5,000 rows in all) and at the row
    limit, where the write is refused in one line; and at the row limit with the write limit raised."""
    import shutil

    for steps, label, extra in ((WRITE_STEPS, f"add-step, {WRITE_STEPS:,} steps", {}),
                                (BIG_STEPS, "add-step on 20,000 rows", {}),
                                (BIG_STEPS, "  the same, write limit raised", {"MAPSHEETS_MAX_WRITE_ROWS": "40000"})):
        source = folder / f"big-{steps}.xlsx"
        if not source.exists():
            big_plan(source, steps)
        results = []
        for i in range(runs if not extra else 1):
            copy = shutil.copy(source, folder / f"copy-{steps}-{i}.xlsx")
            results.append(show(Path(copy), {**env, **extra}, ("add-step", "--title", "Legal review")))
        took, peak = statistics.median(r[0] for r in results), max(r[1] for r in results)
        _t, _p, code, line = results[-1]
        print(f"{label:<34} {took:6.2f} s  {peak:7.1f} MB  exit {code}  {line[:90]}"
              f"  ({source.stat().st_size / 1e6:.1f} MB file; target: under 3 s, 250 MB)")


def main() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for name in ("MAPSHEETS_MAX_UNCOMPRESSED_MB", "MAPSHEETS_MAX_ROWS", "MAPSHEETS_MAX_COLUMNS",
                 "MAPSHEETS_MAX_WRITE_ROWS"):
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
        if "--no-big" not in sys.argv:
            bench_add_step(folder, env)
        if "--unlimited" in sys.argv:
            raised = {**env, "MAPSHEETS_MAX_ROWS": "1000000", "MAPSHEETS_MAX_UNCOMPRESSED_MB": "10000"}
            bench("show 200,000 rows, limits raised", rows, raised, runs=1)


if __name__ == "__main__":
    main()
