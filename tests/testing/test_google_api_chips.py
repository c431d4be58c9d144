"""Smart chips (CellData.chipRuns) in the Google API double, over real HTTP."""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from mapsheets.testing.google_api import GoogleApiDouble

AUTH = {"Authorization": "Bearer anything"}
GUIDE = json.loads((Path(__file__).parent / "recordings" / "chips_guide_example.json").read_text(encoding="utf-8"))
CELL_FIELDS = "sheets.data.rowData.values(userEnteredValue,effectiveValue,formattedValue,chipRuns)"


@pytest.fixture()
def g() -> Iterator[GoogleApiDouble]:
    with GoogleApiDouble(seed=1) as double:
        yield double


def batch(g: GoogleApiDouble, sid: str, *reqs: dict[str, Any]) -> requests.Response:
    return requests.post(f"{g.root}/v4/spreadsheets/{sid}:batchUpdate", json={"requests": list(reqs)},
                         headers=AUTH, timeout=10)


def a1(g: GoogleApiDouble, sid: str, fields: str = CELL_FIELDS) -> dict[str, Any]:
    answer = requests.get(f"{g.root}/v4/spreadsheets/{sid}", params={"ranges": "A1", "fields": fields},
                          headers=AUTH, timeout=10)
    assert answer.status_code == 200, answer.text
    rows = answer.json()["sheets"][0]["data"][0].get("rowData") or [{}]
    return (rows[0].get("values") or [{}])[0]


def write(text: str, runs: list[dict[str, Any]], fields: str = "userEnteredValue,chipRuns") -> dict[str, Any]:
    return {"updateCells": {"range": {"sheetId": 0, "startRowIndex": 0, "endRowIndex": 1, "startColumnIndex": 0,
                                      "endColumnIndex": 1},
                            "rows": [{"values": [{"userEnteredValue": {"stringValue": text}, "chipRuns": runs}]}],
                            "fields": fields}}


def test_googles_documented_example_is_accepted_stored_and_read_back(g):
    sid = g.create_spreadsheet("Chips")
    answer = batch(g, sid, *GUIDE["batchUpdate"]["requests"])
    assert answer.status_code == 200, answer.text
    assert a1(g, sid, GUIDE["get"]["params"]["fields"]) == GUIDE["get"]["cell"]
    # Values reads show the chips as formattedValue does; unformatted, the placeholders.
    shown = requests.get(f"{g.root}/v4/spreadsheets/{sid}/values/A1", headers=AUTH, timeout=10).json()
    assert shown["values"] == [[GUIDE["get"]["cell"]["formattedValue"]]]
    assert a1(g, sid, "sheets.data.rowData.values.effectiveValue") == {"effectiveValue": {"stringValue":
                                                                                           "@ is the owner of @."}}


def test_a_run_that_does_not_point_at_a_placeholder_is_refused(g):
    sid = g.create_spreadsheet("Chips")
    person = {"personProperties": {"email": "sam@globex.example"}}
    for text, runs in (("Sam Rivera", [{"startIndex": 3, "chip": person}]),
                       ("Sam @", [{"startIndex": 4, "chip": {"personProperties": {}}}]),
                       ("@ and @", [{"startIndex": 6, "chip": person}, {"startIndex": 0, "chip": person}])):
        answer = batch(g, sid, write(text, runs))
        assert answer.status_code == 400, text
        assert answer.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert a1(g, sid) == {}  # nothing of a refused batch is kept


def test_new_text_erases_the_chips_unless_it_brings_its_own(g):
    sid = g.create_spreadsheet("Chips")
    person = {"personProperties": {"email": "sam@globex.example", "displayFormat": "EMAIL"}}
    assert batch(g, sid, write("Sam Rivera @", [{"startIndex": 11, "chip": person}])).status_code == 200
    assert a1(g, sid)["chipRuns"] == [{"chip": {}}, {"startIndex": 11, "chip": person}]
    assert a1(g, sid)["formattedValue"] == "Sam Rivera sam@globex.example"
    assert batch(g, sid, write("Globex", [], fields="userEnteredValue")).status_code == 200
    assert "chipRuns" not in a1(g, sid)
    assert batch(g, sid, write("@", [{"chip": person}])).status_code == 200
    requests.put(f"{g.root}/v4/spreadsheets/{sid}/values/A1", params={"valueInputOption": "RAW"},
                 json={"values": [["typed over"]]}, headers=AUTH, timeout=10).raise_for_status()
    assert a1(g, sid) == {"userEnteredValue": {"stringValue": "typed over"},
                          "effectiveValue": {"stringValue": "typed over"}, "formattedValue": "typed over"}


def test_a_create_body_with_chips_is_stored(g):
    chip = {"personProperties": {"email": "a@b.example"}}
    cell = {"userEnteredValue": {"stringValue": "@"}, "chipRuns": [{"chip": chip}]}
    body = {"properties": {"title": "Made with chips"}, "sheets": [{"data": [{"rowData": [{"values": [cell]}]}]}]}
    made = requests.post(f"{g.root}/v4/spreadsheets", json=body, headers=AUTH, timeout=10)
    assert made.status_code == 200, made.text
    read = a1(g, made.json()["spreadsheetId"])
    assert read["chipRuns"] == [{"chip": {"personProperties": {"email": "a@b.example"}}}]
    assert read["formattedValue"] == "a@b.example"
    cell["userEnteredValue"]["stringValue"] = "no placeholder"
    assert requests.post(f"{g.root}/v4/spreadsheets", json=body, headers=AUTH, timeout=10).status_code == 400
