"""Who may do what, through the JSON API and the Workspace cards: tokens whose email is not verified,
system tokens used for another URL, the dev header outside dev mode, sides decided by the seller's
domains (not by what anyone typed on the Team tab), the file-scope event and the step pages."""

from __future__ import annotations

import pytest

from mapsheets.adapters.xlsx import write_workbook
from mapsheets.core.layout import workbook_spec
from mapsheets.core.model import Stakeholder
from tests.server import card_schema
from tests.server.conftest import CLIENT_ID, GENERATE, MISSING, SHEET, headers
from tests.server.test_workspace_addon import (
    AE,
    PUBLIC,
    SERVICE_ACCOUNT,
    Google,
    _app,
    _big_plan,
    _buttons,
    _click,
    _texts,
    form,
)
from tests.server.test_workspace_addon import (
    GENERATE as CARD_GENERATE,
)

JANE, EVE = "jane@acme.example", "eve@evilglobex.example"
UNVERIFIED = {"missing": MISSING, "null": None, "false": False, "text false": "false", "zero": 0, "one": 1,
              "text True": "True"}


def _post(client, path, body, hdrs):
    return client.post(f"/api/{path}", json={"spreadsheet_id": SHEET, **body}, headers=hdrs)


# -- identity ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("what", list(UNVERIFIED))
def test_a_user_token_without_a_verified_email_is_401(client, issuer, plans_dir, what):
    answer = _post(client, "generate", GENERATE, headers(issuer, AE, email_verified=UNVERIFIED[what]))
    assert answer.status_code == 401 and "verified email" in answer.json["error"], answer.json
    assert not list(plans_dir.iterdir())
    for verified in (True, "true"):  # what Google sends (older tokens: the text)
        assert _post(client, "summary", {}, headers(issuer, AE, email_verified=verified)).status_code == 200


@pytest.fixture
def workspace(issuer, google_env, tmp_path, monkeypatch):
    monkeypatch.delenv("MAPSHEETS_GOOGLE_TOKEN")
    sheet = google_env.create_spreadsheet("Acme deal", {"Sheet1": []})
    app = _app(issuer, tmp_path)
    yield Google(app.test_client(), issuer, sheet), google_env
    app.extensions["mapsheets_store"].close()


@pytest.mark.parametrize("what", list(UNVERIFIED))
def test_a_workspace_user_token_without_a_verified_email_is_401(workspace, what):
    google, double = workspace
    answer = google.raw("homepage", google.event(email_verified=UNVERIFIED[what]))
    assert answer.status_code == 401, answer.json
    assert double.stats()["total"] == 0


@pytest.mark.parametrize("what", ["false", "missing", "text false", "null"])
def test_a_system_token_of_the_right_account_and_url_but_unverified_email_is_401(workspace, what):
    google, double = workspace
    path = "/workspace/homepage"
    token = google.issuer.token(SERVICE_ACCOUNT, aud=PUBLIC + path, email_verified=UNVERIFIED[what])
    answer = google.raw("homepage", google.event(), {"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401 and "service account" in answer.json["error"], answer.json
    assert double.stats()["total"] == 0
    assert google.raw("homepage", google.event()).status_code == 200  # the same, verified: accepted


def test_a_system_token_for_a_path_is_401_with_a_query_string(workspace):
    """Its aud is the exact URL Google called: the same path with a query string is another URL."""
    google, double = workspace
    path = "/workspace/homepage"
    bare = google.system(path)
    answer = google.client.post(path + "?page=3", json=google.event(), headers=bare)
    assert answer.status_code == 401, answer.json
    assert double.stats()["total"] == 0
    with_query = google.system(path + "?page=3")
    assert google.client.post(path + "?page=3", json=google.event(), headers=with_query).status_code == 200
    assert google.client.post(path, json=google.event(), headers=with_query).status_code == 401


def test_a_non_dev_server_on_loopback_ignores_the_dev_header(issuer, tmp_path, google_env, monkeypatch):
    """Bound to 127.0.0.1 but not in dev mode: the header names nobody, even with a working Google token."""
    from addon_server import create_app

    monkeypatch.delenv("MAPSHEETS_GOOGLE_TOKEN")
    sheet = google_env.create_spreadsheet("Acme deal", {"Sheet1": []})
    app = create_app({"CLIENT_ID": CLIENT_ID, "CERTS_URL": issuer.url, "HOST": "127.0.0.1", "DEV": False,
                      "DB": f"sqlite:///{tmp_path / 'p.db'}", "SELLER_DOMAINS": "globex.example"})
    client = app.test_client()
    token = {"X-Mapsheets-Access-Token": "ya29.token"}
    try:
        google_env.reset()
        answer = client.post("/api/summary", json={"spreadsheet_id": sheet},
                             headers={"X-Mapsheets-Dev-User": AE, **token})
        assert answer.status_code == 401 and "sign in" in answer.json["error"], answer.json
        assert google_env.stats()["total"] == 0
        signed_in = client.post("/api/summary", json={"spreadsheet_id": sheet},
                                headers={**headers(issuer, AE), **token})
        assert signed_in.status_code == 200  # the same request with a token: the 401 was the header
    finally:
        app.extensions["mapsheets_store"].close()


# -- sides -------------------------------------------------------------------------------------------

@pytest.fixture
def typed_sellers(plan, plans_dir):
    """A plan whose Team tab says "seller" for the AE, for Jane (at the buyer's domain) and for Eve
    (at evilglobex.example, which merely ends like the seller's domain)."""
    plan.stakeholders += [Stakeholder("Alex Exec", AE, "seller", "AE"), Stakeholder("Jane Doe", JANE, "seller"),
                          Stakeholder("Eve Evil", EVE, "seller")]
    path = plans_dir / f"{SHEET}.xlsx"
    write_workbook(path, workbook_spec(plan))
    return path


def test_typing_seller_on_the_team_tab_does_not_make_a_seller_in_the_sidebar(client, issuer, typed_sellers):
    for email in (JANE, EVE):
        me = _post(client, "summary", {}, headers(issuer, email)).json["me"]
        assert me["on_plan"] and me["side"] == "buyer", (email, me)
        refused = _post(client, "sign", {"side": "seller"}, headers(issuer, email))
        assert refused.status_code == 403 and refused.json["field"] == "side", (email, refused.json)
        signed = _post(client, "sign", {}, headers(issuer, email))
        assert signed.status_code == 201 and signed.json["signature"]["side"] == "buyer", (email, signed.json)
    ae = _post(client, "sign", {}, headers(issuer, AE))
    assert ae.status_code == 201 and ae.json["signature"]["side"] == "seller"


def test_typing_seller_on_the_team_tab_does_not_make_a_seller_in_the_cards(issuer, tmp_path, plans_dir,
                                                                            typed_sellers):
    app = _app(issuer, tmp_path, DEV=True, HOST="127.0.0.1", PLANS_DIR=str(plans_dir))
    google = Google(app.test_client(), issuer, SHEET)
    try:
        for email, name in ((JANE, "Jane Doe"), (EVE, "Eve Evil")):
            home = card_schema.the_card(google.post("homepage", email))
            assert f"{name}: buyer" in _texts(home), _texts(home)
            signed = card_schema.the_card(google.post("sign", email))
            assert signed["header"]["title"] == "Signed" and "for the buyer side" in _texts(signed)[0]
        ae = card_schema.the_card(google.post("sign", AE))
        assert "for the seller side" in _texts(ae)[0]
    finally:
        app.extensions["mapsheets_store"].close()


def test_a_domain_that_only_ends_like_the_sellers_is_not_the_sellers(plan):
    from mapsheets.service.addon import member

    plan.stakeholders += [Stakeholder("Eve", EVE, "seller"), Stakeholder("Sub", "sam@eu.globex.example", "seller"),
                          Stakeholder("Alex", "Alex@Globex.Example", "buyer")]
    assert member(plan, EVE, ["globex.example"]).side == "buyer"
    assert member(plan, "sam@eu.globex.example", ["globex.example"]).side == "buyer"  # a domain, not its subdomains
    assert member(plan, "alex@globex.example", ["@Globex.example"]).side == "seller"
    assert member(plan, EVE, []).side == "seller"  # no domains set: the Team tab is all there is


# -- the Workspace event -------------------------------------------------------------------------------

def test_a_sheet_id_without_file_scope_permission_asks_for_access_and_calls_no_google(workspace):
    google, double = workspace
    assert card_schema.the_card(google.post("generate", form_inputs=form(**CARD_GENERATE)))["header"]["title"] \
        == "Plan generated"
    event = google.event()
    event["sheets"]["addonHasFileScopePermission"] = False  # the id is there, the permission is not
    assert event["sheets"]["id"] == google.sheet
    double.reset()
    for path in ("homepage", "home", "sign", "changes"):
        answer = google.raw(path, event)
        assert answer.status_code == 200, answer.json
        card = card_schema.the_card(answer.json)
        assert "Allow access to this spreadsheet" in _buttons(card), (path, card)
    assert double.stats()["total"] == 0


def test_a_41_step_plan_pages_as_40_then_the_41st(issuer, tmp_path, plans_dir, plan):
    ids = _big_plan(plan, plans_dir / f"{SHEET}.xlsx", steps=41)
    app = _app(issuer, tmp_path, DEV=True, HOST="127.0.0.1", PLANS_DIR=str(plans_dir))
    google = Google(app.test_client(), issuer, SHEET)
    try:
        first = card_schema.the_card(google.post("homepage"))
        assert first["sections"][-1]["header"] == "Steps 1–40 of 41"
        assert "Next steps" in _buttons(first) and "Previous steps" not in _buttons(first)
        last = card_schema.the_card(_click(google, first, "Next steps"))
    finally:
        app.extensions["mapsheets_store"].close()
    assert last["sections"][-1]["header"] == "Steps 41–41 of 41"
    rows = [w for w in last["sections"][-1]["widgets"] if "decoratedText" in w]
    assert [w["decoratedText"]["topLabel"].split(" · ")[0] for w in rows] == ids[40:]
    assert "Previous steps" in _buttons(last) and "Next steps" not in _buttons(last)


def test_step_pages_from_the_card_builder_alone():
    from addon_server import cards

    def plan_of(n):
        steps = [{"id": f"S-{i:04X}", "title": f"Step {i}", "status": "", "due": None} for i in range(n)]
        return {"plan": {"title": "MAP", "buyer": "A", "seller": "G", "health": "on track", "phases": [],
                         "progress": {"done": 0, "total": n, "percent": 0}, "target_close": None,
                         "projected_close": None, "steps": steps},
                "me": {"email": AE, "on_plan": True, "side": "seller", "name": "", "subscription": "off"}}

    links = cards.Links(PUBLIC)
    for n, page, header in ((41, 1, "Steps 41–41 of 41"), (41, 0, "Steps 1–40 of 41"), (40, 0, "Steps 1–40 of 40"),
                            (40, 1, "Steps 1–40 of 40"), (80, 1, "Steps 41–80 of 80"), (81, 2, "Steps 81–81 of 81"),
                            (41, 9, "Steps 41–41 of 41"), (0, 0, "Steps"), (1, 0, "Steps 1–1 of 1")):
        built = cards.summary(plan_of(n), links, page)
        assert built["sections"][-1].get("header", "Steps") == header, (n, page, built["sections"][-1])
