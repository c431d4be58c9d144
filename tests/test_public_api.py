"""The public API as a user and a type checker see it: `dir(mapsheets)`, real types, still lazy."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import mapsheets

INIT = Path(mapsheets.__file__)
REPO = INIT.parents[1]


def _type_checking_imports() -> dict[str, str]:
    """Public name -> "module" or "module:name", as the ``if TYPE_CHECKING:`` block of __init__ imports it."""
    tree = ast.parse(INIT.read_text(encoding="utf-8"))
    block = next(node for node in tree.body if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING")
    names: dict[str, str] = {}
    for node in block.body:
        assert isinstance(node, ast.ImportFrom) and node.module, ast.unparse(node)
        for alias in node.names:
            public = alias.asname or alias.name
            names[public] = node.module if public == alias.name else f"{node.module}:{alias.name}"
    return names


def test_dir_lists_every_public_name() -> None:
    listed = dir(mapsheets)
    assert [name for name in mapsheets.__all__ if name not in listed] == []
    assert "__version__" in listed


def test_type_checkers_see_the_names_the_module_hands_out() -> None:
    assert _type_checking_imports() == mapsheets._EXPORTS
    for name, target in mapsheets._EXPORTS.items():
        module, _sep, attr = target.partition(":")
        assert getattr(mapsheets, name) is getattr(__import__(module, fromlist=["_"]), attr or name), name


def test_the_lifecycle_commands_have_library_functions() -> None:
    from mapsheets.service import convert, handoff, lifecycle_close, plans, stages, team, winloss

    assert mapsheets.convert_plan is convert.convert
    assert mapsheets.close_plan is lifecycle_close.close_plan and mapsheets.reopen_plan is lifecycle_close.reopen_plan
    assert mapsheets.team_members is team.team and mapsheets.add_person is team.add_person
    assert mapsheets.write_handoff is handoff.handoff
    assert mapsheets.learn_stages is stages.learn_stages
    assert mapsheets.winloss_report is winloss.winloss
    assert mapsheets.draw_timeline is plans.timeline_picture
    for name in mapsheets.__all__:
        assert (getattr(mapsheets, name).__doc__ or "").strip(), f"{name} has no docstring"


def test_importing_mapsheets_loads_no_service_module() -> None:
    code = "import sys, mapsheets; print(sorted(m for m in sys.modules if m.startswith('mapsheets.')))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "[]"


def test_mypy_sees_real_types_not_any(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    api = pytest.importorskip("mypy.api", reason="mypy is in the test extra")
    snippet = tmp_path / "use_mapsheets.py"
    snippet.write_text("import mapsheets\n" + "".join(f"reveal_type(mapsheets.{n})\n" for n in mapsheets.__all__))
    monkeypatch.setenv("MYPYPATH", str(REPO))  # this checkout, not whatever `pip install -e` points at
    monkeypatch.chdir(tmp_path)  # no project configuration: the defaults a user's checker has
    out, err, _status = api.run([str(snippet), "--follow-imports=silent", "--ignore-missing-imports",
                                 "--cache-dir", str(tmp_path / "cache"), "--no-error-summary"])
    revealed = [line.split('Revealed type is "', 1)[1].rstrip('"') for line in out.splitlines()
                if "Revealed type is" in line]
    assert len(revealed) == len(mapsheets.__all__), out + err
    by_name = dict(zip(mapsheets.__all__, revealed, strict=True))
    assert by_name["new_plan"].startswith("def (template: str, output: str | None, *, buyer: str"), by_name["new_plan"]
    assert by_name["new_plan"].endswith("-> mapsheets.service.plans.NewPlanResult")
    assert by_name["convert_plan"].endswith("-> mapsheets.service.convert.ConvertResult")
    assert by_name["Plan"].endswith("-> mapsheets.core.model.Plan")
    assert [name for name, shown in by_name.items() if shown == "Any"] == []
