"""Issue 21 part 2 through the Workspace add-on's cards: My steps on the plan's card, a step's card,
Mark done, blocked without a reason (asked for beside its field), a due date moved; every answer
checked against the card schema (card_schema.py), Google requests counted at the double."""

from __future__ import annotations

from datetime import date

from tests.server import card_schema
from tests.server.test_workspace_addon import (  # noqa: F401 (fixture)
    AE,
    CHAMPION,
    GENERATE,
    _error_after,
    _field,
    _ms,
    _texts,
    form,
    on_google,
)


def _sections(card: dict) -> dict[str, list[dict]]:
    return {s.get("header", ""): s["widgets"] for s in card["sections"]}


def _update_buttons(widgets: list[dict]) -> list[dict]:
    return [w["decoratedText"]["button"] for w in widgets if "button" in w.get("decoratedText", {})]


def _press(google, action: dict, email=CHAMPION, **event_kw) -> dict:
    params = {p["key"]: p["value"] for p in action.get("parameters", [])}
    return card_schema.the_card(google.post(action["function"].rsplit("/workspace/", 1)[1], email, params=params,
                                            **event_kw))


def _buttons(card: dict) -> dict[str, dict]:
    return {b["text"]: b["onClick"]["action"] for w in card_schema.widgets(card)
            for b in w.get("buttonList", {}).get("buttons", [])}


def test_my_steps_through_the_cards(on_google):  # noqa: F811 (fixture)
    google, double = on_google
    google.post("generate", AE, form_inputs=form(**GENERATE))
    google.post("sign", AE)
    home = card_schema.the_card(google.post("homepage", CHAMPION))
    sections = _sections(home)
    mine_header = next(h for h in sections if h.startswith("My steps ("))
    mine = sections[mine_header]
    assert mine_header == f"My steps ({len(mine)})" and len(mine) >= 2
    assert all("Jane Doe" in w["decoratedText"]["bottomLabel"] for w in mine)
    assert [h for h in sections][1] == mine_header  # right under the plan at a glance
    assert "Next steps" in sections
    assert "<b>0</b> of 16 steps done" in _texts(home)[0]
    first = mine[0]["decoratedText"]
    step = first["topLabel"].split(" · ")[0]

    double.reset()
    step_card = _press(google, _update_buttons(mine)[0]["onClick"]["action"])
    assert double.stats()["total"] == 0  # the step's values rode along on the button
    assert step_card["header"]["title"].startswith(step)
    assert [i["value"] for i in _field(step_card, "status")["items"] if i["selected"]] == ["not started"]

    double.reset()
    saved = _press(google, _buttons(step_card)["Mark done"])
    assert double.stats()["methods"] == {"sheets.spreadsheets.get": 1, "sheets.spreadsheets.batchUpdate": 1}
    lines = _texts(saved)[0].split("<br>")
    assert saved["header"]["title"] == "Step updated" and lines[0].startswith(f"{step} ") and ": done" in lines[0]
    assert lines[1] == "Progress: 1 of 16 steps done (6%)" and lines[2].endswith(": 1/2 done")
    home = card_schema.the_card(google.post("homepage", CHAMPION))
    assert "<b>1</b> of 16 steps done" in _texts(home)[0]
    assert step not in str(_sections(home).get(next(h for h in _sections(home) if h.startswith("My steps"))))

    # Blocked without a reason: the card again, the message under Reason, the choice kept; nothing read.
    other = _sections(home)[next(h for h in _sections(home) if h.startswith("My steps"))]
    step_card = _press(google, _update_buttons(other)[0]["onClick"]["action"])
    due = _field(step_card, "due")["valueMsEpoch"]
    double.reset()
    again = _press(google, _buttons(step_card)["Save"], form_inputs=form(status="blocked"))
    assert "reason" in _error_after(again, "reason")
    assert [i["value"] for i in _field(again, "status")["items"] if i["selected"]] == ["blocked"]
    assert double.stats()["methods"] == {"sheets.spreadsheets.get": 1}  # read to check, nothing written
    blocked = _press(google, _buttons(again)["Save"], form_inputs=form(status="blocked", reason="Waiting on IT"))
    assert ": blocked" in _texts(blocked)[0]

    # The due date moved: a commitment, so the AE's signature is stale, and the card says so.
    moved = _press(google, _buttons(again)["Save"], form_inputs=form(status="blocked", due=date(2027, 2, 1)))
    assert "due 2027-02-01" in _texts(moved)[0] and "1 signature(s) now stale" in _texts(moved)[0]
    assert due != _ms(date(2027, 2, 1))
