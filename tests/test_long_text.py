"""Long text in any cell reads in time linear in its length (issue 17, seen 12): a Team name of
30,000 characters made `show` take 35 s and `digest` 92 s, as the email pattern backtracked over
the whole cell looking for an "@". The limit below is a guard against quadratic blowup (one such
cell took seconds), counted in CPU time so a loaded machine does not fail it; benchmarks give figures."""

from __future__ import annotations

import random
import re
import time
from datetime import timedelta

import openpyxl
from click.testing import CliRunner
from digest_helpers import T0
from hypothesis import given, settings
from hypothesis import strategies as st
from plan_cells import step_cell

from mapsheets.adapters.mail import OutboxMailer
from mapsheets.cli import cli
from mapsheets.core import addresses, people
from mapsheets.core.cell_input import split_people
from mapsheets.core.look import NO_PHASE, band_phase
from mapsheets.service import digest

CELL = 32_767


def _letters(n: int, seed: int) -> str:
    """Text without "@" or spaces that does not compress like a zip bomb (the reader refuses those)."""
    rng = random.Random(seed)
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz.-_") for _ in range(n))


# Each hostile to one pattern: no "@" at all, one "@" at the very end, long runs of spaces between
# words (owners split at " / "), a band mark then spaces, dots after an "@".
LONG_TEXTS = (_letters(CELL, 1), _letters(CELL - 1, 2) + "@",
              _letters(8_000, 3) + " " * 16_000 + _letters(CELL - 24_000, 4),
              "▸ a" + " " * 16_000 + _letters(CELL - 16_003, 5),
              "@" + ".".join(_letters(CELL // 2, 6))[:CELL - 1])
STEP_TEXT_COLUMNS = ("Phase", "Step", "Side", "Owners", "Due", "Status", "Done on", "Depends on", "Notes")
OVERVIEW_TEXT = ("Problem we are solving", "Proposed solution", "Buying process", "Seller lead", "Buyer lead")


def _fill_with_long_text(path) -> None:
    where = {(i, label): step_cell(path, i, label) for i in range(len(LONG_TEXTS)) for label in STEP_TEXT_COLUMNS}
    book = openpyxl.load_workbook(path)
    plan = book["Plan"]
    for (i, _label), cell in where.items():
        plan[cell] = LONG_TEXTS[i]
    for row in plan.iter_rows(max_col=3):
        if row[1].value in OVERVIEW_TEXT:
            row[2].value = LONG_TEXTS[len(row[1].value) % len(LONG_TEXTS)]
    team = book["Team"]
    for r, row in enumerate(team.iter_rows(min_row=2)):
        for c, cell in enumerate(row):
            cell.value = LONG_TEXTS[(r + c) % len(LONG_TEXTS)]
    book.save(path)


def _timed(run) -> float:
    """CPU seconds of this process: what a quadratic pattern burns, not what other programs on a
    busy machine take from it (the digest's workbook writer is another process, not counted)."""
    start = time.process_time()
    run()
    return time.process_time() - start


def test_show_and_a_digest_run_take_linear_time_over_cells_of_32767_characters(plan_file, db, tmp_path):
    digest.watch(str(plan_file), ["ae@globex.example"], now=T0, store_url=db)
    _fill_with_long_text(plan_file)

    def show():
        result = CliRunner().invoke(cli, ["show", str(plan_file), "--all", "--as-of", "2026-12-01"])
        assert result.exit_code == 0, result.output

    def run_digest():
        report = digest.run(now=T0 + timedelta(days=1), mailer=OutboxMailer(tmp_path / "outbox"), store_url=db)
        assert len(report.sent) == 1  # the long text is news, read and sent

    shown, digested = _timed(show), _timed(run_digest)
    assert shown < 2 and digested < 2, (shown, digested)


# The patterns these replace, kept to show the new ones find exactly what they found.
_OLD_EMAIL = re.compile(r"[^@\s<>,;\"()]+@[^@\s<>,;\"()]+\.[A-Za-z0-9-]{2,}")
_OLD_NAMED = re.compile(rf"^(?P<name>[^<>]*?)\s*<\s*(?P<email>{_OLD_EMAIL.pattern})\s*>$")
_OLD_SPLIT = re.compile(r"[,;\n]+|\s+/\s+|\s+&\s+|\s+and\s+")
_OLD_BAND = re.compile(r"^\s*▸\s*(?P<phase>.*?)\s*(?:·\s*\d+\s*/\s*\d+\s+done\s*)?$")
_PIECES = [" ", "\n", "\r", "\t", "\u00a0", ",", ";", "/", "&", "and", "a", "Jo", "▸", "·", "3", "/5", "done",
           "@", ".", "x.co", "<", ">", '"', "(", NO_PHASE]


def _old_parse_address(text: str):
    text = text.strip()
    if _OLD_EMAIL.fullmatch(text):
        return "", text
    named = _OLD_NAMED.match(text)
    return None if named is None else (named["name"].strip().strip("\"'").strip(), named["email"])


def _old_band_phase(text: str):
    found = _OLD_BAND.match(text)
    return None if found is None else ("" if found["phase"] == NO_PHASE else found["phase"])


def _span(found):
    return found.span() if found else None


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=14).map("".join))
def test_the_linear_patterns_read_text_as_the_old_ones_did(text):
    # Owners and addresses read one email pattern now (issue 19): the address one, as it read before.
    assert _span(people.EMAIL_IN.search(text)) == _span(_OLD_EMAIL.search(text))
    assert _span(addresses.EMAIL.search(text)) == _span(_OLD_EMAIL.search(text))
    assert addresses.parse_address(text) == _old_parse_address(text)
    assert split_people(text) == [p.strip() for p in _OLD_SPLIT.split(text) if p.strip()]
    assert band_phase(text) == _old_band_phase(text)


def test_steps_with_long_titles_and_new_ids_are_matched_in_linear_time():
    """Steps whose IDs were retyped are matched by title similarity; titles of 32,767 characters
    made that quadratic (difflib), minutes for a few steps."""
    from mapsheets.core.diff import diff
    from mapsheets.core.model import Plan, Step

    titles = [_letters(CELL, 10 + i) for i in range(4)]
    old = Plan(kind="mutual", title="P", buyer="A", seller="G",
               steps=[Step(id=f"S-OLD{i}", title=t, phase="Eval") for i, t in enumerate(titles)])
    new = Plan(kind="mutual", title="P", buyer="A", seller="G",
               steps=[Step(id=f"S-NEW{i}", title=t[:-1] + "!", phase="Eval") for i, t in enumerate(titles)])
    changes = []
    assert _timed(lambda: changes.extend(diff(old, new))) < 2
    assert [(c.kind, c.field, c.old, c.new) for c in changes if c.field == "id"] == [
        ("step_changed", "id", f"S-OLD{i}", f"S-NEW{i}") for i in range(4)]
