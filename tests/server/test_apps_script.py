"""Code.gs run under Node with stubs for the Apps Script services it uses (ScriptApp, UrlFetchApp,
PropertiesService, SpreadsheetApp): the hourly digest trigger is installed on subscribe, not twice,
removed on unsubscribe, and its run calls the backend with fresh tokens."""

from __future__ import annotations

import json
from typing import Any

from tests.server.apps_script_harness import run_code_gs


def subscribe(every: str) -> dict[str, Any]:
    return {"call": "callBackend", "args": ["subscription", json.dumps({"every": every})]}


OK_DAILY = {"code": 200, "body": {"every": "daily"}}


def test_subscribing_installs_one_hourly_trigger_and_remembers_it(tmp_path):
    log = run_code_gs(tmp_path, [subscribe("daily")], [OK_DAILY])
    assert log["errors"] == []
    assert log["created"] == [{"id": "trigger-1", "handler": "runDigests", "hours": 1}]
    assert log["live"] == ["trigger-1"]
    assert log["props"] == {"mapsheets.digestTrigger.sheet-abc": "trigger-1",
                            "mapsheets.digestSheet.trigger-1": "sheet-abc"}
    # The subscription call itself went out as before: the user's tokens and the spreadsheet ID.
    (call,) = log["fetches"]
    assert call["url"] == "https://mapsheets.example.com/api/subscription"
    assert json.loads(call["options"]["payload"]) == {"every": "daily", "spreadsheet_id": "sheet-abc"}
    assert call["options"]["headers"] == {"Authorization": "Bearer id-token-1",
                                          "X-Mapsheets-Access-Token": "oauth-token-1"}


def test_subscribing_again_and_opening_the_sidebar_keep_one_trigger(tmp_path):
    summary = {"call": "callBackend", "args": ["summary", "{}"]}
    log = run_code_gs(tmp_path, [subscribe("daily"), subscribe("weekly"), summary],
                      [OK_DAILY, {"code": 200, "body": {"every": "weekly"}},
                       {"code": 200, "body": {"plan": {}, "me": {"subscription": "weekly"}}}])
    assert log["errors"] == [] and len(log["created"]) == 1 and log["live"] == ["trigger-1"]


def test_a_trigger_deleted_behind_its_back_is_installed_again_on_open(tmp_path):
    summary = {"call": "callBackend", "args": ["summary", "{}"]}
    gone = {"call": "dropTriggers"}
    # The user removed the trigger (from the Apps Script dashboard): its properties stay behind; then
    # the sidebar opens with the subscription still on.
    log = run_code_gs(tmp_path, [subscribe("daily"), gone, summary],
                      [OK_DAILY, {"code": 200, "body": {"me": {"subscription": "daily"}}}])
    assert log["errors"] == [] and [c["id"] for c in log["created"]] == ["trigger-1", "trigger-2"]
    assert log["live"] == ["trigger-2"] and log["props"]["mapsheets.digestSheet.trigger-2"] == "sheet-abc"


def test_unsubscribing_removes_the_trigger_and_its_properties(tmp_path):
    log = run_code_gs(tmp_path, [subscribe("daily"), subscribe("off")],
                      [OK_DAILY, {"code": 200, "body": {"every": "off"}}])
    assert log["errors"] == [] and log["deleted"] == ["trigger-1"] and log["live"] == [] and log["props"] == {}


def test_a_refused_subscription_installs_nothing(tmp_path):
    log = run_code_gs(tmp_path, [subscribe("daily")],
                      [{"code": 403, "body": {"error": "not on this plan", "field": None}}])
    assert log["created"] == [] and log["props"] == {}


def test_the_trigger_run_calls_the_backend_with_fresh_tokens(tmp_path):
    log = run_code_gs(tmp_path, [subscribe("daily"), {"call": "runDigests", "trigger": "live"},
                                 {"call": "runDigests", "trigger": "live"}],
                      [OK_DAILY, {"code": 200, "body": {"subscribed": True, "sent": 2}},
                       {"code": 200, "body": {"subscribed": True, "sent": 0}}])
    assert log["errors"] == []
    runs = log["fetches"][1:]
    assert [r["url"] for r in runs] == ["https://mapsheets.example.com/api/digest-run"] * 2
    assert [json.loads(r["options"]["payload"]) for r in runs] == [{"spreadsheet_id": "sheet-abc"}] * 2
    # A fresh ID token and OAuth token per run (never one kept from the subscribe call).
    assert [r["options"]["headers"] for r in runs] == [
        {"Authorization": "Bearer id-token-2", "X-Mapsheets-Access-Token": "oauth-token-2"},
        {"Authorization": "Bearer id-token-3", "X-Mapsheets-Access-Token": "oauth-token-3"}]
    assert runs[0]["options"]["method"] == "post" and runs[0]["options"]["muteHttpExceptions"] is True
    assert log["live"] == ["trigger-1"]


def test_a_run_for_someone_no_longer_subscribed_removes_its_trigger(tmp_path):
    log = run_code_gs(tmp_path, [subscribe("daily"), {"call": "runDigests", "trigger": "live"}],
                      [OK_DAILY, {"code": 200, "body": {"subscribed": False, "sent": 0}}])
    assert log["errors"] == [] and log["live"] == [] and log["props"] == {}


def test_a_failed_run_is_thrown_so_apps_script_records_it(tmp_path):
    log = run_code_gs(tmp_path, [subscribe("daily"), {"call": "runDigests", "trigger": "live"}],
                      [OK_DAILY, {"code": 403, "body": {"error": "cannot open the sheet", "field": None}}])
    assert log["errors"] == ["mapsheets digest run: HTTP 403 cannot open the sheet"]
    assert log["live"] == ["trigger-1"]  # kept: access may come back


def test_a_run_of_an_unknown_trigger_calls_nothing(tmp_path):
    log = run_code_gs(tmp_path, [{"call": "runDigests", "trigger": "trigger-99"}], [])
    assert log["errors"] == [] and log["fetches"] == []
