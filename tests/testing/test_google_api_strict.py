"""The Google API double acting as Google does (``act_as_google``): a token is one user's, and a
sheet opens only for users it is shared with; the default (any token, every sheet) stays."""

from __future__ import annotations

import json

import pytest
import requests

from mapsheets.testing.google_api import GoogleApiDouble
from tests.conformance.test_cassettes import CASSETTES

RECORDING = CASSETTES / "ClientTest.test_access_private_spreadsheet.json"
OWNER, ROBOT = "ae@globex.example", "digest@mapsheets-prod.iam.gserviceaccount.com"


@pytest.fixture()
def g():
    with GoogleApiDouble(seed=3) as double:
        double.act_as_google({"owner-token": OWNER, "robot-token": ROBOT})
        yield double


def get(g, path: str, token: str) -> requests.Response:
    return requests.get(g.root + path, headers={"Authorization": f"Bearer {token}"}, timeout=10)


def test_a_sheet_not_shared_with_the_caller_is_refused_as_google_refuses_it(g):
    sid = g.create_spreadsheet("Plan", user=OWNER)
    assert get(g, f"/v4/spreadsheets/{sid}", "owner-token").status_code == 200
    refused = get(g, f"/v4/spreadsheets/{sid}", "robot-token")
    assert refused.status_code == 403
    expected = {"error": {"code": 403, "message": "The caller does not have permission", "status": "PERMISSION_DENIED"}}
    assert refused.json() == expected
    if RECORDING.exists():  # the same body Google sent for a sheet nobody shared (recorded by gspread)
        recorded = [i["response"] for i in json.loads(RECORDING.read_text())["interactions"]
                    if i["response"]["status"]["code"] == 403]
        assert [json.loads(r["body"]["string"]) for r in recorded] == [expected]
    assert get(g, f"/drive/v3/files/{sid}", "robot-token").status_code == 404  # Drive: "File not found"
    listed = get(g, "/drive/v3/files", "robot-token").json()["files"]
    assert sid not in [f["id"] for f in listed]


def test_sharing_opens_it_and_an_unknown_token_is_401(g):
    sid = g.create_spreadsheet("Plan", user=OWNER)
    g.share(sid, ROBOT)
    assert get(g, f"/v4/spreadsheets/{sid}/values/A1", "robot-token").status_code == 200
    assert get(g, f"/v4/spreadsheets/{sid}", "made-up-token").json()["error"]["status"] == "UNAUTHENTICATED"
    g.add_token("fresh-token", OWNER)
    assert get(g, f"/v4/spreadsheets/{sid}", "fresh-token").status_code == 200


def test_acting_leniently_again_opens_everything_to_any_token(g):
    sid = g.create_spreadsheet("Plan", user=OWNER)
    g.act_leniently()
    assert get(g, f"/v4/spreadsheets/{sid}", "anything").status_code == 200
