"""`stages --salesforce` and `--hubspot` (issue 22, part 4): the CRM's API, through its client
library and the HTTP doubles, gives the same durations table as the CSV export of the same deals."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote_plus

import pytest

from mapsheets.testing.hubspot_api import HubSpotDouble, rate_limited
from mapsheets.testing.salesforce_api import SalesforceDouble, request_limit_exceeded
from tests.test_stage_mapping import stock_history

pytest.importorskip("simple_salesforce")
pytest.importorskip("hubspot")


def stages(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run([sys.executable, "-m", "mapsheets.cli", "stages", *args, "--holidays", "none"],
                          capture_output=True, text=True, env={**os.environ, **env}, timeout=120)


def rows_of(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def load_salesforce(sf: SalesforceDouble, history: Path) -> int:
    """The export's rows as OpportunityHistory records (and their opportunities)."""
    rows = rows_of(history)
    for row in rows:
        deal = row["OpportunityId"]
        if deal not in sf.records.get("Opportunity", {}):
            sf.add_record("Opportunity", {"Id": deal, "Name": deal, "CreatedDate": row["CreatedDate"],
                                          "IsWon": False, "Type": "New Business" if deal[-4] in "02468"
                                          else "Renewal"})
        if row["StageName"] == "Closed Won":
            sf.records["Opportunity"][deal]["IsWon"] = True
        sf.add_record("OpportunityHistory", {"OpportunityId": deal, "StageName": row["StageName"],
                                             "CreatedDate": row["CreatedDate"], "CloseDate": None})
    return len(rows)


def sf_env(sf: SalesforceDouble) -> dict[str, str]:
    return {"MAPSHEETS_SALESFORCE_API_ROOT": sf.root, **sf.password_env()}


def test_salesforce_gives_the_table_the_export_gives_paged(tmp_path: Path) -> None:
    history = tmp_path / "OpportunityHistory.csv"
    stock_history(history, deals=200)
    from_file, from_api = tmp_path / "file.csv", tmp_path / "api.csv"
    done = stages(str(history), "--format", "salesforce", "-t", "enterprise-map", "-o", str(from_file), env={})
    assert done.returncode == 0, done.stderr
    with SalesforceDouble(page_size=800) as sf:
        rows = load_salesforce(sf, history)
        assert 1600 < rows <= 2400  # three pages of 800
        done = stages("--salesforce", "-t", "enterprise-map", "-o", str(from_api), env=sf_env(sf))
        assert done.returncode == 0, done.stderr
        # the row count decides REST paging over a Bulk 2.0 job; then three pages
        assert sf.counts["login"] == 1 and sf.counts["query"] == 2 and sf.counts["queryMore"] == 2
    assert rows_of(from_api) == rows_of(from_file) and rows_of(from_file)
    assert "200 deals (150 won, 50 lost, 0 open)" in done.stdout


def test_a_big_history_is_read_by_a_bulk_job(tmp_path: Path) -> None:
    history = tmp_path / "OpportunityHistory.csv"
    stock_history(history, deals=200)
    from_file, from_bulk = tmp_path / "file.csv", tmp_path / "bulk.csv"
    assert stages(str(history), "--format", "salesforce", "-t", "enterprise-map", "-o", str(from_file),
                  env={}).returncode == 0
    with SalesforceDouble() as sf:
        load_salesforce(sf, history)
        env = {**sf_env(sf), "MAPSHEETS_SALESFORCE_BULK_ABOVE": "1000"}  # 1,800 rows: above it
        done = stages("--salesforce", "-t", "enterprise-map", "-o", str(from_bulk), env=env)
        assert done.returncode == 0, done.stderr
        assert sf.counts["query"] == 1 and not sf.counts["queryMore"]  # the count only
        assert sf.counts["bulk2.create"] == 1 and sf.counts["bulk2.results"] == 1
    assert rows_of(from_bulk) == rows_of(from_file)


def test_salesforce_filters_in_the_query_and_reads_segments(tmp_path: Path) -> None:
    history = tmp_path / "OpportunityHistory.csv"
    stock_history(history, deals=40)
    with SalesforceDouble() as sf:
        load_salesforce(sf, history)
        out = tmp_path / "won.csv"
        done = stages("--salesforce", "-t", "enterprise-map", "--won-only", "--since", "2026-01-20",
                      "--segment", "Type", "-o", str(out), env=sf_env(sf))
        assert done.returncode == 0, done.stderr
        soql = next(unquote_plus(path) for method, path in sf.log if "/query" in path and "COUNT" not in path)
        assert "Opportunity.IsWon" in soql and "Opportunity.CreatedDate" in soql and "Opportunity.Type" in soql
    # deals 15..39 created on or after Jan 20; 16, 20, .., 36 lost: 19 won
    assert "19 deals (19 won, 0 lost, 0 open)" in done.stdout, done.stdout
    assert (tmp_path / "won.new-business.csv").exists() and (tmp_path / "won.renewal.csv").exists()


def test_salesforce_errors_are_one_line(tmp_path: Path) -> None:
    with SalesforceDouble() as sf:
        sf.add_record("OpportunityHistory", {"OpportunityId": "006A", "StageName": "Prospecting",
                                             "CreatedDate": "2026-01-05T09:00:00.000+0000", "CloseDate": None})
        bad_login = stages("--salesforce", env={**sf_env(sf), "MAPSHEETS_SALESFORCE_PASSWORD": "wrong"})
        sf.fail_next(request_limit_exceeded, route="query")
        limited = stages("--salesforce", env=sf_env(sf))
        expired = stages("--salesforce", env={"MAPSHEETS_SALESFORCE_API_ROOT": sf.root,
                                              "MAPSHEETS_SALESFORCE_SESSION_ID": "00Dexpired"})
    assert bad_login.returncode == 1 and "INVALID_LOGIN" in bad_login.stderr
    assert limited.returncode == 1 and "REQUEST_LIMIT_EXCEEDED" in limited.stderr
    assert expired.returncode == 1 and "INVALID_SESSION_ID" in expired.stderr
    for done in (bad_login, limited, expired):
        assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr, done.stderr


def hubspot_export(history: Path, target: Path, hs: HubSpotDouble) -> None:
    """The Salesforce history as HubSpot's: stock stages named as a pipeline's, one deal per opportunity,
    loaded into the double and written as the deal-history export."""
    names = {"Qualification": "qualifiedtobuy", "Needs Analysis": "presentationscheduled",
             "Value Proposition": "presentationscheduled", "Id. Decision Makers": "decisionmakerboughtin",
             "Perception Analysis": "decisionmakerboughtin", "Proposal/Price Quote": "contractsent",
             "Negotiation/Review": "contractsent", "Prospecting": "appointmentscheduled",
             "Closed Won": "closedwon", "Closed Lost": "closedlost"}
    deals: dict[str, list[tuple[str, str]]] = {}
    for row in rows_of(history):
        at = row["CreatedDate"].replace(".000+0000", "Z")
        stages_ = deals.setdefault(row["OpportunityId"], [])
        if not stages_ or stages_[-1][0] != names[row["StageName"]]:
            stages_.append((names[row["StageName"]], at))
    with open(target, "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["Deal ID", "Deal Stage", "Timestamp"])
        for n, changes in enumerate(deals.values()):
            hs.add_deal(str(1000 + n), changes)
            out.writerows([str(1000 + n), stage, at] for stage, at in changes)


def test_hubspot_gives_the_table_the_export_gives_paged_through_a_429(tmp_path: Path) -> None:
    history = tmp_path / "OpportunityHistory.csv"
    stock_history(history, deals=120)
    export = tmp_path / "deals.csv"
    from_file, from_api = tmp_path / "file.csv", tmp_path / "api.csv"
    with HubSpotDouble() as hs:
        hubspot_export(history, export, hs)
        done = stages(str(export), "--format", "hubspot", "-t", "enterprise-map", "-o", str(from_file), env={})
        assert done.returncode == 0, done.stderr
        hs.fail_next(lambda: rate_limited(1), route="deals.list")
        env = {"MAPSHEETS_HUBSPOT_API_ROOT": hs.root, "MAPSHEETS_HUBSPOT_TOKEN": hs.token}
        done = stages("--hubspot", "-t", "enterprise-map", "-o", str(from_api), env=env)
        assert done.returncode == 0, done.stderr
        assert hs.counts["deals.list"] == 4  # three pages of 50 (120 deals), one 429 waited out
        assert all("propertiesWithHistory=dealstage" in path for _, path in hs.log)
        hs.fail_next(lambda: rate_limited(0), count=9, route="deals.list")
        gave_up = stages("--hubspot", env=env)
    assert rows_of(from_api) == rows_of(from_file) and rows_of(from_file)
    assert gave_up.returncode == 1 and "rate limited" in gave_up.stderr
    assert len(gave_up.stderr.strip().splitlines()) == 1


def test_hubspot_filters_by_search_then_reads_history_in_batches(tmp_path: Path) -> None:
    with HubSpotDouble() as hs:
        for n in range(60):
            won = n % 3 != 0
            hs.add_deal(str(500 + n), [("qualifiedtobuy", f"2026-02-{1 + n % 20:02d}T10:00:00Z"),
                                       ("contractsent", f"2026-03-{1 + n % 20:02d}T10:00:00Z"),
                                       ("closedwon" if won else "closedlost", "2026-04-01T10:00:00Z")],
                        hs_is_closed_won="true" if won else "false")
        env = {"MAPSHEETS_HUBSPOT_API_ROOT": hs.root, "MAPSHEETS_HUBSPOT_TOKEN": hs.token}
        done = stages("--hubspot", "--won-only", env=env)
        assert done.returncode == 0, done.stderr
        assert hs.counts["deals.search"] == 1 and hs.counts["deals.batch.read"] == 1 and not hs.counts["deals.list"]
    assert "40 deals (40 won, 0 lost, 0 open)" in done.stdout, done.stdout


def test_a_missing_extra_names_the_pip_command(tmp_path: Path) -> None:
    blocker = tmp_path / "block"
    blocker.mkdir()
    (blocker / "simple_salesforce.py").write_text("raise ImportError('not installed')\n")
    (blocker / "hubspot.py").write_text("raise ImportError('not installed')\n")
    import os

    path = os.pathsep.join([str(blocker), os.environ.get("PYTHONPATH", "")])
    for flag, extra in (("--salesforce", "salesforce"), ("--hubspot", "hubspot")):
        done = stages(flag, env={"PYTHONPATH": path, "MAPSHEETS_HUBSPOT_TOKEN": "x"})
        assert done.returncode == 1
        assert done.stderr.strip() == f"Error: {extra.capitalize() if extra == 'salesforce' else 'HubSpot'} " \
            f"needs the {extra} extra: pip install 'mapsheets[{extra}]'", done.stderr


def test_jwt_bearer_and_session_id_log_in_and_field_history_is_read_where_history_is_empty(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = tmp_path / "server.key"
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key.write_bytes(private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    history = tmp_path / "OpportunityHistory.csv"
    stock_history(history, deals=30)
    expected = tmp_path / "file.csv"
    assert stages(str(history), "--format", "salesforce", "-t", "enterprise-map", "-o", str(expected),
                  env={}).returncode == 0
    with SalesforceDouble() as sf:
        previous: dict[str, str] = {}
        for row in rows_of(history):  # OpportunityFieldHistory only: the org keeps no OpportunityHistory
            deal = row["OpportunityId"]
            sf.add_record("OpportunityFieldHistory", {"OpportunityId": deal, "Field": "StageName",
                                                      "OldValue": previous.get(deal), "NewValue": row["StageName"],
                                                      "CreatedDate": row["CreatedDate"]})
            previous[deal] = row["StageName"]
        sf.add_field("OpportunityHistory", "OpportunityId")
        for name in ("StageName", "CreatedDate", "CloseDate"):
            sf.add_field("OpportunityHistory", name)
        jwt = {"MAPSHEETS_SALESFORCE_API_ROOT": sf.root, "MAPSHEETS_SALESFORCE_USERNAME": sf.username,
               "MAPSHEETS_SALESFORCE_CONSUMER_KEY": sf.consumer_key,
               "MAPSHEETS_SALESFORCE_PRIVATE_KEY_FILE": str(key)}
        by_jwt, by_session = tmp_path / "jwt.csv", tmp_path / "session.csv"
        done = stages("--salesforce", "-t", "enterprise-map", "-o", str(by_jwt), env=jwt)
        assert done.returncode == 0, done.stderr
        assert sf.counts["oauth2.token"] == 1 and not sf.counts["login"]
        session = {"MAPSHEETS_SALESFORCE_API_ROOT": sf.root, "MAPSHEETS_SALESFORCE_SESSION_ID": "00Dtest!session"}
        done = stages("--salesforce", "-t", "enterprise-map", "-o", str(by_session), env=session)
        assert done.returncode == 0, done.stderr
        # each: history counted (none), field history counted and read
        assert sf.counts["oauth2.token"] == 1 and sf.counts["query"] == 6
        assert any("OpportunityFieldHistory" in path and "StageName" in path for _, path in sf.log)
    assert rows_of(by_jwt) == rows_of(expected) == rows_of(by_session)
