"""The CLI as a user runs it: click's CliRunner, and the installed console script in a subprocess."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import date

import pytest
import yaml
from cli_helpers import invoke_cli

QUICKSTART = ["new", "--template", "enterprise-map", "--buyer", "Acme Corp", "--seller", "Globex",
              "--close-date", "2027-03-31", "--start-date", "2026-12-01", "-o", "acme-map.xlsx"]
ADD_STEP = ["add-step", "acme-map.xlsx", "--title", "Security questionnaire", "--side", "buyer",
            "--owner", "sec@acme.example", "--due", "2027-01-20", "--phase", "technical & security review"]
CONTRACT = ("id", "phase", "title", "side", "owners", "due", "status", "done_on", "depends_on", "notes")
STATUSES = {"not started", "in progress", "done", "blocked", "n/a"}


@pytest.fixture
def run(tmp_path, monkeypatch):
    """Run the CLI in a fresh folder; returns click's Result (stdout and stderr apart)."""
    monkeypatch.chdir(tmp_path)
    for name in ("MAPSHEETS_TEMPLATES", "MAPSHEETS_TODAY"):
        monkeypatch.delenv(name, raising=False)
    def invoke(*args, env=None):
        return invoke_cli(*args, env=env, catch_exceptions=False)
    return invoke


def assert_error(result, *fragments: str) -> str:
    """One line on stderr starting with 'Error:', exit 1, nothing on stdout, no traceback."""
    assert result.exit_code == 1, (result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0]
    return lines[0]


def test_templates_lists_kind_and_step_counts(run):
    result = run("templates")
    assert result.exit_code == 0
    lines = {line.split()[0]: line.split() for line in result.stdout.splitlines()}
    assert lines["enterprise-map"][1:4] == ["mutual", "16", "steps"]
    assert lines["midmarket-map"][1:4] == ["mutual", "10", "steps"]
    assert lines["closing-plan"][1:4] == ["closing", "11", "steps"]
    as_json = json.loads(run("templates", "--json").stdout)
    assert {t["name"]: t["steps"] for t in as_json} == {"closing-plan": 11, "enterprise-map": 16, "midmarket-map": 10}


def test_quickstart_new_show_add_step(run, tmp_path):
    result = run(*QUICKSTART)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("Created acme-map.xlsx: 16 steps, 2026-12-01 → ")
    assert "Fits the target close 2027-03-31 with " in result.stdout
    assert (tmp_path / "acme-map.xlsx").stat().st_size > 0

    shown = run("show", "acme-map.xlsx", "--as-of", "2026-12-01")
    assert shown.exit_code == 0 and shown.stderr == ""
    assert shown.stdout.splitlines()[0] == "Mutual Action Plan: Acme Corp × Globex"
    assert "Progress: 0/16 steps done (0%)" in shown.stdout
    assert "Target close: 2027-03-31 · projected close: 2027-" in shown.stdout

    added = run(*ADD_STEP)
    assert added.exit_code == 0, added.stderr
    assert added.stdout.startswith("Added S-") and added.stdout.rstrip().endswith(": Security questionnaire")
    new_id = added.stdout.split()[1].rstrip(":")

    data = json.loads(run("show", "acme-map.xlsx", "--json").stdout)
    step = next(s for s in data["steps"] if s["id"] == new_id)
    assert {k: step[k] for k in CONTRACT} == {
                    "id": new_id, "phase": "Technical & security review", "title": "Security questionnaire",
                    "side": "buyer", "owners": ["sec@acme.example"], "due": "2027-01-20",
                    "status": "not started", "done_on": None, "depends_on": [], "notes": ""}
    assert len(data["steps"]) == 17


def test_add_step_takes_a_phase_of_the_plan_and_a_typo_is_refused_with_a_suggestion(run, tmp_path):
    """Issue 18: `--phase "Leagl"` silently made a new phase."""
    run(*QUICKSTART)
    before = (tmp_path / "acme-map.xlsx").read_bytes()
    typo = run("add-step", "acme-map.xlsx", "--title", "Redlines", "--phase", "Leagl")
    assert_error(typo, '--phase "Leagl" is not one of the plan\'s phases: did you mean "Legal"?', "--new-phase")
    assert (tmp_path / "acme-map.xlsx").read_bytes() == before
    new = run("add-step", "acme-map.xlsx", "--title", "Pilot review", "--phase", "Pilot", "--new-phase")
    assert new.exit_code == 0, new.stderr
    phases = {s["title"]: s["phase"] for s in json.loads(run("show", "acme-map.xlsx", "--json").stdout)["steps"]}
    assert phases["Pilot review"] == "Pilot"
    again = run("add-step", "acme-map.xlsx", "--title", "Pilot sign-off", "--phase", "PILOT")
    assert again.exit_code == 0, again.stderr
    assert json.loads(run("show", "acme-map.xlsx", "--json").stdout)["steps"][-1]["phase"] == "Pilot"


def test_show_json_contract(run):
    run(*QUICKSTART)
    result = run("show", "acme-map.xlsx", "--json", "--as-of", "2026-12-01")
    assert result.exit_code == 0 and result.stderr == ""
    data = json.loads(result.stdout)
    assert {"kind", "title", "buyer", "seller", "target_close", "projected_close", "steps", "stakeholders",
            "signatures", "warnings"} <= set(data)
    assert data["kind"] == "mutual"
    assert (data["title"], data["buyer"], data["seller"]) == ("Mutual Action Plan: Acme Corp × Globex",
                                                             "Acme Corp", "Globex")
    assert data["target_close"] == "2027-03-31"
    assert date.fromisoformat(data["projected_close"]) <= date(2027, 3, 31)
    assert data["warnings"] == [] and data["signatures"] == []
    assert all({"name", "email", "side", "role"} <= set(p) for p in data["stakeholders"])
    ids = {s["id"] for s in data["steps"]}
    for step in data["steps"]:
        assert set(step) >= {"id", "phase", "title", "side", "owners", "due", "status", "done_on",
                             "depends_on", "notes"}
        assert isinstance(step["id"], str) and step["id"]
        assert isinstance(step["owners"], list) and all(isinstance(o, str) for o in step["owners"])
        assert step["due"] is None or date.fromisoformat(step["due"])
        assert step["done_on"] is None or date.fromisoformat(step["done_on"])
        assert step["status"] in STATUSES
        assert step["side"] in {"buyer", "seller", "joint"}
        assert isinstance(step["depends_on"], list) and set(step["depends_on"]) <= ids
        assert isinstance(step["notes"], str) and isinstance(step["phase"], str)


def test_show_json_warnings_have_cell_and_message(run, tmp_path):
    import openpyxl
    from plan_cells import step_cell

    run(*QUICKSTART)
    cell = step_cell(tmp_path / "acme-map.xlsx", 1, "Due")
    wb = openpyxl.load_workbook(tmp_path / "acme-map.xlsx")
    wb["Plan"][cell] = "next week"
    wb.save(tmp_path / "acme-map.xlsx")
    data = json.loads(run("show", "acme-map.xlsx", "--json").stdout)
    assert data["warnings"] == [{"cell": f"Plan!{cell}", "message": '"next week" is not a date'}]
    assert data["steps"][1]["due"] is None
    text = run("show", "acme-map.xlsx")
    assert text.exit_code == 0
    assert text.stderr == f'warning: Plan!{cell}: "next week" is not a date\n'


def test_as_of_from_environment(run):
    run(*QUICKSTART)
    late = run("show", "acme-map.xlsx", env={"MAPSHEETS_TODAY": "2027-06-01"})
    assert "overdue 16" in late.stdout and "OVERDUE" in late.stdout


def test_backward_and_misses(run):
    result = run("new", "-t", "midmarket-map", "--buyer", "A", "--seller", "B", "--start-date", "2027-01-04",
                 "--close-date", "2027-01-15", "-o", "tight.xlsx")
    assert result.exit_code == 0
    assert "Misses the target close 2027-01-15 by " in result.stdout
    back = run("new", "-t", "midmarket-map", "--buyer", "A", "--seller", "B", "--start-date", "2027-01-04",
               "--close-date", "2027-06-30", "--backward", "-o", "back.xlsx")
    assert back.exit_code == 0
    assert back.stdout.splitlines()[0].endswith("→ 2027-06-30")
    data = json.loads(run("show", "back.xlsx", "--json").stdout)
    close = next(s for s in data["steps"] if s["id"] == data["close_step"])
    assert close["due"] == "2027-06-30"


def test_durations_file(run, tmp_path):
    (tmp_path / "d.csv").write_text("stage,days\nlegal,40\n", "utf-8")
    base = run("new", "-t", "enterprise-map", "--buyer", "A", "--seller", "B", "--start-date", "2027-01-04",
               "-o", "a.xlsx")
    slow = run("new", "-t", "enterprise-map", "--buyer", "A", "--seller", "B", "--start-date", "2027-01-04",
               "--durations", "d.csv", "-o", "b.xlsx")
    assert base.exit_code == slow.exit_code == 0
    assert base.stdout.split("→ ")[1] < slow.stdout.split("→ ")[1]
    (tmp_path / "bad.csv").write_text("stage,days\nlawyers,3\n", "utf-8")
    assert_error(run("new", "-t", "enterprise-map", "--buyer", "A", "--seller", "B", "--durations", "bad.csv",
                     "-o", "c.xlsx"), "unknown stage 'lawyers'")


def test_user_templates_folder_from_option_and_environment(run, tmp_path):
    folder = tmp_path / "tpl"
    folder.mkdir()
    (folder / "pilot.yaml").write_text(yaml.safe_dump({
        "kind": "closing", "title": "Pilot {{ buyer }}",
        "stages": [{"key": "pilot", "name": "Pilot", "days": 5}],
        "steps": [{"key": "go", "stage": "pilot", "title": "Run pilot", "side": "seller", "owner": "AE", "days": 5}],
    }), "utf-8")
    assert "pilot" in run("templates", "--templates", str(folder)).stdout
    assert "pilot" in run("templates", env={"MAPSHEETS_TEMPLATES": str(folder)}).stdout
    result = run("new", "-t", "pilot", "--templates", str(folder), "--buyer", "A", "--seller", "B", "-o", "p.xlsx")
    assert result.exit_code == 0 and "1 steps" in result.stdout

    (folder / "broken.yaml").write_text("kind: mutual\ntitle: x\nstages: []\nsteps: []\n", "utf-8")
    assert_error(run("templates", "--templates", str(folder)), f"{folder / 'broken.yaml'}: stages: ")


def test_error_unknown_template_lists_available(run):
    line = assert_error(run("new", "-t", "enterprise", "--buyer", "A", "--seller", "B", "-o", "x.xlsx"))
    assert line == ("Error: unknown template 'enterprise' "
                    "(available: closing-plan, enterprise-map, midmarket-map)")


def test_error_close_before_start(run, tmp_path):
    assert_error(run("new", "-t", "enterprise-map", "--buyer", "A", "--seller", "B", "--start-date", "2027-03-01",
                     "--close-date", "2027-02-01", "-o", "x.xlsx"), "2027-02-01", "before", "2027-03-01")
    assert not (tmp_path / "x.xlsx").exists()


def test_error_corrupt_file(run, tmp_path):
    (tmp_path / "x.xlsx").write_bytes(b"\x00\x01garbage, not a zip\xff" * 50)
    assert_error(run("show", "x.xlsx"), "x.xlsx", "not a readable .xlsx")
    assert_error(run("add-step", "x.xlsx", "--title", "t"), "x.xlsx")


def test_error_zip_that_is_not_a_workbook(run, tmp_path):
    import zipfile

    with zipfile.ZipFile(tmp_path / "x.xlsx", "w") as zf:
        zf.writestr("hello.txt", "hi")
    assert_error(run("show", "x.xlsx"), "x.xlsx")


def test_error_not_an_xlsx_path(run, tmp_path):
    (tmp_path / "plan.csv").write_text("ID,Step\n", "utf-8")
    assert_error(run("show", "plan.csv"), "plan.csv", "not a plan reference")
    assert_error(run("new", "-t", "enterprise-map", "--buyer", "A", "--seller", "B", "-o", "plan.txt"), "plan.txt")
    assert not (tmp_path / "plan.txt").exists()


def test_error_missing_file(run):
    assert_error(run("show", "nowhere.xlsx"), "nowhere.xlsx", "no such file")
    assert_error(run("add-step", "nowhere.xlsx", "--title", "t"), "nowhere.xlsx", "no such file")


def test_error_output_folder_missing(run, tmp_path):
    assert_error(run(*QUICKSTART[:-1], "no/such/dir/acme-map.xlsx"), "no/such/dir", "does not exist")
    assert list(tmp_path.iterdir()) == []


def test_error_folder_named_like_a_workbook(run, tmp_path):
    (tmp_path / "dir.xlsx").mkdir()
    assert_error(run("show", "dir.xlsx"), "dir.xlsx")


@pytest.mark.parametrize("args", [
    ["new", "-t", "enterprise-map", "--buyer", "A", "--seller", "B", "--close-date", "next tuesday", "-o", "x.xlsx"],
    ["new", "-t", "enterprise-map", "--buyer", "A", "--seller", "B", "--start-date", "2027-02-30", "-o", "x.xlsx"],
    ["add-step", "acme-map.xlsx", "--title", "t", "--due", "someday"],
    ["show", "acme-map.xlsx", "--as-of", "yesterday-ish"],
])
def test_error_bad_date_value(run, args, tmp_path):
    run(*QUICKSTART)
    before = (tmp_path / "acme-map.xlsx").read_bytes()
    assert_error(run(*args), "is not a date")
    assert not (tmp_path / "x.xlsx").exists()
    assert (tmp_path / "acme-map.xlsx").read_bytes() == before


@pytest.mark.parametrize("args", [
    ["add-step", "acme-map.xlsx", "--title", "t", "--side", "vendor"],
    ["add-step", "acme-map.xlsx", "--title", "  "],
    ["add-step", "acme-map.xlsx", "--title", "t", "--depends-on", "S-ZZZZ"],
    ["new", "-t", "enterprise-map", "--buyer", " ", "--seller", "B", "-o", "y.xlsx"],
    ["new", "-t", "enterprise-map", "--buyer", "A", "--seller", "B", "--backward", "-o", "y.xlsx"],
    ["new", "-t", "enterprise-map", "--buyer", "A", "--seller", "B", "--role", "nobody", "-o", "y.xlsx"],
    ["new", "-t", "enterprise-map", "--buyer", "A", "-o", "y.xlsx"],
    ["frobnicate"],
])
def test_other_usage_errors_are_one_line(run, args, tmp_path):
    run(*QUICKSTART)
    before = (tmp_path / "acme-map.xlsx").read_bytes()
    assert_error(run(*args))
    assert (tmp_path / "acme-map.xlsx").read_bytes() == before


def test_new_over_existing_file_needs_force(run, tmp_path):
    run(*QUICKSTART)
    path = tmp_path / "acme-map.xlsx"
    before = path.read_bytes()
    assert_error(run(*QUICKSTART[:-2], "-o", "acme-map.xlsx"), "acme-map.xlsx", "already exists", "--force")
    assert path.read_bytes() == before
    result = run("new", "-t", "closing-plan", "--buyer", "Initech", "--seller", "Globex", "-o", "acme-map.xlsx",
                 "--force")
    assert result.exit_code == 0
    assert json.loads(run("show", "acme-map.xlsx", "--json").stdout)["buyer"] == "Initech"
    # No temporary left; the writers' lock file stays (removing it would let two writers in).
    assert sorted(p.name for p in tmp_path.iterdir()) == [".acme-map.xlsx.lock", "acme-map.xlsx"]


# --- the installed console script -----------------------------------------------------------

def _script() -> list[str]:
    found = shutil.which("mapsheets")
    if found is None:
        pytest.fail("the `mapsheets` console script is not installed (pip install -e .)")
    return [found]


def test_installed_console_script(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAPSHEETS_")}

    def sh(*args):
        return subprocess.run(_script() + list(args), cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=60)

    new = sh(*QUICKSTART)
    assert new.returncode == 0, new.stderr
    assert new.stdout.startswith("Created acme-map.xlsx: 16 steps")
    added = sh(*ADD_STEP)
    assert added.returncode == 0 and added.stdout.startswith("Added S-")
    shown = sh("show", "acme-map.xlsx", "--json", "--as-of", "2026-12-01")
    data = json.loads(shown.stdout)
    assert len(data["steps"]) == 17 and data["warnings"] == []
    assert "Mutual Action Plan" in sh("show", "acme-map.xlsx").stdout
    assert "enterprise-map" in sh("templates").stdout

    (tmp_path / "x.xlsx").write_bytes(b"garbage" * 100)
    for args in (["show", "x.xlsx"], ["show", "missing.xlsx"], list(QUICKSTART)):
        failed = sh(*args)
        assert failed.returncode == 1
        assert failed.stdout == ""
        assert len(failed.stderr.splitlines()) == 1 and failed.stderr.startswith("Error: ")
        assert "Traceback" not in failed.stderr


def test_help_runs_without_importing_heavy_libraries():
    code = ("import sys\nfrom click.testing import CliRunner\nfrom mapsheets.cli import cli\n"
            "r = CliRunner().invoke(cli, ['--help'])\nassert r.exit_code == 0, r.output\n"
            "print(','.join(m for m in ('openpyxl', 'pandas', 'gspread', 'jinja2') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""
