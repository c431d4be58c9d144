"""`mapsheets crm link` and `crm push` (issue 22, part 5): the plan written to its Salesforce
opportunity or HubSpot deal through the client libraries and the HTTP doubles, once, and nothing
sent when nothing changed; requests counted at the doubles."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from mapsheets.cli import cli
from mapsheets.service.crm_push import next_step
from mapsheets.service.plans import read_plan
from mapsheets.testing.hubspot_api import HubSpotDouble
from mapsheets.testing.salesforce_api import SalesforceDouble

pytest.importorskip("simple_salesforce")
pytest.importorskip("hubspot")

OPP, OPP2 = "0065g00000AbCdEAAZ", "0065g00000XyZwVAAZ"
SF_FIELDS = ("Link:MAP_Link__c,Health:MAP_Health__c,Projected close:MAP_Projected_Close__c,"
             "Execution score:MAP_Score__c,Signed:MAP_Signed__c")
TODAY = "2026-12-01"
DAY = date(2026, 12, 1)


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr or repr(result.exception)


@pytest.fixture
def sf(monkeypatch: pytest.MonkeyPatch):
    with SalesforceDouble() as double:
        for name in ("MAP_Link__c", "MAP_Health__c", "MAP_Projected_Close__c", "MAP_Score__c", "MAP_Signed__c"):
            double.add_field("Opportunity", name)
        for opp in (OPP, OPP2):
            double.add_record("Opportunity", {"Id": opp, "Name": "Acme", "StageName": "Qualification"})
        monkeypatch.setenv("MAPSHEETS_SALESFORCE_API_ROOT", double.root)
        for key, value in double.password_env().items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("MAPSHEETS_SALESFORCE_FIELDS", SF_FIELDS)
        yield double


def writes(double: SalesforceDouble | HubSpotDouble) -> int:
    return sum(n for name, n in double.counts.items() if "update" in name)


def test_push_writes_every_field_once_then_sends_nothing(sf: SalesforceDouble, plan_file: Path) -> None:
    code, out, err = run("crm", "link", str(plan_file), "--opportunity", OPP)
    assert code == 0, err
    assert read_plan(str(plan_file), today=DAY).plan.crm_record == \
        f"salesforce:{OPP}"
    code, out, err = run("crm", "push", str(plan_file), "--link", "https://example.com/acme-map", "--as-of", TODAY)
    assert code == 0, err
    view = read_plan(str(plan_file), today=DAY)
    record = sf.records["Opportunity"][OPP]
    assert record["MAP_Link__c"] == "https://example.com/acme-map"
    assert record["MAP_Health__c"] == view.health.state
    assert record["MAP_Projected_Close__c"] == view.projection.close.isoformat()
    assert record["MAP_Score__c"] == view.score.score
    assert record["MAP_Signed__c"] == "no"
    first = min((s for s in view.plan.steps if s.is_open), key=lambda s: s.due)
    assert record["NextStep"] == next_step(view.plan.steps) and record["NextStep"].startswith(first.title)
    assert f"due {first.due.isoformat()}" in record["NextStep"]
    assert sf.counts["login"] == 1 and sf.counts["sobject.update"] == 1 and sf.requests == 2
    code, out, err = run("crm", "push", str(plan_file), "--link", "https://example.com/acme-map", "--as-of", TODAY)
    assert code == 0, err
    assert "nothing sent" in out
    assert sf.requests == 2  # no login, no write
    # a later day changes what the plan says: only that is sent
    code, out, err = run("crm", "push", "--all", "--link", "https://example.com/acme-map", "--as-of", "2027-02-15")
    assert code == 0, err
    assert sf.counts["sobject.update"] == 2 and "MAP_Link__c" not in out


def test_many_plans_go_in_one_composite_request(sf: SalesforceDouble, plan_file: Path, tmp_path: Path) -> None:
    other = tmp_path / "globex-map.xlsx"
    shutil.copy(plan_file, other)
    assert run("crm", "link", str(plan_file), "--opportunity", OPP)[0] == 0
    assert run("crm", "link", str(other), "--opportunity", OPP2)[0] == 0
    code, out, err = run("crm", "push", "--all", "--as-of", TODAY)
    assert code == 0, err
    assert sf.counts["composite.update"] == 1 and not sf.counts["sobject.update"] and sf.requests == 2
    assert sf.records["Opportunity"][OPP2]["NextStep"] == sf.records["Opportunity"][OPP]["NextStep"]
    assert "note:" in out and "--link" in out  # files have no URL of their own


def test_a_missing_field_is_one_line_naming_it_and_nothing_is_remembered(sf: SalesforceDouble, plan_file: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    assert run("crm", "link", str(plan_file), "--opportunity", OPP)[0] == 0
    monkeypatch.setenv("MAPSHEETS_SALESFORCE_FIELDS", "Health:MAP_Helth__c")
    code, out, err = run("crm", "push", str(plan_file), "--as-of", TODAY)
    assert code == 1
    assert err.strip().count("\n") == 0 and "MAP_Helth__c does not exist on Opportunity" in err, err
    monkeypatch.setenv("MAPSHEETS_SALESFORCE_FIELDS", "Execution score:IsWon")
    code, out, err = run("crm", "push", str(plan_file), "--as-of", TODAY)
    assert code == 1 and "IsWon is not writable" in err and err.strip().count("\n") == 0, err
    monkeypatch.setenv("MAPSHEETS_SALESFORCE_FIELDS", SF_FIELDS)
    code, out, err = run("crm", "push", str(plan_file), "--as-of", TODAY)
    assert code == 0 and "MAP_Health__c" in out and "NextStep" in out, err  # the failed pushes were not remembered


def test_the_link_lives_in_the_plan_too(sf: SalesforceDouble, plan_file: Path, monkeypatch: pytest.MonkeyPatch,
                                        tmp_path: Path) -> None:
    assert run("crm", "link", str(plan_file), "--opportunity", OPP)[0] == 0
    monkeypatch.setenv("MAPSHEETS_DB", f"sqlite:///{tmp_path / 'another.db'}")  # a store that never saw it
    code, out, err = run("crm", "push", str(plan_file), "--as-of", TODAY)
    assert code == 0, err
    assert sf.records["Opportunity"][OPP]["NextStep"]


def test_close_pushes_a_linked_plan_and_a_failure_is_one_warning(sf: SalesforceDouble, plan_file: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    assert run("crm", "link", str(plan_file), "--opportunity", OPP)[0] == 0
    assert run("crm", "push", str(plan_file), "--as-of", TODAY)[0] == 0
    before = writes(sf)
    monkeypatch.setenv("MAPSHEETS_TODAY", "2027-02-15")  # six weeks on, steps overdue: the plan says other things
    code, out, err = run("close", str(plan_file), "--won", "--date", "2027-02-15")
    assert code == 0, err
    assert writes(sf) == before + 1 and "CRM" not in err
    monkeypatch.setenv("MAPSHEETS_SALESFORCE_PASSWORD", "wrong")
    code, out, err = run("close", str(plan_file), "--lost", "--correct", "--date", "2027-02-12")
    assert code == 0, err
    assert err.strip().startswith("warning: CRM not updated:") and "INVALID_LOGIN" in err
    assert err.strip().count("\n") == 0


def test_hubspot_push_batch_once_then_nothing_and_a_missing_property(plan_file: Path, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    other = tmp_path / "globex-map.xlsx"
    shutil.copy(plan_file, other)
    with HubSpotDouble() as hs:
        hs.add_deal("9001", [("qualifiedtobuy", "2026-11-02T10:00:00Z")])
        hs.add_deal("9002", [("qualifiedtobuy", "2026-11-03T10:00:00Z")])
        hs.properties.update({"map_health", "map_score"})
        monkeypatch.setenv("MAPSHEETS_HUBSPOT_API_ROOT", hs.root)
        monkeypatch.setenv("MAPSHEETS_HUBSPOT_TOKEN", hs.token)
        monkeypatch.setenv("MAPSHEETS_HUBSPOT_PROPERTIES", "Health:map_health,Execution score:map_score")
        assert run("crm", "link", str(plan_file), "--deal", "9001")[0] == 0
        assert run("crm", "link", str(other), "--deal", "9002")[0] == 0
        code, out, err = run("crm", "push", "--all", "--as-of", TODAY)
        assert code == 0, err
        assert hs.counts["deals.batch.update"] == 1 and hs.requests == 1
        props = hs.deals["9001"]["properties"]
        view = read_plan(str(plan_file), today=DAY)
        assert props["map_health"] == view.health.state and props["map_score"] == str(view.score.score)
        assert props["hs_next_step"] == next_step(view.plan.steps)
        assert run("crm", "push", "--all", "--as-of", TODAY)[0] == 0 and hs.requests == 1
        monkeypatch.setenv("MAPSHEETS_HUBSPOT_PROPERTIES", "Health:map_helth")
        code, out, err = run("crm", "push", str(plan_file), "--as-of", TODAY)
    assert code == 1 and "HubSpot deal property map_helth does not exist" in err, err
    assert err.strip().count("\n") == 0


def test_convert_hands_the_closing_plans_opportunity_to_the_map_and_pushes_it(sf: SalesforceDouble,
                                                                               tmp_path: Path) -> None:
    from mapsheets import service
    from tests.test_convert import CLOSE, EB, QUALIFIED, _fill
    from tests.test_convert import TODAY as CONVERT_DAY

    path = tmp_path / "closing.xlsx"
    service.new_plan("closing-plan", str(path), buyer="Acme Corp", seller="Globex", today=CONVERT_DAY,
                     close=CLOSE, holidays="", roles={"ae": "Sam Seller <sam@globex.example>"})
    _fill(path, QUALIFIED)
    assert run("crm", "link", str(path), "--opportunity", OPP)[0] == 0
    out = tmp_path / "acme-map.xlsx"
    code, stdout, err = run("convert", str(path), "--economic-buyer", EB, "-o", str(out), "--as-of",
                            CONVERT_DAY.isoformat())
    assert code == 0, err
    assert f"linked to salesforce:{OPP} as the closing plan was, and pushed there" in stdout
    mutual = read_plan(str(out), today=CONVERT_DAY).plan
    assert mutual.crm_record == f"salesforce:{OPP}"
    assert sf.records["Opportunity"][OPP]["NextStep"] == next_step(mutual.steps)


def test_the_digest_cron_pushes_linked_plans(sf: SalesforceDouble, plan_file: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    assert run("crm", "link", str(plan_file), "--opportunity", OPP)[0] == 0
    monkeypatch.setenv("MAPSHEETS_DIGEST_CRM_PUSH", "1")
    code, out, err = run("digest", "--now", "2026-12-01T08:00:00+00:00")
    assert code == 0, err
    assert sf.counts["sobject.update"] == 1 and sf.records["Opportunity"][OPP]["NextStep"]
    assert run("digest", "--now", "2026-12-01T08:30:00+00:00")[0] == 0
    assert sf.counts["sobject.update"] == 1  # nothing changed: nothing sent


def test_a_record_the_composite_refuses_fails_alone_and_is_retried_alone(sf: SalesforceDouble, plan_file: Path,
                                                                           tmp_path: Path) -> None:
    other = tmp_path / "globex-map.xlsx"
    shutil.copy(plan_file, other)
    gone = "0065g00000GoNeXAAZ"  # deleted in Salesforce since it was linked
    assert run("crm", "link", str(plan_file), "--opportunity", OPP)[0] == 0
    assert run("crm", "link", str(other), "--opportunity", gone)[0] == 0
    code, out, err = run("crm", "push", "--all", "--as-of", TODAY)
    assert code == 1 and sf.counts["composite.update"] == 1
    assert f"Pushed {plan_file}" in out and f"error: {other}: NOT_FOUND" in err and err.count("\n") == 1, err
    sf.add_record("Opportunity", {"Id": gone, "Name": "Globex"})  # restored from the recycle bin
    code, out, err = run("crm", "push", "--all", "--as-of", TODAY)
    assert code == 0, err
    assert sf.counts["sobject.update"] == 1 and sf.counts["composite.update"] == 1  # only the one left
    assert f"Unchanged {plan_file}" in out and f"Pushed {other}" in out
