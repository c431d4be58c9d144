"""The chance to close in the digest (issue 24, part 3): the seller side reads the forecast and how
it moved since the last digest told it; the buyer's digest says nothing of it."""

from __future__ import annotations

import re
from datetime import timedelta

import numpy as np
from digest_helpers import T0, html_of, outbox_messages, text_of
from plan_cells import edit_steps as edit

from mapsheets.adapters.mail import OutboxMailer
from mapsheets.adapters.store import Store
from mapsheets.adapters.store.history import PhaseRow
from mapsheets.service import digest

PHASES = {"Discovery": 10, "Solution validation": 15, "Technical & security review": 15, "Business case": 10,
          "Legal": 15, "Procurement": 10, "Signature": 3, "Kickoff": 5}


def keep(db: str, deals: int, stretch: float) -> None:
    rng = np.random.default_rng(2)
    rows = [PhaseRow(f"D{n}", phase, float(np.ceil(rng.lognormal(np.log(days * stretch), 0.3))))
            for n in range(deals) for phase, days in PHASES.items()]
    Store(db).history.keep("stages test.csv", rows, T0)


def mail_to(folder, email: str):
    return [m for m in outbox_messages(folder) if email in m["To"]]


def test_the_seller_reads_the_chance_and_how_it_moved_the_buyer_neither(plan_file, db, tmp_path):
    outbox = tmp_path / "outbox"
    keep(db, 60, 0.8)
    digest.watch(str(plan_file), ["sam@globex.example", "jane@acme.example"], now=T0, store_url=db)
    edit(plan_file, {(0, "Status"): "Done"})
    digest.run(now=T0 + timedelta(days=1), mailer=OutboxMailer(outbox), store_url=db)
    [first] = mail_to(outbox, "sam@globex.example")
    found = re.search(r"Chance to close by 2027-03-31: (\d+)% · likely 2027-\d\d-\d\d \(P50\), 2027-\d\d-\d\d at "
                      r"worst one time in ten \(P90\) · from 60 past deals", text_of(first))
    assert found, text_of(first)
    assert found.group(0) in html_of(first) and "from" not in text_of(first).split(found.group(0))[1].split("\n")[0]
    [buyer] = mail_to(outbox, "jane@acme.example")
    for body in (text_of(buyer), html_of(buyer)):
        assert "Chance to close" not in body and "past deals" not in body
    told = Store(db).history.last_told(str(plan_file.resolve()))
    assert told is not None and round(told["chance"] * 100) == int(found.group(1))

    keep(db, 60, 1.6)  # deals have got slower: the chance drops
    edit(plan_file, {(1, "Status"): "Done"})
    digest.run(now=T0 + timedelta(days=2), mailer=OutboxMailer(outbox), store_url=db)
    [second] = [m for m in mail_to(outbox, "sam@globex.example") if m["Message-ID"] != first["Message-ID"]]
    moved = re.search(r"Chance to close by 2027-03-31: (\d+)% .* \(down from (\d+)%: (.+)\)", text_of(second))
    assert moved and int(moved.group(2)) == int(found.group(1)) and int(moved.group(1)) < int(found.group(1))
    assert f"down from {found.group(1)}%" in html_of(second)
    [buyer_again] = [m for m in mail_to(outbox, "jane@acme.example") if m["Message-ID"] != buyer["Message-ID"]]
    assert "Chance to close" not in text_of(buyer_again) and "down from" not in text_of(buyer_again)


def test_fewer_than_20_past_deals_the_digest_gives_the_reason(plan_file, db, tmp_path):
    outbox = tmp_path / "outbox"
    keep(db, 19, 1.0)
    digest.watch(str(plan_file), ["sam@globex.example"], now=T0, store_url=db)
    edit(plan_file, {(0, "Status"): "Done"})
    digest.run(now=T0 + timedelta(days=1), mailer=OutboxMailer(outbox), store_url=db)
    [message] = outbox_messages(outbox)
    line = next(x for x in text_of(message).splitlines() if "chance to close" in x.lower())
    assert line.startswith("No chance to close shown: fewer than 20 past deals for ") and "%" not in line
    assert Store(db).history.last_told(str(plan_file.resolve())) is None  # no figure to move from


def test_the_move_names_the_riskiest_phases_most_overdue_step(plan):
    from datetime import date

    from mapsheets.analysis.forecast import Forecast
    from mapsheets.core.dates import add_business_days
    from mapsheets.core.digest import chance_words

    phase = "Technical & security review"
    first = min((s for s in plan.steps if s.phase == phase), key=lambda s: s.due)
    today = add_business_days(first.due, 6)
    figures = Forecast(date(2027, 3, 31), 0.64, date(2027, 3, 24), date(2027, 4, 21), 212, phase)
    text, moved = chance_words(figures, 0.71, plan, today)
    assert text == ("Chance to close by 2027-03-31: 64% · likely 2027-03-24 (P50), 2027-04-21 at worst one time "
                    "in ten (P90) · from 212 past deals")
    assert moved == f"down from 71%: {first.title} is 6 business days over"
    assert chance_words(figures, 0.55, plan, today)[1].startswith("up from 55%: ")
    assert chance_words(figures, 0.6401, plan, today)[1] == ""  # the same whole percent: no move to tell
    assert chance_words(figures, None, plan, today)[1] == ""  # nothing told before
