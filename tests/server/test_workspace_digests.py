"""Digests for a subscription saved in the Workspace add-on's cards, against a Google that opens a
sheet only for users it is shared with: there is no trigger there, so subscribing shares the sheet
(as the user, Drive permissions.create) with the account the cron run reads as, and the card says so."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tests.server import card_schema
from tests.server.conftest import headers
from tests.server.test_addon_digests import GENERATE, ROBOT, Inbox, mark_first_step_done, text_of
from tests.server.test_workspace_addon import AE, SECRET, Google, _app, form
from tests.smtp_servers import smtp_server

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc)


@pytest.fixture
def strict_google(monkeypatch):
    from mapsheets.testing.google_api import GoogleApiDouble

    with GoogleApiDouble(seed=9) as double:
        double.act_as_google({SECRET: AE, "robot-token": ROBOT})
        monkeypatch.setenv("MAPSHEETS_GOOGLE_API_ROOT", double.root)
        monkeypatch.setenv("MAPSHEETS_GOOGLE_TOKEN", "robot-token")
        yield double


def test_subscribing_in_the_cards_shares_the_sheet_so_the_cron_run_sends_the_digest(issuer, strict_google, tmp_path):
    from mapsheets.adapters.mail import SmtpMailer
    from mapsheets.service import digest

    with smtp_server(Inbox()) as inbox:
        app = _app(issuer, tmp_path, DIGEST_ACCOUNT=ROBOT, SMTP_URL=inbox.url)
        sheet = strict_google.create_spreadsheet("Acme deal", user=AE)
        google = Google(app.test_client(), issuer, sheet)
        made = app.test_client().post("/api/generate", json={"spreadsheet_id": sheet, **GENERATE},
                                      headers={**headers(issuer, AE), "X-Mapsheets-Access-Token": SECRET})
        assert made.status_code == 201, made.json
        db = app.config["MAPSHEETS"]["DB"]

        saved = card_schema.the_card(google.post("subscription", form_inputs=form(every="daily")))
        assert ROBOT in str(saved) and "shared with" in str(saved)
        shared = [p for p in strict_google.file(sheet)["permissions"] if p.get("emailAddress") == ROBOT]
        assert [p["role"] for p in shared] == ["writer"]
        assert shared[0]["_notified"]["send"] in (False, "false")  # no email to a service account

        # The AE marks the first step done in Sheets; the cron run (the service account) reads it now.
        title = mark_first_step_done(sheet, SECRET)
        report = digest.run(now=T0 + timedelta(days=1), mailer=SmtpMailer(inbox.url), store_url=db)
        assert report.failed == [], report.failed
        (message,) = inbox.received
        assert AE in message["To"] and title in text_of(message)
        app.extensions["mapsheets_store"].close()
