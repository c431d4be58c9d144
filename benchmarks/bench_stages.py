"""`mapsheets stages` on 100,000 stage changes (target: under 2 s; from Salesforce: under 10 s).

Generates a Salesforce OpportunityHistory export (about 13,300 opportunities with skipped and
revisited stages, amount-change rows and open deals), then times the command three ways: the
service call in a warm process, and the whole command in a fresh process (imports included).
Then the same rows are read from the Salesforce double over HTTP (`stages --salesforce`:
simple-salesforce, SOQL paged 2,000 rows a request, then as a Bulk API 2.0 job, which it uses above
50,000 rows) and the request count printed.
Prints wall and CPU time: on a loaded machine wall time is CPU time plus waiting. Asserts nothing.
"""

from __future__ import annotations

import argparse
import csv
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
        from_salesforce(history, result.report.stages, args.runs)


def from_salesforce(history: Path, from_file: list, runs: int) -> None:
    """The export's rows served by the Salesforce double; `stages --salesforce` timed in a warm process."""
    try:
        import simple_salesforce  # noqa: F401
    except ImportError:
        print("Salesforce: skipped (pip install 'mapsheets[salesforce]')")
        return
    from mapsheets.service.crm_stages import learn_stages_from_crm
    from mapsheets.testing.salesforce_api import SalesforceDouble

    with SalesforceDouble() as sf, open(history, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            sf.add_record("OpportunityHistory", {"OpportunityId": row.get("OpportunityId") or "",
                                                 "StageName": row.get("StageName") or "",
                                                 "CreatedDate": row.get("CreatedDate") or "",
                                                 "CloseDate": row.get("CloseDate") or None})
        rows = len(sf.records["OpportunityHistory"])
        for how, above in (("REST query, paged", str(10 ** 9)), ("Bulk API 2.0 job", "50000")):
            env = {"MAPSHEETS_SALESFORCE_API_ROOT": sf.root, "MAPSHEETS_SALESFORCE_BULK_ABOVE": above,
                   **sf.password_env()}
            walls, cpus = [], []
            for _ in range(runs):
                sf.counts.clear()
                wall, cpu = time.perf_counter(), time.process_time()
                result = learn_stages_from_crm("salesforce", env=env, holidays="US", template="enterprise-map")
                walls.append(time.perf_counter() - wall)
                cpus.append(time.process_time() - cpu)  # the double's threads share this process
            same = [(s.stage, s.days) for s in result.report.stages] == [(s.stage, s.days) for s in from_file]
            wall = statistics.median(walls)
            print(f"stages --salesforce ({how}), warm process: {rows:,} rows in {sf.requests} requests "
                  f"({dict(sf.counts)}): median wall {wall:.2f} s, CPU {statistics.median(cpus):.2f} s, client and "
                  f"double together (target < 10 s: {'met' if wall < 10 else 'MISSED'}); same table as the file: "
                  f"{same}")

if __name__ == "__main__":
    main()
