"""People on the team: owners follow their Team row by email; `team` lists, adds and renames."""

from __future__ import annotations

import json
from datetime import date

import openpyxl
from cli_helpers import invoke_cli
from click.testing import CliRunner

from mapsheets import service
from mapsheets.adapters.xlsx import read_grid
from mapsheets.cli import cli
from mapsheets.service import team

TODAY = date(2026, 12, 1)


invoke = invoke_cli


def new_plan(tmp_path, *roles):
    path = tmp_path / "acme.xlsx"
    args = ["new", "-t", "enterprise-map", "--buyer", "Acme", "--seller", "Globex", "-o", path, "--no-watch",
            "--start-date", "2026-12-01"]
    for role in roles:
        args += ["--role", role]
    assert invoke(*args).exit_code == 0
    return path


def owners_cells(path) -> list[str]:
    rows = read_grid(path)["Plan"]
    header = next(i for i, row in enumerate(rows) if "Owners" in row)
    col = rows[header].index("Owners")
    return [row[col] or "" for row in rows[header + 1:] if any(row)]


def test_renaming_a_person_in_the_team_tab_renames_them_in_every_step(tmp_path):
    path = new_plan(tmp_path, "champion=Jane Doe <jane@acme.example>")
    assert sum("Jane Doe <jane@acme.example>" in c for c in owners_cells(path)) == 4
    book = openpyxl.load_workbook(path)
    team_tab = book["Team"]
    row = next(r for r in team_tab.iter_rows(min_row=2) if r[1].value == "jane@acme.example")
    row[0].value = "Jane Smith"  # married: renamed by hand in the Team tab only
    book.save(path)
    plan = service.read_plan(str(path), today=TODAY).plan
    owners = [o for s in plan.steps for o in s.owners]
    assert owners.count("Jane Smith <jane@acme.example>") == 4 and not any("Jane Doe" in o for o in owners)
    assert "Jane Smith" in invoke("show", path, "--all").output


def test_team_fills_a_template_role_after_new_and_renames_everywhere(tmp_path):
    path = new_plan(tmp_path)
    placeholders = sum("Acme Champion" in c for c in owners_cells(path))
    assert placeholders == 4
    out = invoke("team", path, "--add", "Jane Doe <jane@acme.example>", "--role", "champion")
    assert out.exit_code == 0, out.output
    assert out.output.strip() == ("Added Jane Doe <jane@acme.example> (buyer, Champion); "
                                  "filled the champion role (Acme Champion) in 4 steps")
    cells = owners_cells(path)
    assert sum("Jane Doe <jane@acme.example>" in c for c in cells) == 4 and not any("Acme Champion" in c for c in cells)
    plan = service.read_plan(str(path), today=TODAY).plan
    assert plan.buyer_lead == "Jane Doe <jane@acme.example>"

    out = invoke("team", path, "--rename", "jane@acme.example", "--to", "Jane Smith")
    assert out.exit_code == 0 and "in 4 steps' Owners" in out.output
    assert sum("Jane Smith <jane@acme.example>" in c for c in owners_cells(path)) == 4
    listed = json.loads(invoke("team", path, "--json").output)
    assert {"name": "Jane Smith", "email": "jane@acme.example", "side": "buyer", "role": "Champion"} in listed

    # A Team role spelled as the sheet shows it ("Legal") fills that role's placeholder too.
    out = invoke("team", path, "--add", "Raj <raj@acme.example>", "--side", "buyer", "--role", "Legal")
    members = team.team(str(path))
    assert out.exit_code == 0 and "filled the Legal role (Acme Legal)" in out.output
    assert any(p.name == "Raj" and p.role == "Legal" for p in members) and "Acme Legal" not in [p.name for p in members]
    assert invoke("add-step", path, "--title", "Redlines call", "--owner", "raj@acme.example").exit_code == 0
    assert owners_cells(path)[-1] == "Raj <raj@acme.example>"


def test_team_errors_are_one_line(tmp_path):
    path = new_plan(tmp_path)
    bad = invoke("team", path, "--add", "Jane <jane@acme.example>", "--role", "chamion")
    assert bad.exit_code == 1 and "--role 'chamion' is neither a role of template enterprise-map" in bad.output
    assert "Traceback" not in bad.output
    missing = invoke("team", path, "--rename", "nobody@acme.example", "--to", "X")
    assert missing.exit_code == 1 and "no one on the Team tab is 'nobody@acme.example'" in missing.output
    assert invoke("team", path, "--add", "Sam <sam@globex.example>").output.strip() == \
        "Error: --side buyer or seller is needed for someone new on the team"


def test_templates_json_lists_role_keys():
    data = json.loads(invoke("templates", "--json").output)
    enterprise = next(t for t in data if t["name"] == "enterprise-map")
    assert {"ae", "champion", "economic_buyer"} <= set(enterprise["roles"])


def test_a_team_rename_is_one_change_in_the_diff_not_one_per_step(tmp_path, db):
    path = new_plan(tmp_path, "champion=Jane Doe <jane@acme.example>")
    assert invoke("snapshot", path, "--db", db).exit_code == 0
    team.rename_person(str(path), "Jane Doe", to="Jane Smith")
    out = invoke("diff", path, "--since", "1", "--db", db).output
    assert "Name of Jane Smith changed: Jane Doe → Jane Smith" in out
    assert "Owner" not in out


def test_a_team_role_as_the_sheet_spells_it_fills_the_template_placeholder(tmp_path):
    path = new_plan(tmp_path)
    out = invoke("team", path, "--add", "Pat <pat@acme.example>", "--role", "Champion")
    assert out.exit_code == 0, out.output
    assert "filled the Champion role (Acme Champion)" in out.output
    assert not any("Acme Champion" in c for c in owners_cells(path))
    assert service.read_plan(str(path), today=TODAY).plan.buyer_lead == "Pat <pat@acme.example>"


def test_a_team_change_judges_the_progress_line_as_of_the_date_given(plan_file, plan):
    """team --as-of, like every other write: the progress line it redraws counts overdue steps as
    of that day, not the machine's."""
    from mapsheets.core.look import PROGRESS_LABEL

    def progress() -> str:
        rows = read_grid(plan_file)["Plan"]
        return next(str(c) for r in rows for i, c in enumerate(r) if i and str(r[i - 1] or "") == PROGRESS_LABEL)

    result = CliRunner().invoke(cli, ["team", str(plan_file), "--add", "Raj <raj@acme.example>", "--side", "buyer",
                                      "--as-of", "2026-12-01"])
    assert result.exit_code == 0, result.output
    assert "  0 overdue  " in progress() and progress().endswith("as of 2026-12-01")
    later = CliRunner().invoke(cli, ["team", str(plan_file), "--rename", "raj@acme.example", "--to", "Raj Patel",
                                     "--as-of", str(plan.target_close)])
    assert later.exit_code == 0, later.output
    assert "  0 overdue  " not in progress() and progress().endswith(f"as of {plan.target_close}")


def _rename_team_row_by_hand(path, placeholder: str, name: str, email: str) -> None:
    book = openpyxl.load_workbook(path)
    row = next(r for r in book["Team"].iter_rows(min_row=2) if r[0].value == placeholder)
    row[0].value, row[1].value = name, email  # a buyer types their security lead over the placeholder
    book.save(path)


def test_a_placeholder_renamed_by_hand_on_the_team_tab_reaches_its_steps_on_the_next_write(tmp_path):
    """Issue 18: the steps kept naming "Acme Security Lead" after the buyer renamed its Team row."""
    path = new_plan(tmp_path)
    assert sum("Acme Security Lead" in c for c in owners_cells(path)) >= 1
    _rename_team_row_by_hand(path, "Acme Security Lead", "Dana Lee", "dana@acme.example")
    added = invoke("add-step", path, "--title", "Pen test report", "--as-of", "2026-12-01")
    assert added.exit_code == 0, added.output
    cells = owners_cells(path)
    assert not any("Acme Security Lead" in c for c in cells)
    assert sum("Dana Lee <dana@acme.example>" in c for c in cells) >= 1
    # Only the placeholder's cells changed: another role's placeholder stays as it was.
    assert any("Acme Legal" in c for c in cells)


def test_team_rename_finds_a_person_by_the_placeholder_they_replaced(tmp_path):
    path = new_plan(tmp_path)
    _rename_team_row_by_hand(path, "Acme Security Lead", "Dana Lee", "dana@acme.example")
    result = invoke("team", path, "--rename", "Acme Security Lead", "--to", "Dana Lee-Park <dana@acme.example>")
    assert result.exit_code == 0, result.output
    cells = owners_cells(path)
    assert not any("Acme Security Lead" in c for c in cells)
    assert sum("Dana Lee-Park <dana@acme.example>" in c for c in cells) >= 1
