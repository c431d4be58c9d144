"""Generic grid diff for the tabs people add to a plan workbook."""

from __future__ import annotations

import copy
import json
from datetime import datetime

import openpyxl

from mapsheets.adapters.xlsx import read_grid
from mapsheets.core.griddiff import diff_grids, diff_tab

BUDGET = [
    ["ID", "Item", "Owner", "Amount", "Approved"],
    ["B-1", "Licences (200 seats)", "Ann", 120000, "yes"],
    ["B-2", "Implementation services", "Bob", 30000, "no"],
    ["B-3", "Training", "Cy", 8000, None],
    ["B-4", "Premium support", "Ann", 15000, "no"],
]
RISKS = [  # no ID-like column: aligned by content
    ["Risk", "Likelihood", "Mitigation"],
    ["Budget freeze in Q1", "medium", "Sign in December"],
    ["Security review backlog", "high", "Send SOC 2 early"],
    ["Champion leaves", "low", "Multi-thread to IT"],
    ["Legal redlines drag", "medium", "Use standard DPA"],
]


def kinds(changes):
    return [(c.kind, c.key) for c in changes]


def test_same_grid_is_no_change():
    assert diff_tab(BUDGET, copy.deepcopy(BUDGET)) == []
    assert diff_grids({"Budget": BUDGET}, {"Budget": copy.deepcopy(BUDGET)}) == {}


def test_keyed_rows_changed_added_removed():
    new = copy.deepcopy(BUDGET)
    new[2][3] = 35000
    new[3][4] = "yes"
    del new[4]
    new.append(["B-5", "Data migration", "Dee", 12000, None])
    changes = diff_tab(BUDGET, new)
    assert kinds(changes) == [("row_changed", "B-2"), ("row_changed", "B-3"), ("row_added", "B-5"),
                              ("row_removed", "B-4")]
    assert changes[0].cells == (("Amount", 30000, 35000),)
    assert (changes[0].row_old, changes[0].row_new) == (3, 3)
    assert changes[0].describe() == 'Row changed "B-2" (row 3): Amount: 30000 → 35000'
    assert changes[1].cells == (("Approved", None, "yes"),)
    assert changes[2].describe() == 'Row added "B-5" (row 5): ID=B-5, Item=Data migration, Owner=Dee, Amount=12000'
    json.dumps([c.to_dict() for c in changes])


def test_keyed_rows_reordered_and_columns_reordered_are_no_change():
    rows = [BUDGET[0]] + list(reversed(BUDGET[1:]))
    order = [3, 0, 4, 1, 2]
    shuffled = [[row[c] for c in order] for row in rows]
    assert diff_tab(BUDGET, shuffled) == []
    shuffled[2][0] = 1  # Amount of B-3 (column 0 after the shuffle)
    [change] = diff_tab(BUDGET, shuffled)
    assert (change.key, change.cells) == ("B-3", (("Amount", 8000, 1),))


def test_columns_added_and_removed_are_reported_once():
    new = [row[:3] + row[4:] + [f"Q{n}" if n else "Quarter"] for n, row in enumerate(BUDGET)]
    changes = diff_tab(BUDGET, new)
    assert kinds(changes) == [("column_removed", "Amount"), ("column_added", "Quarter")]
    assert changes[1].cells[0] == ("B-1", None, "Q1")


def test_id_like_headers_and_fallback():
    ticket = [["Ticket ID", "Summary"], ["T-9", "SSO"], ["T-3", "SCIM"]]
    swapped = [ticket[0], ticket[2], ["T-9", "SSO with Okta"]]
    assert kinds(diff_tab(ticket, swapped)) == [("row_changed", "T-9")]
    dupes = [["ID", "Summary"], ["1", "SSO"], ["1", "SCIM"]]  # not unique: aligned by content
    edited = [dupes[0], ["1", "SSO"], ["1", "SCIM provisioning"]]
    [change] = diff_tab(dupes, edited)
    assert change.kind == "row_changed" and change.row_old == 3 \
        and change.cells == (("Summary", "SCIM", "SCIM provisioning"),)


def test_unkeyed_insert_edit_delete_aligned_by_content():
    new = copy.deepcopy(RISKS)
    new.insert(2, ["Procurement needs a new vendor form", "high", "Start vendor onboarding now"])
    new[4][1] = "high"  # Champion leaves: likelihood raised (row moved down by the insert)
    del new[5]  # Legal redlines drag
    changes = diff_tab(RISKS, new)
    assert kinds(changes) == [("row_added", "Procurement needs a new vendor form"),
                              ("row_changed", "Champion leaves"), ("row_removed", "Legal redlines drag")]
    assert changes[1].cells == (("Likelihood", "low", "high"),)
    assert (changes[1].row_old, changes[1].row_new) == (4, 5)


def test_blank_rows_padding_and_float_ints_are_not_changes():
    padded = [[None] * 6, [c for c in BUDGET[0]] + [None]]
    padded += [[v if not isinstance(v, int) else float(v) for v in row] + [""] for row in BUDGET[1:]]
    padded.insert(3, [None, "", None])
    assert diff_tab(BUDGET, padded) == []


def test_tabs_added_removed_and_skipped():
    old = {"Plan": [["ID", "Step"]], "Budget": BUDGET, "Risks": RISKS}
    new = {"Plan": [["ID", "Step"], ["S-1", "x"]], "Budget": BUDGET, "Notes": [["Note"], ["call Ann"]]}
    result = diff_grids(old, new, skip_tabs=("plan", "Team"))
    assert set(result) == {"Notes", "Risks"}
    assert kinds(result["Notes"]) == [("tab_added", "Notes"), ("column_added", "Note"), ("row_added", "call Ann")]
    assert kinds(result["Risks"]) == [("tab_removed", "Risks")]


def test_extra_tab_edited_in_a_real_workbook(plan_file):
    wb = openpyxl.load_workbook(plan_file)
    ws = wb.create_sheet("Budget")
    for row in BUDGET:
        ws.append(row)
    wb.save(plan_file)
    before = read_grid(plan_file)
    wb = openpyxl.load_workbook(plan_file)
    ws = wb["Budget"]
    ws["D3"] = 32500
    ws["E5"] = "yes"
    ws.append(["B-5", "Data migration", "Dee", 12000, None])
    ws.insert_cols(2)  # someone adds a column in the middle, fills one cell
    ws["B1"] = "Cost centre"
    ws["B2"] = "CC-100"
    wb["Plan"]["C12"] = "edited in the plan tab, not our business here"
    wb["Plan"]["A40"] = datetime(2027, 1, 1)
    wb.save(plan_file)
    result = diff_grids(before, read_grid(plan_file), skip_tabs=("Plan", "Team", "Sign-off"))
    assert list(result) == ["Budget"]
    changes = result["Budget"]
    assert kinds(changes) == [("column_added", "Cost centre"), ("row_changed", "B-2"),
                              ("row_changed", "B-4"), ("row_added", "B-5")]
    assert changes[0].cells == (("B-1", None, "CC-100"),)
    assert changes[1].cells == (("Amount", 30000, 32500),)
    assert changes[2].cells == (("Approved", "no", "yes"),)
