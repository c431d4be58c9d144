"""Closed plans generated the way they happen: a plan made, worked week by week (each week a stored
revision), signed or not, then closed won or lost."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

import openpyxl

from mapsheets.adapters.mail import OutboxMailer
from mapsheets.adapters.xlsx import read_grid, write_workbook
from mapsheets.core.dates import add_business_days
from mapsheets.core.layout import column_letter, workbook_spec
from mapsheets.core.parse import parse_plan
from mapsheets.service import build_plan, get_template
from mapsheets.service.lifecycle_close import close_plan
from mapsheets.service.revisions import open_store, snapshot_into
from mapsheets.service.signoff import sign

START = date(2026, 12, 1)
ROLES = {"champion": "Jane Doe <jane@acme.example>", "ae": "Sam Seller <sam@globex.example>",
         "security": "Sec Lead <sec@acme.example>"}


def at(day: date) -> datetime:
    return datetime.combine(day, time(9, 0), tzinfo=timezone.utc)


def work_week(path: Path, day: date, slip) -> None:
    """A person marks done, with its Done on, every open step whose (slipped) finish is by ``day``."""
    parsed = parse_plan(read_grid(path))
    cols, book = parsed.location.columns, openpyxl.load_workbook(path)
    ws = book[parsed.location.tab]
    for step in parsed.plan.steps:
        extra = slip(step)
        if step.status != "done" and step.due and extra is not None and add_business_days(step.due, extra) <= day:
            row = parsed.location.step_rows[step.id] + 1
            ws[f"{column_letter(cols['Status'])}{row}"] = "Done"
            ws[f"{column_letter(cols['Done on'])}{row}"] = add_business_days(step.due, extra)
    book.save(path)


def closed_plan(folder: Path, db: str, name: str, outcome: str, *, security_slip: int, other_slip: int,
                weeks: int, signed: bool, outbox: Path, seed: int = 1) -> Path:
    """Plan ``name`` worked for ``weeks`` weeks, one revision a week, then closed ``outcome``."""
    plan, _fit = build_plan(get_template("enterprise-map"), buyer=name, seller="Globex", start=START,
                            close=date(2027, 3, 31), roles=ROLES, rng=random.Random(seed))
    path = folder / f"{name.lower().replace(' ', '-')}.xlsx"
    write_workbook(path, workbook_spec(plan))
    store = open_store(db)
    snapshot_into(store, str(path), now=at(START))

    def slip(step):
        if outcome == "lost" and step.side == "buyer" and step.phase.startswith("Legal"):
            return None  # never done: the buyer walked away
        return security_slip if "security" in step.phase.lower() else other_slip

    day = START
    for _ in range(weeks):
        day += timedelta(days=7)
        work_week(path, day, slip)
        snapshot_into(store, str(path), now=at(day))
    for who, email, side in (("Sam Seller", "sam@globex.example", "seller"),
                             ("Jane Doe", "jane@acme.example", "buyer")):
        if signed or side == "seller":
            sign(str(path), name=who, email=email, side=side, now=at(day), store_url=db, record=True)
    close_plan(str(path), outcome=outcome, today=day, now=at(day), reason=f"{name} {outcome}", store_url=db,
               mailer=OutboxMailer(outbox))
    return path
