"""The shared words are written once (core/vocabulary.py): a second copy is how two rules drifted apart
(two email patterns, two sheet-ID lengths, serial dates to 2199 beside typed ones to 2200)."""

from __future__ import annotations

import re
from pathlib import Path

from click import Choice

from mapsheets.cli import cli
from mapsheets.core import vocabulary

ROOT = Path(__file__).resolve().parents[1]
# What only vocabulary.py may spell out: the year range, the sheet-ID character class, a digest
# period as a value, the default sender, an email pattern ("[^@..." runs).
COPIES = re.compile(r'\b1950\b|\b2200\b|\[A-Za-z0-9_-\]\{|"weekly"|<mapsheets@localhost>|\[\^@')


def test_the_shared_words_are_written_once() -> None:
    sources = [*(ROOT / "mapsheets").rglob("*.py"), *(ROOT / "addon_server").rglob("*.py")]
    copies = sorted(f"{path.relative_to(ROOT)}:{n}" for path in sources if path.name != "vocabulary.py"
                    for n, line in enumerate(path.read_text("utf-8").splitlines(), 1) if COPIES.search(line))
    assert copies == []


def test_the_commands_offer_the_vocabularys_choices() -> None:
    offered = {(name, param.name): tuple(param.type.choices) for name, command in cli.commands.items()
               for param in command.params
               if isinstance(param.type, Choice) and param.name in ("side", "status", "every")}
    assert offered[("add-step", "side")] == vocabulary.SIDES
    assert offered[("add-step", "status")] == vocabulary.STATUSES
    assert offered[("watch", "every")] == tuple(vocabulary.DIGEST_PERIODS)
    assert {choices for (_name, param), choices in offered.items() if param == "side"} == {
        vocabulary.SIDES, vocabulary.PERSON_SIDES}
