"""What the add-on says when it cannot do what was asked: a refused workbook with its reason (never
"no plan yet", so Generate is not offered), errors in the add-on's words (no CLI options), Google's
error text reduced to status and reason, and 413 for an oversize body however it is sent."""

from __future__ import annotations

import http.client
import json
import re
import threading

import pytest

from mapsheets.testing import hostile_xlsx as hostile
from tests.server import card_schema
from tests.server.conftest import GENERATE, SHEET, headers
from tests.server.test_workspace_addon import Google, _app, _buttons, _texts

AE = "ae@globex.example"
CLI_OPTION = re.compile(r"(?<![\w-])--[a-z]")
HOSTILE = {
    "zip bomb": (lambda path: hostile.shared_strings_bomb(path, 20), "refusing a zip bomb"),
    "far cell": (hostile.far_cell, "uses more than 20,000 rows (row 1,048,576"),
    "damaged": (hostile.corrupt_deflate, "is damaged"),
}


def _post(client, path, body, hdrs):
    return client.post(f"/api/{path}", json={"spreadsheet_id": SHEET, **body}, headers=hdrs)


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_a_refused_workbook_answers_its_reason_not_an_empty_sheet(client, issuer, plans_dir, kind):
    make, reason = HOSTILE[kind]
    path = make(plans_dir / f"{SHEET}.xlsx")
    before = path.read_bytes()
    answer = _post(client, "summary", {}, headers(issuer, AE))
    assert answer.status_code == 400, answer.json  # not 200 {"plan": null}: that offers Generate
    assert reason in answer.json["error"] and str(path) in answer.json["error"]
    assert "plan" not in answer.json
    assert path.read_bytes() == before


def test_a_sheet_with_no_plan_yet_still_offers_generate(client, issuer, plans_dir):
    assert _post(client, "summary", {}, headers(issuer, AE)).json["plan"] is None  # no file yet
    hostile.small(plans_dir / f"{SHEET}.xlsx")  # a readable workbook that holds no steps table
    answer = _post(client, "summary", {}, headers(issuer, AE))
    assert answer.status_code == 200 and answer.json["plan"] is None


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_the_workspace_card_shows_the_reason_and_offers_no_generate(issuer, tmp_path, plans_dir, kind):
    make, reason = HOSTILE[kind]
    make(plans_dir / f"{SHEET}.xlsx")
    app = _app(issuer, tmp_path, DEV=True, HOST="127.0.0.1", PLANS_DIR=str(plans_dir))
    try:
        card = card_schema.the_card(Google(app.test_client(), issuer, SHEET).post("homepage"))
    finally:
        app.extensions["mapsheets_store"].close()
    assert card["header"]["title"] == "This spreadsheet cannot be read as a plan"
    assert any(reason in t for t in _texts(card))
    assert "Generate MAP" not in _buttons(card) and list(_buttons(card)) == ["Try again"]


def test_add_on_errors_name_no_command_line_option(client, issuer, plans_dir):
    """Generate over a plan, and a write while the file is open in Excel: said in the add-on's
    words, with the field to change, never "--force"."""
    ae = headers(issuer, AE)
    assert _post(client, "generate", GENERATE, ae).status_code == 201
    again = _post(client, "generate", GENERATE, ae)
    assert again.status_code == 409 and again.json["field"] == "spreadsheet_id"
    assert "new spreadsheet" in again.json["error"] and not CLI_OPTION.search(again.json["error"]), again.json
    # Excel's lock file beside the plan: the step is refused, and the answer says to close it.
    (plans_dir / f"~${SHEET}.xlsx").write_bytes(bytes([10]) + b"John Smith" + b" " * 40 + b"\x00" * 100)
    busy = _post(client, "steps", {"title": "Pilot"}, ae)
    assert busy.status_code == 409 and "close it there" in busy.json["error"], busy.json
    assert not CLI_OPTION.search(busy.json["error"]), busy.json


def test_generate_over_a_google_sheet_with_a_plan_names_no_option(issuer, google_env, tmp_path, monkeypatch):
    from addon_server import create_app
    from tests.server.conftest import CLIENT_ID

    monkeypatch.delenv("MAPSHEETS_GOOGLE_TOKEN")
    sheet = google_env.create_spreadsheet("Acme deal", {"Sheet1": []})
    app = create_app({"CLIENT_ID": CLIENT_ID, "CERTS_URL": issuer.url, "DB": f"sqlite:///{tmp_path / 'g.db'}"})
    hdrs = {**headers(issuer, AE), "X-Mapsheets-Access-Token": "ya29.token"}
    try:
        client = app.test_client()
        assert client.post("/api/generate", json={"spreadsheet_id": sheet, **GENERATE}, headers=hdrs).status_code == 201
        again = client.post("/api/generate", json={"spreadsheet_id": sheet, **GENERATE}, headers=hdrs)
    finally:
        app.extensions["mapsheets_store"].close()
    assert again.status_code == 409 and not CLI_OPTION.search(again.json["error"]), again.json


def test_googles_error_text_is_reduced_to_status_and_reason():
    """Google's message can echo what was sent (a cell's text, a name): it never reaches the caller."""
    from mapsheets.adapters.gsheets import to_mapsheets_error
    from mapsheets.errors import PermissionDenied, PlanFileError, QuotaExceeded, RemoteError

    echoed = "Invalid value at 'data.values' (<script>alert(1)</script> ya29.secret)"
    body = {"error": {"code": 400, "message": echoed, "status": "INVALID_ARGUMENT",
                      "errors": [{"message": echoed, "domain": "global", "reason": "badRequest"}]}}
    cases = [(400, PlanFileError, "Google rejected the request (HTTP 400 INVALID_ARGUMENT, badRequest)"),
             (403, PermissionDenied, "no permission (HTTP 403 INVALID_ARGUMENT, badRequest)"),
             (429, QuotaExceeded, "Google kept refusing (HTTP 429 INVALID_ARGUMENT, badRequest)"),
             (503, RemoteError, "Google failed (HTTP 503 INVALID_ARGUMENT, badRequest)"),
             (418, RemoteError, "Google answered HTTP 418 INVALID_ARGUMENT, badRequest")]
    for status, kind, said in cases:
        err = to_mapsheets_error(status, body, "sheet")
        assert isinstance(err, kind) and said in str(err), (status, str(err))
        assert "script" not in str(err) and "ya29" not in str(err) and "Invalid value" not in str(err)
    # A status or reason that is not a plain code is left out too.
    odd = {"error": {"message": "x", "status": "<b>BAD</b>", "errors": [{"reason": "a b"}]}}
    assert str(to_mapsheets_error(400, odd, "sheet")) == "sheet: Google rejected the request (HTTP 400)"


def test_googles_answers_reach_the_add_on_caller_as_status_and_reason(issuer, google_env, tmp_path, monkeypatch):
    """Through the add-on, on the double: Google's message (whatever it echoed) never reaches the
    caller, and a rejected access token does not send them to a command they do not have."""
    from addon_server import create_app
    from tests.server.conftest import CLIENT_ID

    monkeypatch.delenv("MAPSHEETS_GOOGLE_TOKEN")
    sheet = google_env.create_spreadsheet("Acme deal", {"Sheet1": []})
    app = create_app({"CLIENT_ID": CLIENT_ID, "CERTS_URL": issuer.url, "DB": f"sqlite:///{tmp_path / 'g.db'}"})
    hdrs = {**headers(issuer, AE), "X-Mapsheets-Access-Token": "ya29.token"}
    echoed = "Invalid value: <b>Acme's secret</b> ya29.other-token"
    said = {}
    try:
        client = app.test_client()
        for code in (400, 401, 403, 409):  # none retried (a 5xx read is, and the unit test above has it)
            google_env.inject_errors(code, 1, "*", message=echoed)
            said[code] = client.post("/api/summary", json={"spreadsheet_id": sheet}, headers=hdrs).json
            google_env.reset()
    finally:
        app.extensions["mapsheets_store"].close()
    for code, body in said.items():
        text = body["error"]
        assert "secret" not in text and "ya29" not in text and "Invalid value" not in text, (code, text)
        assert not CLI_OPTION.search(text) and "mapsheets login" not in text, (code, text)
    assert "Google rejected the request (HTTP 400 INVALID_ARGUMENT" in said[400]["error"]
    assert "no permission (HTTP 403 PERMISSION_DENIED" in said[403]["error"]
    assert "Google answered HTTP 409" in said[409]["error"]
    assert "Google did not accept the access token" in said[401]["error"]


@pytest.fixture
def served(app):
    """The app on a real loopback HTTP server (chunked bodies need one)."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_port
    server.shutdown()


def _send(port: int, body: bytes, *, chunked: bool) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    hdrs = {"X-Mapsheets-Dev-User": AE, "Content-Type": "application/json"}
    if chunked:
        conn.request("POST", "/api/summary", body=iter([body[:100], body[100:]]), headers=hdrs, encode_chunked=True)
    else:
        conn.request("POST", "/api/summary", body=body, headers=hdrs)
    answer = conn.getresponse()
    out = answer.status, json.loads(answer.read())
    conn.close()
    return out


def test_an_oversize_body_is_413_whether_sized_or_chunked(served):
    big = json.dumps({"spreadsheet_id": SHEET, "pad": "x" * 20_000}).encode()  # MAX_BODY is 16,384
    for chunked in (False, True):
        status, body = _send(served, big, chunked=chunked)
        assert status == 413 and body["field"] == "body", (chunked, status, body)
    small = json.dumps({"spreadsheet_id": SHEET, "pad": "x" * 500}).encode()
    status, body = _send(served, small, chunked=True)
    assert status == 200 and body["plan"] is None, body
