"""The calamine reader: the same grid as the openpyxl reader, cell for cell and type for type, on
what people and other programs put in a workbook; .ods and .xls read, never written; `show` loads
neither openpyxl nor numpy."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from datetime import date, datetime, time, timedelta
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from mapsheets import service
from mapsheets.adapters.xlsx import read_grid, read_grid_openpyxl, write_workbook
from mapsheets.cli import cli
from mapsheets.core.layout import workbook_spec
from mapsheets.core.model import UncachedFormula
from mapsheets.testing import hostile_xlsx as hostile

REPO = Path(__file__).resolve().parents[2]
TODAY = date(2026, 12, 1)


def typed(grid):
    return {tab: [[(type(v).__name__, v) for v in row] for row in rows] for tab, rows in grid.items()}


def both(path: Path):
    """The grid mapsheets reads, after checking the openpyxl reader reads the very same."""
    grid = read_grid(path)
    assert typed(grid) == typed(read_grid_openpyxl(path))
    data = path.read_bytes()  # the locked read-modify-write reads from bytes
    assert typed(read_grid(path, data=data)) == typed(grid) == typed(read_grid_openpyxl(path, data=data))
    return grid


def raw(tmp_path: Path, cells: bytes, tail: bytes = b"") -> Path:
    sheet = (b'<?xml version="1.0" encoding="UTF-8"?><worksheet ' + hostile.NS + b"><sheetData>" + cells
             + b"</sheetData>" + tail + b"</worksheet>")
    return hostile.write(tmp_path / "raw.xlsx", hostile._parts(sheet))


@pytest.mark.parametrize(("cells", "tail", "expected"), [
    # a cached error, a boolean, a string formula's result, a number with a fraction
    (b'<row r="1"><c r="A1" t="e"><f>1/0</f><v>#DIV/0!</v></c><c r="B1" t="b"><v>1</v></c>'
     b'<c r="C1" t="str"><f>"a"&amp;"b"</f><v>ab</v></c><c r="D1"><v>2.5</v></c></row>', b"",
     [["#DIV/0!", True, "ab", 2.5]]),
    # formulas without a cached result, one with XML escapes in it; an empty <v/>
    (b'<row r="1"><c r="A1"><v>2</v></c><c r="B1"><f>IF(A1&lt;3,"x&amp;y","")</f></c>'
     b'<c r="C1"><f>A1*2</f><v></v></c></row>', b"",
     [[2, UncachedFormula('=IF(A1<3,"x&y","")'), UncachedFormula("=A1*2")]]),
    # a shared formula: the copies' text is the first cell's, translated (openpyxl does that)
    (b'<row r="1"><c r="A1"><v>1</v></c><c r="B1"><f t="shared" ref="B1:B2" si="0">A1+1</f></c></row>'
     b'<row r="2"><c r="A2"><v>5</v></c><c r="B2"><f t="shared" si="0"/></c></row>', b"",
     [[1, UncachedFormula("=A1+1")], [5, UncachedFormula("=A2+1")]]),
    # a value left in a merged cell's hidden part reads blank, as Excel shows it; trailing blanks dropped
    (b'<row r="1"><c r="A1" t="inlineStr"><is><t>Phase</t></is></c><c r="B1" t="inlineStr"><is><t>hidden</t>'
     b'</is></c></row><row r="3"><c r="C3" s="0"/></row><row r="4"/>', b'<mergeCells count="1"><mergeCell ref="A1:B1"/>'
     b"</mergeCells>", [["Phase"]]),
    # rows and columns before the first value are kept: cell positions are what warnings name
    (b'<row r="2"><c r="C2"><v>7</v></c><c r="D2" t="inlineStr"><is><t></t></is></c></row>', b"",
     [[None, None, None], [None, None, 7]]),
])
def test_raw_cells_read_the_same_by_both_readers(tmp_path, cells, tail, expected):
    grid = both(raw(tmp_path, cells, tail))
    assert grid == {"Plan": expected}
    assert [type(v) for row in grid["Plan"] for v in row] == [type(v) for row in expected for v in row]


def test_dates_times_and_durations_read_the_same_by_both_readers(tmp_path):
    path = tmp_path / "dates.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Plan"
    values = [(datetime(2027, 1, 5), None), (datetime(2027, 1, 5, 13, 30), None), (0.5, "h:mm"),
              (1.25, "[h]:mm"), (46461, "d mmm yyyy"), (46461, "dd.mm.yyyy"), (46461, "mm/dd/yy"),
              (46461, "General"), (46461, "@"), (12500, "#,##0"), (True, None), ("2027-03-15", "@")]
    for c, (value, fmt) in enumerate(values, start=1):
        cell = ws.cell(1, c, value)
        if fmt:
            cell.number_format = fmt
    wb.save(path)
    [row] = both(path)["Plan"]
    assert row[:5] == [datetime(2027, 1, 5), datetime(2027, 1, 5, 13, 30), time(12, 0),
                       timedelta(days=1, hours=6), datetime(2027, 3, 15)]
    assert row[7:] == [46461, 46461, 12500, True, "2027-03-15"]


@pytest.fixture(scope="module")
def office_copies(tmp_path_factory):
    """A plan written by mapsheets, saved as .ods and .xls by LibreOffice (as a buyer would)."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.fail("LibreOffice (soffice) is needed: .ci/run installs it")
    folder = tmp_path_factory.mktemp("office")
    built, _fit = service.build_plan(service.get_template("enterprise-map"), buyer="Acme Corp", seller="Globex",
                                     start=TODAY, close=date(2027, 3, 31), rng=random.Random(7))
    source = folder / "plan.xlsx"
    write_workbook(source, workbook_spec(built))
    for kind in ("ods", "xls"):
        subprocess.run([soffice, f"-env:UserInstallation=file://{folder}/profile", "--headless",
                        "--convert-to", kind, "--outdir", str(folder), str(source)],
                       check=True, capture_output=True, timeout=120)
    return built, source, folder / "plan.ods", folder / "plan.xls"


@pytest.mark.parametrize("kind", ["ods", "xls"])
def test_ods_and_xls_read_like_the_xlsx_and_refuse_writes(office_copies, kind):
    plan, source, ods, xls = office_copies
    path = ods if kind == "ods" else xls
    assert read_grid(path) == read_grid(source)
    view = service.read_plan(str(path), today=TODAY)
    assert view.warnings == [] and view.plan.to_dict() == plan.to_dict()

    before = path.read_bytes()
    for args in (["add-step", str(path), "--title", "Security review"],
                 ["sign", str(path), "--name", "Dana", "--email", "dana@acme.example", "--side", "buyer",
                  "--no-record"]):
        result = CliRunner().invoke(cli, args, catch_exceptions=False)
        assert result.exit_code == 1 and "Traceback" not in result.stderr
        assert result.stderr.splitlines() == [
            f"Error: {path}: .{kind} is read-only for mapsheets: save it as .xlsx to write"]
    assert path.read_bytes() == before
    assert not list(path.parent.glob(f".{path.name}*"))  # no lock file, no temporary


def test_show_loads_neither_openpyxl_nor_numpy(plan_file):
    code = ("import sys\nfrom mapsheets.cli import cli\n"
            "try:\n    cli(['show', sys.argv[1], '--json'])\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
            "heavy = ('openpyxl', 'numpy', 'pandas', 'jinja2', 'yaml', 'sqlalchemy', 'gspread')\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & set(heavy)), file=sys.stderr)\n")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-c", code, str(plan_file)], capture_output=True, text=True,
                            env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["steps"]
    assert result.stderr.strip().splitlines()[-1] == "[]"
