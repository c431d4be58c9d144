"""Signing a plan whose Sign-off tab people have touched by hand."""

from datetime import datetime

import openpyxl
import pytest

from mapsheets import service
from mapsheets.errors import PlanFileError, UsageError
from mapsheets.service.signoff import sign

TODAY = datetime(2026, 12, 1).date()


def test_sign_finds_hand_typed_headers_and_a_blank_row(plan_file):
    book = openpyxl.load_workbook(plan_file)
    tab = book["Sign-off"]
    tab.insert_rows(1)  # a note above the table
    tab["A1"] = "Signatures are not legally binding"
    tab["D2"], tab["F2"] = "signed at", "STATUS"
    book.save(plan_file)
    sign(str(plan_file), name="Jane Doe", email="jane@acme.example", side="buyer", now=datetime(2026, 12, 2, 9))
    service.add_step(str(plan_file), title="New scope item", today=TODAY)
    sign(str(plan_file), name="Sam", email="sam@globex.example", side="seller", now=datetime(2026, 12, 3, 9))
    rows = [[c.value for c in row] for row in openpyxl.load_workbook(plan_file)["Sign-off"].iter_rows(min_row=3)]
    assert [(r[0], r[3], r[5]) for r in rows] == [("Jane Doe", datetime(2026, 12, 2, 9), "stale"),
                                                 ("Sam", datetime(2026, 12, 3, 9), "valid")]


def test_sign_refuses_bad_input_and_a_missing_tab(plan_file):
    with pytest.raises(UsageError, match="is not an email address"):
        sign(str(plan_file), name="Jane", email="jane", side="buyer", now=datetime(2026, 12, 2))
    with pytest.raises(UsageError, match="is not buyer or seller"):
        sign(str(plan_file), name="Jane", email="jane@acme.example", side="joint", now=datetime(2026, 12, 2))
    book = openpyxl.load_workbook(plan_file)
    del book["Sign-off"]
    book.save(plan_file)
    with pytest.raises(PlanFileError, match="no 'Sign-off' tab"):
        sign(str(plan_file), name="Jane", email="jane@acme.example", side="buyer", now=datetime(2026, 12, 2))
