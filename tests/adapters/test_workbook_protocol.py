"""Both backends are a Workbook (the protocol the service is typed against), and the service never
asks which backend it holds."""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mapsheets.adapters.gsheets import GoogleWorkbook
from mapsheets.adapters.workbook import Workbook
from mapsheets.adapters.xlsx import XlsxWorkbook
from mapsheets.errors import UsageError

REPO = Path(__file__).resolve().parents[2]
MEMBERS = [name for name in dir(Workbook) if not name.startswith("_")]


def test_the_protocol_names_what_the_service_uses():
    assert sorted(MEMBERS) == ["append_rows", "create", "edits", "modify", "read_grid", "ref", "revision",
                               "share", "update_cells", "worker_ref"]


@pytest.mark.parametrize("backend", [XlsxWorkbook, GoogleWorkbook])
def test_each_backend_has_every_member_with_a_compatible_signature(backend):
    for name in MEMBERS:
        wanted = inspect.getattr_static(Workbook, name)
        if isinstance(wanted, property):
            continue  # GoogleWorkbook computes ref; XlsxWorkbook sets it in __init__ (checked below)
        have = inspect.getattr_static(backend, name, None)
        assert have is not None, f"{backend.__name__} has no {name}"
        want_sig, have_sig = inspect.signature(wanted), inspect.signature(have)
        have_params = have_sig.parameters
        for param in want_sig.parameters.values():
            assert param.name in have_params, f"{backend.__name__}.{name} lacks parameter {param.name}"
            got = have_params[param.name]
            assert got.kind == param.kind, f"{backend.__name__}.{name}({param.name}): {got.kind} != {param.kind}"
            assert (got.default is inspect.Parameter.empty) == (param.default is inspect.Parameter.empty), \
                f"{backend.__name__}.{name}({param.name}): default differs"
            if param.default is not inspect.Parameter.empty:
                assert got.default == param.default, f"{backend.__name__}.{name}({param.name})"
        extra = [p for p in have_params.values() if p.name not in want_sig.parameters]
        assert all(p.default is not inspect.Parameter.empty for p in extra), \
            f"{backend.__name__}.{name} requires parameters the protocol does not pass: {extra}"


def test_instances_and_the_service_wrappers_are_workbooks(tmp_path):
    from mapsheets.service.attribution import OwnWrites
    from mapsheets.service.workbooks import _ReadOnce

    xlsx, google = XlsxWorkbook(tmp_path / "p.xlsx"), GoogleWorkbook("abc", client=None)
    for book in (xlsx, google, _ReadOnce(xlsx), OwnWrites(google)):
        assert isinstance(book, Workbook), book
    assert isinstance(xlsx.ref, str) and isinstance(google.ref, str)
    assert not isinstance(object(), Workbook)


def test_where_backends_differ_each_answers_for_itself(tmp_path):
    book = XlsxWorkbook(tmp_path / "p.xlsx")
    assert book.edits() is None  # a file names nobody
    assert book.worker_ref() == str(tmp_path / "p.xlsx") and GoogleWorkbook("abc", client=None).worker_ref() is None
    with pytest.raises(UsageError, match=r"p\.xlsx: sharing needs a Google Sheet"):
        book.share("jane@acme.example")


def test_the_service_never_asks_which_backend_it_holds():
    backend_check = re.compile(r"""getattr\(\s*\w*book\w*\s*,\s*["']kind|\bbook\w*\.kind\b|"""
                               r"""isinstance\([^)]*(XlsxWorkbook|GoogleWorkbook)|hasattr\(\s*[\w.]*book""")
    for path in sorted((REPO / "mapsheets" / "service").glob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            assert not backend_check.search(line), f"{path.name}:{number}: {line.strip()}"


def test_mypy_passes_on_the_protocol_the_backends_and_the_service():
    pytest.importorskip("mypy", reason="mypy is in the test extra")
    done = subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", "/dev/null"], cwd=REPO,
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr


def test_both_backends_paint_with_one_palette(plan):
    """The header row, a done row greyed, an overdue row and a signed (protected) tab: the same
    colours in an .xlsx file as in a Google Sheet (each backend used to keep its own copy)."""
    from openpyxl import Workbook

    from mapsheets.adapters.gsheets_cells import rgb, sheet_body
    from mapsheets.adapters.xlsx_format import write_sheet
    from mapsheets.core.layout import workbook_spec

    for spec in workbook_spec(plan).sheets:
        ws = Workbook().active
        write_sheet(ws, spec)
        body = sheet_body(spec, 0, 0)
        if spec.header_row is not None:
            cell = ws.cell(row=spec.header_row + 1, column=1)
            google = body["data"][0]["rowData"][spec.header_row]["values"][0]["userEnteredFormat"]
            assert google["backgroundColor"] == rgb(cell.fill.fgColor.rgb[-6:]), spec.title
            assert google["textFormat"]["foregroundColor"] == rgb(cell.font.color.rgb[-6:]), spec.title
        if spec.protected:
            assert body["properties"]["tabColorStyle"]["rgbColor"] == rgb(ws.sheet_properties.tabColor.rgb[-6:])
        rules = [rule for area in ws.conditional_formatting for rule in area.rules]
        for rule, google_rule in zip(rules, body.get("conditionalFormats", []), strict=True):
            fmt = google_rule["booleanRule"]["format"]
            if rule.dxf.fill is not None and "backgroundColor" in fmt:
                assert fmt["backgroundColor"] == rgb(rule.dxf.fill.bgColor.rgb[-6:]), spec.title
            if rule.dxf.font is not None and rule.dxf.font.color is not None:
                assert fmt["textFormat"]["foregroundColor"] == rgb(rule.dxf.font.color.rgb[-6:]), spec.title
