"""Digests for people who subscribe in the sidebar, against a Google that opens a sheet only for the
users it is shared with (the API double acting as Google): the cron run's service account cannot
read the plan, so Code.gs's hourly trigger (run under Node, calling the backend over HTTP with
freshly minted tokens) reads it as its subscriber and sends what is due, to the SMTP server on
loopback. A plan nobody can read is told once to its seller owner and shown in the sidebar."""

from __future__ import annotations

import email
import email.policy
import json
import os
import threading
from datetime import datetime, timedelta, timezone

import pytest
import requests

from mapsheets.adapters.gcreds import GoogleCredentials
from mapsheets.adapters.mail import SmtpMailer
from tests.server.apps_script_harness import run_code_gs
from tests.server.conftest import CLIENT_ID, GENERATE, headers
from tests.smtp_servers import smtp_server

AE, CHAMPION = "ae@globex.example", "jane@acme.example"
ROBOT = "digest@mapsheets-prod.iam.gserviceaccount.com"  # the cron run's service account
TOKENS = {"ae-oauth": AE, "jane-oauth": CHAMPION, "robot-token": ROBOT}
T0 = datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc)  # a Tuesday, after the 07:00 send hour
T1 = T0 + timedelta(days=1, hours=1)


class Inbox:
    """aiosmtpd handler keeping what it accepted."""

    def __init__(self) -> None:
        self.received: list[email.message.EmailMessage] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        with self.lock:
            self.received.append(email.message_from_bytes(envelope.original_content, policy=email.policy.default))
        return "250 OK"

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for m in self.received if address in str(m["To"])]


def text_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


@pytest.fixture
def google(monkeypatch):
    from mapsheets.testing.google_api import GoogleApiDouble

    with GoogleApiDouble(seed=5) as double:
        double.act_as_google(TOKENS)
        monkeypatch.setenv("MAPSHEETS_GOOGLE_API_ROOT", double.root)
        monkeypatch.setenv("MAPSHEETS_GOOGLE_TOKEN", "robot-token")  # what `mapsheets digest` runs with
        yield double


@pytest.fixture
def inbox():
    with smtp_server(Inbox()) as handler:
        yield handler


@pytest.fixture
def backend(issuer, google, inbox, tmp_path):
    """The add-on backend served over HTTP on loopback (Code.gs reaches it as from Apps Script)."""
    from werkzeug.serving import make_server

    from addon_server import create_app

    app = create_app({"CLIENT_ID": CLIENT_ID, "CERTS_URL": issuer.url, "DEV": True, "HOST": "127.0.0.1",
                      "PLANS_DIR": "", "DB": f"sqlite:///{tmp_path / 'addon.db'}", "SELLER_DOMAINS": "globex.example",
                      "SMTP_URL": inbox.url, "MAIL_FROM": "mapsheets <digests@globex.example>", "NOW": T0})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.url = f"http://127.0.0.1:{server.server_port}"
    yield app
    server.shutdown()
    app.extensions["mapsheets_store"].close()


def sheet_of_ae(google) -> str:
    """A blank spreadsheet the AE owns, shared with the champion (not with the service account)."""
    sheet = google.create_spreadsheet("Acme deal", user=AE)
    google.share(sheet, CHAMPION)
    return sheet


def api(backend, issuer, sheet: str, path: str, who: str, token: str, **body):
    return requests.post(f"{backend.url}/api/{path}", json={"spreadsheet_id": sheet, **body}, timeout=60,
                         headers={**headers(issuer, who, **({"name": "Alex Exec"} if who == AE else {})),
                                  "X-Mapsheets-Access-Token": token})


def mark_first_step_done(sheet: str, token: str = "jane-oauth") -> str:
    """A person (the champion by default) types "Done" into the first step's Status cell in Google
    Sheets, with their own token; the step's title."""
    from mapsheets.core.layout import column_letter
    from mapsheets.service.workbooks import open_workbook, read_parsed, request_scope

    with request_scope(GoogleCredentials.access_token(token)):
        _grid, parsed = read_parsed(open_workbook(sheet))
    loc, step = parsed.location, parsed.plan.steps[0]
    cell = f"{loc.tab}!{column_letter(loc.columns['Status'])}{loc.step_rows[step.id] + 1}"
    root = os.environ["MAPSHEETS_GOOGLE_API_ROOT"]
    answer = requests.put(f"{root}/v4/spreadsheets/{sheet}/values/{cell}", params={"valueInputOption": "USER_ENTERED"},
                          json={"values": [["Done"]]}, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert answer.status_code == 200, answer.text
    return step.title


def cron(backend, now: datetime):
    from mapsheets.service import digest

    conf = backend.config["MAPSHEETS"]
    return digest.run(now=now, mailer=SmtpMailer(conf["SMTP_URL"]), store_url=conf["DB"],
                      sender=conf["MAIL_FROM"], seller_domains=["globex.example"], write_workers=0)


def sidebar_session(tmp_path, issuer, backend, sheet, steps, user=None):
    """The AE in the sidebar (or a trigger run of theirs): Code.gs with fresh tokens each call."""
    user = user or {}
    return run_code_gs(tmp_path, steps, sheet=sheet, backend=backend.url, oauthToken="ae-oauth",
                       idTokens=[issuer.token(AE, name="Alex Exec") for _ in steps], **user)


def test_a_sidebar_subscription_gets_digests_from_its_trigger_on_a_sheet_the_cron_cannot_open(
        tmp_path, issuer, google, backend, inbox):
    from mapsheets.service import digest
    from mapsheets.service.workbooks import request_scope

    sheet = sheet_of_ae(google)
    # The AE generates the plan and saves "Email me changes: daily" in the sidebar.
    first = sidebar_session(tmp_path, issuer, backend, sheet, [
        {"call": "callBackend", "args": ["generate", json.dumps(GENERATE)]},
        {"call": "callBackend", "args": ["subscription", '{"every": "daily"}']}])
    assert first["errors"] == [] and [f["answer"]["code"] for f in first["fetches"]] == [201, 200], first["fetches"]
    assert len(first["created"]) == 1 and first["live"] == ["trigger-1"]
    user = {"props": first["props"], "live": first["live"]}
    # The buyer's champion is subscribed too (by the AE, with their own Google sign-in): never installs anything.
    with request_scope(GoogleCredentials.access_token("ae-oauth")):
        digest.watch(sheet, [CHAMPION], now=T0, store_url=backend.config["MAPSHEETS"]["DB"])
    title = mark_first_step_done(sheet)

    # The cron run, as the service account: Google refuses it the sheet.
    assert google.stats()["methods"].get("sheets.spreadsheets.get", 0) > 0
    robot = requests.get(f"{google.root}/v4/spreadsheets/{sheet}", headers={"Authorization": "Bearer robot-token"},
                         timeout=10)
    assert robot.status_code == 403 and robot.json()["error"]["status"] == "PERMISSION_DENIED"

    # An hour later Apps Script fires the AE's trigger: Code.gs calls the backend with fresh tokens.
    backend.config["MAPSHEETS"]["NOW"] = T1
    google.reset()
    run = sidebar_session(tmp_path, issuer, backend, sheet, [{"call": "runDigests", "trigger": "live"}], user)
    assert run["errors"] == [], run
    (call,) = run["fetches"]
    assert call["url"] == f"{backend.url}/api/digest-run" and call["answer"]["code"] == 200, call["answer"]
    # The plan is read once (one spreadsheets.get) though the call checks access before the run reads it.
    assert google.stats()["methods"]["sheets.spreadsheets.get"] == 1, google.stats()
    got = {address: inbox.to(address) for address in (AE, CHAMPION)}
    assert {a: len(m) for a, m in got.items()} == {AE: 1, CHAMPION: 1}
    for message in (got[AE][0], got[CHAMPION][0]):
        assert title in text_of(message)  # the digest names the change
    # Runs missed or repeated: a second trigger run (or another subscriber's) sends nothing more...
    again = sidebar_session(tmp_path, issuer, backend, sheet, [{"call": "runDigests", "trigger": "live"}], user)
    assert again["errors"] == [] and len(inbox.received) == 2
    # ...and the next day's cron run, which cannot open the sheet, leaves it to the trigger: no
    # failure, nobody told, nothing sent twice.
    report = cron(backend, T1 + timedelta(days=1))
    assert report.failed == [] and len(inbox.received) == 2, report

    # Unsubscribing in the sidebar removes the trigger.
    off = sidebar_session(tmp_path, issuer, backend, sheet,
                          [{"call": "callBackend", "args": ["subscription", '{"every": "off"}']}], user)
    assert off["errors"] == [] and off["deleted"] == ["trigger-1"] and off["live"] == [] and off["props"] == {}


def test_a_plan_nobody_can_read_is_told_once_to_its_seller_owner_and_in_the_sidebar(
        tmp_path, issuer, google, backend, inbox):
    sheet = sheet_of_ae(google)
    assert api(backend, issuer, sheet, "generate", AE, "ae-oauth", **GENERATE).status_code == 201
    # Subscribed, but no trigger reads it (say it was removed, or made where there is none).
    assert api(backend, issuer, sheet, "subscription", AE, "ae-oauth", every="daily").status_code == 200

    first = cron(backend, T1)
    assert [f.split(":")[0] for f in first.failed] == [sheet]
    (told,) = inbox.received
    assert told["To"] == "Alex Exec <ae@globex.example>" and "cannot open" in told["Subject"]
    assert "Email me changes" in text_of(told)
    second = cron(backend, T1 + timedelta(days=1))
    assert len(second.failed) == 1 and len(inbox.received) == 1  # once, remembered in the store

    # The next person to open the sidebar sees why digests stopped (the champion, here).
    shown = api(backend, issuer, sheet, "summary", CHAMPION, "jane-oauth").json()
    assert "Digests of this plan are not going out" in shown["notice"]
    from addon_server import cards

    card = cards.summary(shown, cards.Links("https://mapsheets.example.com"))
    assert "Digests of this plan are not going out" in json.dumps(card)

    # The AE's trigger reads it again: the notice goes, and a later failure would be told anew.
    backend.config["MAPSHEETS"]["NOW"] = T1 + timedelta(days=1, hours=1)
    assert api(backend, issuer, sheet, "digest-run", AE, "ae-oauth").json()["subscribed"] is True
    assert api(backend, issuer, sheet, "summary", CHAMPION, "jane-oauth").json()["notice"] is None


def test_a_trigger_run_for_someone_not_subscribed_says_so_and_reads_nothing(tmp_path, issuer, google, backend):
    sheet = sheet_of_ae(google)
    assert api(backend, issuer, sheet, "generate", AE, "ae-oauth", **GENERATE).status_code == 201
    before = google.stats()["total"]
    answer = api(backend, issuer, sheet, "digest-run", CHAMPION, "jane-oauth")
    assert answer.status_code == 200 and answer.json() == {"subscribed": False, "sent": 0}
    assert google.stats()["total"] == before
    assert requests.post(f"{backend.url}/api/digest-run", json={"spreadsheet_id": sheet}, timeout=30,
                         headers={"X-Mapsheets-Access-Token": "ae-oauth"}).status_code == 401  # no ID token
