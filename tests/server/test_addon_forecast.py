"""The chance to close in the sidebar (issue 24, part 3): the summary JSON carries a "forecast"
object for the seller side only, and the card shows it; the buyer gets neither, not even the key."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.server import card_schema
from tests.server.conftest import GENERATE, SHEET, headers

AE, CHAMPION = "ae@globex.example", "jane@acme.example"


def _post(client, path, hdrs):
    return client.post(f"/api/{path}", json={"spreadsheet_id": SHEET}, headers=hdrs)


def _keep(client, deals: int) -> None:
    import numpy as np

    from mapsheets.adapters.store import Store
    from mapsheets.adapters.store.history import PhaseRow

    rng = np.random.default_rng(1)
    phases = ["Discovery", "Solution validation", "Technical & security review", "Business case", "Legal",
              "Procurement", "Signature", "Kickoff"]
    rows = [PhaseRow(f"D{n}", phase, float(np.ceil(rng.lognormal(np.log(8), 0.3)))) for n in range(deals)
            for phase in phases]
    store = Store(client.application.config["MAPSHEETS"]["DB"])
    store.history.keep("stages test.csv", rows, datetime.now(UTC))
    store.close()


def test_the_seller_sees_the_chance_to_close_and_the_buyer_does_not(client, issuer):
    from addon_server.cards import Links, push, summary

    assert client.post("/api/generate", json={"spreadsheet_id": SHEET, **GENERATE},
                       headers=headers(issuer, AE, name="Alex Exec")).status_code == 201
    assert _post(client, "summary", headers(issuer, AE)).json["forecast"] is None  # nothing kept yet
    _keep(client, 40)
    seller = _post(client, "summary", headers(issuer, AE)).json
    figures = seller["forecast"]
    assert figures["target"] == "2027-03-31" and 0 <= figures["chance"] <= 1 and figures["deals"] == 40
    assert figures["text"].startswith("Chance to close by 2027-03-31: ") and "from 40 past deals" in figures["text"]
    buyer = _post(client, "summary", headers(issuer, CHAMPION)).json
    assert buyer["me"]["side"] == "buyer" and "forecast" not in buyer
    assert "Chance to close" not in str(buyer) and "past deals" not in str(buyer)

    links = Links("https://addon.example")
    seller_card, buyer_card = summary(seller, links), summary(buyer, links)
    for built in (seller_card, buyer_card):
        card_schema.validate(push(built))
    assert figures["text"] in str(seller_card) and "Chance to close" not in str(buyer_card)


def test_fewer_than_20_past_deals_give_the_seller_the_reason_not_a_percentage(client, issuer):
    assert client.post("/api/generate", json={"spreadsheet_id": SHEET, **GENERATE},
                       headers=headers(issuer, AE, name="Alex Exec")).status_code == 201
    _keep(client, 19)
    figures = _post(client, "summary", headers(issuer, AE)).json["forecast"]
    assert figures["chance"] is None and "%" not in figures["text"]
    assert figures["text"].startswith("No chance to close shown: fewer than 20 past deals for ")
