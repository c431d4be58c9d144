"""People text <-> person chips (adapters/gsheets_chips.py): which addresses become chips, and the
text a chip reads back as."""

from __future__ import annotations

from pathlib import Path

import openpyxl
from hypothesis import given
from hypothesis import strategies as st

from mapsheets.adapters.gsheets_cells import cell_data
from mapsheets.adapters.gsheets_chips import chipped_text, person_chips
from mapsheets.adapters.xlsx import write_workbook
from mapsheets.core.addresses import People
from mapsheets.core.layout import workbook_spec
from mapsheets.core.people import owner_key


def emails(runs: list[dict]) -> list[str]:
    return [r["chip"]["personProperties"]["email"] for r in runs]


def test_only_whole_addresses_become_chips():
    text, runs = person_chips("Sam Rivera <sam@globex.example>, Globex, ask ops@acme.example; pat@acme.example")
    assert text == "Sam Rivera @, Globex, ask ops@acme.example; @"  # an address inside a sentence stays text
    assert emails(runs) == ["sam@globex.example", "pat@acme.example"]
    assert person_chips("Jane (jane@acme.example)") == ("Jane (jane@acme.example)", [])
    assert person_chips("@ops team <ops@acme.example>")[0] == "@ops team @"  # a typed "@" is no chip


def test_a_formula_looking_owner_is_still_text():
    cell = cell_data(People("=HYPERLINK(\"x\") <sam@globex.example>"))
    assert cell["userEnteredValue"] == {"stringValue": "=HYPERLINK(\"x\") @"}
    assert emails(cell["chipRuns"]) == ["sam@globex.example"]
    assert "chipRuns" not in cell_data("Sam Rivera <sam@globex.example>")  # only People text is chipped


def test_reading_ignores_runs_without_a_chip_and_runs_off_a_placeholder():
    runs = [{"chip": {}}, {"startIndex": 4, "chip": {"personProperties": {"email": "sam@globex.example"}}},
            {"startIndex": 5, "chip": {}}]
    assert chipped_text("Sam @, Globex", runs) == "Sam <sam@globex.example>, Globex"
    assert chipped_text("Sam Rivera", [{"startIndex": 2, "chip": {"personProperties": {"email": "x@y.example"}}}]) \
        == "Sam Rivera"


NAMES = st.text(st.characters(blacklist_characters="<>,;\n@\r", blacklist_categories=("Cs",)), max_size=12)
ADDRESSES = st.from_regex(r"[a-z]{1,6}\.?[a-z]{0,4}@[a-z]{1,6}\.example", fullmatch=True)


@given(st.lists(st.tuples(NAMES, st.one_of(st.none(), ADDRESSES)), min_size=1, max_size=4))
def test_written_people_read_back_as_the_same_people(entries):
    """Whatever the names (emoji included: indexes are UTF-16), each entry reads back naming the same
    person, and "Name <email>" entries exactly as written."""
    parts = [f"{name.strip()} <{email}>" if email and name.strip() else (email or name) for name, email in entries]
    text = ", ".join(parts)
    placeholder_text, runs = person_chips(text)
    units = placeholder_text.encode("utf-16-le")
    assert all(units[2 * r["startIndex"]:2 * r["startIndex"] + 2].decode("utf-16-le") == "@" for r in runs)
    back = chipped_text(placeholder_text, runs)
    assert [owner_key(p) for p in back.split(", ")] == [owner_key(p) for p in text.split(", ")]
    assert back == text


def test_the_xlsx_keeps_people_as_plain_text(tmp_path: Path, plan):
    plan.steps[1].owners = ["Sam Rivera <sam@globex.example>", "Globex"]
    write_workbook(tmp_path / "plan.xlsx", workbook_spec(plan))
    values = [c.value for row in openpyxl.load_workbook(tmp_path / "plan.xlsx")["Plan"].iter_rows() for c in row]
    assert "Sam Rivera <sam@globex.example>, Globex" in values
