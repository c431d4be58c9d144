"""The add-on's writes keep their audit entries when the store cannot take them (issue 17, seen 6)."""

from __future__ import annotations

from mapsheets.adapters.store import Store
from tests.server.conftest import CLIENT_ID, GENERATE, SHEET, headers


def test_a_step_added_while_the_store_is_read_only_is_said_and_logged_later(issuer, plans_dir, tmp_path):
    from addon_server import create_app

    path = tmp_path / "addon.db"
    Store(f"sqlite:///{path}").close()
    conf = {"CLIENT_ID": CLIENT_ID, "CERTS_URL": issuer.url, "DEV": True, "HOST": "127.0.0.1",
            "PLANS_DIR": str(plans_dir), "SELLER_DOMAINS": "globex.example"}
    app = create_app({**conf, "DB": f"sqlite:///file:{path}?mode=ro&uri=true"})
    client = app.test_client()
    assert client.post("/api/generate", json={"spreadsheet_id": SHEET, **GENERATE},
                       headers=headers(issuer)).status_code == 201
    added = client.post("/api/steps", json={"spreadsheet_id": SHEET, "title": "Security review"},
                        headers=headers(issuer))
    app.extensions["mapsheets_store"].close()
    assert added.status_code == 201
    assert added.json["warnings"] == ["The step is in the sheet; the audit log records it as soon as the "
                                      "server's store can"]
    assert str(tmp_path) not in added.text  # the server's paths stay on the server
    from mapsheets.service.revisions import audit

    events = audit(str(plans_dir / f"{SHEET}.xlsx"), store_url=f"sqlite:///{path}")
    assert [(e.kind, e.actor) for e in events] == [("generated", "ae@globex.example"),
                                                   ("step added", "ae@globex.example")]
    assert events[1].detail["title"] == "Security review"


def test_the_sidebar_says_when_the_step_it_added_was_dropped_by_a_stale_save(client, issuer, plans_dir):
    import io

    import openpyxl

    assert client.post("/api/generate", json={"spreadsheet_id": SHEET, **GENERATE},
                       headers=headers(issuer)).status_code == 201
    path = plans_dir / f"{SHEET}.xlsx"
    loaded = openpyxl.load_workbook(io.BytesIO(path.read_bytes()))  # another program has the plan loaded
    added = client.post("/api/steps", json={"spreadsheet_id": SHEET, "title": "Security review"},
                        headers=headers(issuer))
    assert added.status_code == 201
    summary = client.post("/api/summary", json={"spreadsheet_id": SHEET}, headers=headers(issuer)).json
    assert not any("no longer in the sheet" in w["message"] for w in summary["plan"]["warnings"])
    loaded.save(path)  # ... and saves what it loaded, after our write
    summary = client.post("/api/summary", json={"spreadsheet_id": SHEET}, headers=headers(issuer)).json
    [lost] = [w["message"] for w in summary["plan"]["warnings"] if "no longer in the sheet" in w["message"]]
    assert lost.startswith("the step 'Security review' added on ")
    assert lost.endswith(" by ae@globex.example is no longer in the sheet: it was probably overwritten by "
                         "another program's save")
