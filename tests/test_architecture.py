"""The house rules, checked: a pure core, one adapter per outside library, arrows pointing inward."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import import_graph

PACKAGE = Path(__file__).resolve().parents[1] / "mapsheets"
GRAPH = import_graph.build(PACKAGE.parent, ["mapsheets", "addon_server"])
IO_LIBRARIES = ("openpyxl", "python_calamine", "gspread", "google", "sqlalchemy", "psycopg", "pandas", "requests",
                "smtplib", "flask", "urllib.request", "http.client", "socket", "sqlite3")
# Each outside library may be imported in one place only (the double is test infrastructure).
OWNERS = {
    "openpyxl": ["adapters/xlsx.py", "adapters/xlsx_format.py", "adapters/xlsx_open.py", "adapters/xlsx_save.py"],
    "python_calamine": ["adapters/xlsx_read.py"],
    "gspread": ["adapters/gsheets.py", "adapters/gsheets_client.py", "testing/"],
    "sqlalchemy": ["adapters/store/"],
    "smtplib": ["adapters/mail.py"],
    "filelock": ["adapters/plan_lock.py"],
    # The analysis commands only: imported inside their code path, never at CLI start.
    "pandas": ["analysis/"],
    "numpy": ["analysis/"],
    "matplotlib": ["adapters/chart.py"],
    "cryptography": ["adapters/seal.py"],
    "itsdangerous": ["adapters/link_tokens.py"],
    "weasyprint": ["adapters/pdf.py"],
}


_SURFACES = ("mapsheets.cli", "addon_server")
# What each layer must not import, at any depth of its code (the I/O libraries: the core only).
LAYERS = {
    "mapsheets.core": ("mapsheets.adapters", "mapsheets.service", *_SURFACES, *IO_LIBRARIES),
    "mapsheets.adapters": ("mapsheets.service", *_SURFACES),
    "mapsheets.service": _SURFACES,
    "mapsheets.cli": ("mapsheets.adapters",),
    "mapsheets.testing": ("mapsheets.adapters", "mapsheets.service", *_SURFACES),
}


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def test_the_core_imports_no_io_library():
    modules = [f"mapsheets.core.{p.stem}" for p in (PACKAGE / "core").glob("*.py") if p.stem != "__init__"]
    code = (f"import sys\nfor m in {modules!r}: __import__(m)\n"
            f"print(sorted(n for n in sys.modules if n.split('.')[0] in {IO_LIBRARIES!r} or n in {IO_LIBRARIES!r}))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "[]", f"core pulled in I/O libraries: {loaded}"


def test_each_outside_library_is_imported_by_its_adapter_only():
    for library, allowed in OWNERS.items():
        users = sorted(str(GRAPH.files[m].relative_to(PACKAGE)) for m in GRAPH.files
                       if m.startswith("mapsheets") and any(_under(n, library) for n in GRAPH.external[m]))
        strays = [u for u in users if not any(u.startswith(a) for a in allowed)]
        assert strays == [], f"{library} imported outside its adapter: {strays}"


def test_each_layer_imports_inward_only():
    """Every import, lazy and typing-only ones included: arrows point inward."""
    assert import_graph.upward_imports(GRAPH, LAYERS) == []


def test_no_import_cycles():
    """Cycles hidden by imports inside functions too; a package gathering its modules is none."""
    cycle = import_graph.find_cycle(GRAPH.internal)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_public_api_resolves_every_name_it_lists():
    import mapsheets

    assert sorted(mapsheets.__all__) == sorted(mapsheets._EXPORTS)
    for name in mapsheets.__all__:
        assert callable(getattr(mapsheets, name)), name


ADDON = PACKAGE.parent / "addon_server"


def test_no_module_takes_another_modules_private_names():
    assert import_graph.private_imports(GRAPH) == []


def test_flask_lives_in_the_addon_backend_only():
    strays = sorted(m for m in GRAPH.files if m.startswith("mapsheets")
                    and any(_under(n, lib) for n in GRAPH.external[m] for lib in ("flask", "werkzeug")))
    assert strays == [], f"flask imported outside addon_server/: {strays}"


def test_the_addon_backend_calls_the_service_only():
    """The dev wiring (addon_server/dev.py) alone may start the Google API double; core.vocabulary
    holds the shared words (sides, periods, the sheet-ID pattern) the add-on offers as the CLI does."""
    allowed = ("mapsheets.service", "mapsheets.errors", "mapsheets.core.vocabulary")
    for module in sorted(m for m in GRAPH.files if m.startswith("addon_server")):
        extra = ("mapsheets.testing",) if module == "addon_server.dev" else ()
        for target in sorted(GRAPH.imports(module)):
            if target.startswith("mapsheets"):
                assert any(_under(target, a) for a in allowed + extra), f"{module} reaches past the service: {target}"


def test_the_workspace_cards_are_pure():
    """addon_server/cards.py and events.py only shape JSON: no Flask, no service call, no I/O."""
    code = ("import sys\nimport addon_server.cards, addon_server.events\n"
            "print(sorted(n for n in sys.modules if n.split('.')[0] in ('flask', 'werkzeug', 'google', 'requests',"
            " 'gspread', 'openpyxl', 'sqlalchemy') or n.startswith(('mapsheets.service', 'mapsheets.adapters'))))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            cwd=PACKAGE.parent).stdout.strip()
    assert loaded == "[]", f"the card builders pulled in: {loaded}"


def test_pandas_loads_only_when_an_analysis_runs():
    code = ("import sys\nimport mapsheets.cli, mapsheets.service, mapsheets.service.stages\n"
            "import mapsheets.service.winloss, mapsheets.service.lifecycle_close\n"
            "print(sorted(m for m in ('pandas', 'numpy') if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "[]", f"pandas loaded before any analysis ran: {loaded}"
