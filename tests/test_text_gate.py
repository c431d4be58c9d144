"""One gate for text (core/text_gate.py): what issue 17 saw, through the real command line and the
Google double; the add-on's side is in tests/server/test_addon_text_gate.py."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from cli_helpers import run_cli
from click.testing import CliRunner

from mapsheets.adapters.xlsx import read_grid, read_grid_openpyxl
from mapsheets.cli import cli
from mapsheets.errors import UsageError

EMOJI = "\U0001F600"


def _cli(*args: str | bytes, check: int | None = None) -> subprocess.CompletedProcess:
    """The real command in a subprocess; bytes arguments reach it as those bytes (not UTF-8 ones too)."""
    done = run_cli(*args, env={"LANG": "C.UTF-8"}, text=False)
    if check is not None:
        assert done.returncode == check, done.stderr.decode(errors="replace")
    return done


def _one_line(done: subprocess.CompletedProcess) -> str:
    err = done.stderr.decode("utf-8", errors="strict")
    assert done.returncode == 1 and "Traceback" not in err, err
    [line] = err.splitlines()
    return line


def _steps(path: Path) -> list[str]:
    result = CliRunner().invoke(cli, ["show", str(path), "--json"])
    assert result.exit_code == 0, result.output
    import json

    return [s["title"] for s in json.loads(result.stdout)["steps"]]


def _readable(path: Path) -> None:
    """Both readers mapsheets has (calamine; openpyxl, which every rewrite loads through) open it."""
    assert read_grid(path) and read_grid_openpyxl(path)


# --- seen 1: bytes that are not UTF-8, lone surrogates --------------------------------------------

@pytest.mark.parametrize("option", ["--notes", "--title", "--owner", "--phase"])
def test_bytes_not_utf8_on_the_command_line_are_refused_naming_the_option(plan_file, option):
    before = plan_file.read_bytes()
    args = ["--title", "Security review"] if option != "--title" else []
    line = _one_line(_cli("add-step", str(plan_file), *args, option, b"x\xffy"))
    assert line.startswith(f"Error: {option} holds U+DCFF, which is not a character"), line
    assert plan_file.read_bytes() == before  # nothing written: the plan is as it was
    _readable(plan_file)


def test_new_with_a_title_not_utf8_refuses_before_writing_anything(tmp_path):
    out = tmp_path / "plan.xlsx"
    line = _one_line(_cli("new", "-t", "enterprise-map", "-o", str(out), "--buyer", "Acme", "--seller", "Globex",
                          "--title", b"Deal \xff", "--as-of", "2026-12-01"))
    assert line.startswith("Error: --title holds U+DCFF"), line
    assert not out.exists()


def test_a_lone_surrogate_never_reaches_a_cell_through_the_library(plan_file, today):
    from mapsheets.service import add_step, new_plan

    with pytest.raises(UsageError) as refused:
        add_step(str(plan_file), title="ok", owners=["Jane \udfff"], today=today)
    assert refused.value.field == "owners"
    with pytest.raises(UsageError) as refused:
        new_plan("enterprise-map", str(plan_file.parent / "n.xlsx"), buyer="Acme\ud800", seller="Globex",
                 today=today)
    assert refused.value.field == "buyer" and not (plan_file.parent / "n.xlsx").exists()
    _readable(plan_file)


def test_the_writers_refuse_what_the_gate_would_not_let_in(tmp_path, google_env):
    """The last check: a path that skips the gate still writes no cell our reader refuses."""
    from mapsheets.adapters.gsheets import GoogleWorkbook
    from mapsheets.adapters.xlsx import XlsxWorkbook
    from mapsheets.core.layout import SheetSpec, WorkbookSpec
    from mapsheets.errors import PlanFileError

    google_env.reset()
    for bad in ("a\udfff", "a\x01", "\uffff", EMOJI * 16_384):
        spec = WorkbookSpec(title="t", sheets=[SheetSpec(title="T", rows=[["fine"], [bad]])])
        path = tmp_path / "w.xlsx"
        with pytest.raises(PlanFileError, match=r"^T!A2: text to write"):
            XlsxWorkbook(path).create(spec, force=True)
        assert not path.exists()
        with pytest.raises(PlanFileError, match="text to write"):
            GoogleWorkbook.from_env(None).create(spec)
    assert google_env.stats()["total"] == 0  # refused before any request


def test_a_sheet_holding_a_lone_surrogate_reads_over_http_with_a_warning(google_env, plan, today):
    """Another program stored "a\\udfff" in a cell: the double answers every read (it dropped the
    connection), and the plan reads with U+FFFD in its place and a warning naming the cell."""
    from mapsheets.adapters.gsheets import SHEETS_V4, GoogleWorkbook
    from mapsheets.core.layout import workbook_spec
    from mapsheets.service import read_plan

    book = GoogleWorkbook.from_env(None)
    book.create(workbook_spec(plan))
    grid = book.read_grid()
    header = next(r for r, row in enumerate(grid["Plan"]) if "Notes" in row)
    col = grid["Plan"][header].index("Notes")
    body = {"requests": [{"updateCells": {
        "start": {"sheetId": book._sheet_id("Plan"), "rowIndex": header + 1, "columnIndex": col},
        "rows": [{"values": [{"userEnteredValue": {"stringValue": "a\udfff\x01b"}}]}],
        "fields": "userEnteredValue"}}]}
    book._call("post", f"{SHEETS_V4}/{book.sheet_id}:batchUpdate", json=body)  # bypasses our writer
    for _ in range(3):  # every later read
        view = read_plan(book.sheet_id, today=today)
    assert view.plan.steps[0].notes == "a\ufffdb"
    [said] = [w for w in view.warnings if "U+0001" in w.message]
    assert said.cell == f"Plan!{chr(65 + col)}{header + 2}" and "\ufffd" in said.message


# --- seen 2: control characters --------------------------------------------------------------------

def test_control_characters_are_removed_with_a_warning_not_a_traceback(plan_file):
    # (no NUL: argv cannot hold one)
    done = _cli("add-step", str(plan_file), "--title", "Legal\x0b review", "--notes", "x\x01y\x02z", check=0)
    err = done.stderr.decode()
    assert "Traceback" not in err
    assert "warning: --notes: removed control characters a cell cannot hold (U+0001, U+0002)" in err, err
    assert "warning: --title: removed a control character a cell cannot hold (U+000B)" in err, err
    _readable(plan_file)
    assert "Legal review" in _steps(plan_file)
    [notes] = [row for row in read_grid(plan_file)["Plan"] if "Legal review" in row]
    assert "xyz" in notes


def test_tab_and_newline_are_kept_and_a_carriage_return_is_a_newline(plan_file, today):
    from mapsheets.service import add_step, read_plan

    said: list[str] = []
    step = add_step(str(plan_file), title="Call", notes="a\tb\r\nc\rd\ne", today=today, on_warning=said.append)
    assert step.notes == "a\tb\nc\nd\ne" and said == []
    assert read_plan(str(plan_file), today=today).plan.step(step.id).notes == "a\tb\nc\nd\ne"


def test_an_xlsx_cell_escape_typed_by_a_person_reads_back_as_typed(plan_file, today):
    """"_x0041_" is how a cell's XML spells "A": text that looks like it is written escaped."""
    from mapsheets.service import add_step, read_plan

    step = add_step(str(plan_file), title="_x0041_ and _x005F_", notes="  ", today=today)
    assert read_plan(str(plan_file), today=today).plan.step(step.id).title == "_x0041_ and _x005F_"
    assert [c for row in read_grid_openpyxl(plan_file)["Plan"] for c in row if c == "_x0041_ and _x005F_"]


# --- seen 3: length in UTF-16 units, never cut ------------------------------------------------------

def test_team_add_and_rename_past_a_cell_are_refused_not_cut(plan_file):
    before = plan_file.read_bytes()
    name = "N" * 32_768
    line = _one_line(_cli("team", str(plan_file), "--add", name, "--side", "buyer"))
    assert line == "Error: --add is 32,768 characters long; a cell holds at most 32,767", line
    long_with_email = "N" * 32_750 + " <jane@acme.example>"  # the name fits, the cell naming her would not
    line = _one_line(_cli("team", str(plan_file), "--add", long_with_email, "--role", "champion"))
    assert line.startswith("Error: --add is 32,7"), line
    line = _one_line(_cli("team", str(plan_file), "--rename", "Acme Corp Champion", "--to", name))
    assert line.startswith("Error: --to is 32,768 characters long"), line
    assert plan_file.read_bytes() == before


def test_rename_keeping_the_email_past_a_cell_is_refused(plan_file):
    _cli("team", str(plan_file), "--add", "Jane <jane@acme.example>", "--role", "champion", check=0)
    before = plan_file.read_bytes()
    line = _one_line(_cli("team", str(plan_file), "--rename", "jane@acme.example", "--to", "J" * 32_760))
    assert line == "Error: --to is 32,780 characters long; a cell holds at most 32,767", line
    assert plan_file.read_bytes() == before
    owners = [c for row in read_grid(plan_file)["Plan"] for c in row if isinstance(c, str) and "jane@" in c]
    assert owners and all("<jane@acme.example>" in c for c in owners)  # her address is in every cell


def test_the_limit_counts_utf16_units_as_spreadsheets_do(plan_file, today):
    from mapsheets.service import add_step
    from mapsheets.service.team import add_person

    with pytest.raises(UsageError, match=r"^notes is 32,800 characters long as a spreadsheet counts them"):
        add_step(str(plan_file), title="x", notes=EMOJI * 16_400, today=today)
    with pytest.raises(UsageError, match=r"^person is 32,800 characters long"):
        add_person(str(plan_file), EMOJI * 16_400, side="buyer")
    step = add_step(str(plan_file), title="x", notes=EMOJI * 16_383, today=today)  # 32,766 units: fits
    assert step.notes == EMOJI * 16_383
    _readable(plan_file)


# --- the gate itself -----------------------------------------------------------------------------

def test_gate_units_and_words():
    from mapsheets.core import text_gate

    assert text_gate.units("a" + EMOJI) == 3 and text_gate.units("é") == 1
    assert text_gate.admit("a\tb\nc", "notes") == "a\tb\nc"
    said: list[str] = []
    assert text_gate.admit("a\x00\x1f\ufffeb", "notes", said.append) == "ab"
    assert said == ["notes: removed control characters a cell cannot hold (U+0000, U+001F, U+FFFE)"]
    with pytest.raises(UsageError) as refused:
        text_gate.admit("ok\udcff", "owner_name")
    assert refused.value.field == "owner_name" and str(refused.value).startswith("owner name holds U+DCFF")
    assert text_gate.clean_read("a\udfff\x01") == ("a\ufffd", ("text that is not valid UTF-8 replaced with \ufffd; "
                                                    "removed a control character a cell cannot hold (U+0001)"))
    assert text_gate.problem("x" * 32_767) == "" and text_gate.problem("x" * 32_768).startswith("is 32,768")
