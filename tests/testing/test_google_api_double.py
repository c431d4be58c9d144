"""Behaviour of the Google API double over real HTTP."""
import datetime as dt
import json
import os
import subprocess
import sys
from urllib.parse import quote

import pytest
import requests
from rebasing_session import rebasing_session

from mapsheets.adapters.gsheets_client import rebase_url
from mapsheets.testing.google_api import GoogleApiDouble

AUTH = {"Authorization": "Bearer anything"}


@pytest.fixture()
def g():
    with GoogleApiDouble(seed=1) as double:
        yield double


def call(g, method, path, body=None, **params):
    return requests.request(method, g.root + path, json=body, params=params, headers=AUTH)


def vals(g, sid, rng, **params):
    return call(g, "GET", f"/v4/spreadsheets/{sid}/values/{quote(rng, safe='')}", **params)


def test_missing_auth_is_401(g):
    r = requests.get(g.root + "/v4/spreadsheets/x")
    assert r.status_code == 401
    assert r.json()["error"]["status"] == "UNAUTHENTICATED"


def test_unknown_spreadsheet_is_404(g):
    r = call(g, "GET", "/v4/spreadsheets/nope")
    assert r.status_code == 404
    assert r.json() == {"error": {"code": 404, "message": "Requested entity was not found.", "status": "NOT_FOUND"}}


def test_private_spreadsheet_is_403(g):
    sid = g.create_spreadsheet("Mine")
    g.set_private(sid)
    assert call(g, "GET", f"/v4/spreadsheets/{sid}").json()["error"]["status"] == "PERMISSION_DENIED"
    assert call(g, "GET", f"/drive/v3/files/{sid}").status_code == 404


def test_unknown_field_is_invalid_argument(g):
    sid = g.create_spreadsheet("T")
    r = call(g, "POST", f"/v4/spreadsheets/{sid}:batchUpdate", {"requests": [{"foo": {}}]})
    assert r.status_code == 400
    err = r.json()["error"]
    assert err["status"] == "INVALID_ARGUMENT"
    assert err["message"] == "Invalid JSON payload received. Unknown name \"foo\" at 'requests[0]': Cannot find field."


@pytest.mark.parametrize("request_body,fragment", [
    ({"requests": [{"addSheet": {"properties": {"index": "abc"}}}]},
     "'requests[0].add_sheet.properties.index' (TYPE_INT32)"),
    ({"requests": [{"addSheet": {"properties": {"hidden": "yes"}}}]}, "(TYPE_BOOL)"),
    ({"requests": [{"mergeCells": {"mergeType": "DIAGONAL"}}]}, "MergeCellsRequest.MergeType"),
    ({"requests": [{"addSheet": {"properties": {"gridProperties": {"bogus": 1}}}}]},
     "Unknown name \"bogus\" at 'requests[0].add_sheet.properties.grid_properties'"),
])
def test_wrong_types_are_400(g, request_body, fragment):
    sid = g.create_spreadsheet("T")
    r = call(g, "POST", f"/v4/spreadsheets/{sid}:batchUpdate", request_body)
    assert r.status_code == 400, r.text
    assert fragment in r.json()["error"]["message"]


def test_values_wrong_shape_matches_google_message(g):
    sid = g.create_spreadsheet("T")
    r = call(g, "PUT", f"/v4/spreadsheets/{sid}/values/A1", {"values": "X"}, valueInputOption="RAW")
    assert r.json()["error"]["message"] == \
        "Invalid value at 'data.values' (type.googleapis.com/google.protobuf.ListValue), \"X\""


def test_bad_query_enum_is_400(g):
    sid = g.create_spreadsheet("T")
    r = vals(g, sid, "A1", valueRenderOption="PRETTY")
    assert r.status_code == 400 and "value_render_option" in r.json()["error"]["message"]


def test_user_entered_and_render_options(g):
    sid = g.create_spreadsheet("T", sheets={"My Sheet": []})
    rows = [["=4/2", "2027-03-15", "3/15/2027", "'0042", "TRUE", "1,234.50"]]
    r = call(g, "PUT", f"/v4/spreadsheets/{sid}/values/{quote(chr(39) + 'My Sheet' + chr(39) + '!A1')}",
             {"values": rows}, valueInputOption="USER_ENTERED")
    assert r.json()["updatedRange"] == "'My Sheet'!A1:F1"
    fmt = vals(g, sid, "'My Sheet'!A1:F1").json()["values"][0]
    assert fmt == ["2", "2027-03-15", "3/15/2027", "0042", "TRUE", "1,234.50"]
    raw = vals(g, sid, "'My Sheet'", valueRenderOption="UNFORMATTED_VALUE").json()
    assert raw["range"] == "'My Sheet'!A1:Z1000"
    assert raw["values"][0] == [2, 46461, 46461, "0042", True, 1234.5]
    assert vals(g, sid, "'My Sheet'!B1", valueRenderOption="UNFORMATTED_VALUE",
                dateTimeRenderOption="FORMATTED_STRING").json()["values"] == [["2027-03-15"]]
    assert vals(g, sid, "'My Sheet'!A1", valueRenderOption="FORMULA").json()["values"] == [["=4/2"]]


def test_raw_keeps_strings_and_trims_trailing_empties(g):
    sid = g.create_spreadsheet("T")
    call(g, "PUT", f"/v4/spreadsheets/{sid}/values/A1", {"values": [["=1+1", "", "x", ""], ["", ""], ["5"]]},
         valueInputOption="RAW")
    body = vals(g, sid, "Sheet1!A1:D5", valueRenderOption="UNFORMATTED_VALUE").json()
    assert body == {"range": "Sheet1!A1:D5", "majorDimension": "ROWS", "values": [["=1+1", "", "x"], [], ["5"]]}
    cols = vals(g, sid, "A:C", majorDimension="COLUMNS").json()
    assert cols["range"] == "Sheet1!A1:C1000" and cols["values"] == [["=1+1", "", "5"], [], ["x"]]


def test_unknown_sheet_in_range_is_400(g):
    sid = g.create_spreadsheet("T")
    r = vals(g, sid, "'Nope'!A1")
    assert r.status_code == 400 and r.json()["error"]["message"] == "Unable to parse range: 'Nope'!A1"


def test_append_detects_table(g):
    sid = g.create_spreadsheet("T", sheets={"Sheet1": [["h1", "h2"], ["a", "b"]]})
    r = call(g, "POST", f"/v4/spreadsheets/{sid}/values/Sheet1:append", {"values": [["c", "d"]]},
             valueInputOption="RAW")
    assert r.json()["tableRange"] == "Sheet1!A1:B2"
    assert r.json()["updates"]["updatedRange"] == "Sheet1!A3:B3"


def test_injected_429_then_success(g):
    sid = g.create_spreadsheet("T")
    g.inject_errors(429, count=2, method="sheets.spreadsheets.values.get")
    codes = [vals(g, sid, "A1").status_code for _ in range(3)]
    assert codes == [429, 429, 200]
    assert vals(g, sid, "A1").status_code == 200
    assert g.stats()["methods"]["sheets.spreadsheets.values.get"] == 4


def test_injection_over_http_and_drive_rate_limit_shape(g):
    r = requests.post(g.root + "/__double__/inject", json={"code": 403, "method": "drive.files.list"})
    assert r.status_code == 200
    err = call(g, "GET", "/drive/v3/files").json()["error"]
    assert err["code"] == 403 and err["errors"][0]["reason"] == "userRateLimitExceeded"
    assert err["errors"][0]["domain"] == "usageLimits"
    assert call(g, "GET", "/drive/v3/files").status_code == 200
    requests.post(g.root + "/__double__/inject", json={"code": 503, "count": 1})
    assert call(g, "GET", "/drive/v3/files").json()["error"]["status"] == "UNAVAILABLE"


def test_stats_endpoint_and_reset(g):
    call(g, "GET", "/drive/v3/files")
    call(g, "GET", "/drive/v3/files")
    stats = requests.get(g.root + "/__double__/stats").json()
    assert stats == {"total": 2, "methods": {"drive.files.list": 2}}
    requests.post(g.root + "/__double__/reset", json={})
    assert requests.get(g.root + "/__double__/stats").json() == {"total": 0, "methods": {}}


def test_writes_bump_modified_time_and_user(g):
    g.clock = dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    sid = call(g, "POST", "/drive/v3/files",
               {"name": "Plan", "mimeType": "application/vnd.google-apps.spreadsheet"}).json()["id"]
    g.clock.advance(minutes=5)
    requests.put(g.root + f"/v4/spreadsheets/{sid}/values/A1", params={"valueInputOption": "RAW"},
                 json={"values": [["x"]]}, headers={**AUTH, "X-Double-User": "Ann Lee <ann@example.com>"})
    meta = call(g, "GET", f"/drive/v3/files/{sid}", fields="modifiedTime,createdTime,lastModifyingUser").json()
    assert meta["createdTime"] == "2030-01-02T03:04:05.000Z"
    assert meta["modifiedTime"] == "2030-01-02T03:09:05.000Z"
    assert meta["lastModifyingUser"]["emailAddress"] == "ann@example.com"


def test_revisions_list_says_who_saved_when_paged(g):
    g.clock = dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    sid = call(g, "POST", "/drive/v3/files",
               {"name": "Plan", "mimeType": "application/vnd.google-apps.spreadsheet"}).json()["id"]
    for who in ("Ann Lee <ann@example.com>", "bo@example.com"):
        g.clock.advance(minutes=5)
        requests.put(g.root + f"/v4/spreadsheets/{sid}/values/A1", params={"valueInputOption": "RAW"},
                     json={"values": [["x"]]}, headers={**AUTH, "X-Double-User": who})
    fields = "nextPageToken,revisions(modifiedTime,lastModifyingUser(emailAddress))"
    page = call(g, "GET", f"/drive/v3/files/{sid}/revisions", fields=fields, pageSize=2).json()
    assert page["revisions"] == [{"modifiedTime": "2030-01-02T03:04:05.000Z",
                                  "lastModifyingUser": {"emailAddress": "tester@example.com"}},
                                 {"modifiedTime": "2030-01-02T03:09:05.000Z",
                                  "lastModifyingUser": {"emailAddress": "ann@example.com"}}]
    rest = call(g, "GET", f"/drive/v3/files/{sid}/revisions", fields=fields, pageToken=page["nextPageToken"]).json()
    assert rest == {"revisions": [{"modifiedTime": "2030-01-02T03:14:05.000Z",
                                   "lastModifyingUser": {"emailAddress": "bo@example.com"}}]}
    assert call(g, "GET", f"/drive/v3/files/{sid}/revisions", pageSize=1001).status_code == 400
    assert call(g, "GET", "/drive/v3/files/nope/revisions").status_code == 404
    assert g.stats()["methods"]["drive.revisions.list"] == 4


def test_drive_query_paging_and_permissions(g):
    g.clock = dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)
    for i in range(3):
        g.clock.advance(days=1)
        g.create_spreadsheet(f"Plan {i}")
    q = "mimeType = 'application/vnd.google-apps.spreadsheet' and name contains 'plan' and trashed = false " \
        "and modifiedTime > '2030-01-02T12:00:00Z'"
    page = call(g, "GET", "/drive/v3/files", q=q, pageSize=1, orderBy="name").json()
    assert [f["name"] for f in page["files"]] == ["Plan 1"] and "nextPageToken" in page
    nxt = call(g, "GET", "/drive/v3/files", q=q, pageSize=1, orderBy="name", pageToken=page["nextPageToken"]).json()
    assert [f["name"] for f in nxt["files"]] == ["Plan 2"] and "nextPageToken" not in nxt
    fid = page["files"][0]["id"]
    perm = call(g, "POST", f"/drive/v3/files/{fid}/permissions",
                {"role": "commenter", "type": "user", "emailAddress": "bo@example.com"},
                sendNotificationEmail="false").json()
    assert perm["role"] == "commenter"
    listed = call(g, "GET", f"/drive/v3/files/{fid}/permissions", fields="permissions(role,emailAddress)").json()
    assert {"role": "commenter", "emailAddress": "bo@example.com"} in listed["permissions"]


def test_create_with_grid_and_get_with_ranges(g):
    body = {"properties": {"title": "Full"}, "sheets": [{
        "properties": {"title": "Plan", "gridProperties": {"rowCount": 10, "columnCount": 5, "frozenRowCount": 1}},
        "data": [{"rowData": [{"values": [{"userEnteredValue": {"stringValue": "Step"}},
                                          {"userEnteredValue": {"numberValue": 3},
                                           "dataValidation": {"condition": {
                                               "type": "ONE_OF_LIST", "values": [{"userEnteredValue": "3"}]}}}]}]}],
        "protectedRanges": [{"range": {"sheetId": 0, "startRowIndex": 0, "endRowIndex": 1}, "warningOnly": True}],
    }]}
    created = call(g, "POST", "/v4/spreadsheets", body).json()
    sid = created["spreadsheetId"]
    assert created["sheets"][0]["properties"]["gridProperties"]["frozenRowCount"] == 1
    got = call(g, "GET", f"/v4/spreadsheets/{sid}", ranges="Plan!A1:B1", includeGridData="true").json()
    cells = got["sheets"][0]["data"][0]["rowData"][0]["values"]
    assert cells[1]["effectiveValue"] == {"numberValue": 3} and "dataValidation" in cells[1]
    assert vals(g, sid, "Plan!A1:B1").json()["values"] == [["Step", "3"]]


def test_hidden_sheets_in_create_and_add_sheet_as_google_keeps_them(g):
    """Issue 18: plans carry a hidden tab. Google keeps `hidden` only when true, refuses to hide them all."""
    body = {"properties": {"title": "H"}, "sheets": [{"properties": {"title": "Plan", "hidden": False}},
                                                       {"properties": {"title": "_mapsheets", "hidden": True}}]}
    created = call(g, "POST", "/v4/spreadsheets", body).json()
    assert [s["properties"].get("hidden") for s in created["sheets"]] == [None, True]
    sid = created["spreadsheetId"]
    got = call(g, "GET", f"/v4/spreadsheets/{sid}", fields="sheets.properties(title,hidden)").json()
    assert got["sheets"] == [{"properties": {"title": "Plan"}}, {"properties": {"title": "_mapsheets", "hidden": True}}]
    added = call(g, "POST", f"/v4/spreadsheets/{sid}:batchUpdate",
                 {"requests": [{"addSheet": {"properties": {"title": "More", "hidden": True}}}]}).json()
    assert added["replies"][0]["addSheet"]["properties"]["hidden"] is True
    everything_hidden = {"properties": {"title": "X"}, "sheets": [{"properties": {"title": "A", "hidden": True}}]}
    r = call(g, "POST", "/v4/spreadsheets", everything_hidden)
    assert r.status_code == 400 and "can't hide all the sheets" in r.json()["error"]["message"]
    wrong = call(g, "POST", f"/v4/spreadsheets/{sid}:batchUpdate",
                 {"requests": [{"addSheet": {"properties": {"title": "Y", "hidden": "yes"}}}]})
    assert wrong.status_code == 400  # the discovery document says boolean


def test_gspread_through_rebasing_session(g):
    gspread = pytest.importorskip("gspread")
    assert rebase_url("https://sheets.googleapis.com/v4/spreadsheets/x", g.root) == g.root + "/v4/spreadsheets/x"
    gc = gspread.Client(None, session=rebasing_session(g.root))
    sh = gc.create("Via gspread")
    sh.sheet1.update([["a", "b"], [1, 2]], "A1")
    assert sh.sheet1.get_all_records() == [{"a": 1, "b": 2}]
    assert g.stats()["methods"]["drive.files.create"] == 1


def test_python_m_startup():
    proc = subprocess.Popen([sys.executable, "-m", "mapsheets.testing.google_api", "--port", "0"],
                            stdout=subprocess.PIPE, text=True)
    try:
        root = proc.stdout.readline().strip()
        assert root.startswith("http://127.0.0.1:")
        r = requests.post(root + "/__double__/inject", data=json.dumps({"code": 500}))
        assert r.status_code == 200
        assert requests.get(root + "/drive/v3/files", headers=AUTH).status_code == 500
        assert requests.get(root + "/__double__/stats").json()["methods"] == {"drive.files.list": 1}
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0


def test_python_m_without_the_testing_extra_refuses_to_start(tmp_path):
    """No google-api-python-client: one line naming the extra, exit 1, instead of a server that
    prints its URL and then drops every connection."""
    shim = tmp_path / "shim" / "googleapiclient"
    shim.mkdir(parents=True)
    (shim / "__init__.py").write_text("raise ImportError('No module named googleapiclient (test shim)')\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(shim.parent), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, "-m", "mapsheets.testing.google_api", "--port", "0"], env=env,
                          capture_output=True, text=True, timeout=20)
    assert proc.returncode == 1
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), proc.stderr
    assert "pip install 'mapsheets[testing]'" in lines[0]

def _recording(name: str):
    """A recorded Google exchange (gspread's cassettes), wherever the shared recordings are."""
    from pathlib import Path

    for base in Path(__file__).resolve().parents:
        path = base / "shared" / "google-recordings" / "gspread-cassettes" / name
        if path.is_file():
            return json.loads(path.read_text(encoding="utf-8"))["interactions"]
    return None


# What Google answered (WorksheetTest.test_get_notes, interaction 8) for the notes of a sheet with
# notes at A1, B2, A3 and C3: no trailing empty cells, no trailing empty rows.
NOTES_ANSWER = {"sheets": [{"data": [{"rowData": [
    {"values": [{"note": "read my note"}]},
    {"values": [{}, {"note": "Or don't"}]},
    {"values": [{"note": "another note"}, {}, {"note": "test"}]}]}]}]}


def test_masked_get_omits_cells_left_empty_by_the_mask(g):
    """Google sizes masked grid data by what the mask kept: cells holding values but no note come
    back as nothing after the last note of a row, and rows without notes after the last one not at all."""
    recorded = _recording("WorksheetTest.test_get_notes.json")
    if recorded is not None:
        assert json.loads(recorded[8]["response"]["body"]["string"]) == NOTES_ANSWER
        notes = json.loads(recorded[6]["request"]["body"])
    else:
        notes = {"requests": [
            {"updateCells": {"range": {"sheetId": 0, "startRowIndex": r, "endRowIndex": r + 1, "startColumnIndex": c,
                                       "endColumnIndex": c + 1}, "fields": "note", "rows": [{"values": [{"note": n}]}]}}
            for r, c, n in [(0, 0, "read my note"), (1, 1, "Or don't"), (2, 0, "another note"), (2, 2, "test")]]}
    sid = g.create_spreadsheet("Notes", {"Sheet1": [["a", "b", "c", "d"], ["e", "f", "g"], ["h", "i", "j", "k"],
                                                    ["l"]]})
    sheet_id = call(g, "GET", f"/v4/spreadsheets/{sid}").json()["sheets"][0]["properties"]["sheetId"]
    for req in notes["requests"]:
        req["updateCells"]["range"]["sheetId"] = sheet_id
    assert call(g, "POST", f"/v4/spreadsheets/{sid}:batchUpdate", notes).status_code == 200
    answer = call(g, "GET", f"/v4/spreadsheets/{sid}", fields="sheets.data.rowData.values.note", ranges="'Sheet1'")
    assert answer.json() == NOTES_ANSWER
    # The same with includeGridData=true and a parenthesised mask, the form mapsheets reads with.
    grid = call(g, "GET", f"/v4/spreadsheets/{sid}", includeGridData="true",
                fields="sheets(data(rowData(values(note))))").json()
    assert grid == NOTES_ANSWER


def test_a_developer_metadata_id_is_created_once_and_a_second_create_fails_the_whole_batch(g):
    sid = g.create_spreadsheet("T", sheets={"Sheet1": [["h"]]})
    meta = {"createDeveloperMetadata": {"developerMetadata": {
        "metadataId": 77, "metadataKey": "k", "location": {"spreadsheet": True}, "visibility": "DOCUMENT"}}}
    append = {"appendCells": {"sheetId": 0, "fields": "userEnteredValue",
                              "rows": [{"values": [{"userEnteredValue": {"stringValue": "row"}}]}]}}
    first = call(g, "POST", f"/v4/spreadsheets/{sid}:batchUpdate", {"requests": [meta, append]})
    assert first.status_code == 200
    assert first.json()["replies"][0]["createDeveloperMetadata"]["developerMetadata"]["metadataId"] == 77
    second = call(g, "POST", f"/v4/spreadsheets/{sid}:batchUpdate", {"requests": [meta, append]})
    assert second.status_code == 400 and "already exists" in second.json()["error"]["message"]
    assert g.values(sid, "Sheet1!A1:A9") == [["h"], ["row"]]  # the refused batch appended nothing
    found = call(g, "GET", f"/v4/spreadsheets/{sid}/developerMetadata/77")
    assert found.status_code == 200 and found.json()["metadataKey"] == "k"
    assert call(g, "GET", f"/v4/spreadsheets/{sid}/developerMetadata/78").status_code == 404
