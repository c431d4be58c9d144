"""Who a digest credits with each change: Drive revisions for Google Sheets, the audit log for
mapsheets' own writes, nobody for .xlsx; never a wrong name on a line."""

from __future__ import annotations

from datetime import timedelta

import pytest
from digest_helpers import T0, outbox_messages
from plan_cells import edit_steps as edit

from mapsheets.adapters.mail import OutboxMailer
from mapsheets.service import digest

AE = "tester@example.com"  # the double's default user: the account mapsheets runs as
BUYER = "bo@acme.example"


@pytest.fixture
def gplan(google_env, plan):
    """A Google plan made by the AE; returns (sheet id, client, cell of step i's column)."""
    from google.oauth2.credentials import Credentials

    from mapsheets.adapters.gsheets import GoogleWorkbook, make_client
    from mapsheets.core.layout import column_letter, workbook_spec

    google_env.clock.set(T0 - timedelta(hours=2))  # Drive's clock and the digests' agree, as in life
    client = make_client(Credentials(token="t"), google_env.root)
    book = GoogleWorkbook(None, client)
    book.create(workbook_spec(plan))
    spec = workbook_spec(plan).sheet("Plan")
    header = spec.rows[spec.header_row]

    def cell(index: int, column: str) -> str:
        return f"Plan!{column_letter(header.index(column))}{spec.record_rows()[index] + 1}"

    return book.sheet_id, client, cell


def type_as(google_env, client, sheet_id: str, cell: str, value: str, user: str, at) -> None:
    google_env.clock.set(at)
    client.request("put", f"https://sheets.googleapis.com/v4/spreadsheets/{sheet_id}/values/{cell}",
                   params={"valueInputOption": "USER_ENTERED"}, json={"values": [[value]]},
                   headers={"X-Double-User": user})


def lines(message) -> list[str]:
    text = message.get_body(preferencelist=("plain",)).get_content()
    return [line.strip() for line in text.splitlines()]


def test_a_buyers_edit_is_not_credited_to_the_last_modifier(google_env, gplan, db, tmp_path):
    sheet_id, client, cell = gplan
    outbox = tmp_path / "outbox"
    digest.watch(sheet_id, ["ae@globex.example"], now=T0, store_url=db)
    type_as(google_env, client, sheet_id, cell(0, "Status"), "Done", BUYER, T0 + timedelta(hours=1))
    type_as(google_env, client, sheet_id, cell(1, "Notes"), "legal has the draft", AE, T0 + timedelta(hours=2))
    google_env.reset()
    google_env.clock.set(T0 + timedelta(days=1))
    digest.run(now=T0 + timedelta(days=1), mailer=OutboxMailer(outbox), store_url=db)
    assert google_env.stats()["methods"]["drive.revisions.list"] == 1  # one request for the plan
    [message] = outbox_messages(outbox)
    body = lines(message)
    # Two people saved between the digests and no stored revision tells their edits apart:
    # no line names anyone (Drive's last modifier, the AE, did not mark the step done).
    assert not [x for x in body if x.endswith(f"— {AE}") or x.endswith(f"— {BUYER}")]
    assert f"Edited by {BUYER} and {AE}." in body
    changes_tab = google_env.values(sheet_id, "Changes!A1:E10")
    assert [row[1] if len(row) > 1 else "" for row in changes_tab[1:]] == ["", ""]


def test_each_change_is_credited_to_the_one_person_who_saved_it(google_env, gplan, db, tmp_path):
    from mapsheets.service.revisions import snapshot

    sheet_id, client, cell = gplan
    outbox = tmp_path / "outbox"
    digest.watch(sheet_id, ["ae@globex.example"], now=T0, store_url=db)
    type_as(google_env, client, sheet_id, cell(0, "Status"), "Done", BUYER, T0 + timedelta(hours=1))
    google_env.clock.set(T0 + timedelta(hours=3))
    snapshot(sheet_id, now=T0 + timedelta(hours=3), store_url=db)  # a stored revision between the edits
    type_as(google_env, client, sheet_id, cell(1, "Status"), "In progress", AE, T0 + timedelta(hours=4))
    google_env.clock.set(T0 + timedelta(days=1))
    digest.run(now=T0 + timedelta(days=1), mailer=OutboxMailer(outbox), store_url=db)
    body = lines(outbox_messages(outbox)[0])
    assert [x for x in body if "is now" in x] == [
        f'- "{_title(sheet_id, 0, db)}" is now done — {BUYER}',
        f'- "{_title(sheet_id, 1, db)}" is now in progress (was not started) — {AE}']
    assert not [x for x in body if x.startswith("Edited by")]

    # The next day the buyer alone saves: mapsheets' own Changes-tab write (as the AE) does not count.
    type_as(google_env, client, sheet_id, cell(2, "Status"), "Done", BUYER, T0 + timedelta(days=1, hours=1))
    google_env.clock.set(T0 + timedelta(days=2))
    digest.run(now=T0 + timedelta(days=2), mailer=OutboxMailer(outbox), store_url=db)
    [second] = [lines(m) for m in outbox_messages(outbox) if any("is now done" in x and _title(sheet_id, 2, db) in x
                                                               for x in lines(m))]
    assert [x for x in second if "is now done" in x] == [f'- "{_title(sheet_id, 2, db)}" is now done — {BUYER}']
    who = [row[1] for row in google_env.values(sheet_id, "Changes!A2:E10")]
    assert who == [BUYER, AE, BUYER]


def _title(ref: str, index: int, db: str) -> str:
    from mapsheets.adapters.store import Store
    from mapsheets.core.model import Plan

    return Plan.from_dict(Store(db).revisions.get(ref, "latest").content["plan"]).steps[index].title


def test_signatures_are_credited_from_the_audit_log_and_xlsx_edits_to_nobody(plan_file, db, tmp_path):
    from mapsheets.service.signoff import sign

    outbox = tmp_path / "outbox"
    digest.watch(str(plan_file), ["ae@globex.example"], now=T0, store_url=db)
    edit(plan_file, {(0, "Status"): "Done"})
    sign(str(plan_file), name="Jane Doe", email="jane@acme.example", side="buyer", now=T0 + timedelta(hours=2),
         store_url=db, record=True)
    digest.run(now=T0 + timedelta(days=1), mailer=OutboxMailer(outbox), store_url=db)
    body = lines(outbox_messages(outbox)[0])
    assert [x for x in body if "Jane Doe" in x and "sign" in x.lower()][0].endswith("— jane@acme.example")
    assert [x for x in body if "is now done" in x][0].endswith("is now done")  # a file has no reliable author
    assert not [x for x in body if x.startswith("Edited by")]
