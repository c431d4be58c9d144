"""Issue 18: the add-step forms start on the phase of the next open step, not on a blank phase."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from addon_server import cards
from tests.plan_cells import edit_steps
from tests.server.conftest import SHEET, headers
from tests.server.test_addon_api import AE, generated  # noqa: F401  (the fixture)


def _summary(client, issuer) -> dict:
    answer = client.post("/api/summary", json={"spreadsheet_id": SHEET}, headers=headers(issuer, AE))
    assert answer.status_code == 200, answer.json
    return answer.json["plan"]


def test_the_next_phase_is_the_phase_of_the_earliest_open_step(client, issuer, generated):  # noqa: F811
    plan = _summary(client, issuer)
    assert plan["next_phase"] == plan["phases"][0] == "Discovery"
    discovery = [i for i, s in enumerate(plan["steps"]) if i < 2]
    edit_steps(generated, {(i, "Status"): "done" for i in discovery})
    later = _summary(client, issuer)
    assert later["next_phase"] == "Solution validation"


def test_the_card_step_form_preselects_the_next_phase():
    phases = ["Discovery", "Solution validation", "Legal"]
    links = cards.Links("https://addon.example")
    form = cards.step_form(phases, {"phase": "Solution validation"}, {}, ZoneInfo("UTC"), links)
    items = next(w["selectionInput"]["items"] for s in form["sections"] for w in s["widgets"]
                 if w.get("selectionInput", {}).get("name") == "phase")
    assert [i["value"] for i in items if i["selected"]] == ["Solution validation"]


def test_the_summary_cards_add_step_button_carries_the_next_phase(client, issuer, generated):  # noqa: F811
    data = client.post("/api/summary", json={"spreadsheet_id": SHEET}, headers=headers(issuer, AE)).json
    data["plan"]["next_phase"] = "Legal"
    card = cards.summary(data, cards.Links("https://addon.example"))
    add = next(b for s in card["sections"] for w in s["widgets"] for b in w.get("buttonList", {}).get("buttons", [])
               if b["text"] == "Add step")
    params = {p["key"]: p["value"] for p in add["onClick"]["action"]["parameters"]}
    assert params["next_phase"] == "Legal"
