"""Win/loss slip of one closed plan, planned against actual, at the edges of the close."""

from __future__ import annotations

from datetime import date

from mapsheets.core.model import Plan, Step
from mapsheets.core.winloss import plan_record

AGREED = date(2027, 1, 4)
CLOSED = date(2027, 2, 5)  # a Friday


def test_an_open_step_due_after_the_close_has_no_slip():
    """Still open at the close: it slipped until the close only if it was due before then."""
    steps = [Step("S-0001", "Kick-off", due=date(2027, 1, 8), status="done", done_on=date(2027, 1, 12)),
             Step("S-0002", "Reference call", due=date(2027, 2, 1)),  # open, due before the close
             Step("S-0003", "Go-live", due=date(2027, 3, 1))]  # open, due after the close
    plan = Plan(kind="mutual", title="t", buyer="Acme", seller="Globex", outcome="won", closed_on=CLOSED,
                steps=steps)
    _row, rows = plan_record("acme", [(AGREED, plan)])
    got = {r["step_id"]: (r["slip_business_days"], r["on_time"]) for r in rows}
    assert got == {"S-0001": (2, False), "S-0002": (4, False), "S-0003": (None, None)}
