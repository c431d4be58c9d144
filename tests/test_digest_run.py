"""The digest run end to end: real workbooks, a real SQLite store, a real SMTP server on loopback,
and real SIGKILLs of the `mapsheets digest` process at the worst moments."""

from __future__ import annotations

import shutil
from datetime import timedelta

import pytest
from digest_helpers import T0, html_of, outbox_messages
from plan_cells import edit_steps as edit
from plan_cells import step_cell

from mapsheets.adapters.mail import OutboxMailer
from mapsheets.adapters.store import Store
from mapsheets.adapters.xlsx import read_grid
from mapsheets.service import digest


def test_digest_tells_what_changed_once_and_logs_it_in_the_sheet(plan_file, plan, db, tmp_path):
    outbox = tmp_path / "outbox"
    mailer = OutboxMailer(outbox)
    digest.watch(str(plan_file), ["ae@globex.example"], now=T0, store_url=db)

    quiet = digest.run(now=T0 + timedelta(minutes=5), mailer=mailer, store_url=db)
    assert quiet.sent == [] and quiet.quiet == 1 and quiet.unchanged == 1  # no change, nothing overdue

    edit(plan_file, {(0, "Status"): "Done", (1, "Due"): "2026-12-24", (2, "Step"): "<script>alert(1)</script>"})
    report = digest.run(now=T0 + timedelta(days=1), mailer=mailer, store_url=db)
    assert [to for to, _s in report.sent] == ["ae@globex.example"]
    [message] = outbox_messages(outbox)
    assert message["Subject"].startswith("[MAP] Acme Corp × Globex: 3 changes")
    body = html_of(message)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body and "<script>" not in body
    assert "is now done" in body and "slipped" in body
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "<script>alert(1)</script>" in text  # plain text needs no escaping

    changes_tab = read_grid(plan_file)["Changes"]
    # Headers in words; the revision key last (a narrow grey column only mapsheets reads).
    assert changes_tab[0] == ["When", "Who", "What changed", "Before", "After", "mapsheets"]
    assert [any(x in row[2] for x in (s.id, s.title)) for row, s in zip(changes_tab[1:], plan.steps[:3],
                                                                         strict=True)] == [True] * 3
    assert {row[5] for row in changes_tab[1:]} == {"1→2"}  # the key a retry recognises them by
    # The Changes tab is ours: writing it is not a change of the plan.
    again = digest.run(now=T0 + timedelta(days=2), mailer=mailer, store_url=db)
    assert again.sent == [] and again.unchanged == 1 and again.snapshots == 0
    assert len(outbox_messages(outbox)) == 1


def test_not_due_yet_and_weekly(plan_file, db, tmp_path):
    mailer = OutboxMailer(tmp_path / "outbox")
    digest.watch(str(plan_file), ["cfo@acme.example"], every="weekly", now=T0, store_url=db)
    edit(plan_file, {(0, "Status"): "Done"})
    assert len(digest.run(now=T0 + timedelta(days=7), mailer=mailer, store_url=db).sent) == 1
    edit(plan_file, {(1, "Status"): "Done"})
    assert digest.run(now=T0 + timedelta(days=8), mailer=mailer, store_url=db).sent == []  # a week not over
    assert len(digest.run(now=T0 + timedelta(days=14), mailer=mailer, store_url=db).sent) == 1


def test_only_changes_skips_overdue_reminders(plan_file, db, tmp_path):
    mailer = OutboxMailer(tmp_path / "outbox")
    digest.watch(str(plan_file), ["a@globex.example"], now=T0, store_url=db)
    digest.watch(str(plan_file), ["b@globex.example"], only_changes=True, now=T0, store_url=db)
    late = T0 + timedelta(days=30)  # steps are overdue by now, nothing changed
    report = digest.run(now=late, mailer=mailer, store_url=db)
    assert [to for to, _s in report.sent] == ["a@globex.example"]
    assert "overdue" in report.sent[0][1]


def test_dry_run_sends_and_records_nothing(plan_file, db, tmp_path):
    outbox = tmp_path / "outbox"
    digest.watch(str(plan_file), ["a@globex.example"], now=T0, store_url=db)
    edit(plan_file, {(0, "Status"): "Done"})
    report = digest.run(now=T0 + timedelta(days=1), mailer=OutboxMailer(outbox), store_url=db, dry_run=True)
    assert [to for to, _s in report.would_send] == ["a@globex.example"] and report.sent == []
    assert not outbox.exists() or not list(outbox.iterdir())
    assert "Changes" not in read_grid(plan_file)
    assert [r.seq for r in Store(db).revisions.of(str(plan_file.resolve()))] == [1]  # nothing recorded
    assert len(digest.run(now=T0 + timedelta(days=1), mailer=OutboxMailer(outbox), store_url=db).sent) == 1
    assert [row[2] for row in read_grid(plan_file)["Changes"][1:]][0].endswith("is now done")


def test_one_broken_plan_does_not_stop_the_others(plan_file, db, tmp_path):
    other = tmp_path / "other.xlsx"
    shutil.copy(plan_file, other)
    digest.watch(str(other), ["a@globex.example"], now=T0, store_url=db)
    digest.watch(str(plan_file), ["b@globex.example"], now=T0, store_url=db)
    other.unlink()
    edit(plan_file, {(0, "Status"): "Done"})
    report = digest.run(now=T0 + timedelta(days=1), mailer=OutboxMailer(tmp_path / "outbox"), store_url=db)
    assert [to for to, _s in report.sent] == ["b@globex.example"]
    assert len(report.failed) == 1 and "other.xlsx: no such file" in report.failed[0]


def test_changes_snapshotted_by_hand_still_reach_the_changes_tab(plan_file, db, tmp_path):
    from mapsheets.service.revisions import snapshot

    mailer = OutboxMailer(tmp_path / "outbox")
    digest.watch(str(plan_file), ["a@globex.example"], now=T0, store_url=db)
    edit(plan_file, {(0, "Status"): "Done"})
    snapshot(str(plan_file), now=T0 + timedelta(hours=1), store_url=db)
    digest.run(now=T0 + timedelta(days=1), mailer=mailer, store_url=db)
    logged = [row[2] for row in read_grid(plan_file)["Changes"][1:]]
    assert len(logged) == 1 and logged[0].endswith("is now done")


# A run told an earlier "now" (these tests, in years to come) keeps to that clock for its leases.
@pytest.mark.parametrize("start", [T0, T0 - timedelta(weeks=52 * 5)], ids=["now", "years-earlier"])
def test_a_claimed_delivery_is_left_alone_until_its_lease_runs_out(plan_file, db, tmp_path, start):
    from mapsheets.adapters.mail import build_message

    T0 = start  # noqa: N806  (the module's clock, moved)
    store = Store(db)
    digest.watch(str(plan_file), ["a@globex.example"], now=T0, store_url=db)
    [sub] = store.digests.subscriptions()
    rev = store.revisions.get(sub.ref, "latest")
    message = build_message(sender="m@globex.example", to=[sub.email], subject="s", html="<p>h</p>", text="t",
                            message_id="<claim-test@globex.example>")
    delivery = store.digests.record_delivery(sub, message_id="<claim-test@globex.example>", to_revision_id=rev.id,
                                             message=message.as_string(), now=T0)
    assert store.digests.claim_delivery(delivery, T0)  # run A is sending it
    assert not store.digests.claim_delivery(delivery, T0 + timedelta(minutes=1))  # run B must not send it again
    report = digest.run(now=T0 + timedelta(minutes=2), mailer=OutboxMailer(tmp_path / "o"), store_url=db)
    assert report.resent == 0
    later = digest.run(now=T0 + timedelta(hours=1), mailer=OutboxMailer(tmp_path / "o"), store_url=db)
    assert later.resent == 1  # A died: after the lease, the message is not lost


def test_cli_bad_inputs_are_one_line(plan_file, db):
    from click.testing import CliRunner

    from mapsheets.cli import cli

    result = CliRunner().invoke(cli, ["watch", str(plan_file), "--to", "not-an-email", "--db", db])
    assert result.exit_code == 1 and result.output.strip() == "Error: --to 'not-an-email' is not an email address"
    result = CliRunner().invoke(cli, ["digest", "--now", "yesterday", "--db", db])
    assert result.exit_code == 1 and "is not an ISO time" in result.output and "Traceback" not in result.output


def test_google_plans_unchanged_are_never_opened(google_env, plan, db, tmp_path):

    from google.oauth2.credentials import Credentials

    from mapsheets.adapters.gsheets import GoogleWorkbook, make_client
    from mapsheets.core.layout import column_letter, workbook_spec

    client = make_client(Credentials(token="t"), google_env.root)
    ids = []
    for _ in range(3):
        book = GoogleWorkbook(None, client)
        book.create(workbook_spec(plan))
        ids.append(book.sheet_id)
        digest.watch(book.sheet_id, ["ae@globex.example"], now=T0, store_url=db)
    google_env.clock.advance(hours=1)
    spec = workbook_spec(plan).sheet("Plan")
    status = f"Plan!{column_letter(spec.rows[spec.header_row].index('Status'))}{spec.record_rows()[0] + 1}"
    client.request("put", f"https://sheets.googleapis.com/v4/spreadsheets/{ids[1]}/values/{status}",
                   params={"valueInputOption": "USER_ENTERED"}, json={"values": [["Done"]]})
    google_env.reset()
    mailer = OutboxMailer(tmp_path / "outbox")
    report = digest.run(now=T0 + timedelta(days=1), mailer=mailer, store_url=db)
    methods = google_env.stats()["methods"]
    assert len(report.sent) == 1 and report.unchanged == 2
    assert methods["drive.files.list"] == 1 and methods["sheets.spreadsheets.get"] == 1
    assert google_env.values(ids[1], "Changes!C2")[0][0].endswith("is now done")
    google_env.reset()
    quiet = digest.run(now=T0 + timedelta(days=2), mailer=mailer, store_url=db)
    assert quiet.sent == [] and google_env.stats()["methods"] == {"drive.files.list": 1}


def test_new_plan_subscribes_its_seller_owner_unless_told_not_to(tmp_path, db):
    """Issue 18: the buyer's champion hears of the plan when it is shared with them, not at `new`."""
    from click.testing import CliRunner

    from mapsheets.cli import cli

    args = ["new", "-t", "midmarket-map", "--buyer", "Acme", "--seller", "Globex", "--db", db,
            "--role", "ae=Sam Rivera <sam@globex.example>", "--role", "champion=Jane Doe <jane@acme.example>"]
    result = CliRunner().invoke(cli, [*args, "-o", str(tmp_path / "a.xlsx")])
    assert result.exit_code == 0, result.output
    assert "Daily digest to sam@globex.example " in result.output and "jane@acme.example" not in result.output
    assert "once you share the plan" in result.output
    # Sam by the name the overview gives him.
    assert [(s.email, s.name) for s in digest.watching(store_url=db)] == [("sam@globex.example", "Sam Rivera")]
    result = CliRunner().invoke(cli, [*args, "-o", str(tmp_path / "b.xlsx"), "--no-watch"])
    assert result.exit_code == 0 and "Daily digest" not in result.output
    assert len(digest.watching(store_url=db)) == 1


def test_sharing_a_plan_subscribes_the_people_it_is_shared_with(google_env, tmp_path, db):
    from click.testing import CliRunner

    from mapsheets.cli import cli

    made = CliRunner().invoke(cli, ["new", "-t", "midmarket-map", "--buyer", "Acme", "--seller", "Globex", "--db", db,
                                    "--google", "--no-watch"])
    assert made.exit_code == 0, made.output
    url = next(w for w in made.output.split() if w.startswith("http")).rstrip(":")
    shared = CliRunner().invoke(cli, ["share", url, "--with", "jane@acme.example", "--db", db])
    assert shared.exit_code == 0, shared.output
    assert "Shared with jane@acme.example as writer; their daily digest is on" in shared.output
    assert [s.email for s in digest.watching(store_url=db)] == ["jane@acme.example"]
    quiet = CliRunner().invoke(cli, ["share", url, "--with", "carla@acme.example", "--no-watch", "--db", db])
    assert quiet.exit_code == 0 and [s.email for s in digest.watching(store_url=db)] == ["jane@acme.example"]


def test_cli_is_silent_under_cron_and_previews_html(plan_file, db, tmp_path):
    from click.testing import CliRunner

    from mapsheets.cli import cli

    outbox = tmp_path / "outbox"
    digest.watch(str(plan_file), ["ae@globex.example"], now=T0, store_url=db)
    edit(plan_file, {(0, "Step"): "<b>Kickoff</b> & more", (0, "Status"): "Done"})
    base = ["digest", "--db", db, "--outbox", str(outbox)]
    dry = CliRunner().invoke(cli, [*base, "--dry-run", "--now", (T0 + timedelta(days=1)).isoformat()])
    assert dry.exit_code == 0 and "would send to ae@globex.example: [MAP] Acme Corp × Globex" in dry.output
    assert not outbox.exists() or not list(outbox.glob("*.eml"))
    sent = CliRunner().invoke(cli, [*base, "--now", (T0 + timedelta(days=1)).isoformat()])
    assert sent.exit_code == 0 and sent.output == ""  # not a terminal: cron mails nothing on success
    assert len(list(outbox.glob("*.eml"))) == 1
    html = tmp_path / "preview.html"
    preview = CliRunner().invoke(cli, ["digest", "--preview", str(plan_file), "--since", "1", "-o", str(html),
                                       "--db", db])
    assert preview.exit_code == 0, preview.output
    page = html.read_text()
    assert "&lt;b&gt;Kickoff&lt;/b&gt; &amp; more" in page and "<b>Kickoff</b>" not in page


def test_frequent_cron_sends_once_a_day_at_the_hour_and_quiet_days_keep_the_slot(plan_file, db, tmp_path):
    mailer = OutboxMailer(tmp_path / "outbox")
    digest.watch(str(plan_file), ["ae@globex.example"], now=T0 - timedelta(days=1), store_url=db)
    day1 = T0.replace(hour=6)
    edit(plan_file, {(0, "Status"): "Done"})
    sends = []
    for minutes in range(0, 180, 10):  # every 10 minutes, 06:00 to 08:50
        at = day1 + timedelta(minutes=minutes)
        sends += [at for _ in digest.run(now=at, mailer=mailer, store_url=db).sent]
    assert sends == [T0]  # the 07:00 run, once
    # Day 2: nothing changed at 07:00 (quiet); an edit at 10:00 waits for day 3's slot.
    for minutes in range(0, 60, 10):
        assert digest.run(now=T0 + timedelta(days=1, minutes=minutes), mailer=mailer, store_url=db).sent == []
    edit(plan_file, {(1, "Status"): "Done"})
    assert digest.run(now=T0 + timedelta(days=1, hours=3, minutes=10), mailer=mailer, store_url=db).sent == []
    assert len(digest.run(now=T0 + timedelta(days=2), mailer=mailer, store_url=db).sent) == 1


def test_an_edit_saved_while_the_changes_tab_is_written_is_not_missed(plan_file, db, tmp_path):
    from mapsheets.adapters.xlsx import XlsxWorkbook
    from mapsheets.service.changes_tab import log_changes
    from mapsheets.service.digest import RunReport
    from mapsheets.service.revisions import snapshot

    mailer = OutboxMailer(tmp_path / "outbox")
    digest.watch(str(plan_file), ["ae@globex.example"], now=T0, store_url=db)
    edit(plan_file, {(0, "Status"): "Done"})
    result = snapshot(str(plan_file), now=T0 + timedelta(hours=1), store_url=db)
    read_from = XlsxWorkbook(plan_file).revision()
    edit(plan_file, {(1, "Status"): "Blocked"})  # a person saves after our read, before our write
    log_changes(Store(db), str(plan_file.resolve()), XlsxWorkbook(plan_file), result.revision, read_from,
                 T0 + timedelta(hours=1), frozenset(), RunReport())
    report = digest.run(now=T0 + timedelta(days=1), mailer=mailer, store_url=db)
    assert report.snapshots == 1  # the plan was read again, not taken as unchanged
    body = html_of(outbox_messages(tmp_path / "outbox")[0])
    assert "is now done" in body and "is now blocked" in body


def test_an_unwritable_outbox_keeps_the_digest_for_the_next_run(plan_file, db, tmp_path):
    digest.watch(str(plan_file), ["ae@globex.example"], now=T0, store_url=db)
    edit(plan_file, {(0, "Status"): "Done"})
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the outbox should be")
    report = digest.run(now=T0 + timedelta(days=1), mailer=OutboxMailer(blocked), store_url=db)
    assert report.sent == [] and len(report.failed) == 1 and "outbox" in report.failed[0]
    later = digest.run(now=T0 + timedelta(days=1, minutes=10), mailer=OutboxMailer(tmp_path / "ok"), store_url=db)
    assert later.resent == 1 and len(list((tmp_path / "ok").glob("*.eml"))) == 1


def test_a_bad_sender_fails_before_anything_is_read(plan_file, db, tmp_path):
    from mapsheets.errors import UsageError

    digest.watch(str(plan_file), ["ae@globex.example"], now=T0, store_url=db)
    edit(plan_file, {(0, "Status"): "Done"})
    with pytest.raises(UsageError, match="--from 'bogus' is not an email address"):
        digest.run(now=T0 + timedelta(days=1), mailer=OutboxMailer(tmp_path / "o"), store_url=db, sender="bogus")
    assert [r.seq for r in Store(db).revisions.of(str(plan_file.resolve()))] == [1]


def test_cells_that_could_not_be_read_are_listed_in_the_digest(plan_file, db, tmp_path):
    digest.watch(str(plan_file), ["ae@globex.example"], now=T0, store_url=db)
    edit(plan_file, {(0, "Status"): "Done", (1, "Due"): "next week"})
    # The seller side reads cells by their address (a buyer reads plain words: test_digest_audience).
    digest.run(now=T0 + timedelta(days=1), mailer=OutboxMailer(tmp_path / "outbox"), store_url=db,
               seller_domains=["globex.example"])
    [message] = outbox_messages(tmp_path / "outbox")
    cell = step_cell(plan_file, 1, "Due")
    assert f'Plan!{cell}</span> &#34;next week&#34; is not a date' in html_of(message)
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert f'Plan!{cell} "next week" is not a date' in text


def test_an_emptied_id_cell_gets_its_old_id_back(plan_file, plan, db, tmp_path):
    from mapsheets.service import read_plan
    from mapsheets.service.revisions import diff_plans, snapshot

    digest.watch(str(plan_file), ["ae@globex.example"], now=T0, store_url=db)
    lost = plan.steps[1].id  # step 3 depends on it
    assert lost in plan.steps[2].depends_on
    edit(plan_file, {(1, "ID"): None, (0, "Status"): "Done"})
    assert {w.message for w in read_plan(str(plan_file), today=T0.date()).warnings} == {
        f"unknown step {lost} in 'Depends on'"}
    snapshot(str(plan_file), now=T0 + timedelta(hours=1), store_url=db)
    changes = diff_plans(str(plan_file), since="1", store_url=db).changes
    assert [(c.kind, c.field) for c in changes] == [("step_changed", "status")]  # no "new ID"
    report = digest.run(now=T0 + timedelta(days=1), mailer=OutboxMailer(tmp_path / "outbox"), store_url=db)
    assert len(report.sent) == 1 and "new ID" not in html_of(outbox_messages(tmp_path / "outbox")[0])
    healed = read_plan(str(plan_file), today=T0.date())  # the sheet has its ID back
    assert healed.warnings == [] and healed.plan.steps[1].id == lost
    quiet = digest.run(now=T0 + timedelta(days=2), mailer=OutboxMailer(tmp_path / "outbox"), store_url=db)
    assert quiet.unchanged == 1 and quiet.snapshots == 0  # writing the ID back was not a change


def test_the_projected_close_moves_from_what_the_last_digest_said(plan_file, db, tmp_path):
    """No edit between two digests: the plan stores no new revision, yet its projection moves as
    overdue days pass. "Moved N days than in your last digest (DATE)" compares with what that
    digest said, not with the projection the day the plan was first stored."""
    import re

    from digest_helpers import text_of

    digest.watch(str(plan_file), ["ae@globex.example"], now=T0, store_url=db)
    said = []
    for day in (9, 10):
        outbox = tmp_path / f"outbox{day}"
        digest.run(now=T0 + timedelta(days=day), mailer=OutboxMailer(outbox), store_url=db)
        text = text_of(outbox_messages(outbox)[0])
        said.append(re.search(r"Projected close:\s+(.+?) \(", text)[1])
    if said[0] == said[1]:
        assert "Projected close unchanged" in text
    else:
        assert f"than in your last digest ({said[0]})" in text, text


def test_filling_ids_after_someone_inserted_a_row_writes_no_id_into_the_wrong_row(plan_file, db):
    """The run's read is not under the plan's lock: if a person inserts a row above the steps
    before the IDs are written back, the write is worked out again and no step's ID is overwritten."""
    import openpyxl

    from mapsheets.adapters.xlsx import XlsxWorkbook
    from mapsheets.core.parse import parse_plan
    from mapsheets.service.changes_tab import fill_ids
    from mapsheets.service.digest import RunReport
    from mapsheets.service.revisions import read_snapshot

    ids_before = [s.id for s in parse_plan(read_grid(plan_file)).plan.steps]
    edit(plan_file, {(3, "ID"): None})  # someone clears an ID cell
    snap, source = read_snapshot(str(plan_file))
    assert snap.missing_ids
    book = openpyxl.load_workbook(plan_file)  # meanwhile, a row is inserted above the steps
    header = next(r for r in range(1, 80) if book["Plan"].cell(r, 1).value == "ID")
    book["Plan"].insert_rows(header)
    book.save(plan_file)

    report = RunReport()
    fill_ids(Store(db), str(plan_file.resolve()), XlsxWorkbook(plan_file), snap, source, T0, report)
    after = parse_plan(read_grid(plan_file))
    kept = [s.id for s in after.plan.steps]
    assert [i for n, i in enumerate(kept) if n != 3] == [i for n, i in enumerate(ids_before) if n != 3]
    assert all(i.startswith("S-") and " " not in i for i in kept)


def test_preview_judges_the_plan_on_the_day_given_by_now(plan_file, plan, db, tmp_path):
    from click.testing import CliRunner

    from mapsheets.cli import cli

    pages = {}
    for label, when in (("start", "2026-12-01T08:00:00+00:00"), ("close", f"{plan.target_close}T08:00:00+00:00")):
        html = tmp_path / f"{label}.html"
        done = CliRunner().invoke(cli, ["digest", "--preview", str(plan_file), "--now", when, "-o", str(html),
                                        "--db", db, "--tz", "UTC"])
        assert done.exit_code == 0, done.output
        pages[label] = html.read_text()
    assert "Nothing overdue" in pages["start"] and "steps overdue" not in pages["start"]
    assert "steps overdue" in pages["close"]
