"""Property: any text written through any writer reads back equal, or the write is refused with one
line; never a workbook our own reader refuses. Over both backends: the .xlsx file (read by calamine
and by openpyxl, which every rewrite loads through) and the Google double over HTTP.

Examples run at the cell level, many strings per workbook, so CI's 2,000 (the "ci" profile in
tests/conftest.py) stay cheap; a few plan-level cases go through the service.
"""

from __future__ import annotations

import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mapsheets.core.layout import SheetSpec, WorkbookSpec
from mapsheets.errors import MapsheetsError

TAB = "Cells"
SLOTS = 10  # strings per example at most: one workbook write and one read for all of them

# Every code point, surrogates and controls included, and long runs of astral characters near the
# limit (UTF-16 units, not code points).
_any_char = st.characters(min_codepoint=0, max_codepoint=sys.maxunicode)
_tricky = st.sampled_from(["\r", "\r\n", "\x00", "\x01", "\x0b", "\t", "\n", "\ud800", "\udfff", "\ufffe",
                           "\uffff", "\U0001F600", "_x0041_", "_x005F_", "&#56575;", "'", "=A1", " ", "\u2028"])
_short = st.lists(st.one_of(_tricky, st.text(_any_char, max_size=6)), max_size=6).map("".join)
_long = st.tuples(st.integers(16_370, 16_400), st.sampled_from(["\U0001F600", "a", "é"])).map(
    lambda t: t[1] * (t[0] * 2 if t[1] != "\U0001F600" else t[0]))
_texts = st.lists(st.one_of(*[_short] * 19, _long), min_size=1, max_size=SLOTS)
WRITERS = ("create", "update", "append")
START = {TAB: [["start"]]}  # each example's workbook before the write


def _unfit(text: str) -> bool:
    """What no cell can carry back unchanged, said independently of the code under test: XML 1.0's
    characters and Excel's 32,767 UTF-16 units."""
    bad = any(ord(c) < 0x20 and c not in "\t\n\r" or 0xD800 <= ord(c) <= 0xDFFF or c in "\ufffe\uffff" for c in text)
    return bad or len(text.encode("utf-16-le", "surrogatepass")) // 2 > 32_767


def _spec(rows) -> WorkbookSpec:
    return WorkbookSpec(title="roundtrip", sheets=[SheetSpec(title=TAB, rows=rows)])


def _write(book, how: str, texts: list[str]) -> None:
    if how == "create":
        book.create(_spec([[t] for t in texts]), force=True)
    elif how == "update":
        book.update_cells(TAB, {(r, 0): t for r, t in enumerate(texts)})
    else:
        book.append_rows(TAB, [[t] for t in texts], header=["Text"])


def _column(grid, how: str, n: int) -> list:
    rows = grid[TAB][1:] if how == "append" else grid[TAB]  # appended after the "start" row
    return ([row[0] if row else None for row in rows] + [None] * n)[:n]


def _check(book, readers, how: str, texts: list[str]) -> None:
    """One write of ``texts`` into a workbook holding START, then every reader."""
    try:
        _write(book, how, texts)
    except MapsheetsError as exc:
        assert "\n" not in str(exc) and any(_unfit(t) for t in texts), (texts, str(exc))
        assert all(read() == START for read in readers), "a refused write changed the workbook"
        return
    assert not any(_unfit(t) for t in texts), f"written although a cell cannot hold it: {texts!r}"
    for read in readers:  # never a workbook our reader refuses
        assert _column(read(), how, len(texts)) == [t or None for t in texts]


@pytest.fixture(scope="module")
def start_xlsx(tmp_path_factory) -> bytes:
    from mapsheets.adapters import xlsx

    path = tmp_path_factory.mktemp("start") / "start.xlsx"
    xlsx.XlsxWorkbook(path).create(_spec(START[TAB]))
    return path.read_bytes()


@given(texts=_texts, how=st.sampled_from(WRITERS))
@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_property_any_text_through_the_xlsx_writers_reads_back_or_is_refused(start_xlsx, tmp_path, texts, how):
    from mapsheets.adapters import xlsx

    path = tmp_path / "cells.xlsx"
    path.write_bytes(start_xlsx)  # a copy of a workbook holding START: cheaper than making one each time
    book = xlsx.XlsxWorkbook(path)
    _check(book, [lambda: xlsx.read_grid(path), lambda: xlsx.read_grid_openpyxl(path)], how, texts)


@given(texts=_texts, how=st.sampled_from(WRITERS))
@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_property_any_text_through_the_google_writers_reads_back_or_is_refused(google_env, texts, how):
    from mapsheets.adapters.gsheets import GoogleWorkbook

    book = GoogleWorkbook.from_env(None)
    if how != "create":
        book.create(_spec(START[TAB]))
        _check(book, [book.read_grid], how, texts)
        return
    try:  # a new spreadsheet made with the text in it
        _write(book, how, texts)
    except MapsheetsError as exc:
        assert "\n" not in str(exc) and any(_unfit(t) for t in texts), (texts, str(exc))
        assert book.sheet_id is None, "a refused create made a spreadsheet"
        return
    assert not any(_unfit(t) for t in texts), f"written although a cell cannot hold it: {texts!r}"
    assert _column(book.read_grid(), how, len(texts)) == [t or None for t in texts]


# --- plan level: the service, as every surface calls it --------------------------------------------

_field_text = st.one_of(_short, _tricky).filter(lambda t: t.strip() != "")


@given(title=_field_text, notes=_short)
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_property_add_step_keeps_a_plan_readable_on_both_backends(plan_file, google_env, plan, today,
                                                                  title, notes):
    from mapsheets.adapters.gsheets import GoogleWorkbook
    from mapsheets.core.layout import workbook_spec
    from mapsheets.service import add_step, read_plan

    google = GoogleWorkbook.from_env(None)
    google.create(workbook_spec(plan))
    for ref in (str(plan_file), google.sheet_id):
        steps = len(read_plan(ref, today=today).plan.steps)
        said: list[str] = []
        try:
            step = add_step(ref, title=title, notes=notes, today=today, on_warning=said.append)
        except MapsheetsError as exc:
            assert "\n" not in str(exc) and exc.field in ("title", "notes"), (title, notes, str(exc))
            assert len(read_plan(ref, today=today).plan.steps) == steps  # refused: nothing written
            continue
        read = read_plan(ref, today=today)  # whatever was written, the plan reads
        assert (read.plan.step(step.id).title, read.plan.step(step.id).notes) == (step.title, step.notes)
        # A typed line end (\r\n, \r) is a line break in a cell: documented, and not a change
        # (test_text_gate.py::test_tab_and_newline_are_kept_and_a_carriage_return_is_a_newline).
        typed = tuple(t.strip().replace("\r\n", "\n").replace("\r", "\n") for t in (title, notes))
        if (step.title, step.notes) != typed:
            assert said, "text changed without a warning"


def test_ci_runs_the_round_trip_with_at_least_2000_examples():
    """tests/conftest.py loads the "ci" profile where CI=true; the property tests above set no
    max_examples of their own, so they take it."""
    import os

    assert settings.get_profile("ci").max_examples >= 2000
    ci = os.environ.get("CI", "").lower() == "true"
    assert (settings.default.max_examples >= 2000) == ci
    for test in (test_property_any_text_through_the_xlsx_writers_reads_back_or_is_refused,
                 test_property_any_text_through_the_google_writers_reads_back_or_is_refused):
        assert test._hypothesis_internal_use_settings.max_examples == settings.default.max_examples
