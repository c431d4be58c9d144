"""The Workspace add-on (HTTP runtime) through Flask's test client: event objects as Google documents
them, every answer validated against the card schema in card_schema.py, tokens minted with a local
RSA key (certificates on loopback), the spreadsheet on the Google API double."""

from __future__ import annotations

import json
import time
from datetime import date, datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.server import card_schema
from tests.server.conftest import CLIENT_ID, SHEET

PUBLIC = "https://mapsheets.globex.example"
SERVICE_ACCOUNT = "service-123456789012@gcp-sa-gsuiteaddons.iam.gserviceaccount.com"
WORKSPACE_CLIENT = "987654-workspace.apps.googleusercontent.com"
AE, CHAMPION, STRANGER = "ae@globex.example", "jane@acme.example", "mallory@evil.example"
SECRET = "ya29.workspace-user-token-" + "Z" * 24
NEW_YORK = "America/New_York"


def _ms(day: date, zone: str = NEW_YORK) -> str:
    """What Google sends for a date picked in ``zone``: that local midnight, in ms since the epoch."""
    return str(int(datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(zone)).timestamp() * 1000))


def form(**fields) -> dict:
    """commonEventObject.formInputs: text as stringInputs, dates as dateInput.msSinceEpoch."""
    out = {}
    for name, value in fields.items():
        if isinstance(value, date):
            out[name] = {"dateInput": {"msSinceEpoch": _ms(value)}}
        else:
            out[name] = {"stringInputs": {"value": [value]}}
    return out


class Google:
    """Google's side of the Workspace add-on: it mints the system and user ID tokens and POSTs
    event objects; every answer is checked against the card schema."""

    def __init__(self, client, issuer, sheet: str | None) -> None:
        self.client, self.issuer, self.sheet = client, issuer, sheet

    def event(self, email=AE, *, sheet="default", form_inputs=None, params=None, user_token="default",
              oauth=SECRET, granted=True, **claims) -> dict:
        sheet = self.sheet if sheet == "default" else sheet
        auth = {"systemIdToken": "opaque"}
        if user_token == "default":
            user_token = self.issuer.token(email, aud=WORKSPACE_CLIENT, **claims)
        if user_token:
            auth["userIdToken"] = user_token
        if oauth:
            auth["userOAuthToken"] = oauth
        common = {"hostApp": "SHEETS", "platform": "WEB", "userLocale": "en",
                  "timeZone": {"id": NEW_YORK, "offset": -18000000}}
        if form_inputs:
            common["formInputs"] = form_inputs
        if params:
            common["parameters"] = params
        sheets = {"title": "Acme deal", "addonHasFileScopePermission": granted}
        if sheet and granted:
            sheets["id"] = sheet
        return {"commonEventObject": common, "authorizationEventObject": auth, "sheets": sheets}

    def system(self, path: str, **claims) -> dict[str, str]:
        claims = {"aud": PUBLIC + path, **claims}
        return {"Authorization": f"Bearer {self.issuer.token(claims.pop('email', SERVICE_ACCOUNT), **claims)}"}

    def raw(self, path: str, event: dict, headers: dict | None = None):
        path = f"/workspace/{path}"
        return self.client.post(path, json=event, headers=self.system(path) if headers is None else headers)

    def post(self, path: str, email=AE, **event_kw) -> dict:
        answer = self.raw(path, self.event(email, **event_kw))
        assert answer.status_code == 200, (path, answer.status_code, answer.json)
        body = answer.json
        card_schema.validate(body)
        if "hostAppAction" not in body.get("renderActions", {}):
            card = card_schema.the_card(body)
            assert len(card_schema.widgets(card)) <= 100
            for url in _functions(card):  # every button calls one of our endpoints, by its public URL
                assert url.startswith(PUBLIC + "/workspace/"), url
                assert self.client.application.url_map.bind("x").test(url[len(PUBLIC):], method="POST"), url
        return body


def _functions(card: dict) -> list[str]:
    return [b["onClick"]["action"]["function"] for w in card_schema.widgets(card)
            for b in w.get("buttonList", {}).get("buttons", [])]


def _buttons(card: dict) -> dict[str, dict]:
    """Button text -> its action, for clicking."""
    return {b["text"]: b["onClick"]["action"] for w in card_schema.widgets(card)
            for b in w.get("buttonList", {}).get("buttons", [])}


def _click(google: Google, card: dict, label: str, email=AE, **event_kw) -> dict:
    action = _buttons(card)[label]
    params = {p["key"]: p["value"] for p in action.get("parameters", [])}
    return google.post(action["function"].rsplit("/workspace/", 1)[1], email, params=params or None, **event_kw)


def _texts(card: dict) -> list[str]:
    return [w["decoratedText"]["text"] for w in card_schema.widgets(card) if "decoratedText" in w]


def _error_after(card: dict, field: str) -> str | None:
    """The error shown right below the input named ``field``, if any."""
    flat = card_schema.widgets(card)
    for i, w in enumerate(flat):
        kind = next(iter(w))
        if w[kind].get("name") == field and i + 1 < len(flat) and "decoratedText" in flat[i + 1]:
            text = flat[i + 1]["decoratedText"]["text"]
            return text if "<font color" in text else None
    return None


def _field(card: dict, name: str) -> dict:
    return next(w[k] for w in card_schema.widgets(card) for k in w if w[k].get("name") == name)


def _app(issuer, tmp_path, **extra):
    from addon_server import create_app

    return create_app({"CLIENT_ID": CLIENT_ID, "WORKSPACE_CLIENT_ID": WORKSPACE_CLIENT, "CERTS_URL": issuer.url,
                       "PUBLIC_URL": PUBLIC, "ADDON_SERVICE_ACCOUNT": SERVICE_ACCOUNT,
                       "DB": f"sqlite:///{tmp_path / 'workspace.db'}", "SELLER_DOMAINS": "globex.example", **extra})


@pytest.fixture
def on_google(issuer, google_env, tmp_path, monkeypatch):
    monkeypatch.delenv("MAPSHEETS_GOOGLE_TOKEN")  # the user's token from the event is the only credential
    sheet = google_env.create_spreadsheet("Acme deal", {"Sheet1": []})
    app = _app(issuer, tmp_path)
    yield Google(app.test_client(), issuer, sheet), google_env
    app.extensions["mapsheets_store"].close()


GENERATE = dict(template="enterprise-map", buyer="Acme Corp", seller="Globex", start_date=date(2026, 12, 1),
                close_date=date(2027, 3, 31), champion_name="Jane Doe", champion_email=CHAMPION,
                economic_buyer_name="Eve Money", economic_buyer_email="eve@acme.example", holidays="")


def test_whole_flow_as_cards_on_google(on_google, tmp_path, caplog):
    """Open without file access, grant it, generate (a bad form first), add a step (a bad one first),
    sign, what changed, email me changes: every card valid, Google requests counted per action."""
    import logging

    google, double = on_google
    caplog.set_level(logging.DEBUG)
    counts = {}

    def counted(what, path, email=AE, **kw):
        double.reset()
        body = google.post(path, email, **kw)
        counts[what] = double.stats()["total"]
        return body

    # 1. Opened with drive.file only: no sheets.id yet, so ask for this file.
    asked = counted("open without file access", "homepage", granted=False)
    assert "action" in asked and counts["open without file access"] == 0
    granted = _click(google, card_schema.the_card(asked), "Allow access to this spreadsheet")
    assert granted == {"renderActions": {"hostAppAction": {"editorAction": {"requestFileScopeForActiveDocument": {}}}}}

    # 2. onFileScopeGrantedTrigger: the sheet holds no plan, so the generate form.
    form_card = card_schema.the_card(counted("file scope granted", "file-scope-granted"))
    assert {"template", "buyer", "seller", "start_date", "close_date"} <= {
        w[k].get("name") for w in card_schema.widgets(form_card) for k in w}

    # 3. Generate with an empty buyer: the form again, the message beside the buyer, typed values kept.
    bad = card_schema.the_card(counted("generate (invalid)", "generate",
                                       form_inputs=form(**{**GENERATE, "buyer": "  "})))
    assert "buyer" in _error_after(bad, "buyer")
    assert _field(bad, "seller")["value"] == "Globex" and _field(bad, "champion_email")["value"] == CHAMPION
    assert _field(bad, "close_date")["valueMsEpoch"] == _ms(date(2027, 3, 31))
    assert counts["generate (invalid)"] == 0
    done = card_schema.the_card(counted("generate", "generate", form_inputs=form(**GENERATE), name="Alex Exec"))
    assert done["header"]["title"] == "Plan generated"
    first = card_schema.the_card(google.post("homepage", AE))  # the AE's first look at the new plan
    assert "Alex Exec: seller" in " ".join(_texts(first))

    # 4. The champion opens it: one read.
    home = card_schema.the_card(counted("open", "homepage", CHAMPION))
    assert home["header"]["subtitle"] == "Acme Corp × Globex" and counts["open"] == 1
    step_form = card_schema.the_card(_click(google, home, "Add step", CHAMPION))
    phases = [i["value"] for i in _field(step_form, "phase")["items"]]
    assert len(phases) > 1

    # 5. Add step: unknown dependency first (message beside it, title kept), then a good one.
    bad_step = dict(title="Security review call", phase=phases[1], side="buyer", owners="Jane Doe",
                    due=date(2027, 1, 15), depends_on="S-ZZZZ", notes="")
    params = {"phases": "\n".join(phases)}
    again = card_schema.the_card(counted("add step (invalid)", "add-step", CHAMPION, form_inputs=form(**bad_step),
                                         params=params))
    assert "S-ZZZZ" in _error_after(again, "depends_on") and _field(again, "title")["value"] == "Security review call"
    assert _field(again, "due")["valueMsEpoch"] == _ms(date(2027, 1, 15))
    added = card_schema.the_card(counted("add step", "add-step", CHAMPION,
                                         form_inputs=form(**{**bad_step, "depends_on": ""}), params=params))
    assert added["header"]["title"] == "Step added" and "due 2027-01-15" in _texts(added)[0]
    assert counts["add step"] == 2  # one read, one write
    on_a_sunday = card_schema.the_card(google.post("add-step", CHAMPION, params=params, form_inputs=form(
        **{**bad_step, "title": "Weekend workshop", "depends_on": "", "due": date(2027, 1, 17)})))
    assert on_a_sunday["header"]["title"] == "Step added"
    assert _texts(on_a_sunday)[0].endswith("<br>Due 2027-01-17 is a Sunday, not a business day: kept as given "
                                           "(the next business day is 2027-01-18)")

    # 6. Sign (the champion, buyer side), then the AE sees what changed.
    signed = card_schema.the_card(counted("sign", "sign", CHAMPION))
    assert signed["header"]["title"] == "Signed" and "buyer side" in _texts(signed)[0]
    assert counts["sign"] == 2
    changed = card_schema.the_card(counted("what changed", "changes", AE))
    assert any("Security review call" in t for t in _texts(changed)) and counts["what changed"] == 1

    # 7. Email me changes: the form, then weekly.
    email = card_schema.the_card(_click(google, card_schema.the_card(google.post("homepage", CHAMPION)),
                                        "Email me changes", CHAMPION))
    assert [i["value"] for i in _field(email, "every")["items"] if i["selected"]] == ["off"]
    saved = card_schema.the_card(counted("email me changes", "subscription", CHAMPION,
                                         form_inputs=form(every="weekly")))
    assert saved["header"]["title"] == "Email digest saved"
    home = card_schema.the_card(google.post("homepage", CHAMPION))
    assert any("weekly" in w["decoratedText"].get("bottomLabel", "") for w in card_schema.widgets(home)
               if "decoratedText" in w)

    print("\nGoogle requests per card action:", json.dumps(counts))
    google.client.application.extensions["mapsheets_store"].close()
    assert SECRET not in caplog.text
    for stored in tmp_path.glob("workspace.db*"):
        assert SECRET.encode() not in stored.read_bytes()


def test_the_generate_card_asks_the_aes_name_prefilled_from_the_sign_in_profile(on_google):
    google, _double = on_google
    form_card = card_schema.the_card(google.post("file-scope-granted", name="Alex Exec"))
    assert _field(form_card, "ae_name")["value"] == "Alex Exec"


def test_the_cards_email_a_link_to_sign(on_google):
    import os
    from pathlib import Path

    from digest_helpers import outbox_messages

    google, _double = on_google
    google.post("generate", form_inputs=form(**GENERATE), name="Alex Exec")
    home = card_schema.the_card(google.post("homepage", AE))
    asking = card_schema.the_card(_click(google, home, "Ask for a signature"))
    refused = card_schema.the_card(_click(google, asking, "Email a link to sign",
                                          form_inputs=form(to="mallory@evil.example")))
    assert "not on this plan" in _error_after(refused, "to")
    sent = card_schema.the_card(_click(google, asking, "Email a link to sign",
                                       form_inputs=form(to=f"Jane Doe <{CHAMPION}>")))
    assert sent["header"]["title"] == "Link sent"
    [message] = outbox_messages(Path(os.environ["MAPSHEETS_OUTBOX"]))
    assert message["To"] == f"Jane Doe <{CHAMPION}>"


def test_a_missing_scope_is_asked_for_never_crashed_on(on_google):
    google, double = on_google
    no_email = card_schema.the_card(google.post("homepage", user_token=None))
    assert "email" in _texts(no_email)[0]
    no_token = card_schema.the_card(google.post("homepage", oauth=None))
    assert "drive.file" in _texts(no_token)[0] and "Allow access to this spreadsheet" in _buttons(no_token)
    no_file = card_schema.the_card(google.post("add-step", sheet=None))  # granted, yet no id: ask again
    assert "Allow access to this spreadsheet" in _buttons(no_file)
    bare = {"authorizationEventObject": {"userIdToken": google.issuer.token(AE, aud=WORKSPACE_CLIENT)}}
    answer = google.raw("homepage", bare)  # no commonEventObject, no sheets at all
    assert answer.status_code == 200
    card_schema.validate(answer.json)
    assert double.stats()["total"] == 0


def test_bad_tokens_are_401_before_any_work(on_google, issuer):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    google, double = on_google
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    path, now = "/workspace/generate", int(time.time())
    good = google.event(form_inputs=form(**GENERATE))

    def system(**claims):
        claims = {"aud": PUBLIC + path, **claims}
        return {"Authorization": f"Bearer {issuer.token(claims.pop('email', SERVICE_ACCOUNT), **claims)}"}

    cases = {
        "no system token": ({}, good),
        "forged system token": (
            {"Authorization": f"Bearer {issuer.token(SERVICE_ACCOUNT, key=other, aud=PUBLIC + path)}"}, good),
        "expired system token": (system(iat=now - 7200, exp=now - 3600), good),
        "system token for another endpoint": (system(aud=PUBLIC + "/workspace/homepage"), good),
        "system token for another host": (system(aud="https://evil.example" + path), good),
        "another service account": (system(email="service-999@gcp-sa-gsuiteaddons.iam.gserviceaccount.com"), good),
        "not issued by Google": (system(iss="https://evil.example"), good),
        "user token for another client ID": (system(), google.event(user_token=issuer.token(AE, aud=CLIENT_ID),
                                                                    form_inputs=form(**GENERATE))),
        "forged user token": (system(), google.event(user_token=issuer.token(AE, key=other, aud=WORKSPACE_CLIENT),
                                                     form_inputs=form(**GENERATE))),
        "expired user token": (system(), google.event(iat=now - 7200, exp=now - 3600, form_inputs=form(**GENERATE))),
    }
    for what, (headers, event) in cases.items():
        answer = google.client.post(path, json=event, headers=headers)
        assert answer.status_code == 401, (what, answer.json)
        assert answer.json["error"], what
    assert double.stats()["total"] == 0, "no Google request for an unverified caller"
    assert double.values(google.sheet, "Sheet1!A1:B2") == []
    # The valid request still works: the 401s were the tokens, not the request.
    assert google.raw("generate", good, system()).status_code == 200


def test_without_workspace_configuration_every_endpoint_is_401(issuer, tmp_path):
    from addon_server import create_app

    app = create_app({"CLIENT_ID": CLIENT_ID, "CERTS_URL": issuer.url, "DB": f"sqlite:///{tmp_path / 'n.db'}"})
    google = Google(app.test_client(), issuer, SHEET)
    assert google.raw("homepage", google.event()).status_code == 401
    app.extensions["mapsheets_store"].close()
    from mapsheets.errors import UsageError

    with pytest.raises(UsageError, match="MAPSHEETS_ADDON_SERVICE_ACCOUNT"):
        create_app({"CLIENT_ID": CLIENT_ID, "PUBLIC_URL": PUBLIC, "DB": f"sqlite:///{tmp_path / 'm.db'}"})
    alone = create_app({"WORKSPACE_CLIENT_ID": WORKSPACE_CLIENT, "PUBLIC_URL": PUBLIC + "/",
                        "ADDON_SERVICE_ACCOUNT": SERVICE_ACCOUNT, "DB": f"sqlite:///{tmp_path / 'w.db'}"}, env={})
    assert alone.config["MAPSHEETS"]["PUBLIC_URL"] == PUBLIC  # a Workspace-only deployment starts
    alone.extensions["mapsheets_store"].close()
    with pytest.raises(UsageError, match="https"):
        create_app({"CLIENT_ID": CLIENT_ID, "PUBLIC_URL": "http://mapsheets.example",
                    "DB": f"sqlite:///{tmp_path / 'o.db'}", "ADDON_SERVICE_ACCOUNT": SERVICE_ACCOUNT})


def _big_plan(plan, path: Path, steps: int = 200) -> list[str]:
    """The conftest plan grown to ``steps`` steps, written as an .xlsx plan; its step IDs."""
    import dataclasses
    import random

    from mapsheets.adapters.xlsx import write_workbook
    from mapsheets.core.layout import workbook_spec
    from mapsheets.core.model import new_step_id

    rng, base = random.Random(11), list(plan.steps)
    while len(plan.steps) < steps:
        model = base[len(plan.steps) % len(base)]
        plan.steps.append(dataclasses.replace(model, id=new_step_id(plan.step_ids, rng), depends_on=[],
                                              title=f"{model.title} #{len(plan.steps)}"))
    plan.stakeholders.append(dataclasses.replace(plan.stakeholders[0], name="Alex Exec", email=AE))
    write_workbook(path, workbook_spec(plan))
    return [s.id for s in plan.steps]


def test_a_200_step_plan_stays_within_card_limits_summary_first_then_paged(issuer, tmp_path, plans_dir, plan):
    ids = _big_plan(plan, plans_dir / f"{SHEET}.xlsx")
    app = _app(issuer, tmp_path, DEV=True, HOST="127.0.0.1", PLANS_DIR=str(plans_dir))
    google = Google(app.test_client(), issuer, SHEET)
    card = card_schema.the_card(google.post("homepage"))
    assert card_schema.widgets(card)[0]["decoratedText"]["topLabel"] == "Progress"  # the summary first
    seen, pages = [], 0
    while True:
        pages += 1
        rows = card["sections"][-1]["widgets"]
        seen += [w["decoratedText"]["topLabel"].split(" · ")[0] for w in rows if "decoratedText" in w]
        if "Next steps" not in _buttons(card):
            break
        card = card_schema.the_card(_click(google, card, "Next steps"))
        assert card["sections"][-1]["header"].startswith(f"Steps {len(seen) + 1}–")
    assert seen == ids and pages == 5
    app.extensions["mapsheets_store"].close()


def test_cards_alone_respect_the_widget_limit_with_everything_long():
    """A summary with every list at its longest: overdue, 500 changes, signatures, 200 steps."""
    from addon_server import cards

    steps = [{"id": f"S-{i:04X}", "title": f"Step {i}", "status": "not started", "due": "2027-01-01"}
             for i in range(200)]
    data = {"plan": {"title": "MAP", "buyer": "A", "seller": "G", "health": "at risk",
                     "progress": {"done": 0, "total": 200, "percent": 0}, "target_close": "2027-03-31",
                     "projected_close": "2027-04-30", "slip_days": 30, "phases": ["Discovery"],
                     "overdue": [{"id": s["id"], "title": s["title"], "days": 3} for s in steps],
                     "steps": steps,
                     "signatures": [{"side": "buyer", "name": f"N{i}", "status": "valid"} for i in range(20)]},
            "me": {"email": AE, "on_plan": True, "side": "seller", "name": "Alex", "subscription": "off"},
            "changes": {"text": [f"change {i} <b>" for i in range(500)]}}
    links = cards.Links(PUBLIC)
    for page in range(5):
        built = cards.update(cards.summary(data, links, page))
        card_schema.validate(built)
        assert len(card_schema.widgets(card_schema.the_card(built))) <= cards.MAX_WIDGETS
    long_changes = cards.update(cards.changes({"first_look": False, "since": "2026-12-01T00:00:00+00:00",
                                               "text": [f"c{i}" for i in range(5000)]}, links))
    card_schema.validate(long_changes)
    assert len(card_schema.widgets(card_schema.the_card(long_changes))) <= cards.MAX_WIDGETS
    assert "&lt;b&gt;" in json.dumps(cards.summary(data, links))  # sheet text is escaped, never card markup


def test_date_pickers_are_read_in_the_users_time_zone():
    from addon_server import events

    day = date(2027, 1, 15)

    def picked(ms: str) -> dict:
        return {"formInputs": {"due": {"dateInput": {"msSinceEpoch": ms}}}}

    for zone in ("America/Los_Angeles", "Asia/Tokyo", "UTC", "Pacific/Kiritimati"):
        event = {"commonEventObject": {"timeZone": {"id": zone, "offset": 0}, **picked(_ms(day, zone))}}
        assert events.form_date(event, "due") == day, zone
        assert events.date_ms(day, ZoneInfo(zone)) == _ms(day, zone)
    tokyo = {"commonEventObject": {"timeZone": {"offset": 9 * 3600 * 1000}, **picked(_ms(day, "Asia/Tokyo"))}}
    assert events.form_date(tokyo, "due") == day  # no zone id: the offset
    # ...where reading the same instant in UTC would give the day before.
    assert datetime.fromtimestamp(int(_ms(day, "Asia/Tokyo")) / 1000, timezone.utc).date() == date(2027, 1, 14)
    from mapsheets.errors import UsageError

    with pytest.raises(UsageError) as bad:
        events.form_date({"commonEventObject": {"formInputs": {"due": {"dateInput": {"msSinceEpoch": "soon"}}}}}, "due")
    assert bad.value.field == "due"


def test_deployment_json_is_an_http_deployment_with_minimal_scopes(issuer, tmp_path):
    deployment = json.loads((Path(__file__).resolve().parents[2] / "addon_server" / "deployment.json").read_text())
    assert sorted(deployment["oauthScopes"]) == ["https://www.googleapis.com/auth/drive.file",
                                                 "https://www.googleapis.com/auth/userinfo.email"]
    common, sheets = deployment["addOns"]["common"], deployment["addOns"]["sheets"]
    assert common["name"] and common["logoUrl"].startswith("https://")
    app = _app(issuer, tmp_path)
    for trigger in (common["homepageTrigger"], sheets["onFileScopeGrantedTrigger"]):
        url = trigger["runFunction"]
        assert url.startswith("https://") and app.url_map.bind("x").test(url.split(".com", 1)[1], method="POST")
    assert deployment["addOns"]["httpOptions"]["authorizationHeader"] == "SYSTEM_ID_TOKEN"
    app.extensions["mapsheets_store"].close()


def test_someone_not_on_the_plan_gets_a_card_and_nothing_is_written(on_google):
    google, double = on_google
    google.post("generate", form_inputs=form(**GENERATE))
    double.reset()
    card = card_schema.the_card(google.post("add-step", STRANGER, form_inputs=form(title="Sneak in"),
                                            params={"phases": ""}))
    assert "not on this plan" in _texts(card)[0] and _field(card, "title")["value"] == "Sneak in"
    assert double.stats()["total"] == 1  # the read that authorizes; no write
    assert "not on this plan" in _texts(card_schema.the_card(google.post("sign", STRANGER)))[0]
