"""The service says which field an error is about, in words any surface can show; the CLI shows the
option the user typed instead."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from click.testing import CliRunner

from mapsheets import service
from mapsheets.cli import cli
from mapsheets.errors import UsageError
from mapsheets.service import digest, signoff, team

TODAY = date(2026, 12, 1)
NOW = datetime(2026, 12, 2, 9, tzinfo=timezone.utc)


def _new(ref, **kwargs):
    return service.new_plan("closing-plan", ref, **{"buyer": "Acme", "seller": "Globex", "today": TODAY,
                                                    "close": date(2027, 3, 31), **kwargs})


CASES = {
    "empty title": (lambda p: service.add_step(p, title="  ", today=TODAY), "title", "title must not be empty"),
    "bad side": (lambda p: service.add_step(p, title="x", side="x", today=TODAY), "side", "side 'x' is not one of"),
    "bad status": (lambda p: service.add_step(p, title="x", status="later", today=TODAY), "status", "status 'later'"),
    "unknown dependency": (lambda p: service.add_step(p, title="x", depends_on=["S-999"], today=TODAY),
                           "depends_on", "depends on S-999: no such step"),
    "long notes": (lambda p: service.add_step(p, title="x", notes="n" * 40_000, today=TODAY), "notes",
                   "notes is 40,000 characters long"),
    "long owner": (lambda p: service.add_step(p, title="x", owners=["o" * 40_000], today=TODAY), "owners",
                   "owners is 40,000 characters long"),
    "bad email": (lambda p: signoff.sign(p, name="Jane", email="jane", side="buyer", now=NOW), "email",
                  "'jane' is not an email address"),
    "empty name": (lambda p: signoff.sign(p, name=" ", email="jane@acme.example", side="buyer", now=NOW), "name",
                   "name must not be empty"),
    "sign side": (lambda p: signoff.sign(p, name="Jane", email="jane@acme.example", side="joint", now=NOW), "side",
                  "side 'joint' is not buyer or seller"),
    "bad recipient": (lambda p: digest.watch(p, ["nope"], now=NOW), "emails", "'nope' is not an email address"),
    "bad every": (lambda p: digest.watch(p, ["a@b.example"], every="hourly", now=NOW), "every", "every 'hourly'"),
    "bad link": (lambda p: digest.watch(p, ["a@b.example"], now=NOW, link="file:///x"), "link", "link 'file:///x'"),
    "empty new name": (lambda p: team.rename_person(p, "x", to=" "), "to", "to must not be empty"),
    "team side": (lambda p: team.add_person(p, "Sam <sam@globex.example>"), "side", "side buyer or seller is needed"),
    "empty buyer": (lambda p: _new(p.replace(".xlsx", "-2.xlsx"), buyer=" "), "buyer", "buyer must not be empty"),
    "backward without close": (lambda p: _new(p.replace(".xlsx", "-2.xlsx"), close=None, backward=True),
                               "close_date", "close date is needed"),
    "unknown role": (lambda p: _new(p.replace(".xlsx", "-2.xlsx"), roles={"cfo": "x"}), "roles", "role cfo:"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_service_errors_name_their_field_without_cli_options(plan_file, case):
    call, field, start = CASES[case]
    with pytest.raises(UsageError) as refused:
        call(str(plan_file))
    assert refused.value.field == field
    assert str(refused.value).startswith(start)
    assert "--" not in str(refused.value)


def test_a_due_date_warning_names_no_option(plan_file):
    said = []
    service.add_step(str(plan_file), title="Board", due=date(2027, 1, 16), today=TODAY, on_warning=said.append)
    assert said == ["due 2027-01-16 is a Saturday, not a business day: kept as given (snap moves it to 2027-01-18)"]


def _error(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 1, result.output
    [line] = result.stderr.splitlines()
    return line


@pytest.mark.parametrize("args, line", [
    (["add-step", "{plan}", "--title", " "], "Error: --title must not be empty"),
    (["add-step", "{plan}", "--title", "x", "--depends-on", "S-999"], "Error: --depends-on S-999: no such step in"),
    (["add-step", "{plan}", "--title", "x", "--owner", "o" * 40_000],
     "Error: --owner is 40,000 characters long; a cell holds at most 32,767"),
    (["sign", "{plan}", "--name", "Jane", "--email", "jane", "--side", "buyer"],
     "Error: --email 'jane' is not an email address"),
    (["sign", "{plan}", "--name", " ", "--email", "jane@acme.example", "--side", "buyer"],
     "Error: --name must not be empty"),
    (["team", "{plan}", "--rename", "x", "--to", " "], "Error: --to must not be empty"),
    (["new", "-t", "closing-plan", "--buyer", " ", "--seller", "Globex", "-o", "{dir}/n.xlsx"],
     "Error: --buyer must not be empty"),
    (["new", "-t", "closing-plan", "--buyer", "Acme", "--seller", "Globex", "--backward", "-o", "{dir}/n.xlsx"],
     "Error: --close-date is needed to schedule backward from it"),
    (["new", "-t", "closing-plan", "--buyer", "Acme", "--seller", "Globex", "--role", "cfo=x", "-o", "{dir}/n.xlsx"],
     "Error: --role cfo: template closing-plan has no such role"),
    # A day and month that could be either way round are not guessed: the reader may write either.
    (["add-step", "{plan}", "--title", "x", "--due", "02/05/2027"],
     "Error: Invalid value for '--due': '02/05/2027' could be 5 February 2027 or 2 May 2027: "
     "write it as 2027-02-05 or 2027-05-02"),
    (["new", "-t", "closing-plan", "--buyer", "Acme", "--seller", "Globex", "--close-date", "03/04/27",
      "-o", "{dir}/n.xlsx"], "Error: Invalid value for '--close-date': '03/04/27' could be 4 March 2027 or "
     "3 April 2027: write it as 2027-03-04 or 2027-04-03"),
])
def test_the_cli_shows_the_option_the_user_typed(plan_file, args, line):
    got = _error(*(a.format(plan=plan_file, dir=plan_file.parent) for a in args))
    assert got.startswith(line), got


@pytest.mark.parametrize("typed, due", [("13/05/2027", date(2027, 5, 13)), ("05/13/2027", date(2027, 5, 13)),
                                        ("2027-02-05", date(2027, 2, 5)), ("05/05/2027", date(2027, 5, 5))])
def test_a_date_that_can_be_read_one_way_only_is_taken(plan_file, typed, due):
    result = CliRunner().invoke(cli, ["add-step", str(plan_file), "--title", "Legal review", "--due", typed])
    assert result.exit_code == 0, result.output
    steps = service.read_plan(str(plan_file), today=date(2026, 12, 1)).plan.steps
    assert steps[-1].title == "Legal review" and steps[-1].due == due


def test_a_message_that_does_not_name_its_field_gets_the_option_in_front():
    from mapsheets.cli.base import _RUNNING, with_options

    _RUNNING.set(cli.commands["add-step"])
    try:
        assert with_options("no such step", "depends_on") == "--depends-on: no such step"
        assert with_options("'x' is not a date", "due") == "--due 'x' is not a date"
        assert with_options("title must not be empty", "title") == "--title must not be empty"
        assert with_options("titles are long", "title") == "--title: titles are long"  # whole words only
        assert with_options("nothing to map", "nonexistent") == "nothing to map"  # no such option: as said
        assert with_options("plain", None) == "plain"
        _RUNNING.set(cli.commands["team"])  # add_person's field "person" is the team command's --add
        assert with_options("'x' is not an email address", "person") == "--add 'x' is not an email address"
    finally:
        _RUNNING.set(None)
