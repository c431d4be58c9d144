"""The MEDDPICC block of a closing plan: written by `new`, filled by hand, read by the tolerant parser."""

from __future__ import annotations

import json
from datetime import date

import openpyxl
import pytest
from click.testing import CliRunner

from mapsheets import service
from mapsheets.cli import cli
from mapsheets.core.qualify import summary
from mapsheets.core.templates import parse_template
from mapsheets.errors import TemplateError

TODAY = date(2026, 12, 1)


def _closing(tmp_path):
    path = tmp_path / "closing.xlsx"
    service.new_plan("closing-plan", str(path), buyer="Acme Corp", seller="Globex", today=TODAY,
                     close=date(2027, 3, 31), holidays="")
    return path


def _label_rows(ws) -> dict[str, int]:
    return {ws.cell(r, 2).value: r for r in range(1, 40) if isinstance(ws.cell(r, 2).value, str)}


def test_a_new_closing_plan_has_an_empty_block_and_show_names_all_eight(tmp_path):
    path = _closing(tmp_path)
    rows = _label_rows(openpyxl.load_workbook(path)["Plan"])
    assert {"Qualification (MEDDPICC)", "Metrics", "Economic buyer", "Decision criteria", "Decision process",
            "Paper process", "Identified pain", "Champion", "Competition"} <= set(rows)
    # Issue 18: the link to the MAP is read by mapsheets only: on the hidden tab, not in the overview.
    assert "Mutual plan" not in rows
    assert "Mutual plan" in {r[0].value for r in openpyxl.load_workbook(path)["_mapsheets"].iter_rows()}
    view = service.read_plan(str(path), today=TODAY)
    assert summary(view.plan.qualification) == ("qualified 0/8: missing metrics, economic buyer, decision criteria, "
                                                 "decision process, paper process, identified pain, champion, "
                                                 "competition")
    assert view.warnings == []


def test_hand_filled_rows_in_any_order_with_synonyms_and_one_missing(tmp_path):
    path = _closing(tmp_path)
    before = service.read_plan(str(path), today=TODAY).plan.fingerprint()
    wb = openpyxl.load_workbook(path)
    ws = wb["Plan"]
    rows = _label_rows(ws)
    # People relabel, reorder and delete rows: a block of synonyms in a new order, "Competition" gone.
    typed = [("Pain:", "Month-end close takes 12 days"), ("EB", "Carla Diaz <cfo@acme.example>"),
             ("Success metrics", "Close in 5 days; 2 FTE saved"), ("Champion", "Jane Doe <jane@acme.example>"),
             ("Decision criteria", "SOC 2, SSO, ERP connector"), ("DP", "Ops → IT → CFO"),
             ("Paper process", ""), ("Coach", None)]
    first = rows["Metrics"]
    for i in range(9):  # clear the written block, then type ours
        ws.cell(first + i, 2).value = ws.cell(first + i, 3).value = None
    for i, (label, value) in enumerate(typed):
        ws.cell(first + i, 2).value, ws.cell(first + i, 3).value = label, value
    wb.save(path)

    view = service.read_plan(str(path), today=TODAY)
    q = view.plan.qualification
    assert q["identified_pain"] == "Month-end close takes 12 days"
    assert q["economic_buyer"] == "Carla Diaz <cfo@acme.example>"
    assert q["metrics"] == "Close in 5 days; 2 FTE saved" and q["decision_process"] == "Ops → IT → CFO"
    assert "competition" not in q
    assert summary(q) == "qualified 6/8: missing paper process, competition"
    assert view.warnings == []
    # The seller's notes, not a commitment: a signature over the plan stays valid.
    assert view.plan.fingerprint() == before

    result = CliRunner().invoke(cli, ["show", str(path), "--as-of", TODAY.isoformat()])
    assert result.exit_code == 0, result.output
    assert "Qualification: qualified 6/8: missing paper process, competition" in result.output
    as_json = json.loads(CliRunner().invoke(cli, ["show", str(path), "--json"]).output)
    assert as_json["qualification"]["champion"] == "Jane Doe <jane@acme.example>"
    assert as_json["qualification"]["competition"] == ""
    assert set(as_json["qualification"]) == {"metrics", "economic_buyer", "decision_criteria", "decision_process",
                                             "paper_process", "identified_pain", "champion", "competition"}


def test_a_map_has_no_block_and_show_says_nothing_of_it(tmp_path):
    path = tmp_path / "map.xlsx"
    service.new_plan("enterprise-map", str(path), buyer="Acme Corp", seller="Globex", today=TODAY,
                     close=date(2027, 3, 31), holidays="")
    rows = _label_rows(openpyxl.load_workbook(path)["Plan"])
    assert "Metrics" not in rows and "Mutual plan" not in rows and "Closing plan" not in rows
    result = CliRunner().invoke(cli, ["show", str(path)])
    assert "Qualification" not in result.output


def test_closing_plan_steps_say_which_the_buyer_may_see(tmp_path):
    view = service.read_plan(str(_closing(tmp_path)), today=TODAY)
    shown = {s.title for s in view.plan.steps if s.extra.get("Visibility") == "shared"}
    assert shown == {"Demo and technical validation", "Proposal and business case delivered"}
    assert all(s.extra.get("Visibility") in ("internal", "shared") for s in view.plan.steps)


def test_a_bad_visibility_names_the_key():
    text = """kind: mutual
title: t
stages: [{key: a, name: A, days: 1}]
steps: [{key: s, stage: a, title: S, side: joint, owner: x, days: 1, visibility: secret}]
"""
    with pytest.raises(TemplateError, match=r"x.yaml: steps\[0\].visibility: 'secret' is not one of internal, shared"):
        parse_template(text, "x")
