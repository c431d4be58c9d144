"""What the forecast draws from besides `stages` (issue 24, part 1): `report winloss` keeps each
closed plan's business days per finished phase, and whether it was lost after it; and `show` reads
the history from a store of an older schema (before migration 8) by migrating it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner
from closed_plans import START, at, closed_plan

from mapsheets.adapters.store import MIGRATIONS, Store
from mapsheets.cli import cli
from mapsheets.core.dates import business_days_between
from mapsheets.core.model import Plan


def test_the_winloss_report_keeps_each_closed_plans_phase_times(tmp_path: Path) -> None:
    db, out = f"sqlite:///{tmp_path / 'state.db'}", tmp_path / "outbox"
    won = closed_plan(tmp_path, db, "Acme Corp", "won", security_slip=2, other_slip=0, weeks=12, signed=True,
                      outbox=out, seed=1)
    lost = closed_plan(tmp_path, db, "Initech", "lost", security_slip=9, other_slip=3, weeks=11, signed=False,
                       outbox=out, seed=3)
    result = CliRunner().invoke(cli, ["report", "winloss", "--all", "-o", str(tmp_path / "w.csv"), "--db", db])
    assert result.exit_code == 0, result.output
    store = Store(db)
    kept = {k.source: k for k in store.history.kept() if k.phase == "Discovery"}
    assert set(kept) == {f"winloss {won}", f"winloss {lost}"}
    rows = store.history.durations()
    assert sum(lost_after for _d, lost_after in sum(rows.values(), [])) == 1  # the lost plan, once
    last = Plan.from_dict(store.revisions.of(str(won))[-1].content["plan"])
    discovery_end = max(s.done_on for s in last.steps if s.phase == "Discovery" and s.done_on)
    assert (business_days_between(START, discovery_end), False) in rows["Discovery"]
    assert "Legal" not in {p for p, r in rows.items() if len(r) == 2}  # the lost deal never finished Legal
    again = CliRunner().invoke(cli, ["report", "winloss", str(won), "-o", str(tmp_path / "w.csv"), "--db", db])
    assert again.exit_code == 0  # a plan's rows replaced, not added
    assert {p: sorted(r) for p, r in store.history.durations().items()} == {p: sorted(r) for p, r in rows.items()}


def test_show_reads_the_history_of_a_store_from_before_migration_8(tmp_path: Path) -> None:
    import sqlalchemy as sa

    from mapsheets.adapters.store import schema

    url = os.environ["MAPSHEETS_DB"]
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        schema.tables().metadata.create_all(conn, tables=[schema.tables().schema_version])
        for number, name, step in MIGRATIONS[:7]:
            step(conn, schema.tables())
            conn.execute(sa.insert(schema.tables().schema_version).values(version=number, name=name,
                                                                           applied_at=at(START)))
    engine.dispose()
    plan = tmp_path / "p.xlsx"
    assert subprocess.run([sys.executable, "-m", "mapsheets.cli", "demo", "-o", str(plan)], capture_output=True,
                          env=os.environ.copy()).returncode == 0
    shown = subprocess.run([sys.executable, "-m", "mapsheets.cli", "show", str(plan), "--json"], capture_output=True,
                           text=True, env=os.environ.copy())
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["forecast"] is None  # nothing kept yet; the store now has the table
    assert Store(url).version == MIGRATIONS[-1][0]
