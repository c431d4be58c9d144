"""A digest run over many watched plans where a few changed.

Local: 1,000 registered .xlsx plans, 50 changed since the last run: wall time (target < 60 s).
Google (over the test double): 40 plans, 4 changed: requests by method (target: no sheet read
for an unchanged plan). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from mapsheets.adapters.mail import OutboxMailer
from mapsheets.adapters.xlsx import XlsxWorkbook, load, save_atomic
from mapsheets.core.layout import workbook_spec
from mapsheets.service import build_plan, digest, get_template

T0 = datetime(2026, 12, 1, 7, 0, tzinfo=timezone.utc)


def first_status_cell(plan) -> str:
    """A1 cell of the first step's Status, where `workbook_spec` puts it."""
    from mapsheets.core.layout import column_letter

    spec = workbook_spec(plan).sheet("Plan")
    return f"{column_letter(spec.rows[spec.header_row].index('Status'))}{spec.header_row + 2}"


def a_plan(seed: int):
    plan, _fit = build_plan(get_template("enterprise-map"), buyer=f"Buyer {seed}", seller="Globex",
                            start=date(2026, 12, 1), close=date(2027, 6, 30), rng=random.Random(seed))
    return plan


def local(count: int, changed: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        db = f"sqlite:///{folder / 'state.db'}"
        first = folder / "plan-0000.xlsx"
        XlsxWorkbook(first).create(workbook_spec(a_plan(0)))
        start = time.perf_counter()
        for i in range(count):
            path = folder / f"plan-{i:04d}.xlsx"
            if i:
                shutil.copy(first, path)
            digest.watch(str(path), [f"owner{i}@globex.example"], now=T0, store_url=db)
        setup = time.perf_counter() - start
        for i in random.Random(1).sample(range(count), changed):
            path = folder / f"plan-{i:04d}.xlsx"
            book = load(path, data_only=False)
            book["Plan"][first_status_cell(a_plan(0))] = "Done"
            save_atomic(book, path)
        mailer = OutboxMailer(folder / "outbox")
        start = time.perf_counter()
        report = digest.run(now=T0 + timedelta(days=1), mailer=mailer, store_url=db)
        wall = time.perf_counter() - start
    print(f"local: {count} watched plans, {changed} changed")
    print(f"  setup (watch = first snapshot of each): {setup:6.1f} s")
    print(f"  digest run: {wall:6.2f} s   (target < 60 s)   sent {len(report.sent)}, "
          f"unchanged plans not read {report.unchanged}, new revisions {report.snapshots}")


def google(count: int, changed: int) -> None:
    from mapsheets.adapters.gsheets import GoogleWorkbook, make_client
    from mapsheets.testing.google_api import GoogleApiDouble
    from google.oauth2.credentials import Credentials

    with GoogleApiDouble() as double, tempfile.TemporaryDirectory() as tmp:
        os.environ.update(MAPSHEETS_GOOGLE_API_ROOT=double.root, MAPSHEETS_GOOGLE_TOKEN="bench")
        client = make_client(Credentials(token="bench"), double.root)
        db = f"sqlite:///{Path(tmp) / 'state.db'}"
        ids = []
        for i in range(count):
            book = GoogleWorkbook(None, client)
            book.create(workbook_spec(a_plan(i)))
            ids.append(book.sheet_id)
            digest.watch(book.sheet_id, [f"owner{i}@globex.example"], now=T0, store_url=db)
        double.clock.advance(hours=1)
        for sheet_id in random.Random(2).sample(ids, changed):
            client.request("put", f"https://sheets.googleapis.com/v4/spreadsheets/{sheet_id}/values/Plan!{first_status_cell(a_plan(0))}",
                           params={"valueInputOption": "USER_ENTERED"}, json={"values": [["Done"]]})
        double.reset()
        report = digest.run(now=T0 + timedelta(days=1), mailer=OutboxMailer(Path(tmp) / "outbox"), store_url=db)
        methods = double.stats()["methods"]
    print(f"google (test double): {count} watched plans, {changed} changed")
    print(f"  sent {len(report.sent)}, unchanged plans not read {report.unchanged}")
    for method, n in sorted(methods.items()):
        print(f"  {method:<40} {n:>4}")
    reads = methods.get("sheets.spreadsheets.get", 0)
    print(f"  sheet reads: {reads} for {changed} changed plans (target: none for the {count - changed} unchanged)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--plans", type=int, default=1000)
    parser.add_argument("--changed", type=int, default=50)
    args = parser.parse_args()
    local(args.plans, args.changed)
    google(40, 4)


if __name__ == "__main__":
    main()
