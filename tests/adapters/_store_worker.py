"""Another OS process for the store concurrency tests.

    python _store_worker.py URL MODE WORKER GO_FILE

Prints "ready", waits until GO_FILE exists (so both workers start together), does MODE and prints
its results as one JSON line.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from mapsheets.adapters.store import Store

PLAN = "/plans/acme-map.xlsx"


def wait_for(go: Path) -> None:
    deadline = time.monotonic() + 60
    while not go.exists():
        if time.monotonic() > deadline:
            sys.exit("the go file never appeared")
        time.sleep(0.001)


def main(url: str, mode: str, worker: str, go: Path) -> None:
    if mode == "migrate-rounds":  # URL: a JSON list of new databases; all workers open each at once
        for i, each in enumerate(json.loads(Path(url).read_text())):
            print("ready", flush=True)
            wait_for(go.with_name(f"{go.name}-{i}"))
            with Store(each) as store:
                print(json.dumps(store.applied), flush=True)
        return
    if mode == "migrate":  # open a store that has never been migrated, both at once
        print("ready", flush=True)
        wait_for(go)
        print(json.dumps(Store(url).applied))
        return
    store = Store(url)
    print("ready", flush=True)
    wait_for(go)
    out = []
    if mode == "distinct":  # 20 different revisions of one plan
        for i in range(20):
            rev, created = store.revisions.add(
                PLAN, {"worker": worker, "i": i}, f"{worker}-{i}", taken_at=datetime.now(UTC),
                source={"worker": worker}, step_count=i, done_count=0)
            out.append([rev.seq, created])
    elif mode == "same":  # the same first revision of ten plans
        for p in range(10):
            rev, created = store.revisions.add(
                f"/plans/p{p}.xlsx", {"same": True}, "same-fp", taken_at=datetime.now(UTC),
                source={}, step_count=1, done_count=0)
            out.append([rev.seq, created])
    else:
        sys.exit(f"unknown mode {mode}")
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], Path(sys.argv[4]))
