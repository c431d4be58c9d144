"""CRM stage-history exports generated for tests and the benchmark, with the truth they encode.

Deals walk the stages in order, skipping some, going back a stage now and then, and end won,
lost or still open. Each change happens at a random time of a business day and is written in a
random time zone, so only the UTC date carries the truth.
"""

from __future__ import annotations

import csv
import random
import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

from mapsheets.core.dates import add_business_days, business_days_between

STAGES = ["Discovery", "Solution validation", "Technical & security review", "Business case", "Legal",
          "Procurement", "Signature"]
ZONES = [timezone.utc, timezone(timedelta(hours=-8)), timezone(timedelta(hours=5, minutes=30)),
         timezone(timedelta(hours=9)), None]  # None: written without an offset (read as UTC)
HUBSPOT_CLOSED = {"won": "closedwon", "lost": "closedlost"}


@dataclass
class Visit:
    deal: str
    stage: str
    entered: datetime | None  # UTC; None: before a field-history export's first row
    left: datetime | None = None  # None: the deal is still in it


@dataclass
class Export:
    path: Path
    visits: list[Visit] = field(default_factory=list)
    outcomes: dict[str, str] = field(default_factory=dict)  # deal → won, lost, open
    bad_lines: list[int] = field(default_factory=list)
    segments: dict[str, str] = field(default_factory=dict)
    rows: int = 0

    def truth(self, deals: set[str] | None = None, holidays: frozenset[date] = frozenset()) -> dict[str, dict]:
        """Per stage: per-deal business days (finished visits only), open deals, skipped share."""
        per: dict[str, dict[str, int | None]] = {s: {} for s in STAGES}
        for v in self.visits:
            if deals is not None and v.deal not in deals:
                continue
            days = None if v.entered is None or v.left is None else business_days_between(
                v.entered.date(), v.left.date(), holidays)
            known = per[v.stage].get(v.deal, 0)
            per[v.stage][v.deal] = None if known is None or days is None else known + days
        reach: dict[str, int] = {}
        entered: dict[str, set[str]] = {}
        for v in self.visits:
            if deals is None or v.deal in deals:
                reach[v.deal] = max(reach.get(v.deal, -1), STAGES.index(v.stage))
                entered.setdefault(v.deal, set()).add(v.stage)
        for deal, outcome in self.outcomes.items():
            if outcome == "won" and deal in reach:
                reach[deal] = len(STAGES)
        out = {}
        for i, stage in enumerate(STAGES):
            totals = [d for d in per[stage].values() if d is not None]
            skipped = sum(1 for deal, r in reach.items() if r > i and stage not in entered[deal])
            base = skipped + sum(1 for deal in reach if stage in entered[deal])
            current = [v for v in self.visits if v.stage == stage and v.left is None and v.entered is not None
                       and (deals is None or v.deal in deals) and self.outcomes[v.deal] == "open"]
            out[stage] = {"totals": totals, "open": len(current),
                          "median": statistics.median(totals) if totals else None,
                          "mean": statistics.fmean(totals) if totals else None,
                          "skipped_share": skipped / base if base else None}
        return out


def generate(path: Path, deals: int, *, fmt: str = "generic", seed: int = 7, bad_rows: int = 0,
             start: date = date(2025, 1, 6), holidays: frozenset[date] = frozenset()) -> Export:
    """Write an export of ``deals`` deals to ``path`` in ``fmt``: generic, salesforce (OpportunityHistory),
    salesforce-field (OpportunityFieldHistory) or hubspot; ``bad_rows`` malformed rows sprinkled in."""
    rng = random.Random(seed)
    export = Export(path)
    for n in range(deals):
        deal = f"006{n:012d}" if fmt.startswith("salesforce") else str(9_000_000 + n)
        export.segments[deal] = rng.choice(["Enterprise", "Mid-Market"])
        day = add_business_days(start, rng.randrange(0, 400), holidays)
        path_ = [s for i, s in enumerate(STAGES) if i == 0 or rng.random() > 0.15]
        walk = []
        for i, stage in enumerate(path_):
            walk.append(stage)
            if i and rng.random() < 0.1:  # back a stage, then on again
                walk += [path_[i - 1], stage]
        roll = rng.random()
        outcome = "open" if roll < 0.2 else "lost" if roll < 0.5 else "won"
        if outcome != "won":
            walk = walk[:rng.randrange(1, len(walk) + 1)]
        export.outcomes[deal] = outcome
        last = None
        for stage in walk + ([f"closed {outcome}"] if outcome != "open" else []):
            at = _at(day, rng)
            if last is not None:
                at = max(at, last + timedelta(minutes=1))  # two changes on one day: in order
                export.visits[-1].left = at
            export.visits.append(Visit(deal, stage, at))
            last = at
            day = add_business_days(day, rng.choice([0, 1, 2, 3, 5, 8, 13]), holidays)
    if fmt == "salesforce-field":
        _forget_first_entries(export)
    rows = _rows(export, fmt, rng)
    header, rows = rows[0], rows[1:]
    for k in range(bad_rows):
        at = rng.randrange(0, len(rows) + 1)
        rows.insert(at, _bad_row(header, fmt, k))
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for line, row in enumerate(rows, start=2):
            if row and row[0] == "\x00bad":
                export.bad_lines.append(line)
                row = row[1:]
            writer.writerow(row)
    export.rows = len(rows)
    export.visits = [v for v in export.visits if not v.stage.startswith("closed ")]
    return export


def _at(day: date, rng: random.Random) -> datetime:
    return datetime.combine(day, time(rng.randrange(0, 23), rng.randrange(0, 60), rng.randrange(0, 60)),
                            tzinfo=timezone.utc)


def _stamp(at: datetime, rng: random.Random, fmt: str) -> str:
    zone = rng.choice(ZONES)
    if fmt.startswith("salesforce"):
        return at.strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    if zone is None:
        return at.replace(tzinfo=None).isoformat(sep=" ")
    text = at.astimezone(zone).isoformat()
    return text.replace("+00:00", "Z") if zone is timezone.utc else text


def _name(stage: str, fmt: str) -> str:
    if stage.startswith("closed "):
        outcome = stage.split()[1]
        return HUBSPOT_CLOSED[outcome] if fmt == "hubspot" else f"Closed {outcome.title()}"
    return stage


def _forget_first_entries(export: Export) -> None:
    """OpportunityFieldHistory has no row for the stage a deal was created in: its start is unknown."""
    seen = set()
    for v in export.visits:
        if v.deal not in seen:
            seen.add(v.deal)
            v.entered = None
    # A deal still in the stage it was created in has no row at all.
    silent = {v.deal for v in export.visits if v.entered is None and v.left is None}
    export.visits = [v for v in export.visits if v.deal not in silent]
    export.outcomes = {d: o for d, o in export.outcomes.items() if d not in silent}


def _rows(export: Export, fmt: str, rng: random.Random) -> list[list[str]]:
    if fmt == "salesforce":
        rows = [["Id", "OpportunityId", "StageName", "Amount", "CloseDate", "CreatedDate"]]
    elif fmt == "salesforce-field":
        rows = [["Id", "OpportunityId", "Field", "OldValue", "NewValue", "CreatedDate"]]
    elif fmt == "hubspot":
        rows = [["Record ID", "Deal Name", "Deal Stage", "Timestamp", "Pipeline"]]
    else:
        rows = [["Opportunity ID", "Stage", "Changed At", "Segment"]]
    previous: dict[str, str] = {}
    for k, v in enumerate(export.visits):
        at = v.entered if v.entered else None
        name = _name(v.stage, fmt)
        if fmt == "salesforce":
            rows.append([f"008{k:012d}", v.deal, name, str(rng.randrange(1, 99) * 1000), "2026-06-30",
                         _stamp(at, rng, fmt)])
            if rng.random() < 0.2:  # an amount change: the stage repeats, it is not a stage change
                later = at + timedelta(minutes=rng.randrange(1, 90))
                if v.left is None or later < v.left:
                    rows.append([f"008{k:012d}b", v.deal, name, "1000", "2026-06-30", _stamp(later, rng, fmt)])
        elif fmt == "salesforce-field":
            if at is not None:
                rows.append([f"017{k:012d}", v.deal, "StageName", previous.get(v.deal, ""), name, _stamp(at, rng, fmt)])
                if rng.random() < 0.2:
                    rows.append([f"017{k:012d}a", v.deal, "Amount", "1000", "2000", _stamp(at, rng, fmt)])
        elif fmt == "hubspot":
            rows.append([v.deal, f"Deal {v.deal}", name, _stamp(at, rng, fmt), "default"])
        else:
            rows.append([v.deal, name, _stamp(at, rng, fmt), export.segments[v.deal]])
        previous[v.deal] = name
    body = rows[1:]
    rng.shuffle(body)  # exports come in any order
    return [rows[0]] + body


def _bad_row(header: list[str], fmt: str, k: int) -> list[str]:
    """A malformed row: no id, no stage or an unreadable time, in turn."""
    row = {"generic": ["", "Legal", "2025-03-03T10:00:00Z", "Enterprise"],
           "salesforce": ["008bad", "006bad", "Legal", "1", "2026-06-30", "yesterday"],
           "salesforce-field": ["017bad", "006bad", "StageName", "Legal", "", "2025-03-03T10:00:00Z"],
           "hubspot": ["9999999", "Deal bad", "Legal", "31/02/2025 25:00", "default"]}[fmt]
    if fmt == "generic" and k % 2:
        row = ["9999999", "Legal", "not a date", "Enterprise"]
    return ["\x00bad"] + row
