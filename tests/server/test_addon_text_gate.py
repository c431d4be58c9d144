"""The add-on's writes pass the same text gate (core/text_gate.py): a lone surrogate is 400 naming the
field (it was 201, and the plan unreadable after); control characters are removed and said (they
were 500); the sheet keeps its plan either way."""

from __future__ import annotations

import pytest

from tests.server.conftest import GENERATE, headers
from tests.server.test_addon_api import AE, _post, generated  # noqa: F401  (generated: the fixture)


def _plan_reads(client, issuer) -> dict:
    summary = _post(client, "summary", {}, headers(issuer, AE))
    assert summary.status_code == 200 and summary.json["plan"] is not None, summary.json
    return summary.json["plan"]


@pytest.mark.parametrize("body, field", [
    ({"title": "Review", "notes": "a\udfff"}, "notes"),
    ({"title": "a\udfff"}, "title"),
    ({"title": "Review", "owners": ["Jane \ud800"]}, "owners"),
])
def test_a_lone_surrogate_is_400_naming_the_field_and_the_plan_stays_readable(client, issuer, generated,
                                                                               body, field):
    before = generated.read_bytes()
    answer = _post(client, "steps", body, headers(issuer, AE))
    assert answer.status_code == 400 and answer.json["field"] == field, answer.json
    assert "\ud800" not in answer.json["error"] and "\udfff" not in answer.json["error"]
    assert generated.read_bytes() == before
    _plan_reads(client, issuer)


def test_a_lone_surrogate_in_generate_is_400_and_nothing_is_written(client, issuer, plans_dir):
    answer = _post(client, "generate", {**GENERATE, "buyer": "Acme\udfff"}, headers(issuer, AE))
    assert answer.status_code == 400 and answer.json["field"] == "buyer", answer.json
    assert not list(plans_dir.iterdir())


@pytest.mark.parametrize("char", ["\x00", "\x01", "\x0b"])
def test_control_characters_are_removed_and_said_not_500(client, issuer, generated, char):
    answer = _post(client, "steps", {"title": f"Legal{char} review", "notes": f"x{char}y"}, headers(issuer, AE))
    assert answer.status_code == 201, answer.json
    assert answer.json["title"] == "Legal review"
    code = f"U+{ord(char):04X}"
    assert any(w.startswith("Title: removed a control character") and code in w for w in answer.json["warnings"])
    assert any(w.startswith("Notes: removed") for w in answer.json["warnings"]), answer.json
    assert [s for s in _plan_reads(client, issuer)["steps"] if s["title"] == "Legal review"]
    from mapsheets.adapters.xlsx import read_grid

    [row] = [row for row in read_grid(generated)["Plan"] if "Legal review" in row]
    assert "xy" in row
