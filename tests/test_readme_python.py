"""README's "Use it from Python", run as written: each code block in order in one namespace, in an
empty folder, its printed lines compared with the `# ` lines under each print. Issue 19."""

from __future__ import annotations

import contextlib
import email
import email.policy
import io
import re
from datetime import date
from pathlib import Path

import pytest
from test_readme_walk import _history, _qualify

import mapsheets

README = Path(__file__).resolve().parents[1] / "README.md"


def section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    return text.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def python_blocks() -> list[str]:
    return re.findall(r"^```python\n(.*?)^```$", section("Use it from Python"), re.MULTILINE | re.DOTALL)


def expected_output(block: str) -> list[str]:
    """The comment lines right under a `print(...)` call (one line each): what it prints."""
    said: list[str] = []
    after_print, depth = False, 0  # depth: open brackets, >0 inside a call written over several lines
    for line in block.splitlines():
        if after_print and depth == 0 and line.startswith("# "):
            said.append(line[2:])
            continue
        if depth == 0:
            after_print = line.lstrip().startswith("print(")
        depth += line.count("(") - line.count(")")
    return said


def run_block(block: str, namespace: dict[str, object], number: int) -> list[str]:
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(block, f"README.md (Use it from Python, block {number})", "exec"), namespace)  # noqa: S102
    return printed.getvalue().splitlines()


def test_the_python_examples_run_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    blocks = python_blocks()
    assert len(blocks) == 6
    assert sum(map(expected_output, blocks), []) and all(len(expected_output(b)) == b.count("print(") for b in blocks)
    namespace: dict[str, object] = {"__name__": "readme"}
    for number, block in enumerate(blocks, 1):
        if "opportunity-history.csv" in block:  # what the CRM export holds (README: as for `mapsheets stages`)
            _history(tmp_path / "opportunity-history.csv")
        if "convert_plan(" in block:  # what the AE types into the Qualification block first
            _qualify(tmp_path / "initech-closing.xlsx")
        assert run_block(block, namespace, number) == expected_output(block), block

    acme = mapsheets.read_plan("acme-map.xlsx", today=date(2026, 12, 1)).plan
    assert [s.title for s in acme.steps if s.title in ("Security questionnaire", "Reference call")] == [
        "Security questionnaire", "Reference call"]
    assert [(s.email, s.side) for s in acme.signatures] == [("jane@acme.example", "buyer")]
    initech = mapsheets.read_plan("initech-map.xlsx", today=date(2027, 3, 30)).plan
    assert (initech.outcome, initech.closed_on, initech.outcome_reason) == ("won", date(2027, 3, 30),
                                                                          "Won on time to value")
    assert "Jane Doe" in (tmp_path / "initech-handoff.md").read_text(encoding="utf-8")
    assert (tmp_path / "durations.csv").read_text(encoding="utf-8").startswith("stage,days,")
    mails = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
             for p in (tmp_path / "outbox").glob("*.eml")]
    assert sorted(str(m["Subject"]) for m in mails) == [
        "[MAP] Acme Corp × Globex: 2 changes · on track",
        "[MAP] Initech × Globex: deal closed won on 2027-03-30 (Won on time to value), last digest"]
    assert {str(m["To"]) for m in mails} == {"Sam Rivera <sam@globex.example>"}


def test_the_examples_use_only_the_public_api() -> None:
    used = set()
    for block in python_blocks():
        used |= set(re.findall(r"\bmapsheets\.(\w+)", block))
    assert used and used <= set(mapsheets.__all__), used - set(mapsheets.__all__)


def test_setting_up_is_still_two_commands() -> None:
    commands = [line for line in section("Set up").splitlines() if line.startswith("    ")]
    assert len(commands) == 2, commands
