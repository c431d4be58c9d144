"""Stage mapping (issue 22): Salesforce's stock stage names feed a template's phases, a team can
override the mapping, and a run that measures nothing is never an empty success."""

from __future__ import annotations

import csv
import math
import random
import statistics
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from mapsheets.cli import cli

# Salesforce's default sales process, in order; Closed Won / Closed Lost end a deal.
STOCK = ["Prospecting", "Qualification", "Needs Analysis", "Value Proposition", "Id. Decision Makers",
         "Perception Analysis", "Proposal/Price Quote", "Negotiation/Review"]
# enterprise-map's crm: lists, as a reader of the template would write them down.
FEEDS = {"Discovery": ["Qualification"], "Solution validation": ["Needs Analysis", "Value Proposition"],
         "Business case": ["Id. Decision Makers", "Perception Analysis"], "Legal": ["Proposal/Price Quote"],
         "Procurement": ["Negotiation/Review"]}


def business_days_after(start: date, end: date) -> int:
    """Weekdays in (start, end], counted one by one."""
    return sum(1 for n in range(1, (end - start).days + 1) if (start + timedelta(n)).weekday() < 5)


def stock_history(path: Path, deals: int = 200, seed: int = 7) -> dict[str, dict[str, int]]:
    """A Salesforce OpportunityHistory export of finished deals through every stock stage; returns,
    per deal, the business days spent in each stage."""
    rng = random.Random(seed)
    spent: dict[str, dict[str, int]] = {}
    with open(path, "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["OpportunityId", "StageName", "Amount", "CreatedDate"])
        for n in range(deals):
            deal = f"0065g00000{n:05d}AAA"
            at = datetime(2026, 1, 5, 9, 30) + timedelta(days=n)
            spent[deal] = {}
            for stage in STOCK:
                out.writerow([deal, stage, "50000", at.strftime("%Y-%m-%dT%H:%M:%S.000+0000")])
                left = at + timedelta(days=rng.randint(1, 12), hours=rng.randint(0, 6))
                spent[deal][stage] = business_days_after(at.date(), left.date())
                at = left
            out.writerow([deal, "Closed Won" if n % 4 else "Closed Lost", "50000",
                          at.strftime("%Y-%m-%dT%H:%M:%S.000+0000")])
    return spent


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def read_table(path: Path) -> dict[str, dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return {row["stage"]: row for row in csv.DictReader(fh)}


def test_stock_salesforce_stages_feed_the_templates_phases(tmp_path: Path) -> None:
    history = tmp_path / "OpportunityHistory.csv"
    spent = stock_history(history)
    out = tmp_path / "durations.csv"
    code, output = run("stages", str(history), "--format", "salesforce", "-t", "enterprise-map", "--holidays",
                       "none", "-o", str(out))
    assert code == 0, output
    table = read_table(out)
    assert list(table) == list(FEEDS)  # every phase a stock stage feeds, in the template's order
    for phase, crm_stages in FEEDS.items():
        per_deal = [sum(days[s] for s in crm_stages) for days in spent.values()]
        assert table[phase]["deals"] == "200"
        assert float(table[phase]["median_days"]) == round(statistics.median(per_deal), 1), phase
        assert int(table[phase]["days"]) == math.ceil(statistics.median(per_deal)), phase
    # Prospecting comes before a plan: listed once with its deals and the option that would map it.
    assert 'Prospecting (200 deals); to count one, add --map "Prospecting=PHASE"' in output
    # Phases no CRM stage records are not "skipped by every deal": nobody knows.
    signature = next(line for line in output.splitlines() if line.startswith("Signature"))
    assert "100%" not in signature and signature.rstrip().endswith("–")


def test_map_and_map_file_override_the_template(tmp_path: Path) -> None:
    history = tmp_path / "OpportunityHistory.csv"
    spent = stock_history(history, deals=60)
    (tmp_path / "stages.yaml").write_text("# ours\nProspecting: discovery\nNegotiation/Review: Legal\n")
    by_option, by_file = tmp_path / "a.csv", tmp_path / "b.csv"
    common = ["stages", str(history), "--format", "salesforce", "-t", "enterprise-map", "--holidays", "none"]
    code, output = run(*common, "-o", str(by_option), "--map", "Prospecting=Discovery",
                       "--map", "Negotiation/Review=legal")
    assert code == 0, output
    code, output = run(*common, "-o", str(by_file), "--map-file", str(tmp_path / "stages.yaml"))
    assert code == 0, output
    assert by_option.read_text() == by_file.read_text()
    table = read_table(by_option)
    assert "Procurement" not in table  # its only CRM stage now feeds Legal
    legal = [d["Proposal/Price Quote"] + d["Negotiation/Review"] for d in spent.values()]
    assert float(table["Legal"]["median_days"]) == round(statistics.median(legal), 1)
    discovery = [d["Prospecting"] + d["Qualification"] for d in spent.values()]
    assert float(table["Discovery"]["median_days"]) == round(statistics.median(discovery), 1)
    assert "feed no phase" not in output


@pytest.mark.parametrize(("args", "message"), [
    (["--map", "Needs Analysis=nowhere"], "--map 'Needs Analysis=nowhere': 'nowhere' is not a phase of template "
                                          "enterprise-map (phases: discovery, validation,"),
    (["--map", "Needs Analysis"], "expected CRM stage=phase"),
])
def test_a_bad_mapping_is_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    history = tmp_path / "h.csv"
    stock_history(history, deals=5)
    code, output = run("stages", str(history), "--format", "salesforce", "-t", "enterprise-map",
                       "-o", str(tmp_path / "d.csv"), *args)
    assert code == 1
    assert message in output and "Traceback" not in output
    assert not (tmp_path / "d.csv").exists()


def test_a_map_file_that_is_not_a_mapping_names_the_file(tmp_path: Path) -> None:
    history = tmp_path / "h.csv"
    stock_history(history, deals=5)
    (tmp_path / "m.yaml").write_text("- Needs Analysis\n")
    code, output = run("stages", str(history), "--format", "salesforce", "-t", "enterprise-map",
                       "--map-file", str(tmp_path / "m.yaml"))
    assert code == 1 and f"{tmp_path / 'm.yaml'}: expected a mapping" in output


def test_an_unmappable_history_exits_1_and_writes_nothing(tmp_path: Path) -> None:
    history = tmp_path / "h.csv"
    history.write_text("OpportunityId,StageName,CreatedDate\n"
                       "A,Scoping,2026-01-05T09:00:00Z\nA,Pilot,2026-01-12T09:00:00Z\n"
                       "A,Closed Won,2026-01-20T09:00:00Z\n"
                       "B,Scoping,2026-01-06T09:00:00Z\nB,Closed Lost,2026-01-09T09:00:00Z\n")
    out = tmp_path / "durations.csv"
    out.write_text("stage,days\nDiscovery,9\n")  # the team's table from last quarter: must survive
    code, output = run("stages", str(history), "--format", "salesforce", "-t", "enterprise-map", "-o", str(out))
    assert code == 1
    assert output.count("\n") == 1, output  # one line
    assert "no stage of the history feeds a phase of template enterprise-map: Scoping (2 deals), Pilot (1 deals)" \
        in output
    assert '--map "Scoping=PHASE"' in output and "nothing written" in output
    assert out.read_text() == "stage,days\nDiscovery,9\n"


def test_no_finished_deal_exits_1(tmp_path: Path) -> None:
    history = tmp_path / "h.csv"
    history.write_text("OpportunityId,StageName,CreatedDate\nA,Qualification,2026-01-05T09:00:00Z\n"
                       "B,Needs Analysis,2026-01-06T09:00:00Z\n")
    code, output = run("stages", str(history), "--format", "salesforce", "-o", str(tmp_path / "d.csv"))
    assert code == 1 and "no finished deal passed through a stage" in output
    assert not (tmp_path / "d.csv").exists()


@pytest.mark.parametrize("command", [["new", "-t", "enterprise-map", "--buyer", "Acme", "--seller", "Us"],
                                     ["convert"]])
def test_an_empty_durations_table_is_refused_with_its_reason(tmp_path: Path, command: list[str]) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("stage,days,mean_days,median_days,deals,open,skipped_share\n")
    if command == ["convert"]:
        code, output = run("new", "-t", "closing-plan", "--buyer", "Acme", "--seller", "Us", "--close-date",
                           "2027-06-30", "-o",
                           str(tmp_path / "closing.xlsx"))
        assert code == 0, output
        command = ["convert", str(tmp_path / "closing.xlsx"), "--force"]
    code, output = run(*command, "--durations", str(empty), "-o", str(tmp_path / "map.xlsx"))
    assert code == 1
    assert f"{empty}: the durations table has its columns but no stage" in output
    assert "expected CSV columns" not in output
    assert not (tmp_path / "map.xlsx").exists()


def test_a_templates_crm_list_is_checked(tmp_path: Path) -> None:
    source = (Path(__file__).parents[1] / "sheet_templates" / "midmarket-map.yaml").read_text()
    (tmp_path / "bad.yaml").write_text(source.replace('crm: ["Qualification"', 'crm: [3, "Qualification"', 1))
    code, output = run("new", "-t", "bad", "--templates", str(tmp_path), "--buyer", "A", "--seller", "B",
                       "-o", str(tmp_path / "x.xlsx"))
    assert code == 1 and "stages[0].crm[0]: expected non-empty text" in output


def as_report(history: Path, out: Path, *, day_first: bool = False, encoding: str = "utf-8-sig",
              delimiter: str = ",", field_history: bool = False) -> None:
    """The same history as a Salesforce report export: labels for headers, 4/10/2026 8:05 AM dates."""
    with open(history, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    with open(out, "w", newline="", encoding=encoding) as fh:
        writer = csv.writer(fh, delimiter=delimiter)
        if field_history:
            writer.writerow(["Opportunity Name", "Opportunity ID", "Field / Event", "Old Value", "New Value",
                             "Edit Date"])
        else:
            writer.writerow(["Opportunity Name", "Opportunity ID", "Stage", "Amount", "Edit Date"])
        previous: dict[str, str] = {}
        for row in rows:
            at = datetime.strptime(row["CreatedDate"], "%Y-%m-%dT%H:%M:%S.000+0000")
            hour = at.strftime("%I").lstrip("0")
            shown = (f"{at.day}/{at.month}/{at.year}" if day_first else f"{at.month}/{at.day}/{at.year}") \
                + f" {hour}:{at:%M} {at:%p}"
            name, deal = f"Café Acme {row['OpportunityId'][-8:]}", row["OpportunityId"]
            if field_history:
                if deal not in previous:  # the stage a deal was created in is not a change
                    previous[deal] = row["StageName"]
                    writer.writerow([name, deal, "Created.", "", "", shown])
                    continue
                writer.writerow([name, deal, "Stage", previous[deal], row["StageName"], shown])
                previous[deal] = row["StageName"]
            else:
                writer.writerow([name, deal, row["StageName"], "50,000.00", shown])


def stages_table(history: Path, out: Path, *extra: str) -> tuple[str, str]:
    code, output = run("stages", str(history), "--format", "salesforce", "-t", "enterprise-map", "--holidays",
                       "none", "-o", str(out), *extra)
    assert code == 0, output
    return out.read_text(encoding="utf-8"), output


@pytest.mark.parametrize(("how", "options"), [
    ({}, ()),
    ({"day_first": True}, ("--date-order", "DMY")),
    ({"encoding": "cp1252", "delimiter": ";"}, ()),
])
def test_a_report_export_gives_the_same_table(tmp_path: Path, how: dict, options: tuple[str, ...]) -> None:
    history = tmp_path / "OpportunityHistory.csv"
    stock_history(history, deals=80)
    expected, _ = stages_table(history, tmp_path / "from-api.csv")
    report = tmp_path / "report.csv"
    as_report(history, report, **how)
    if how.get("encoding", "utf-8-sig") == "utf-8-sig":
        assert report.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel's BOM
    table, output = stages_table(report, tmp_path / "from-report.csv", *options)
    assert table == expected
    if how.get("encoding") == "cp1252":
        assert 'not UTF-8: read as Windows-1252, Excel\'s "CSV" encoding' in output
    assert "rows skipped" not in output


def test_a_field_history_report_gives_the_same_table(tmp_path: Path) -> None:
    history = tmp_path / "OpportunityHistory.csv"
    stock_history(history, deals=80)
    expected, _ = stages_table(history, tmp_path / "a.csv")
    report = tmp_path / "field-history.csv"
    as_report(history, report, field_history=True)
    # Field history cannot know when the first stage began: everything after it is the same.
    table, output = stages_table(report, tmp_path / "b.csv")
    assert table == expected, output


def test_an_xlsx_export_with_a_title_block_gives_the_same_table(tmp_path: Path) -> None:
    import openpyxl

    history = tmp_path / "OpportunityHistory.csv"
    stock_history(history, deals=80)
    expected, _ = stages_table(history, tmp_path / "a.csv")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Opportunity History"])  # a formatted report's title and filters come first
    sheet.append(["Filtered By: Stage not equal to blank"])
    sheet.append([])
    sheet.append(["Opportunity Name", "Opportunity ID", "Stage", "Amount", "Edit Date"])
    with open(history, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            at = datetime.strptime(row["CreatedDate"], "%Y-%m-%dT%H:%M:%S.000+0000")
            sheet.append(["Acme", row["OpportunityId"], row["StageName"], 50000, at])
    book.save(tmp_path / "report.xlsx")
    table, output = stages_table(tmp_path / "report.xlsx", tmp_path / "b.csv")
    assert table == expected, output


def test_dates_the_file_can_only_read_one_way_decide_its_order(tmp_path: Path) -> None:
    history = tmp_path / "h.csv"
    history.write_text("Opportunity ID,Stage,Edit Date\n"
                       "A,Qualification,2/3/2026 9:00 AM\nA,Needs Analysis,13/3/2026 9:00 AM\n"
                       "A,Closed Won,20/3/2026 4:30 PM\n")
    out = tmp_path / "d.csv"
    code, output = run("stages", str(history), "--format", "salesforce", "-t", "enterprise-map", "--holidays",
                       "none", "-o", str(out))
    assert code == 0, output
    assert "dates read DMY (day first): '13/3/2026 9:00 AM' can only be read that way" in output
    # 2 March → 13 March: 9 business days in Qualification (Discovery).
    assert read_table(out)["Discovery"]["median_days"] == "9.0"
    code, output = run("stages", str(history), "--format", "salesforce", "--date-order", "MDY")
    assert code == 1 and "'13/3/2026 9:00 AM' is not a date in --date-order MDY" in output
