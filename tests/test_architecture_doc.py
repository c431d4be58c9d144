"""docs/architecture.md, the map of the code: it has its parts, names files that exist, and the
README's Layout points to it. Issue 19 part 6."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "architecture.md"
PACKAGE_DIRS = ("core", "adapters", "service", "cli", "analysis", "emails", "testing")
# Names issue 19's parallel work brings (new name -> today's): the map already uses the new ones.
# Delete each line once its change is merged; the test then holds the map to the new name alone.
PENDING: dict[str, str] = {}


def _rows(text: str) -> list[str]:
    table = text.split("## Where does a new thing go?", 1)[1]
    return [line.split("|")[1].strip() for line in table.splitlines() if line.startswith("| ")]


def test_the_map_has_layers_three_paths_and_where_things_go() -> None:
    text = DOC.read_text(encoding="utf-8")
    headings = re.findall(r"^#+ (.*)$", text, re.MULTILINE)
    assert headings[:3] == ["How mapsheets is built", "Layers", "Three paths"]
    assert [h.split(":")[0] for h in headings[3:6]] == ["A write", "A digest run", "An add-on request"]
    assert headings[6] == "Where does a new thing go?"
    rows = _rows(text)
    for wanted in ("a CRM client", "a new surface", "a new template", "a new report", "a new store table",
                   "a new email"):
        assert any(row.startswith(wanted) for row in rows), wanted


def _exists(name: str) -> bool:
    """A path (under the repository or mapsheets/, ".py" optional) or a dotted module name."""
    if "/" not in name:
        module = REPO.joinpath(*name.split("."))
        return module.with_suffix(".py").exists() or (module / "__init__.py").exists()
    return any(p.exists() or p.with_suffix(".py").exists() for p in (REPO / name, REPO / "mapsheets" / name))


def test_every_file_the_map_names_exists() -> None:
    text = DOC.read_text(encoding="utf-8")
    named = set()
    for code in re.findall(r"`([^`]+)`", text):
        for word in code.split():
            word = word.split(":")[0].rstrip(",.")
            if word.split("/")[0] in (*PACKAGE_DIRS, "addon_server", "mapsheets", "tests", "sheet_templates") \
                    and "/" in word and not re.search(r"[<*>]", word):
                named.add(word)
            elif word.startswith("mapsheets.") and "(" not in word:
                named.add(word)
    assert len(named) > 40
    missing = sorted(n for n in named if not _exists(n) and not (n in PENDING and _exists(PENDING[n])))
    assert missing == [], f"docs/architecture.md names what the tree does not have: {missing}"


def test_the_readme_layout_points_to_the_map() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    layout = readme.split("\n## Layout\n", 1)[1]
    assert "[docs/architecture.md](docs/architecture.md)" in layout.split("\n\n", 1)[0]
