"""`mapsheets stages`: stage durations learned from CRM stage-history exports."""

from __future__ import annotations

import csv
import math
from datetime import date

import pytest
from cli_helpers import invoke_cli
from crm_exports import STAGES, generate

from mapsheets.service.calendars import holiday_dates
from mapsheets.service.stages import learn_stages

# Worked out by hand (business days over (entered, left], UTC dates, weekends only):
#   A: Discovery Mon 1 → Thu 4 (08:00Z) = 3; Validation 4 → Thu 11 = 5, Fri 12 → Tue 16 (20:00-05:00 is
#      01:00Z on the 16th) = 2, total 7; Legal 11 → 12 = 1, 16 → Fri 19 = 3, total 4; won.
#   B: Discovery Tue 2 → Tue 9 = 5; Legal 9 → 10 = 1; lost; skipped Validation.
#   C: Discovery Wed 3 → Mon 8 = 3; in Validation now (open); two bad rows.
#   D: Discovery Mon 1 (the repeat on the 3rd is an amount change) → Fri 5 = 4; Validation 0; won,
#      so it went past Legal without entering it.
HAND = """Opportunity ID,Stage,Changed At,Type
A,Discovery,2027-03-01T09:00:00Z,New
A,Solution validation,2027-03-04T09:00:00+01:00,New
A,Legal,2027-03-11 10:00,New
A,Solution validation,2027-03-12,New
A,Legal,2027-03-15T20:00:00-05:00,New
A,Closed Won,2027-03-19,New
B,Discovery,2027-03-02,Renewal
B,Legal,2027-03-09,Renewal
B,Closed Lost,2027-03-10,Renewal
C,Discovery,2027-03-03,
C,Solution validation,03/05/2027,
C,,2027-03-05,
C,Solution validation,2027-03-08,
D,Discovery,2027-03-01T10:00:00Z,New
D,Discovery,2027-03-03T10:00:00Z,New
D,Solution validation,2027-03-05T09:00:00Z,New
D,Closed Won,2027-03-05T17:00:00Z,New
"""
HAND_CSV = """stage,days,mean_days,median_days,deals,open,skipped_share
Discovery,4,3.8,3.5,4,0,0.0
Solution validation,4,3.5,3.5,2,1,0.25
Legal,3,2.5,2.5,2,0,0.3333
"""


def run(*args):
    result = invoke_cli(*args)
    return result.exit_code, result.stdout, result.stderr


def test_a_small_export_gives_the_durations_worked_out_by_hand(tmp_path):
    history = tmp_path / "history.csv"
    history.write_text(HAND, encoding="utf-8")
    code, out, err = run("stages", str(history), "-o", str(tmp_path / "durations.csv"), "--holidays", "none")
    assert code == 0, err
    assert (tmp_path / "durations.csv").read_text(encoding="utf-8") == HAND_CSV
    assert "4 deals (2 won, 1 lost, 1 open)" in out
    assert err.splitlines() == [
        f"warning: {history}:12: changed-at '03/05/2027' could be 5 March 2027 or 3 May 2027: give --date-order MDY "
        "or DMY: row skipped",
        f"warning: {history}:13: no stage: row skipped",
        "warning: 2 rows skipped (listed above)"]


def test_the_table_feeds_new_durations(tmp_path):
    history = tmp_path / "history.csv"
    history.write_text(HAND, encoding="utf-8")
    durations = tmp_path / "durations.csv"
    code, _out, err = run("stages", str(history), "-t", "enterprise-map", "-o", str(durations), "--holidays", "none")
    assert code == 0, err
    code, out, err = run("new", "-t", "enterprise-map", "--buyer", "Acme", "--seller", "Globex", "--holidays", "none",
                         "--start-date", "2027-03-01", "--durations", str(durations), "--no-watch",
                         "-o", str(tmp_path / "plan.xlsx"))
    assert code == 0, err
    assert "rounded up" not in out  # `days` is whole already; the extra columns are ignored
    code, _out, err = run("new", "-t", "enterprise-map", "--buyer", "Acme", "--seller", "Globex", "--holidays",
                          "none", "--start-date", "2027-03-01", "--no-watch", "-o", str(tmp_path / "default.xlsx"))
    assert code == 0, err
    from mapsheets.service import read_plan

    def discovery_end(name):
        plan = read_plan(str(tmp_path / name), today=date(2027, 3, 1)).plan
        return max(s.due for s in plan.steps if s.phase == "Discovery")

    # Discovery learned 4 business days where the template says 10: it ends 6 business days sooner.
    assert discovery_end("default.xlsx") == date(2027, 3, 15)
    assert discovery_end("plan.xlsx") == date(2027, 3, 5)


@pytest.mark.parametrize("fmt, preset", [("generic", "generic"), ("salesforce", "salesforce"),
                                         ("salesforce-field", "salesforce"), ("hubspot", "hubspot")])
def test_generated_exports_match_their_truth(tmp_path, fmt, preset):
    export = generate(tmp_path / "history.csv", 2500, fmt=fmt, bad_rows=7, seed=len(fmt))
    result = learn_stages(export.path, fmt=preset, holidays="", template="enterprise-map")
    report = result.report
    assert report.deals == len(export.outcomes)
    assert (report.won, report.lost, report.open) == tuple(
        sum(1 for o in export.outcomes.values() if o == k) for k in ("won", "lost", "open"))
    assert [w.split(":")[1] for w in result.warnings] == [str(n) for n in export.bad_lines]
    _check(report.stages, export.truth())
    revisits = sum(1 for v in export.visits if v.stage == "Discovery") - len(export.outcomes)
    assert revisits > 50  # the export did go back to stages


def test_holidays_won_only_since_and_segments(tmp_path):
    us = holiday_dates("US", range(2024, 2028))
    export = generate(tmp_path / "history.csv", 2000, holidays=us)
    out = tmp_path / "durations.csv"
    result = learn_stages(export.path, holidays="US", won_only=True, since=date(2025, 6, 1), segment="Segment",
                          output=out)
    first = {}
    for v in export.visits:
        first[v.deal] = min(first.get(v.deal, v.entered), v.entered)
    kept = {d for d, o in export.outcomes.items() if o == "won" and first[d].date() >= date(2025, 6, 1)}
    assert result.report.deals == len(kept) and result.report.open == 0
    _check(result.report.stages, export.truth(kept, us))
    assert result.written == [str(out), str(tmp_path / "durations.enterprise.csv"),
                              str(tmp_path / "durations.mid-market.csv")]
    for name, segment in (("enterprise", "Enterprise"), ("mid-market", "Mid-Market")):
        deals = {d for d in kept if export.segments[d] == segment}
        truth = export.truth(deals, us)
        with open(tmp_path / f"durations.{name}.csv", newline="") as fh:
            rows = {r["stage"]: r for r in csv.DictReader(fh)}
        for stage in STAGES:
            assert float(rows[stage]["median_days"]) == truth[stage]["median"]
            assert int(rows[stage]["days"]) == math.ceil(truth[stage]["median"])
            assert int(rows[stage]["deals"]) == len(truth[stage]["totals"])


def _check(rows, truth):
    by_stage = {s.stage: s for s in rows}
    for stage in STAGES:
        got, want = by_stage[stage], truth[stage]
        assert got.deals == len(want["totals"]), stage
        assert got.median_days == want["median"], stage
        if want["totals"]:
            assert got.mean_days == round(want["mean"], 1), stage
            assert got.days == math.ceil(want["median"]), stage
        else:  # field history: no deal's start in the first stage is known
            assert got.mean_days is got.days is None, stage
        assert got.open == want["open"], stage
        assert got.skipped_share == pytest.approx(want["skipped_share"], abs=1e-4), stage
    assert 0 < by_stage["Legal"].skipped_share < 0.5


def test_a_file_of_bad_rows_is_one_line_error(tmp_path):
    history = tmp_path / "history.csv"
    history.write_text("Opportunity ID,Stage,Changed At\n,Legal,2027-03-01\nA,Legal,soon\n", encoding="utf-8")
    code, out, err = run("stages", str(history))
    assert code == 1
    assert err == f"Error: {history}: no usable stage changes: 2 rows, none usable (line 2: no opportunity id)\n"


def test_columns_named_by_option_or_a_one_line_error(tmp_path):
    history = tmp_path / "history.csv"
    history.write_text("Deal,Phase,When\nA,Discovery,2027-03-01\nA,Legal,2027-03-03\nA,Closed Won,2027-03-04\n",
                       encoding="utf-8")
    code, _out, err = run("stages", str(history), "--format", "salesforce")
    assert code == 1 and len(err.splitlines()) == 1
    assert "no opportunity id column" in err and "--id-column" in err
    code, out, err = run("stages", str(history), "--id-column", "deal", "--stage-column", "Phase",
                         "--at-column", "WHEN", "--holidays", "none")
    assert code == 0, err
    assert "Discovery     2     2.0" in out


def test_a_row_with_too_many_fields_is_reported_not_dropped(tmp_path):
    history = tmp_path / "history.csv"
    history.write_text('Opportunity ID,Stage,Changed At\nA,Discovery,2027-03-01\n"A,\nB",Legal,2027-03-02,x\n'
                       "A,Legal,2027-03-03\n", encoding="utf-8")
    code, _out, err = run("stages", str(history), "--holidays", "none")
    assert code == 0
    assert f"warning: {history}:3: 4 fields, the header has 3: row skipped" in err


def test_a_stage_name_that_is_a_formula_is_written_as_text_and_read_back(tmp_path):
    """CRM stage names are outside text: one like =HYPERLINK(...) must open as text in a spreadsheet."""
    from mapsheets.adapters.files import read_durations

    evil = '=HYPERLINK("http://evil.example","x")'
    history = tmp_path / "history.csv"
    history.write_text(HAND.replace("Solution validation", '"' + evil.replace('"', '""') + '"'), encoding="utf-8")
    code, _out, err = run("stages", str(history), "-o", str(tmp_path / "durations.csv"), "--holidays", "none")
    assert code == 0, err
    text = (tmp_path / "durations.csv").read_text(encoding="utf-8")
    assert "\n\"'=HYPERLINK(" in text and "\n=HYPERLINK" not in text and "\n\"=HYPERLINK" not in text
    assert evil in read_durations(tmp_path / "durations.csv")


# --- edges the generated exports never reach ---------------------------------------------------

def learned(tmp_path, rows: str, **options):
    """The report of ``learn_stages`` over a generic export of ``rows`` (weekends only)."""
    history = tmp_path / "edge.csv"
    history.write_text("Opportunity ID,Stage,Changed At\n" + rows, encoding="utf-8")
    return learn_stages(history, holidays="", **options).report


def test_entered_on_a_saturday_and_left_on_monday_is_one_business_day(tmp_path):
    # 2027-03-06 is a Saturday: (Sat, Mon] holds one business day, Monday.
    report = learned(tmp_path, "E,Discovery,2027-03-06T10:00:00Z\nE,Legal,2027-03-08T09:00:00Z\n"
                               "E,Closed Won,2027-03-13T09:00:00Z\n")  # (Mon, Sat]: 4
    assert [(s.stage, s.median_days) for s in report.stages] == [("Discovery", 1.0), ("Legal", 4.0)]


def test_a_closed_won_stage_with_more_words_is_won(tmp_path):
    report = learned(tmp_path, "G,Discovery,2027-03-01\nG,Closed Won - Renewal,2027-03-03\n"
                               "H,Discovery,2027-03-01\nH,Closed Lost (no budget),2027-03-04\n")
    assert (report.deals, report.won, report.lost, report.open) == (2, 1, 1, 0)
    assert [s.stage for s in report.stages] == ["Discovery"]  # closing stages are not stages
    assert [s.stage for s in learned(tmp_path, "G,Discovery,2027-03-01\nG,Closed Won - Renewal,2027-03-03\n"
                                     "H,Discovery,2027-03-01\nH,Closed Lost (no budget),2027-03-04\n",
                                     won_only=True).stages] == ["Discovery"]


def test_a_first_change_at_midnight_utc_on_the_since_date_is_kept(tmp_path):
    rows = ("J,Discovery,2027-03-01T01:00:00+01:00\nJ,Closed Won,2027-03-03\n"  # 00:00Z on the 1st: kept
            "K,Discovery,2027-03-01T00:30:00+01:00\nK,Closed Won,2027-03-03\n")  # 23:30Z the day before
    report = learned(tmp_path, rows, since=date(2027, 3, 1))
    assert (report.deals, report.won) == (1, 1)
    assert [(s.stage, s.deals, s.median_days) for s in report.stages] == [("Discovery", 1, 2.0)]


def test_repeated_visits_merge_in_the_stage_order(tmp_path):
    """Without a template the stages come in the order deals first enter them: going back to
    Discovery twice does not push it after Solution validation, and each stage is listed once."""
    rows = ("R,Discovery,2027-03-01\nR,Solution validation,2027-03-02\nR,Legal,2027-03-03\n"
            "R,Discovery,2027-03-04\nR,Solution validation,2027-03-05\nR,Legal,2027-03-08\n"
            "R,Discovery,2027-03-09\nR,Legal,2027-03-10\nR,Closed Won,2027-03-11\n"
            "S,Discovery,2027-03-01\nS,Solution validation,2027-03-02\nS,Legal,2027-03-03\nS,Closed Lost,2027-03-04\n")
    report = learned(tmp_path, rows)
    assert [(s.stage, s.deals, s.median_days) for s in report.stages] == [
        ("Discovery", 2, 2.0), ("Solution validation", 2, 1.5), ("Legal", 2, 2.0)]  # R: 3 visits, 1 day each
    # Rows repeating the stage a deal is in (OpportunityHistory writes one per amount change) are one
    # visit: V's five Legal rows do not push Solution validation to the end of the order.
    rows = "".join(f"{d},Discovery,2027-03-01\n{d},Solution validation,2027-03-02\n{d},Legal,2027-03-03\n"
                   f"{d},Closed Won,2027-03-04\n" for d in ("U1", "U2"))
    rows += "V,Discovery,2027-03-01\n" + "".join(f"V,Legal,2027-03-0{n}\n" for n in range(2, 7))
    rows += "V,Solution validation,2027-03-08\nV,Closed Lost,2027-03-09\n"
    report = learned(tmp_path, rows)
    assert [(s.stage, s.deals) for s in report.stages] == [("Discovery", 3), ("Solution validation", 3), ("Legal", 3)]
    assert (report.stages[2].median_days, report.stages[2].mean_days) == (1.0, 2.0)  # V: (Tue, Mon], 4 days


def test_a_deal_reopened_after_closed_won_is_still_won_under_won_only(tmp_path):
    rows = ("L,Discovery,2027-03-01\nL,Closed Won,2027-03-03\nL,Legal,2027-03-04\n"  # won, then reopened
            "M,Discovery,2027-03-01\nM,Closed Lost,2027-03-05\n")
    report = learned(tmp_path, rows, won_only=True)
    assert (report.deals, report.won, report.lost) == (1, 1, 0)
    assert [(s.stage, s.deals, s.median_days) for s in report.stages][:1] == [("Discovery", 1, 2.0)]
