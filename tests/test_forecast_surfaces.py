"""The forecast where people look (issue 24, parts 1, 3 and 4): the history `stages` keeps in the
state store, `mapsheets history` and --forget, `show` and `show --json`, the pipeline view and its
files, and the backtest command. Real store, the CLI as a user runs it (subprocesses)."""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from forecast_history import CRM_MAPS, CRM_STAGES, PHASES, write_export

from mapsheets.adapters.store import Store
from mapsheets.adapters.xlsx import write_workbook
from mapsheets.core.layout import workbook_spec
from mapsheets.service import build_plan, get_template

AS_OF = "2026-12-01"


def mapsheets(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mapsheets.cli", *map(str, args)], capture_output=True, text=True,
                          env=os.environ.copy(), timeout=300)


def keep(tmp_path: Path, deals: int, **options: float) -> Path:
    export = write_export(tmp_path / f"history-{deals}.csv", deals, **options)  # type: ignore[arg-type]
    done = mapsheets("stages", export, "-t", "enterprise-map")
    assert done.returncode == 0, done.stderr
    return export


def plan_file(tmp_path: Path, name: str, close: date) -> Path:
    built, _fit = build_plan(get_template("enterprise-map"), buyer=name, seller="Globex", start=date(2026, 12, 1),
                             close=close, rng=random.Random(7))
    built.seller_lead = "Sam Seller <sam@globex.example>"
    path = tmp_path / f"{name.lower()}.xlsx"
    write_workbook(path, workbook_spec(built))
    return path


def test_stages_keeps_each_finished_deal_and_history_lists_and_forgets_it(tmp_path: Path) -> None:
    export = keep(tmp_path, 40, lost=0.1)
    kept = Store(os.environ["MAPSHEETS_DB"]).history.durations()
    assert set(kept) == set(PHASES)
    assert len(kept["Discovery"]) == 40  # every deal went through the first phase
    lost_after = sum(lost for _d, lost in kept["Discovery"])
    assert lost_after > 0 and len(kept["Solution validation"]) == 40 - lost_after  # lost deals go no further
    listed = mapsheets("history")
    assert listed.returncode == 0, listed.stderr
    line = next(x for x in listed.stdout.splitlines() if " Discovery " in x)
    assert line.startswith(f"stages {export.name}") and re.search(rf"\b40\s+{lost_after}\s+2025-", line), line
    again = mapsheets("stages", export, "-t", "enterprise-map")  # the same source replaces what it kept
    assert again.returncode == 0 and "Kept " in again.stdout
    assert len(Store(os.environ["MAPSHEETS_DB"]).history.durations()["Discovery"]) == 40
    refused = mapsheets("history", "--forget")
    assert refused.returncode == 1 and "add --force" in refused.stderr and "Traceback" not in refused.stderr
    assert Store(os.environ["MAPSHEETS_DB"]).history.durations()
    cleared = mapsheets("history", "--forget", "--force")
    assert cleared.returncode == 0 and cleared.stdout.startswith("Cleared ")
    assert "No history kept" in mapsheets("history").stdout


def test_segments_are_kept_per_deal(tmp_path: Path) -> None:
    export = write_export(tmp_path / "h.csv", 30)
    text = export.read_text().splitlines()
    rows = [text[0] + ",Type"] + [f"{r},{'New' if int(r.split(',')[0][1:]) % 2 else 'Renewal'}" for r in text[1:]]
    export.write_text("\n".join(rows) + "\n")
    assert mapsheets("stages", export, "-t", "enterprise-map", "--segment", "Type").returncode == 0
    store = Store(os.environ["MAPSHEETS_DB"])
    assert len(store.history.durations("New")["Discovery"]) == 15
    assert len(store.history.durations()["Discovery"]) == 30
    assert "Renewal" in mapsheets("history").stdout


def test_show_says_the_chance_to_close_from_the_kept_history(tmp_path: Path) -> None:
    plan = plan_file(tmp_path, "Acme", date(2027, 3, 31))
    before = mapsheets("show", plan, "--as-of", AS_OF)
    assert before.returncode == 0 and "Chance to close" not in before.stdout
    assert json.loads(mapsheets("show", plan, "--json", "--as-of", AS_OF).stdout)["forecast"] is None
    keep(tmp_path, 60)
    shown = mapsheets("show", plan, "--as-of", AS_OF).stdout
    assert re.search(r"^Chance to close by 2027-03-31: \d+% · likely 2027-\d\d-\d\d \(P50\), 2027-\d\d-\d\d at "
                     r"worst one time in ten \(P90\) · from 60 past deals", shown, re.M), shown
    figures = json.loads(mapsheets("show", plan, "--json", "--as-of", AS_OF).stdout)["forecast"]
    assert figures["target"] == "2027-03-31" and 0 <= figures["chance"] <= 1 and figures["deals"] == 60
    assert figures["p50"] <= figures["p90"] and figures["risk_phase"] in PHASES
    assert f"{figures['chance']:.0%}" in shown  # the same figure in both


def test_fewer_than_20_past_deals_show_no_percentage_anywhere(tmp_path: Path) -> None:
    plan = plan_file(tmp_path, "Acme", date(2027, 3, 31))
    keep(tmp_path, 12)
    shown = mapsheets("show", plan, "--as-of", AS_OF).stdout
    line = next(x for x in shown.splitlines() if "chance to close" in x.lower())
    assert line.startswith("No chance to close shown: fewer than 20 past deals for ") and "%" not in line
    figures = json.loads(mapsheets("show", plan, "--json", "--as-of", AS_OF).stdout)["forecast"]
    assert figures["chance"] is None and figures["p50"] is None and figures["reason"].startswith("fewer than 20")
    out = tmp_path / "forecast.csv"
    listed = mapsheets("forecast", plan, "-o", out, "--as-of", AS_OF)
    assert listed.returncode == 0 and "%" not in listed.stdout and "fewer than 20 past deals" in listed.stdout
    row = out.read_text().splitlines()[1].split(",")
    assert row[3] == "" and "fewer than 20" in out.read_text()


def test_the_pipeline_view_is_sorted_by_risk_into_csv_and_xlsx(tmp_path: Path) -> None:
    import openpyxl

    roomy = plan_file(tmp_path, "Roomy", date(2027, 5, 28))
    tight = plan_file(tmp_path, "Tight", date(2027, 3, 1))
    keep(tmp_path, 80, stretch=1.2)
    out = tmp_path / "forecast.csv"
    listed = mapsheets("forecast", roomy, tight, "-o", out, "--as-of", AS_OF)
    assert listed.returncode == 0, listed.stderr
    lines = out.read_text().splitlines()
    assert lines[0] == ("plan,title,target_close,chance_by_target,p50,p90,risk_phase,health,owner,past_deals,"
                        "reason")
    rows = [line.split(",") for line in lines[1:]]
    assert [Path(r[0]).name for r in rows] == ["tight.xlsx", "roomy.xlsx"]  # the riskier first
    assert float(rows[0][3]) < float(rows[1][3]) and rows[0][2] == "2027-03-01"
    assert rows[0][8] == "Sam Seller <sam@globex.example>" and rows[0][6] in PHASES
    printed = [x for x in listed.stdout.splitlines() if x.startswith(str(tmp_path))]
    assert [Path(x.split()[0]).name for x in printed] == ["tight.xlsx", "roomy.xlsx"]
    book = tmp_path / "forecast.xlsx"
    assert mapsheets("forecast", roomy, tight, "-o", book, "--as-of", AS_OF).returncode == 0
    sheet = openpyxl.load_workbook(book)["Forecast"]
    # Formatted as the win/loss workbook: headers in words, bold, frozen, landscape one page wide.
    assert sheet["A1"].value == "Plan" and sheet["C1"].value == "Target close" and sheet["A1"].font.bold
    assert sheet.freeze_panes == "A2" and sheet.page_setup.orientation == "landscape"
    assert Path(sheet["A2"].value).name == "tight.xlsx" and sheet["D2"].value == pytest.approx(float(rows[0][3]))
    bad = mapsheets("forecast", roomy, "-o", tmp_path / "f.pdf")
    assert bad.returncode == 1 and "write the forecast to a .csv or .xlsx file" in bad.stderr


def test_forecast_all_takes_the_open_plans_the_store_knows(tmp_path: Path) -> None:
    plan = plan_file(tmp_path, "Acme", date(2027, 3, 31))
    assert mapsheets("snapshot", plan).returncode == 0
    keep(tmp_path, 30)
    listed = mapsheets("forecast", "--all", "--as-of", AS_OF)
    assert listed.returncode == 0 and str(plan) in listed.stdout, listed.stderr
    assert mapsheets("forecast", "--as-of", AS_OF).returncode == 1


def test_the_backtest_prints_brier_scores_and_a_reliability_table(tmp_path: Path) -> None:
    export = write_export(tmp_path / "history.csv", 160, lost=0.05, stages=CRM_STAGES)
    maps = [x for m in CRM_MAPS for x in ("--map", m)]
    missing = mapsheets("forecast", "--backtest", export, "-t", "enterprise-map", *maps)
    assert missing.returncode == 1 and "--target-days" in missing.stderr and "Traceback" not in missing.stderr
    done = mapsheets("forecast", "--backtest", export, "-t", "enterprise-map", "--target-days", "80", *maps)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    scores = dict(re.findall(r"^  (forecast|plan's own schedule|CRM stage probability)\s+(\d\.\d{3})$", out, re.M))
    assert set(scores) == {"forecast", "plan's own schedule", "CRM stage probability"}, out
    assert float(scores["forecast"]) < min(float(scores["plan's own schedule"]), float(scores["CRM stage probability"]))
    deciles = re.findall(r"^  \d+%-\d+%\s+(\d+)\s+[\d.]+%\s+[\d.]+%\s+\d+% - \d+%\s+(yes|no|too few)$", out, re.M)
    assert deciles and sum(int(n) for n, _v in deciles) == int(out.split()[0]), out
    assert re.search(r"^Calibrated: (yes|no) ", out, re.M)


SHOW_AND_TELL = """
import sys
from mapsheets.cli import cli
try:
    cli.main(["show", sys.argv[1], "--as-of", sys.argv[2]], standalone_mode=False)
finally:  # the command may end with SystemExit(0)
    print("NUMPY" if "numpy" in sys.modules else "NO NUMPY", file=sys.stderr)
"""


def test_a_second_show_that_day_reads_the_kept_figure_without_the_simulation(tmp_path: Path) -> None:
    """numpy's import alone is most of what the forecast adds to `show`: the figure computed once a
    day (for this plan as it reads, and this history) is read back without it."""
    plan = plan_file(tmp_path, "Acme", date(2027, 3, 31))
    keep(tmp_path, 60)
    runs = [subprocess.run([sys.executable, "-c", SHOW_AND_TELL, str(plan), AS_OF], capture_output=True, text=True,
                           env=os.environ.copy(), check=True, timeout=300) for _ in range(2)]
    assert runs[0].stderr.strip().endswith("NUMPY") and runs[1].stderr.strip().endswith("NO NUMPY")
    assert "Chance to close by 2027-03-31" in runs[1].stdout and runs[0].stdout == runs[1].stdout
    keep(tmp_path, 80)  # a new history: computed again, from it
    again = mapsheets("show", plan, "--as-of", AS_OF).stdout
    assert "from 140 past deals" in again, again  # both exports are kept: 60 + 80 deals
