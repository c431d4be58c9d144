"""Workbooks a buyer could send to hurt us: each is one line on stderr, exit 1, quickly and in little memory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from mapsheets import service
from mapsheets.adapters.xlsx import read_grid
from mapsheets.cli import cli
from mapsheets.errors import PlanFileError, UsageError
from mapsheets.testing import hostile_xlsx as hostile

REPO = Path(__file__).resolve().parents[2]


def show_error(path: Path, env: dict[str, str] | None = None) -> str:
    """`mapsheets show PATH` fails with exactly one 'Error:' line naming the file, exit 1, no traceback."""
    result = CliRunner().invoke(cli, ["show", str(path)], env=env, catch_exceptions=False)
    assert result.exit_code == 1, (result.stdout, result.stderr)
    assert result.stdout == "" and "Traceback" not in result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith(f"Error: {path}: "), line
    return line


def measured_show(path: Path) -> tuple[subprocess.CompletedProcess, float, float]:
    """`mapsheets show` in a child process: its result, wall seconds and peak memory in MB."""
    code = ("import resource, subprocess, sys, time\n"
            "start = time.perf_counter()\n"
            "r = subprocess.run([sys.executable, '-m', 'mapsheets.cli', 'show', sys.argv[1]],"
            " capture_output=True, text=True)\n"
            "took = time.perf_counter() - start\n"
            "sys.stdout.write(f'{r.returncode}\\n{took}\\n{resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}\\n')\n"
            "sys.stdout.write(r.stderr)\n")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=60, env=env)
    code_line, took, rss, *stderr = out.stdout.splitlines()
    result = subprocess.CompletedProcess([], int(code_line), "", "\n".join(stderr))
    return result, float(took), int(rss) / 1024


def test_one_cell_at_the_end_of_the_sheet_is_refused_fast_and_small(tmp_path):
    far = hostile.far_cell(tmp_path / "far.xlsx")
    result, seconds, megabytes = measured_show(far)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr == (f"Error: {far}: tab 'Plan' uses more than 20,000 rows "
                             "(row 1,048,576; limit MAPSHEETS_MAX_ROWS)")
    # The whole process, Python's start included: today's main takes 3.8 GB and two minutes.
    assert megabytes < 100, megabytes
    assert seconds < 5, seconds  # the machine is shared: the benchmark shows the real figure (well under 1 s)


def test_rows_and_columns_past_the_limits_are_refused(tmp_path):
    line = show_error(hostile.many_rows(tmp_path / "rows.xlsx", 20_001, columns=3))
    assert line.endswith("tab 'Plan' uses more than 20,000 rows (row 20,001; limit MAPSHEETS_MAX_ROWS)")
    line = show_error(hostile.far_cell(tmp_path / "wide.xlsx", "GS1"))
    assert line.endswith("tab 'Plan' uses more than 200 columns (column 201; limit MAPSHEETS_MAX_COLUMNS)")


def test_the_used_range_comes_from_the_cells_not_from_the_dimension_tag(tmp_path):
    # A file may claim a small range and hold a far cell...
    liar = hostile.far_cell(tmp_path / "liar.xlsx", "A30000", dimension="A1:B2")
    assert "more than 20,000 rows (row 30,000" in show_error(liar)
    # ...or claim the whole sheet and hold two cells: that one is read as it is.
    modest = hostile.far_cell(tmp_path / "modest.xlsx", "B2", dimension="A1:XFD1048576")
    assert read_grid(modest) == {"Plan": [[None, None], [None, "far"]]}


@pytest.mark.parametrize("prefix", ["", "x:"], ids=["plain", "prefixed"])
def test_a_far_cell_in_a_near_row_is_refused_by_the_cell_s_own_reference(tmp_path, prefix):
    """``<row r="1"><c r="A1048576">``: the row says 1, the cell says 1,048,576, and openpyxl
    believes the cell. (Prefixed tags take the one-by-one path.)"""
    p = prefix.encode()
    rows = (b"<" + p + b'row r="1"><' + p + b'c r="A1048576" t="inlineStr"><' + p + b"is><" + p + b"t>far</"
            + p + b"t></" + p + b"is></" + p + b"c></" + p + b"row>")
    ns = b'xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    sheet = (b'<?xml version="1.0"?><' + p + b"worksheet " + (ns if prefix else hostile.NS) + b"><" + p
             + b"sheetData>" + rows + b"</" + p + b"sheetData></" + p + b"worksheet>")
    path = hostile.write(tmp_path / "liar-row.xlsx", hostile._parts(sheet))
    line = show_error(path)
    assert line.endswith("tab 'Plan' uses more than 20,000 rows (row 1,048,576; limit MAPSHEETS_MAX_ROWS)"), line


def test_the_limits_come_from_the_environment(tmp_path, plan_file, today, monkeypatch):
    rows = hostile.many_rows(tmp_path / "rows.xlsx", 300, columns=2)
    monkeypatch.setenv("MAPSHEETS_MAX_ROWS", "299")
    assert show_error(rows).endswith("tab 'Plan' uses more than 299 rows (row 300; limit MAPSHEETS_MAX_ROWS)")
    monkeypatch.setenv("MAPSHEETS_MAX_ROWS", "300")
    assert read_grid(rows)["Plan"][-1] == [300, 300]
    monkeypatch.setenv("MAPSHEETS_MAX_ROWS", "10")
    with pytest.raises(PlanFileError, match=r"tab 'Plan' uses more than 10 rows"):
        service.read_plan(str(plan_file), today=today)
    monkeypatch.setenv("MAPSHEETS_MAX_COLUMNS", "lots")
    with pytest.raises(UsageError, match="MAPSHEETS_MAX_COLUMNS must be a whole number above 0, not 'lots'"):
        read_grid(rows)
    monkeypatch.setenv("MAPSHEETS_MAX_UNCOMPRESSED_MB", "0")
    with pytest.raises(UsageError, match="MAPSHEETS_MAX_UNCOMPRESSED_MB must be a whole number above 0"):
        read_grid(rows)


def test_a_shared_strings_bomb_is_refused_by_its_declared_size(tmp_path):
    bomb = hostile.shared_strings_bomb(tmp_path / "bomb.xlsx", 120)
    assert bomb.stat().st_size < 1_000_000
    assert show_error(bomb).endswith("unpacks to more than 100 MB (limit MAPSHEETS_MAX_UNCOMPRESSED_MB)")
    small_bomb = hostile.shared_strings_bomb(tmp_path / "small-bomb.xlsx", 20)  # under 100 MB, but 364:1
    assert "part xl/sharedStrings.xml inflates 364 times (more than 200): refusing a zip bomb" in show_error(small_bomb)


def test_the_uncompressed_limit_counts_every_part_together(tmp_path, monkeypatch):
    """Two parts of 0.6 MB pass a 1 MB limit one by one, not together."""
    monkeypatch.setenv("MAPSHEETS_MAX_UNCOMPRESSED_MB", "1")
    head = b'<?xml version="1.0" encoding="UTF-8"?><sst ' + hostile.NS + b">"
    strings = head + b"<si><t>" + b"s" * (600_000 - len(head) - 22) + b"</t></si></sst>"
    lead = b'<?xml version="1.0" encoding="UTF-8"?><x>'
    extra = lead + b"e" * (600_000 - len(lead) - 4) + b"</x>"
    sheet = hostile._sheet(b'<row r="1"><c r="A1" t="s"><v>0</v></c></row>')
    one = hostile.write(tmp_path / "one.xlsx", hostile._parts(sheet, strings))
    other = hostile.write(tmp_path / "other.xlsx", {**hostile._parts(sheet, head + b"<si><t>s</t></si></sst>"),
                                                    "customXml/item1.xml": extra})
    both = hostile.write(tmp_path / "both.xlsx", {**hostile._parts(sheet, strings), "customXml/item1.xml": extra})
    assert len(strings) == len(extra) == 600_000
    assert read_grid(one)["Plan"][0][0] == "s" * (600_000 - len(head) - 22)
    read_grid(other)  # each part alone is within the limit
    assert show_error(both).endswith("unpacks to more than 1 MB (limit MAPSHEETS_MAX_UNCOMPRESSED_MB)")


def test_entity_expansion_is_refused(tmp_path):
    laughs = hostile.entity_expansion(tmp_path / "laughs.xlsx")
    assert "part xl/sharedStrings.xml declares a DTD or entities" in show_error(laughs)
    # A DTD pushed past the quick look at each part's start still meets defusedxml (or expat's limit).
    late = hostile.entity_expansion(tmp_path / "late.xlsx", padding=100_000)
    line = show_error(late)
    assert "declares XML entities" in line or "amplification" in line


def test_malformed_xml_corrupt_deflate_and_passwords_are_one_line(tmp_path):
    # (the detail after "malformed XML:" is the reader's own: calamine says "tag not closed")
    assert "not a readable .xlsx workbook (malformed XML: " in show_error(
        hostile.malformed_xml(tmp_path / "malformed.xlsx"))
    assert "is damaged: a compressed part cannot be unpacked (Error -3 while decompressing data" in show_error(
        hostile.corrupt_deflate(tmp_path / "deflate.xlsx"))
    locked = hostile.encrypted(tmp_path / "locked.xlsx")
    assert "is password-protected: save it without a password" in show_error(locked)


def test_a_hostile_workbook_is_refused_by_writes_too(tmp_path):
    far = hostile.far_cell(tmp_path / "far.xlsx")
    before = far.read_bytes()
    result = CliRunner().invoke(cli, ["add-step", str(far), "--title", "x"], catch_exceptions=False)
    assert result.exit_code == 1 and "more than 20,000 rows" in result.stderr
    assert far.read_bytes() == before


def test_formulas_without_a_cached_value_still_read_as_their_text(tmp_path):
    sheet = (b'<row r="1"><c r="A1"><v>2</v></c><c r="B1"><f>A1*2</f></c></row>')
    path = hostile.write(tmp_path / "f.xlsx", hostile._parts(hostile._sheet(sheet)))
    assert read_grid(path) == {"Plan": [[2, "=A1*2"]]}


def test_cells_that_do_not_say_where_they_are_are_counted_by_position(tmp_path):
    # No r attributes and a namespace prefix: legal XML, and openpyxl places each cell after the last.
    wide = b"<x:row>" + b"<x:c><x:v>1</x:v></x:c>" * 201 + b"</x:row>"
    sheet = (b'<?xml version="1.0"?><x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             b"<x:sheetData>" + wide + b"</x:sheetData></x:worksheet>")
    path = hostile.write(tmp_path / "prefixed.xlsx", hostile._parts(sheet))
    assert show_error(path).endswith("tab 'Plan' uses more than 200 columns (column 201; limit MAPSHEETS_MAX_COLUMNS)")
    tall = b"<x:row><x:c><x:v>1</x:v></x:c></x:row>" * 20_001
    path = hostile.write(tmp_path / "tall.xlsx", hostile._parts(sheet.replace(wide, tall)))
    assert show_error(path).endswith("tab 'Plan' uses more than 20,000 rows (row 20,001; limit MAPSHEETS_MAX_ROWS)")


def test_a_write_to_a_plan_past_the_write_limit_is_one_line_and_changes_nothing(tmp_path, monkeypatch):
    """Issue 17 part 10: a write saves the whole workbook, so past MAPSHEETS_MAX_WRITE_ROWS (5,000)
    add-step is refused in one line instead of taking tens of seconds; reading still works."""
    import subprocess
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    from bench_hostile import big_plan

    path = big_plan(tmp_path / "big.xlsx", 2_600)  # with its Timeline rows, some 5,250 rows
    before = path.read_bytes()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    added = subprocess.run([sys.executable, "-m", "mapsheets.cli", "add-step", str(path), "--title", "Legal review"],
                           capture_output=True, text=True, env=env, timeout=120)
    assert added.returncode == 1 and added.stdout == ""
    assert added.stderr.count("\n") == 1 and "Traceback" not in added.stderr
    assert "rows in all: mapsheets writes local plans of up to 5,000 rows" in added.stderr
    assert "MAPSHEETS_MAX_WRITE_ROWS" in added.stderr and path.read_bytes() == before
    shown = subprocess.run([sys.executable, "-m", "mapsheets.cli", "show", str(path)], capture_output=True,
                           text=True, env=env, timeout=120)
    assert shown.returncode == 0, shown.stderr
    raised = subprocess.run([sys.executable, "-m", "mapsheets.cli", "add-step", str(path), "--title", "Legal review"],
                            capture_output=True, text=True, env={**env, "MAPSHEETS_MAX_WRITE_ROWS": "8000"},
                            timeout=300)
    assert raised.returncode == 0, raised.stderr


def test_a_write_to_a_plan_that_unpacks_past_the_write_size_is_one_line(plan_file, monkeypatch):
    """The same for a workbook of few rows made big by long texts (MAPSHEETS_MAX_WRITE_MB)."""
    monkeypatch.setenv("MAPSHEETS_MAX_WRITE_MB", "1")
    import openpyxl

    book = openpyxl.load_workbook(plan_file)
    ws = book.create_sheet("Notes")
    for r in range(1, 80):
        ws.cell(r, 1).value = os.urandom(15_000).hex()  # 30 KB a cell that compresses as text does, 2.4 MB in all
    book.save(plan_file)
    before = plan_file.read_bytes()
    added = CliRunner().invoke(cli, ["add-step", str(plan_file), "--title", "Legal review"])
    assert added.exit_code == 1 and "MB: mapsheets writes local plans of up to 1 MB" in added.output
    assert plan_file.read_bytes() == before
