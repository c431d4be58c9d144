"""The Google backend against the API double: request economy, retries, errors."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest
from google.oauth2.credentials import Credentials

from mapsheets import service
from mapsheets.adapters.gsheets import GoogleWorkbook, RetryPolicy, credentials_from_env, make_client
from mapsheets.core.layout import workbook_spec
from mapsheets.errors import AlreadyExists, NotFound, PermissionDenied, PlanFileError, QuotaExceeded, UsageError
from mapsheets.service.sharing import share
from mapsheets.service.signoff import sign

TODAY = date(2026, 12, 1)
TOKEN = "test-token-not-secret"


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def client(google_env, sleeps):
    return make_client(Credentials(token=TOKEN), google_env.root, RetryPolicy(attempts=4, sleep=sleeps.append))


@pytest.fixture
def sheet(client, plan):
    book = GoogleWorkbook(None, client)
    book.create(workbook_spec(plan))
    return book


def methods(double) -> dict[str, int]:
    return double.stats()["methods"]


def test_create_is_one_request_carrying_the_formatted_workbook(google_env, client, plan):
    book = GoogleWorkbook(None, client)
    url = book.create(workbook_spec(plan))
    assert url.startswith("https://docs.google.com/spreadsheets/d/")
    assert methods(google_env) == {"sheets.spreadsheets.create": 1}
    model = google_env.spreadsheet(book.sheet_id)
    titles = [s.title for s in model.sheets]
    # Issue 18: and the hidden tab of rows only mapsheets reads, hidden in the same single request.
    assert titles == ["Plan", "Team", "Sign-off", "Timeline", "_mapsheets"]
    assert [s.props.get("hidden", False) for s in model.sheets] == [False] * 4 + [True]


def test_read_add_step_and_sign_request_counts(google_env, sheet):
    google_env.reset()
    service.read_plan(sheet.ref, today=TODAY)
    assert methods(google_env) == {"sheets.spreadsheets.get": 1}
    google_env.reset()
    service.add_step(sheet.ref, title="Security questionnaire", today=TODAY)
    # One batchUpdate: the row appended by Google (appendCells after the tab's last row, not a row
    # number from our read), with the progress line, phase bands and Timeline it changes.
    assert methods(google_env) == {"sheets.spreadsheets.get": 1, "sheets.spreadsheets.batchUpdate": 1}
    google_env.reset()
    sign(sheet.ref, name="Jane", email="jane@acme.example", side="buyer", now=datetime(2026, 12, 2, 9, 0))
    assert methods(google_env) == {"sheets.spreadsheets.get": 1, "sheets.spreadsheets.batchUpdate": 1}
    google_env.reset()  # keeping it in the state store too costs no extra request
    sign(sheet.ref, name="Sam", email="sam@globex.example", side="seller", now=datetime(2026, 12, 2, 10, 0),
         record=True)
    assert methods(google_env) == {"sheets.spreadsheets.get": 1, "sheets.spreadsheets.batchUpdate": 1}


def test_share_is_one_drive_request_per_person(google_env, sheet):
    google_env.reset()
    share(sheet.ref, ["a@acme.example", "b@acme.example", "c@acme.example"], role="commenter")
    assert methods(google_env) == {"drive.permissions.create": 3}
    perms = google_env.file(sheet.sheet_id)["permissions"]
    assert {(p["emailAddress"], p["role"]) for p in perms if p.get("emailAddress") != google_env.default_user} == {
        ("a@acme.example", "commenter"), ("b@acme.example", "commenter"), ("c@acme.example", "commenter")}


def test_429_storm_within_budget_recovers(google_env, sheet, sleeps):
    google_env.inject_errors(429, count=3)
    assert "Plan" in sheet.read_grid()
    assert len(sleeps) == 3 and all(0 <= s <= 16 for s in sleeps)


def test_429_storm_beyond_budget_gives_up_with_a_clear_error(google_env, sheet, sleeps):
    google_env.inject_errors(429, count=50)
    with pytest.raises(QuotaExceeded) as err:
        sheet.read_grid()
    assert len(sleeps) == 3  # 4 attempts, then stop: never an endless loop
    message = str(err.value)
    assert "\n" not in message and "try again" in message and TOKEN not in message


def test_drive_usage_limits_403_is_retried(google_env, sheet, sleeps):
    google_env.inject_errors(403, count=2, reason="userRateLimitExceeded")
    assert sheet.revision()["modified_time"]
    assert len(sleeps) == 2


def test_server_errors_are_retried(google_env, sheet, sleeps):
    google_env.inject_errors(503, count=1)
    google_env.inject_errors(500, count=1)
    assert "Plan" in sheet.read_grid()
    assert len(sleeps) == 2


def test_no_permission_is_not_retried(google_env, client, sleeps):
    google_env.set_private("1PrivateSheetOwnedBySomeoneElse0000000000")
    with pytest.raises(PermissionDenied, match="no permission"):
        GoogleWorkbook("1PrivateSheetOwnedBySomeoneElse0000000000", client).read_grid()
    assert sleeps == []


def test_missing_spreadsheet_is_not_found(client):
    with pytest.raises(NotFound, match="not found, or not shared"):
        GoogleWorkbook("1DoesNotExist000000000000000000000000000000", client).read_grid()


def test_deleted_plan_tab_is_a_clear_error(google_env, client, sheet):
    grid = sheet.read_grid()
    client.request("post", f"https://sheets.googleapis.com/v4/spreadsheets/{sheet.sheet_id}:batchUpdate",
                   json={"requests": [{"deleteSheet": {"sheetId": sheet._sheet_ids["Plan"]}}]})
    assert "Plan" in grid
    with pytest.raises(PlanFileError, match="no steps table found"):
        service.read_plan(sheet.ref, today=TODAY)


def test_dates_are_real_dates_in_the_sheet(google_env, sheet, plan):
    model = google_env.spreadsheet(sheet.sheet_id)
    height = len(workbook_spec(plan).sheet("Plan").rows)
    rows = google_env.values(sheet.sheet_id, f"Plan!F1:F{height}", render="UNFORMATTED_VALUE")
    serials = [r[0] for r in rows if r and isinstance(r[0], (int, float))]
    assert len(serials) == len(plan.steps)
    assert model is not None


def test_write_into_existing_spreadsheet_is_one_batch_update(google_env, client, plan):
    sheet_id = google_env.create_spreadsheet("Acme deal", {"Sheet1": [["notes people keep"]]})
    google_env.reset()
    book = GoogleWorkbook(sheet_id, client)
    book.create(workbook_spec(plan))
    assert methods(google_env) == {"sheets.spreadsheets.batchUpdate": 1}
    view = service.read_plan(sheet_id, today=TODAY)
    assert view.plan.to_dict() == plan.to_dict()
    assert google_env.values(sheet_id, "Sheet1!A1") == [["notes people keep"]]


def test_credentials_come_from_env_and_bad_key_file_is_one_line(tmp_path):
    assert credentials_from_env({"MAPSHEETS_GOOGLE_TOKEN": "abc"}).token == "abc"
    bad = tmp_path / "key.json"
    bad.write_text(json.dumps({"type": "service_account"}))
    with pytest.raises(UsageError, match="not a usable service-account or authorized-user key"):
        credentials_from_env({"MAPSHEETS_GOOGLE_CREDENTIALS": str(bad)})
    with pytest.raises(UsageError, match="no Google credentials"):
        credentials_from_env({"XDG_CONFIG_HOME": str(tmp_path)})


def test_a_stored_user_login_is_used_and_service_account_files_still_work(tmp_path):
    config = tmp_path / "config"
    stored = config / "mapsheets" / "authorized_user.json"
    stored.parent.mkdir(parents=True)
    stored.write_text(json.dumps({"type": "authorized_user", "client_id": "id.apps.googleusercontent.com",
                                  "client_secret": "s", "refresh_token": "r"}))
    creds = credentials_from_env({"XDG_CONFIG_HOME": str(config)})
    assert creds.refresh_token == "r"
    assert set(creds.scopes) == {"https://www.googleapis.com/auth/spreadsheets",
                                 "https://www.googleapis.com/auth/drive.file"}


def test_force_replaces_plan_tabs_in_an_existing_spreadsheet(google_env, client, plan):
    book = GoogleWorkbook(None, client)
    book.create(workbook_spec(plan))
    again = GoogleWorkbook(book.sheet_id, client)
    with pytest.raises(AlreadyExists, match="already has plan tabs"):
        again.create(workbook_spec(plan))
    plan.steps[0].title = "Replaced"
    again.create(workbook_spec(plan), force=True)
    sheets = google_env.spreadsheet(book.sheet_id).sheets  # the hidden tab too (issue 18), hidden again
    assert [s.title for s in sheets] == ["Plan", "Team", "Sign-off", "Timeline", "_mapsheets"]
    assert [s.props.get("hidden", False) for s in sheets] == [False] * 4 + [True]
    assert service.read_plan(book.ref, today=TODAY).plan.steps[0].title == "Replaced"


def test_a_5xx_on_a_write_is_not_repeated_a_quota_answer_is(google_env, client, plan, sleeps):
    from mapsheets.errors import RemoteError

    google_env.inject_errors(503, count=1)
    with pytest.raises(RemoteError, match="Google failed \\(HTTP 503"):
        GoogleWorkbook(None, client).create(workbook_spec(plan))  # might have been applied: no second sheet
    assert sleeps == []
    google_env.inject_errors(429, count=2)
    GoogleWorkbook(None, client).create(workbook_spec(plan))  # a 429 means nothing was done
    assert len(sleeps) == 2
