"""People chips on Google (issue 23 part 6): owners and plan owners with an email are written as
person chips in the plan's one request, and a chip reads back as the person."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import requests
from google.oauth2.credentials import Credentials

from mapsheets import service
from mapsheets.adapters.gsheets import GoogleWorkbook, RetryPolicy, make_client
from mapsheets.core.layout import workbook_spec
from mapsheets.core.model import Plan
from mapsheets.core.people import owner_name
from mapsheets.service.team import add_person
from mapsheets.testing.google_api import GoogleApiDouble

TODAY = date(2026, 12, 1)
TOKEN = "test-token-not-secret"
SAM, PAT, ZOE = "sam@globex.example", "pat@acme.example", "zoe@acme.example"


def person(email: str) -> dict[str, Any]:
    return {"personProperties": {"email": email, "displayFormat": "DEFAULT"}}


@pytest.fixture
def people_plan(plan: Plan) -> Plan:
    """The test plan with people who have emails: on the Team tab, as owners, as the leads."""
    team = plan.stakeholders
    team[0].name, team[0].email = "Sam Rivera", SAM
    team[3].name, team[3].email = "Pat Lee", PAT
    team[4].name, team[4].email = "Zoë 🚀 Kim", ZOE  # outside the BMP: indexes are UTF-16 units
    plan.steps[1].owners = [f"Sam Rivera <{SAM}>", "Globex"]
    plan.steps[2].owners = [f"Pat Lee <{PAT}>", f"Zoë 🚀 Kim <{ZOE}>"]
    plan.steps[3].owners = [SAM]
    plan.seller_lead = f"Sam Rivera <{SAM}>"
    return plan


@pytest.fixture
def book(google_env: GoogleApiDouble) -> GoogleWorkbook:
    return GoogleWorkbook(None, make_client(Credentials(token=TOKEN), google_env.root, RetryPolicy(attempts=1)))


def stored(double: GoogleApiDouble, sheet_id: str, tab: str) -> dict[str, dict[str, Any]]:
    """Text -> CellData of every cell of ``tab`` in the double that holds chips."""
    sheet = next(s for s in double.spreadsheet(sheet_id).sheets if s.title == tab)
    return {c["userEnteredValue"]["stringValue"]: c for c in sheet.cells.values() if c.get("chipRuns")}


def test_owners_leads_and_team_emails_are_person_chips_in_the_one_create(google_env, book, people_plan):
    book.create(workbook_spec(people_plan, TODAY))
    assert google_env.stats()["methods"] == {"sheets.spreadsheets.create": 1}
    plan_tab = stored(google_env, book.sheet_id, "Plan")
    # The names stay text (read and copied as they are); each address is a chip at its "@".
    assert plan_tab["Sam Rivera @, Globex"]["chipRuns"] == [{"startIndex": 11, "chip": person(SAM)}]
    assert plan_tab["Pat Lee @, Zoë 🚀 Kim @"]["chipRuns"] == [
        {"startIndex": 8, "chip": person(PAT)}, {"startIndex": 22, "chip": person(ZOE)}]  # Python's index 21
    assert plan_tab["@"]["chipRuns"] == [{"startIndex": 0, "chip": person(SAM)}]
    assert plan_tab["Sam Rivera @"]["chipRuns"] == [{"startIndex": 11, "chip": person(SAM)}]  # the seller lead
    team = [c for c in google_env.spreadsheet(book.sheet_id).sheets[1].cells.values() if c.get("chipRuns")]
    assert sorted((c["userEnteredValue"]["stringValue"], c["chipRuns"][0]["chip"]["personProperties"]["email"])
                  for c in team) == [("@", PAT), ("@", SAM), ("@", ZOE)]  # the Team tab's Email column


def test_chips_read_back_as_the_people_written(google_env, book, people_plan):
    book.create(workbook_spec(people_plan, TODAY))
    assert "Sam Rivera @, Globex" in stored(google_env, book.sheet_id, "Plan")  # what Google holds: a chip
    google_env.reset()
    view = service.read_plan(book.ref, today=TODAY)
    assert google_env.stats()["methods"] == {"sheets.spreadsheets.get": 1}
    assert view.plan.steps[1].owners == [f"Sam Rivera <{SAM}>", "Globex"]
    assert view.plan.steps[2].owners == [f"Pat Lee <{PAT}>", f"Zoë 🚀 Kim <{ZOE}>"]
    assert view.plan.steps[3].owners == [SAM]
    assert view.plan.seller_lead == f"Sam Rivera <{SAM}>"
    assert view.plan.to_dict() == people_plan.to_dict()  # parse -> write -> parse


def test_write_into_an_existing_spreadsheet_writes_chips_in_its_one_batch_update(google_env, book, people_plan):
    book.sheet_id = google_env.create_spreadsheet("Acme deal", {"Sheet1": [["notes people keep"]]})
    google_env.reset()
    book.create(workbook_spec(people_plan, TODAY))
    assert google_env.stats()["methods"] == {"sheets.spreadsheets.batchUpdate": 1}
    assert stored(google_env, book.sheet_id, "Plan")["Sam Rivera @, Globex"]["chipRuns"][0]["chip"] == person(SAM)
    assert service.read_plan(book.ref, today=TODAY).plan.to_dict() == people_plan.to_dict()


def test_a_step_added_with_an_owner_gets_its_chip_in_the_same_request(google_env, book, people_plan):
    book.create(workbook_spec(people_plan, TODAY))
    google_env.reset()
    service.add_step(book.ref, title="Security questionnaire", owners=["Pat Lee"], today=TODAY)
    assert google_env.stats()["methods"] == {"sheets.spreadsheets.get": 1, "sheets.spreadsheets.batchUpdate": 1}
    chipped = stored(google_env, book.sheet_id, "Plan")
    assert chipped["Pat Lee @"]["chipRuns"] == [{"startIndex": 8, "chip": person(PAT)}]
    added = next(s for s in service.read_plan(book.ref, today=TODAY).plan.steps if s.title == "Security questionnaire")
    assert added.owners == [f"Pat Lee <{PAT}>"]  # the Team member named, linked by email and chipped


def _owners_cell(google_env: GoogleApiDouble, sheet_id: str, step_title: str) -> tuple[int, int]:
    sheet = google_env.spreadsheet(sheet_id).sheets[0]
    text = {(r, c): (cell.get("userEnteredValue") or {}).get("stringValue") for (r, c), cell in sheet.cells.items()}
    header = next(r for (r, c), t in text.items() if t == "Owners")
    owners_col = next(c for (r, c), t in text.items() if r == header and t == "Owners")
    row = next(r for (r, c), t in text.items() if t == step_title)
    return row, owners_col


def test_a_chip_typed_by_hand_reads_as_that_person(google_env, book, people_plan):
    """In Sheets a person types "@", picks someone: the cell holds "@" and a run naming an email
    that is nowhere in the text. mapsheets reads the person."""
    book.create(workbook_spec(people_plan, TODAY))
    steps = people_plan.steps
    dana = {"personProperties": {"email": "dana@acme.example"}}  # no displayFormat: Google's default
    cells = {_owners_cell(google_env, book.sheet_id, steps[4].title): ("@", [{"chip": person(PAT)}]),
             _owners_cell(google_env, book.sheet_id, steps[5].title): ("Dana Fox @; Globex",
                                                                       [{"startIndex": 9, "chip": dana}])}
    requests_ = [{"updateCells": {
        "start": {"sheetId": google_env.spreadsheet(book.sheet_id).sheets[0].id, "rowIndex": r, "columnIndex": c},
        "rows": [{"values": [{"userEnteredValue": {"stringValue": text}, "chipRuns": runs}]}],
        "fields": "userEnteredValue,chipRuns"}} for (r, c), (text, runs) in cells.items()]
    answer = requests.post(f"{google_env.root}/v4/spreadsheets/{book.sheet_id}:batchUpdate",
                           json={"requests": requests_}, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    assert answer.status_code == 200, answer.text
    read = service.read_plan(book.ref, today=TODAY).plan.steps
    assert read[4].owners == [PAT]  # the chip's email; shown with the name the Team tab gives it
    assert owner_name(read[4].owners[0], people_plan.stakeholders) == "Pat Lee"
    assert read[5].owners == ["Dana Fox <dana@acme.example>", "Globex"]


def test_a_person_filling_a_role_becomes_a_chip_wherever_the_plan_names_them(google_env, book, plan):
    book.create(workbook_spec(plan, TODAY))
    owned = [s.title for s in plan.steps if "Acme Corp Champion" in s.owners]
    google_env.reset()
    add_person(book.ref, f"Pat Lee <{PAT}>", role="champion", today=TODAY)
    assert google_env.stats()["methods"] == {"sheets.spreadsheets.get": 1, "sheets.spreadsheets.batchUpdate": 1}
    chipped = [c for s in google_env.spreadsheet(book.sheet_id).sheets for c in s.cells.values() if c.get("chipRuns")]
    emails = [run["chip"]["personProperties"]["email"] for c in chipped for run in c["chipRuns"]]
    assert emails.count(PAT) == len(owned) + 1  # every Owners cell naming the Champion, and the Team row
    read = service.read_plan(book.ref, today=TODAY).plan
    assert all(f"Pat Lee <{PAT}>" in s.owners for s in read.steps if s.title in owned)
