"""The architecture check itself, on small package trees: it must catch each way a rule breaks."""

from __future__ import annotations

from pathlib import Path

import import_graph
from test_architecture import LAYERS

CLEAN = {
    "mapsheets/__init__.py": "",
    "mapsheets/errors.py": "",
    "mapsheets/core/__init__.py": "",
    "mapsheets/core/model.py": "from mapsheets.errors import X\n",
    "mapsheets/core/diff.py": "from . import model\nfrom .model import Plan\n",
    "mapsheets/adapters/__init__.py": "",
    "mapsheets/adapters/xlsx.py": "import openpyxl\nfrom ..core import model\n",
    "mapsheets/service/__init__.py": "from mapsheets.service import plans\n",
    "mapsheets/service/plans.py": "import mapsheets.adapters.xlsx\nfrom mapsheets.core.diff import diff\n",
    "addon_server/__init__.py": "from mapsheets.service.plans import new_plan\n",
}


def _tree(root: Path, **changed: str) -> import_graph.Graph:
    files = {**CLEAN, **{k.replace("__", "/") + ".py": v for k, v in changed.items()}}
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return import_graph.build(root, ["mapsheets", "addon_server"])


def test_a_clean_tree_passes(tmp_path):
    graph = _tree(tmp_path)
    assert graph.internal["mapsheets.core.diff"] == {"mapsheets.core.model"}
    assert graph.internal["mapsheets.service.plans"] == {"mapsheets.adapters.xlsx", "mapsheets.core.diff"}
    assert import_graph.upward_imports(graph, LAYERS) == []
    assert import_graph.find_cycle(graph.internal) is None


def test_an_upward_import_fails(tmp_path):
    graph = _tree(tmp_path, mapsheets__core__model="from mapsheets.service.plans import new_plan\n")
    assert import_graph.upward_imports(graph, LAYERS) == ["mapsheets.core.model imports mapsheets.service.plans"]


def test_a_lazy_relative_upward_import_fails(tmp_path):
    lazy = "def load():\n    if True:\n        from ..adapters import xlsx\n    return xlsx\n"
    graph = _tree(tmp_path, mapsheets__core__diff=lazy)
    assert import_graph.upward_imports(graph, LAYERS) == ["mapsheets.core.diff imports mapsheets.adapters.xlsx"]


def test_an_import_by_name_fails(tmp_path):
    by_name = "import importlib\n\ndef load():\n    return importlib.import_module('mapsheets.service.plans')\n"
    graph = _tree(tmp_path, mapsheets__adapters__xlsx=by_name)
    assert import_graph.upward_imports(graph, LAYERS) == ["mapsheets.adapters.xlsx imports mapsheets.service.plans"]


def test_an_io_library_in_the_core_fails_even_typing_only(tmp_path):
    typed = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import mapsheets.adapters.xlsx\n"
    graph = _tree(tmp_path, mapsheets__core__model="def f():\n    import sqlalchemy.engine\n",
                  mapsheets__core__diff=typed)
    assert import_graph.upward_imports(graph, LAYERS) == ["mapsheets.core.diff imports mapsheets.adapters.xlsx",
                                                          "mapsheets.core.model imports sqlalchemy.engine"]
    assert import_graph.find_cycle(graph.internal) is None  # a typing-only import never runs


def test_a_cycle_hidden_in_a_function_fails_with_its_path(tmp_path):
    graph = _tree(tmp_path, mapsheets__core__model="def owner():\n    from mapsheets.core import diff\n")
    assert import_graph.upward_imports(graph, LAYERS) == []
    assert import_graph.find_cycle(graph.internal) == ["mapsheets.core.diff", "mapsheets.core.model",
                                                       "mapsheets.core.diff"]


def test_a_cycle_of_relative_imports_fails(tmp_path):
    graph = _tree(tmp_path, mapsheets__service__audit="from mapsheets.service.plans import x\n",
                  mapsheets__service__plans="from . import audit\n")
    assert import_graph.find_cycle(graph.internal) == ["mapsheets.service.audit", "mapsheets.service.plans",
                                                       "mapsheets.service.audit"]


def test_a_private_name_taken_from_another_module_fails(tmp_path):
    graph = _tree(tmp_path, mapsheets__core__diff="from mapsheets.core.model import _LABEL, Plan\n"
                                                   "from mapsheets.core.model import Step as _Step\n")
    assert import_graph.private_imports(graph) == ["mapsheets.core.diff takes mapsheets.core.model._LABEL"]
