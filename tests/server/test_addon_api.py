"""The JSON API through Flask's test client: identity first (401), then authorization (403), input
(400 naming the field), size (413), then a whole flow on the .xlsx backend and on the Google double."""

from __future__ import annotations

import time

import pytest

from tests.server.conftest import CLIENT_ID, GENERATE, SHEET, headers

AE, CHAMPION, STRANGER = "ae@globex.example", "jane@acme.example", "mallory@evil.example"


def _post(client, path, body=None, hdrs=None):
    return client.post(f"/api/{path}", json={"spreadsheet_id": SHEET, **(body or {})}, headers=hdrs or {})


@pytest.fixture
def generated(client, issuer, plans_dir):
    answer = _post(client, "generate", GENERATE, headers(issuer, AE, name="Alex Exec"))
    assert answer.status_code == 201, answer.json
    return plans_dir / f"{SHEET}.xlsx"


def test_bad_identities_get_401_before_any_work(client, issuer, plans_dir):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    now = int(time.time())
    cases = {
        "missing": {},
        "forged": {"Authorization": f"Bearer {issuer.token(AE, key=other)}"},
        "garbage": {"Authorization": "Bearer not.a.token"},
        "expired": headers(issuer, AE, iat=now - 7200, exp=now - 3600),
        "wrong audience": headers(issuer, AE, aud="someone-else.apps.googleusercontent.com"),
        "wrong issuer": headers(issuer, AE, iss="https://evil.example"),
        "unverified email": headers(issuer, AE, email_verified=False),
        "no email": headers(issuer, ""),
    }
    for what, hdrs in cases.items():
        answer = _post(client, "generate", GENERATE, hdrs)
        assert answer.status_code == 401, (what, answer.json)
        assert answer.json["error"]
    assert not list(plans_dir.iterdir()), "nothing may be written for an unidentified caller"


def test_dev_identity_only_in_dev_mode_on_loopback(issuer, plans_dir, tmp_path):
    from addon_server import create_app

    prod = create_app({"CLIENT_ID": CLIENT_ID, "CERTS_URL": issuer.url, "DB": f"sqlite:///{tmp_path / 'p.db'}"})
    dev = {"X-Mapsheets-Dev-User": AE}
    assert _post(prod.test_client(), "summary", {}, dev).status_code == 401
    devapp = create_app({"DEV": True, "HOST": "127.0.0.1", "PLANS_DIR": str(plans_dir),
                         "DB": f"sqlite:///{tmp_path / 'd.db'}"})
    far = devapp.test_client().post("/api/summary", json={"spreadsheet_id": SHEET}, headers=dev,
                                    environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert far.status_code == 401
    assert _post(devapp.test_client(), "summary", {}, dev).status_code == 200
    from mapsheets.errors import UsageError

    with pytest.raises(UsageError, match="loopback"):
        create_app({"DEV": True, "HOST": "0.0.0.0", "DB": f"sqlite:///{tmp_path / 'x.db'}"})
    with pytest.raises(UsageError, match="MAPSHEETS_ADDON_CLIENT_ID"):
        create_app({"DB": f"sqlite:///{tmp_path / 'y.db'}"}, env={})
    # A fixed "today" is for demos and tests: a served plan judged as of one day is wrong the next.
    with pytest.raises(UsageError, match="MAPSHEETS_TODAY fixes the date .*: only with --dev"):
        create_app({"CLIENT_ID": CLIENT_ID, "DB": f"sqlite:///{tmp_path / 'z.db'}"},
                   env={"MAPSHEETS_TODAY": "2026-12-01"})
    with pytest.raises(UsageError, match="MAPSHEETS_TODAY '31/12' is not a date"):
        create_app({"DEV": True, "HOST": "127.0.0.1", "DB": f"sqlite:///{tmp_path / 'z.db'}"},
                   env={"MAPSHEETS_TODAY": "31/12"})


def test_certificates_are_fetched_once_while_fresh(client, issuer, generated):
    before = issuer.fetches
    for _ in range(3):
        assert _post(client, "summary", {}, headers(issuer, AE)).status_code == 200
    assert issuer.fetches - before <= 1


def test_not_on_the_plan_is_403_and_nothing_is_written(client, issuer, generated):
    before = generated.read_bytes()
    for path, body in (("steps", {"title": "Sneak in"}), ("sign", {}), ("subscription", {"every": "daily"})):
        answer = _post(client, path, body, headers(issuer, STRANGER))
        assert answer.status_code == 403, (path, answer.json)
    assert generated.read_bytes() == before


def test_a_buyer_cannot_sign_for_the_seller(client, issuer, generated):
    answer = _post(client, "sign", {"side": "seller"}, headers(issuer, CHAMPION))
    assert answer.status_code == 403 and answer.json["field"] == "side"
    ok = _post(client, "sign", {"side": "buyer"}, headers(issuer, CHAMPION))
    assert ok.status_code == 201 and ok.json["signature"]["email"] == CHAMPION


def test_an_add_on_signature_is_sealed_and_says_google_sign_in_in_the_sidebar_json(client, issuer, generated):
    assert _post(client, "sign", {"side": "buyer"}, headers(issuer, CHAMPION)).status_code == 201
    [signed] = _post(client, "summary", {}, headers(issuer, AE)).json["plan"]["signatures"]
    assert (signed["email"], signed["status"], signed["method"], signed["by"]) == (
        CHAMPION, "valid", "Google sign-in", "Google sign-in")
    assert signed["seal"].startswith("ed25519:") and signed["verified"] is True


def test_generate_asks_who_the_ae_is_and_fills_the_seller_lead_and_team(client, issuer, plans_dir):
    """Issue 20 part 6: the AE is "Name <email>", not the local part of their address."""
    from datetime import date

    from mapsheets import service

    before = _post(client, "summary", {}, headers(issuer, AE, name="Sam Rivera"))
    assert before.json["plan"] is None and before.json["me"]["name"] == "Sam Rivera"  # prefills the form
    answer = _post(client, "generate", {**GENERATE, "ae_name": "Sam Rivera"}, headers(issuer, AE))
    assert answer.status_code == 201, answer.json
    plan = service.read_plan(str(plans_dir / f"{SHEET}.xlsx"), today=date(2026, 12, 1)).plan
    assert plan.seller_lead == f"Sam Rivera <{AE}>"
    assert [(p.name, p.email) for p in plan.stakeholders if p.role == "AE"] == [("Sam Rivera", AE)]


def test_someone_on_the_plan_emails_a_link_to_sign_and_others_are_refused(client, issuer, generated):
    import os
    from pathlib import Path

    from digest_helpers import outbox_messages, text_of

    refused = _post(client, "request-signature", {"to": "Jane Doe <jane@acme.example>"}, headers(issuer, STRANGER))
    assert refused.status_code == 403
    outsider = _post(client, "request-signature", {"to": STRANGER}, headers(issuer, AE))
    assert outsider.status_code == 403
    sent = _post(client, "request-signature", {"to": f"Jane Doe <{CHAMPION}>"}, headers(issuer, AE))
    assert sent.status_code == 201, sent.json
    [message] = outbox_messages(Path(os.environ["MAPSHEETS_OUTBOX"]))
    assert message["To"] == f"Jane Doe <{CHAMPION}>" and "/sign/" in text_of(message)


def test_a_due_date_on_a_weekend_is_kept_and_said(client, issuer, generated):
    """As on the command line: kept as given, with the next business day named (no --snap here)."""
    ae = headers(issuer, AE)
    weekend = _post(client, "steps", {"title": "Board review", "due": "2027-01-16"}, ae)
    assert weekend.status_code == 201 and weekend.json["due"] == "2027-01-16"
    assert weekend.json["warnings"] == ["Due 2027-01-16 is a Saturday, not a business day: kept as given "
                                        "(the next business day is 2027-01-18)"]
    weekday = _post(client, "steps", {"title": "Legal review", "due": "2027-01-15"}, ae)
    assert weekday.status_code == 201 and weekday.json["warnings"] == []


def test_malformed_input_is_400_naming_the_field(client, issuer, generated):
    ae = headers(issuer, AE)
    cases = [
        ("steps", {"title": "  "}, "title"),
        ("steps", {"title": "x", "due": "31/02/2027"}, "due"),
        ("steps", {"title": "x", "side": "both"}, "side"),
        ("steps", {"title": "x", "depends_on": ["S-ZZZZ"]}, "depends_on"),
        ("steps", {"title": "x", "phase": "Nowhere"}, "phase"),
        ("steps", {"title": 42}, "title"),
        ("subscription", {"every": "hourly"}, "every"),
        ("summary", {"spreadsheet_id": "../etc/passwd"}, "spreadsheet_id"),
    ]
    for path, body, field in cases:
        answer = _post(client, path, body, ae)
        assert answer.status_code == 400, (path, body, answer.json)
        assert answer.json["field"] == field, (path, body, answer.json)
    answer = client.post("/api/steps", data="{not json", headers={**ae, "Content-Type": "application/json"})
    assert answer.status_code == 400 and answer.json["field"] == "body"
    answer = _post(client, "generate", {**GENERATE, "champion_email": "jane-at-acme"}, ae)
    assert answer.status_code == 400 and answer.json["field"] == "champion_email"


def test_a_body_over_the_limit_is_413(client, issuer, generated):
    answer = _post(client, "steps", {"title": "x", "notes": "n" * 20000}, headers(issuer, AE))
    assert answer.status_code == 413 and answer.json["error"]


def test_security_headers_on_everything(client, issuer, generated):
    for answer in (client.get("/sidebar"), client.get("/static/sidebar.js"), client.get("/dev"),
                   _post(client, "summary", {}, headers(issuer, AE)), _post(client, "summary", {})):
        csp = answer.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'self'" in csp and "unsafe-inline" not in csp
        assert answer.headers["X-Content-Type-Options"] == "nosniff"


def test_whole_flow_on_local_plans(client, issuer, generated):
    from mapsheets.adapters.store import Store

    ae, jane = headers(issuer, AE), headers(issuer, CHAMPION)
    first = _post(client, "summary", {}, jane).json
    assert first["plan"]["title"].startswith("Mutual Action Plan") and first["changes"]["first_look"]
    assert first["me"] == {"email": CHAMPION, "on_plan": True, "side": "buyer", "name": "Jane Doe",
                           "subscription": "off"}
    added = _post(client, "steps", {"title": "Security review call", "side": "buyer", "owners": ["Jane Doe"],
                                    "due": "2027-01-15", "phase": first["plan"]["phases"][0]}, ae)
    assert added.status_code == 201, added.json
    sign = _post(client, "sign", {}, ae)
    assert sign.status_code == 201 and sign.json["signature"]["side"] == "seller"
    again = _post(client, "sign", {}, ae)
    assert again.status_code == 200 and again.json["written"] is False  # signing twice changes nothing
    seen = _post(client, "changes", {}, jane).json
    assert not seen["first_look"] and any("Security review call" in t for t in seen["text"])
    assert _post(client, "changes", {}, jane).json["text"] == []  # looked: nothing new since
    assert _post(client, "subscription", {"every": "weekly"}, jane).json == {"every": "weekly"}
    summary = _post(client, "summary", {}, jane).json
    assert summary["me"]["subscription"] == "weekly"
    assert [(s["email"], s["status"]) for s in summary["plan"]["signatures"]] == [(AE, "valid")]
    assert _post(client, "subscription", {"every": "off"}, jane).json == {"every": "off"}
    store = Store(client.application.config["MAPSHEETS"]["DB"])
    kinds = [(e.kind, e.actor) for e in store.events()]
    store.close()
    assert ("generated", AE) in kinds and ("step added", AE) in kinds and ("signed", AE) in kinds
    assert ("subscription", CHAMPION) in kinds


def test_whole_flow_on_google_with_the_callers_token_only(issuer, google_env, tmp_path, monkeypatch, caplog):
    """The access token from Apps Script reaches the spreadsheet for that request and is kept nowhere."""
    import logging

    from addon_server import create_app

    monkeypatch.delenv("MAPSHEETS_GOOGLE_TOKEN")  # no server-wide Google credentials at all
    sheet = google_env.create_spreadsheet("Acme deal", {"Sheet1": []})
    db = tmp_path / "google.db"
    app = create_app({"CLIENT_ID": CLIENT_ID, "CERTS_URL": issuer.url, "DB": f"sqlite:///{db}",
                      "SELLER_DOMAINS": "globex.example"})
    client = app.test_client()
    secret = "ya29.access-token-" + "Q" * 24
    caplog.set_level(logging.DEBUG)

    def post(path, body, email):
        return client.post(f"/api/{path}", json={"spreadsheet_id": sheet, **body},
                           headers={**headers(issuer, email), "X-Mapsheets-Access-Token": secret})

    assert client.post("/api/summary", json={"spreadsheet_id": sheet},
                       headers=headers(issuer, AE)).status_code == 401  # no access token
    assert post("summary", {}, AE).json["plan"] is None
    assert post("generate", GENERATE, AE).status_code == 201
    google_env.reset()
    assert post("summary", {}, CHAMPION).json["plan"]["step_count"] > 10
    assert google_env.stats()["total"] == 1  # open = one read
    google_env.reset()
    assert post("steps", {"title": "Pilot kickoff"}, CHAMPION).status_code == 201
    # One read; one batchUpdate: the row appended by Google, with the progress line, bands and Timeline.
    assert google_env.stats()["methods"] == {"sheets.spreadsheets.get": 1, "sheets.spreadsheets.batchUpdate": 1}
    google_env.reset()
    assert post("sign", {}, CHAMPION).status_code == 201
    assert google_env.stats()["methods"] == {"sheets.spreadsheets.get": 1, "sheets.spreadsheets.batchUpdate": 1}
    assert post("changes", {}, CHAMPION).json["text"]
    app.extensions["mapsheets_store"].close()
    assert secret not in caplog.text
    assert secret.encode() not in db.read_bytes()
    for extra in tmp_path.glob("google.db*"):
        assert secret.encode() not in extra.read_bytes()


def test_generate_map_offers_the_mutual_plan_templates_first(client):
    """The button says "Generate MAP": the first template is a MAP, not the seller's closing plan."""
    import re

    options = re.findall(r'<option value="([^"]+)"', client.get("/sidebar").get_data(as_text=True))
    assert options[:2] == ["enterprise-map", "midmarket-map"] and "closing-plan" in options[2:]


def test_dev_mode_answers_only_requests_to_a_loopback_name(client, generated):
    """DNS rebinding: a page on attacker.example resolved to 127.0.0.1 must not reach dev mode,
    where a header names the user and /dev/grid shows the plan."""
    dev = {"X-Mapsheets-Dev-User": "ae@globex.example"}
    for host in ("attacker.example", "attacker.example:8000", "127.0.0.1.nip.example"):
        assert client.post("/api/summary", json={"spreadsheet_id": SHEET}, headers={**dev, "Host": host}
                           ).status_code == 403
        assert client.get(f"/dev/grid?sheet={SHEET}", headers={"Host": host}).status_code == 403
    for host in ("127.0.0.1:8000", "localhost", "[::1]:8000"):
        assert client.get("/sidebar", headers={"Host": host}).status_code == 200


def test_json_nested_past_the_parser_is_400_not_500(client, issuer, generated):
    body = '{"spreadsheet_id": "' + SHEET + '", "x": ' + "[" * 3000 + "]" * 3000 + "}"
    answer = client.post("/api/summary", data=body, content_type="application/json", headers=headers(issuer))
    assert answer.status_code == 400 and answer.json["field"] == "body"


def test_a_production_server_without_seller_domains_warns_at_start(issuer, tmp_path, caplog):
    """Sides would come from the Team tab, which buyers can edit: say so where operators look."""
    import logging

    from addon_server import create_app

    caplog.set_level(logging.WARNING)
    create_app({"CLIENT_ID": CLIENT_ID, "CERTS_URL": issuer.url, "DB": f"sqlite:///{tmp_path / 'w.db'}"})
    assert "MAPSHEETS_SELLER_DOMAINS is not set" in caplog.text
    caplog.clear()
    create_app({"CLIENT_ID": CLIENT_ID, "CERTS_URL": issuer.url, "DB": f"sqlite:///{tmp_path / 'v.db'}",
                "SELLER_DOMAINS": "globex.example"})
    assert "MAPSHEETS_SELLER_DOMAINS" not in caplog.text
