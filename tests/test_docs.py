"""Docs that describe commands come from the commands: this fails when docs/cli.md drifts."""

from pathlib import Path

from mapsheets.cli.docs import render

DOC = Path(__file__).resolve().parents[1] / "docs" / "cli.md"


def test_cli_docs_match_help():
    assert DOC.read_text(encoding="utf-8") == render(), (
        "docs/cli.md is out of date: run `python -m mapsheets.cli.docs > docs/cli.md`")


def test_readme_quickstart_commands_exist():
    readme = (DOC.parents[1] / "README.md").read_text(encoding="utf-8")
    documented = DOC.read_text(encoding="utf-8")
    for line in readme.splitlines():
        if not line.startswith("    "):  # only the indented command examples
            continue
        words = line.split()
        if len(words) > 1 and words[0] == "mapsheets" and not words[1].startswith("-"):
            assert f"## mapsheets {words[1]}" in documented, line
