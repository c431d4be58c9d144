"""Issue 21 part 2 through the JSON API: My steps on open, a step's status or due date set with the
rules of a cell edit, one read and one write on Google (counted at the double), the plan lock on
.xlsx across server processes, the audit entry with the verified email, every field gated."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from tests.server.conftest import CLIENT_ID, GENERATE, SHEET, headers
from tests.server.test_addon_concurrency import _at_once
from tests.server_process import DevServer

AE, CHAMPION, STRANGER = "ae@globex.example", "jane@acme.example", "mallory@evil.example"


def _post(client, path, body, hdrs):
    return client.post(f"/api/{path}", json={"spreadsheet_id": SHEET, **body}, headers=hdrs)


@pytest.fixture
def generated(client, issuer, plans_dir):
    assert _post(client, "generate", GENERATE, headers(issuer, AE)).status_code == 201
    return plans_dir / f"{SHEET}.xlsx"


def _bands(rows) -> dict[str, str]:
    found = [v for row in rows for v in row if isinstance(v, str) and v.startswith("▸")]
    return {v.split("·")[0].strip("▸ ").strip(): v for v in found}


def test_on_google_one_read_and_one_write_and_a_signature_stale_only_when_a_commitment_moves(
        issuer, google_env, tmp_path, monkeypatch):
    from addon_server import create_app
    from mapsheets.adapters.store import Store

    monkeypatch.delenv("MAPSHEETS_GOOGLE_TOKEN")  # the caller's token only
    sheet = google_env.create_spreadsheet("Acme deal", {"Sheet1": []})
    app = create_app({"CLIENT_ID": CLIENT_ID, "CERTS_URL": issuer.url, "DB": f"sqlite:///{tmp_path / 'g.db'}",
                      "SELLER_DOMAINS": "globex.example"})
    client = app.test_client()

    def post(path, body, email):
        return client.post(f"/api/{path}", json={"spreadsheet_id": sheet, **body},
                           headers={**headers(issuer, email), "X-Mapsheets-Access-Token": "ya29.user-token"})

    assert post("generate", GENERATE, AE).status_code == 201
    assert post("sign", {}, AE).status_code == 201
    opened = post("summary", {}, CHAMPION).json
    mine = opened["my_steps"]["mine"]
    assert mine and all("Jane Doe" in s["owners"] for s in mine)
    assert all("Jane Doe" not in s["owners"] for s in opened["my_steps"]["next"])
    dues = [s["due"] for s in mine]
    assert dues == sorted(dues)  # soonest first
    step = mine[0]
    before = _bands(google_env.values(sheet, "Plan!A1:J80"))[step["phase"]]

    google_env.reset()
    done = post("step-status", {"step": step["id"], "status": "done"}, CHAMPION)
    assert done.status_code == 200, done.json
    assert google_env.stats()["methods"] == {"sheets.spreadsheets.get": 1, "sheets.spreadsheets.batchUpdate": 1}
    assert done.json["step"]["status"] == "done" and done.json["signatures"] == ["valid"]
    assert done.json["progress"]["done"] == opened["plan"]["progress"]["done"] + 1
    after = _bands(google_env.values(sheet, "Plan!A1:J80"))[step["phase"]]
    assert before.endswith("0/2 done") and after.endswith("1/2 done"), (before, after)
    assert done.json["step"]["band"] == "1/2 done"

    google_env.reset()
    moved = post("step-status", {"step": mine[1]["id"], "due": "2027-02-01"}, CHAMPION)
    assert google_env.stats()["methods"] == {"sheets.spreadsheets.get": 1, "sheets.spreadsheets.batchUpdate": 1}
    assert moved.json["changed"] == ["due"] and moved.json["signatures"] == ["stale"]
    now = post("summary", {}, AE).json
    assert [s["status"] for s in now["plan"]["signatures"]] == ["stale"]
    assert now["plan"]["progress"]["done"] == done.json["progress"]["done"]

    store = Store(f"sqlite:///{tmp_path / 'g.db'}")
    entries = [(e.actor, e.detail.get("id"), e.detail.get("status"), e.detail.get("due"))
               for e in store.audit.events() if e.kind == "step updated"]
    store.close()
    app.extensions["mapsheets_store"].close()
    assert entries == [(CHAMPION, step["id"], ["not started", "done"], None),
                       (CHAMPION, mine[1]["id"], None, [mine[1]["due"], "2027-02-01"])]


def test_every_field_is_gated_and_refused_in_one_line_naming_it(client, issuer, generated):
    import openpyxl

    jane = headers(issuer, CHAMPION)
    step = _post(client, "summary", {}, jane).json["my_steps"]["mine"][0]["id"]
    cases = [
        ({"step": step, "status": "finished"}, 400, "status"),
        ({"step": step, "status": "blocked"}, 400, "reason"),
        ({"step": step, "status": "blocked", "reason": "x" * 501}, 400, "reason"),
        ({"step": step, "due": "2027-13-01"}, 400, "due"),
        ({"step": step, "due": "1900-01-01"}, 400, "due"),
        ({"step": step}, 400, "status"),
        ({"step": "S-ZZZZ", "status": "done"}, 400, "step"),
        ({"step": "", "status": "done"}, 400, "step"),
        ({"step": step, "status": ["done"]}, 400, "status"),
    ]
    before = generated.read_bytes()
    for body, code, field in cases:
        answer = _post(client, "step-status", body, jane)
        assert (answer.status_code, answer.json.get("field")) == (code, field), (body, answer.json)
        assert "\n" not in answer.json["error"] and "Traceback" not in answer.json["error"]
    refused = _post(client, "step-status", {"step": step, "status": "done"}, headers(issuer, STRANGER))
    assert refused.status_code == 403
    assert _post(client, "step-status", {"step": step, "status": "done"}, {}).status_code == 401
    assert generated.read_bytes() == before  # nothing written for any of them

    # A reason that looks like a formula, with a control character: text in Notes, the character removed and said.
    blocked = _post(client, "step-status", {"step": step.lower(), "status": "Blocked",
                                            "reason": "=HYPERLINK(\"http://evil\")\x07"}, jane)
    assert blocked.status_code == 200, blocked.json
    assert blocked.json["warnings"] and blocked.json["step"]["status"] == "blocked"
    sheet = openpyxl.load_workbook(generated)["Plan"]
    notes = [c for row in sheet.iter_rows() for c in row if isinstance(c.value, str) and "HYPERLINK" in c.value]
    assert len(notes) == 1 and notes[0].data_type == "s"
    assert notes[0].value == f'Blocked (2026-12-01, {CHAMPION}): =HYPERLINK("http://evil")'


def test_two_server_processes_mark_steps_done_at_once_and_none_is_lost(tmp_path):
    from datetime import date

    from mapsheets.service import read_plan

    plans = tmp_path / "plans"
    plans.mkdir()
    db = f"sqlite:///{tmp_path / 'state.db'}"
    servers = [DevServer(plans, db, tmp_path / f"server{i}.log") for i in range(2)]
    try:
        ae = {"X-Mapsheets-Dev-User": AE}
        first = servers[0].url
        made = requests.post(f"{first}/api/generate", json={"spreadsheet_id": "acme", **GENERATE}, headers=ae,
                             timeout=60)
        assert made.status_code == 201, made.text
        path = Path(plans / "acme.xlsx")
        ids = [s.id for s in read_plan(str(path), today=date(2026, 12, 1)).plan.steps][:8]
        answers = _at_once(len(ids), lambda i: requests.post(
            f"{servers[i % 2].url}/api/step-status", json={"spreadsheet_id": "acme", "step": ids[i], "status": "done"},
            headers=ae, timeout=120))
        assert [a.status_code for a in answers] == [200] * len(ids), [a.text for a in answers]
        plan = read_plan(str(path), today=date(2026, 12, 1)).plan
        assert [plan.step(i).status for i in ids] == ["done"] * len(ids)
        assert [plan.step(i).done_on for i in ids] == [date(2026, 12, 1)] * len(ids)
    finally:
        for server in servers:
            server.stop()
