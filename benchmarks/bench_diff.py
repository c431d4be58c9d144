"""Diff two 5,000-step plans with mapsheets' semantic diff and, on the same tables, with daff.

Run: python benchmarks/bench_diff.py [--steps N] [--repeat R]
Prints the best of R runs of each and the ratio mapsheets/daff (target: <= 1). Figures, no asserts.
"""

from __future__ import annotations

import argparse
import copy
import random
import time
from datetime import date

import daff

from mapsheets.core.dates import add_business_days
from mapsheets.core.diff import diff, summary
from mapsheets.core.layout import STEP_HEADERS, step_cells
from mapsheets.core.model import STATUSES, Plan, Step, new_step_id

PHASES = ["Discovery", "Solution validation", "Technical & security review", "Business case", "Legal",
          "Procurement", "Signature", "Kickoff"]
VERBS = ["Review", "Agree", "Send", "Sign", "Validate", "Schedule", "Approve", "Draft", "Present", "Confirm"]
THINGS = ["security questionnaire", "order form", "DPA redlines", "ROI model", "pilot scope", "SSO setup",
          "pricing", "reference call", "success criteria", "budget", "MSA", "data residency answer"]
PEOPLE = [f"{n}@{d}" for n in ("ann", "bob", "cy", "dee", "eve", "fay", "gus", "hal") for d in ("acme", "globex")]


def build_plan(n: int, rng: random.Random) -> Plan:
    taken: set[str] = set()
    steps = []
    day = date(2027, 1, 4)
    for k in range(n):
        sid = new_step_id(taken, rng)
        taken.add(sid)
        day = add_business_days(day, rng.choice((0, 0, 1)))
        steps.append(Step(
            id=sid, title=f"{rng.choice(VERBS)} {rng.choice(THINGS)} #{k}", phase=rng.choice(PHASES),
            side=rng.choice(("buyer", "seller", "joint")), owners=rng.sample(PEOPLE, rng.randint(1, 2)),
            due=day, status=rng.choice(STATUSES), depends_on=[steps[-1].id] if steps else [],
            notes=rng.choice(("", "", "waiting on legal", "see thread")),
        ))
    return Plan(kind="mutual", title="Benchmark MAP", buyer="Acme", seller="Globex", steps=steps)


def edit_plan(plan: Plan, rng: random.Random) -> Plan:
    """~5% of steps edited in place, 1% removed, 1% added, 0.5% moved, 0.2% with a retyped ID."""
    new = copy.deepcopy(plan)
    n = len(new.steps)
    taken = set(new.step_ids)
    for step in rng.sample(new.steps, n * 5 // 100):
        what = rng.choice(("status", "due", "owners", "title", "notes"))
        if what == "status":
            step.status = rng.choice([s for s in STATUSES if s != step.status])
        elif what == "due":
            step.due = add_business_days(step.due, rng.choice((-3, -1, 2, 5, 10)))
        elif what == "owners":
            step.owners = step.owners + ["new.owner@acme"]
        elif what == "title":
            step.title += " (revised)"
        else:
            step.notes = "updated after the call"
    for step in rng.sample(new.steps, n // 500):
        step.id = new_step_id(taken, rng)
        taken.add(step.id)
    for _ in range(n // 100):
        new.steps.pop(rng.randrange(len(new.steps)))
    for k in range(n // 100):
        sid = new_step_id(taken, rng)
        taken.add(sid)
        new.steps.insert(rng.randrange(len(new.steps) + 1), Step(
            id=sid, title=f"Added step {k}: {rng.choice(VERBS)} {rng.choice(THINGS)}", phase="Expansion",
            owners=["someone.new@acme"], due=date(2027, 6, 1)))
    for _ in range(n // 200):
        new.steps.insert(rng.randrange(len(new.steps)), new.steps.pop(rng.randrange(len(new.steps))))
    return new


def table(plan: Plan) -> list[list[str]]:
    headers = list(STEP_HEADERS)
    rows = [headers]
    for step in plan.steps:
        rows.append(["" if v is None else str(v) for v in step_cells(step, headers)])
    return rows


def run_daff(old_rows: list[list[str]], new_rows: list[list[str]]) -> int:
    flags = daff.CompareFlags()
    flags.addPrimaryKey("ID")
    t1, t2 = daff.PythonTableView(old_rows), daff.PythonTableView(new_rows)
    alignment = daff.Coopy.compareTables3(None, t1, t2, flags).align()
    out = daff.PythonTableView([])
    daff.TableDiff(alignment, flags).hilite(out)
    return out.height


def best_of(repeat: int, fn) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rng = random.Random(2027)
    old = build_plan(args.steps, rng)
    new = edit_plan(old, rng)
    old_rows, new_rows = table(old), table(new)

    ours, changes = best_of(args.repeat, lambda: diff(old, new))
    theirs, height = best_of(args.repeat, lambda: run_daff(old_rows, new_rows))
    counts = {k: v for k, v in summary(changes).items() if v}
    print(f"plans: {len(old.steps)} steps -> {len(new.steps)} steps")
    print(f"mapsheets diff(): {ours * 1000:9.1f} ms  best of {args.repeat}; {len(changes)} changes {counts}")
    print(f"daff (key ID):    {theirs * 1000:9.1f} ms  best of {args.repeat}; {height} rows in its highlighter table")
    print(f"ratio mapsheets/daff: {ours / theirs:.3f}")


if __name__ == "__main__":
    main()
