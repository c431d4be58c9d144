"""The forecast's cost (issue 24): 1,000 plans × 10,000 simulations (target: under 5 s), and what
it adds to `mapsheets show` on one plan (target: at most 20 ms).

The first: enterprise-map plans with different target closes and progress, against a history of
200 past deals per phase, simulated in one warm process. The second: the median of real
`mapsheets show` processes on the same plan with a stored history and without one (a store with
no history kept), run alternately in the same run so both see the same machine. Prints wall and
CPU time: on a loaded machine wall time is CPU time plus waiting. Asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mapsheets.adapters.store import Store  # noqa: E402
from mapsheets.adapters.store.history import PhaseRow  # noqa: E402
from mapsheets.adapters.xlsx import write_workbook  # noqa: E402
from mapsheets.analysis.forecast import forecast  # noqa: E402
from mapsheets.core.layout import workbook_spec  # noqa: E402
from mapsheets.core.model import Plan  # noqa: E402
from mapsheets.service import build_plan, get_template  # noqa: E402

START = date(2026, 12, 1)


def history(deals: int) -> dict[str, list[float]]:
    rng = np.random.default_rng(1)
    template = get_template("enterprise-map")
    return {s.name: list(np.ceil(rng.lognormal(np.log(s.days), 0.4, deals))) for s in template.stages}


def plans(count: int) -> list[tuple[Plan, date]]:
    """``count`` plans: targets 60 to 120 business days out, some steps done, judged on a later day."""
    template, rng, out = get_template("enterprise-map"), random.Random(3), []
    for n in range(count):
        close = np.busday_offset(np.datetime64(START), 60 + n % 61, roll="forward").astype(object)
        plan, _fit = build_plan(template, buyer=f"Buyer {n}", seller="Globex", start=START, close=close,
                                rng=rng)
        done = rng.randrange(0, len(plan.steps) // 2)
        for step in sorted((s for s in plan.steps if s.due), key=lambda s: s.due)[:done]:
            step.status, step.done_on = "done", step.due
        out.append((plan, START + timedelta(days=7 * (done // 2))))
    return out


def bench_plans(count: int, simulations: int) -> None:
    past, made = history(200), plans(count)
    forecast(made[0][0], past, made[0][1], simulations=simulations)  # warm
    wall, cpu = time.perf_counter(), time.process_time()
    chances = [forecast(plan, past, today, simulations=simulations).chance for plan, today in made]
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    told = [c for c in chances if c is not None]
    print(f"{count:,} plans × {simulations:,} simulations: wall {wall:.2f} s, CPU {cpu:.2f} s "
          f"({1000 * wall / count:.2f} ms a plan; target < 5 s: {'met' if wall < 5 else 'MISSED'}); "
          f"chances from {min(told):.0%} to {max(told):.0%}")


def show_once(plan: Path, env: dict[str, str]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "mapsheets", "show", str(plan), "--as-of", "2026-12-01"],
                          capture_output=True, text=True, env=env, check=True)
    wall = time.perf_counter() - wall
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert ("Chance to close" in done.stdout) == (env["MAPSHEETS_DB"].endswith("with.db")), done.stdout
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def bench_show(runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        plan, _fit = build_plan(get_template("enterprise-map"), buyer="Acme", seller="Globex", start=START,
                                close=date(2027, 3, 31), rng=random.Random(7))
        path = Path(tmp) / "plan.xlsx"
        write_workbook(path, workbook_spec(plan))
        without, with_history = f"sqlite:///{Path(tmp) / 'without.db'}", f"sqlite:///{Path(tmp) / 'with.db'}"
        Store(without).close()  # the same schema, nothing kept
        store = Store(with_history)
        rows = [PhaseRow(f"D{n}", phase, days) for phase, past in history(200).items()
                for n, days in enumerate(past)]
        store.history.keep("bench", rows, datetime.now(UTC))
        store.close()
        # A cache folder of its own: the first `show` of the day computes the figure, later ones read it.
        envs = {name: {**os.environ, "PYTHONPATH": str(ROOT), "MAPSHEETS_DB": url,
                       "MAPSHEETS_CACHE_DIR": str(Path(tmp) / "cache")}
                for name, url in (("without", without), ("with", with_history))}
        times: dict[str, list[tuple[float, float]]] = {"without": [], "with": []}
        first = {name: show_once(path, envs[name]) for name in ("without", "with")}  # warms both caches
        for _ in range(runs):
            for name in ("without", "with"):
                times[name].append(show_once(path, envs[name]))
        wall = {k: statistics.median(w for w, _c in v) for k, v in times.items()}
        cpu = {k: statistics.median(c for _w, c in v) for k, v in times.items()}
        added = 1000 * (wall["with"] - wall["without"])
        verdict = "met" if added <= 20 else "MISSED"
        print(f"mapsheets show, {runs} runs each: without history median wall {1000 * wall['without']:.0f} ms "
              f"(CPU {1000 * cpu['without']:.0f} ms), with history {1000 * wall['with']:.0f} ms "
              f"(CPU {1000 * cpu['with']:.0f} ms): the forecast adds {added:.0f} ms wall, "
              f"{1000 * (cpu['with'] - cpu['without']):.0f} ms CPU (target ≤ 20 ms: {verdict}; "
              f"load average {os.getloadavg()[0]:.1f})")
        print(f"the first `show` of the day with the history computes the figure: {1000 * first['with'][0]:.0f} ms "
              f"wall against {1000 * first['without'][0]:.0f} ms without")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plans", type=int, default=1000)
    parser.add_argument("--simulations", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=15, help="`show` processes of each kind")
    args = parser.parse_args()
    bench_plans(args.plans, args.simulations)
    bench_show(args.runs)


if __name__ == "__main__":
    main()
