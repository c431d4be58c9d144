"""Google API requests per plan operation, counted at the test double: mapsheets vs plain gspread.

The "plain gspread" column is a straightforward implementation of the same MAP with gspread's
helpers (create, write rows, format header, freeze, dropdowns, conditional formats, tabs,
protection, share with 3), the way most scripts do it. Google allows 60 reads and 60 writes a
minute per user, so requests are the budget that matters. Prints figures; asserts nothing.
"""

from __future__ import annotations

import random
import sys
from datetime import date, datetime
from pathlib import Path

from google.oauth2.credentials import Credentials

from mapsheets import service
from mapsheets.adapters.gsheets import GoogleWorkbook, make_client
from mapsheets.core.layout import workbook_spec
from mapsheets.core.vocabulary import STATUSES
from mapsheets.service.sharing import share
from mapsheets.service.signoff import sign
from mapsheets.testing.google_api import GoogleApiDouble

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "testing"))
from rebasing_session import rebasing_session  # noqa: E402  (the tests' helper: plain gspread on the double)

TODAY = date(2026, 12, 1)
PEOPLE = ["champion@acme.example", "cfo@acme.example", "sec@acme.example"]


def count(double, fn) -> tuple[int, int]:
    """(Sheets requests, Drive requests) made by ``fn``."""
    double.reset()
    fn()
    methods = double.stats()["methods"]
    sheets = sum(n for m, n in methods.items() if m.startswith("sheets."))
    return sheets, sum(methods.values()) - sheets


def mapsheets_ops(double, plan) -> dict[str, tuple[int, int]]:
    import os

    os.environ["MAPSHEETS_GOOGLE_API_ROOT"] = double.root
    os.environ["MAPSHEETS_GOOGLE_TOKEN"] = "bench"
    book = GoogleWorkbook(None, make_client(Credentials(token="bench"), double.root))
    out = {"create + format": count(double, lambda: book.create(workbook_spec(plan)))}
    out["read plan"] = count(double, lambda: service.read_plan(book.ref, today=TODAY))
    out["add step"] = count(double, lambda: service.add_step(book.ref, title="Security questionnaire",
                                                             side="buyer", today=TODAY))
    out["sign"] = count(double, lambda: sign(book.ref, name="Jane", email=PEOPLE[0], side="buyer",
                                             now=datetime(2026, 12, 2, 9)))
    out["share with 3"] = count(double, lambda: share(book.ref, PEOPLE, role="writer"))
    out["digest run"] = count(double, lambda: _digest_run(double, book))
    return out


def _digest_run(double, book) -> None:
    """One digest run over a plan someone edited: the Drive listing, one read, the Changes-tab
    write and one Drive revisions.list to credit each change to whoever saved it."""
    import tempfile
    from datetime import timedelta, timezone
    from pathlib import Path

    from mapsheets.adapters.mail import OutboxMailer
    from mapsheets.service import digest

    folder = Path(tempfile.mkdtemp())
    db = f"sqlite:///{folder / 'state.db'}"
    start = datetime(2026, 12, 1, 7, tzinfo=timezone.utc)
    digest.watch(book.ref, ["ae@globex.example"], now=start, store_url=db)
    from mapsheets.core.layout import column_letter

    plan = service.read_plan(book.ref, today=TODAY).plan
    spec = workbook_spec(plan).sheet("Plan")
    status = f"Plan!{column_letter(spec.rows[spec.header_row].index('Status'))}{spec.header_row + 2}"
    double.clock.advance(minutes=5)
    book.client.request("put", f"https://sheets.googleapis.com/v4/spreadsheets/{book.sheet_id}/values/{status}",
                        params={"valueInputOption": "USER_ENTERED"}, json={"values": [["Done"]]},
                        headers={"X-Double-User": "bo@acme.example"})
    double.clock.advance(minutes=5)
    double.reset()  # count the run alone
    digest.run(now=start + timedelta(days=1), mailer=OutboxMailer(folder / "outbox"), store_url=db)


def gspread_ops(double, plan) -> dict[str, tuple[int, int]]:
    import gspread
    from gspread.utils import ValidationConditionType

    gc = gspread.Client(None, session=rebasing_session(double.root, token="bench"))
    spec = workbook_spec(plan)
    plan_tab = spec.sheet("Plan")
    header = plan_tab.header_row + 1
    state: dict = {}

    def jsonable(rows):
        return [[v.isoformat() if isinstance(v, (date, datetime)) else v for v in row] for row in rows]

    def create():
        sh = gc.create(plan.title)
        ws = sh.sheet1
        ws.update_title("Plan")
        ws.update(jsonable(plan_tab.rows), "A1", value_input_option="RAW")
        ws.format(f"A{header}:J{header}", {"textFormat": {"bold": True}})
        ws.freeze(rows=header)
        ws.add_validation(f"D{header + 1}:D1000", ValidationConditionType.one_of_list, ["buyer", "seller", "joint"])
        ws.add_validation(f"G{header + 1}:G1000", ValidationConditionType.one_of_list, list(STATUSES))
        for formula in ('=$G19="done"', '=AND($F19<TODAY(),$G19<>"done")'):
            sh.batch_update({"requests": [{"addConditionalFormatRule": {"index": 0, "rule": {
                "ranges": [{"sheetId": ws.id, "startRowIndex": header, "endRowIndex": 1000}],
                "booleanRule": {"condition": {"type": "CUSTOM_FORMULA", "values": [{"userEnteredValue": formula}]},
                                "format": {"textFormat": {"italic": True}}}}}}]})
        for sheet in spec.sheets[1:]:
            width = max((len(r) for r in sheet.rows), default=1)
            tab = sh.add_worksheet(sheet.title, rows=max(100, len(sheet.rows) + 1), cols=max(10, width))
            tab.update(jsonable(sheet.rows), "A1", value_input_option="RAW")
            tab.format("A1:F1", {"textFormat": {"bold": True}})
            tab.freeze(rows=1)
            if sheet.protected:
                tab.add_protected_range("A1:F100", warning_only=True)
        state["sh"] = sh

    def read():
        sh = gc.open_by_key(state["sh"].id)
        for ws in sh.worksheets():
            ws.get_all_values()

    def add_step():
        gc.open_by_key(state["sh"].id).worksheet("Plan").append_row(["", "", "Security questionnaire", "buyer"])

    def sign_it():
        gc.open_by_key(state["sh"].id).worksheet("Sign-off").append_row(["Jane", PEOPLE[0], "buyer", "now", "x"])

    def share_it():
        # sh.share() sends Drive v2's `withLink`, which the double rejects as Drive v3 validation says;
        # the same one request per person, sent directly.
        for email in PEOPLE:
            gc.http_client.request("post", f"https://www.googleapis.com/drive/v3/files/{state['sh'].id}/permissions",
                                   json={"type": "user", "role": "writer", "emailAddress": email},
                                   params={"sendNotificationEmail": "false"})

    return {"create + format": count(double, create), "read plan": count(double, read),
            "add step": count(double, add_step), "sign": count(double, sign_it),
            "share with 3": count(double, share_it), "digest run": (0, 0)}  # no gspread equivalent


def main() -> None:
    plan, _fit = service.build_plan(service.get_template("enterprise-map"), buyer="Acme Corp", seller="Globex",
                                    start=TODAY, close=date(2027, 3, 31), rng=random.Random(1),
                                    roles={"champion": f"Jane <{PEOPLE[0]}>"})  # only people on a plan sign it
    with GoogleApiDouble() as double:
        ours = mapsheets_ops(double, plan)
        theirs = gspread_ops(double, plan)
    print(f"{'operation':<16} {'mapsheets':>18} {'plain gspread':>18} {'ratio':>7}")
    print(f"{'':<16} {'sheets + drive':>18} {'sheets + drive':>18}")
    total_ours = total_theirs = 0
    for op in ours:
        (s1, d1), (s2, d2) = ours[op], theirs[op]
        if s2 + d2:  # totals compare like with like
            total_ours += s1 + d1
            total_theirs += s2 + d2
        ratio = f"{(s2 + d2) / max(1, s1 + d1):>6.1f}x" if s2 + d2 else "     —"
        print(f"{op:<16} {s1:>10} + {d1:<5} {s2:>10} + {d2:<5} {ratio}")
    print(f"{'total':<16} {total_ours:>18} {total_theirs:>18} {total_theirs / total_ours:>6.1f}x")
    print("targets: create+format = 1 Sheets request; read = 1; add step = 1 write (after the read);"
          " sign <= 2;"
          " digest run over one edited plan = files.list + 1 read + 1 write (files.get around it) + 1 revisions.list")


if __name__ == "__main__":
    main()
