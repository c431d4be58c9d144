"""README's "A deal, start to finish", run as written: closing plan → stages → convert → share
(watch, for a local file) → sign → close → hand-off. Issue 18."""

from __future__ import annotations

import email
import email.policy
import re
import shlex
from datetime import date, timedelta
from pathlib import Path

import openpyxl
from click.testing import CliRunner

from mapsheets.cli import cli
from mapsheets.service import get_template, read_plan

README = Path(__file__).resolve().parents[1] / "README.md"
TODAY = date(2026, 12, 1)


def walk_commands() -> list[list[str]]:
    text = README.read_text(encoding="utf-8").split("### A deal, start to finish", 1)[1]
    block = re.search(r"\n\n((?:    .*\n)+)", text)[1]
    joined = block.replace("\\\n", " ")
    return [shlex.split(line) for line in joined.splitlines() if line.strip()]


def _history(path: Path) -> None:
    """What the CRM export holds: eight won deals through enterprise-map's stages."""
    stages = [s.name for s in get_template("enterprise-map").stages if s.key != "kickoff"] + ["Closed Won"]
    rows = ["Opportunity ID,Stage,Changed At"]
    for deal in range(8):
        day = date(2025, 1, 6) + timedelta(days=7 * deal)
        for i, stage in enumerate(stages):
            rows.append(f"006D{deal:03d},{stage},{(day + timedelta(days=7 * i + deal % 3)).isoformat()}T10:00:00Z")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


def _qualify(path: Path) -> None:
    """What the AE types into the closing plan's Qualification block."""
    book = openpyxl.load_workbook(path)
    ws = book["Plan"]
    labels = {ws.cell(r, 2).value: r for r in range(1, 60) if isinstance(ws.cell(r, 2).value, str)}
    ws.cell(labels["Identified pain"], 3).value = "Month-end close takes 12 days"
    ws.cell(labels["Metrics"], 3).value = "Close in 5 days"
    book.save(path)


def test_the_readme_walk_runs_as_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MAPSHEETS_TODAY", TODAY.isoformat())
    commands = walk_commands()
    assert [c[1] for c in commands] == ["new", "stages", "convert", "watch", "sign", "sign", "close", "handoff"]
    runner = CliRunner()
    for command in commands:
        assert command[0] == "mapsheets"
        if command[1] == "stages":
            _history(tmp_path / "opportunity-history.csv")
        if command[1] == "convert":
            _qualify(tmp_path / "initech-closing.xlsx")
        result = runner.invoke(cli, command[1:])
        assert result.exit_code == 0, (command, result.output)

    mutual = read_plan("initech-map.xlsx", today=TODAY).plan
    assert mutual.outcome == "won" and mutual.step(mutual.close_step).status in ("done", "not started", "in progress")
    order = [s.name for s in get_template("enterprise-map").stages]
    runs = [p for i, p in enumerate(s.phase for s in mutual.steps) if i == 0 or mutual.steps[i - 1].phase != p]
    assert runs == sorted(runs, key=order.index)
    assert {(s.email, s.side) for s in mutual.signatures} == {("sam@globex.example", "seller"),
                                                             ("jane@initech.example", "buyer")}
    handoff = (tmp_path / "initech-handoff.md").read_text(encoding="utf-8")
    assert "Jane Doe" in handoff and "Initech" in handoff
    # The MEDDPICC block comes from the closing plan, found through the audit log (the MAP names it by title).
    assert "**Identified pain:** Month-end close takes 12 days" in handoff
    outbox = Path(__import__("os").environ["MAPSHEETS_OUTBOX"])
    told = {m["To"]: m for m in (email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
                                 for p in outbox.glob("*.eml"))}
    jane = next(m for to, m in told.items() if "jane@initech.example" in to)
    assert "Won on time to value" not in jane.get_body(preferencelist=("plain",)).get_content()
