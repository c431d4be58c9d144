"""The house rules, checked: a pure core, one adapter per outside library, arrows pointing inward."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "mapsheets"
IO_LIBRARIES = ("openpyxl", "python_calamine", "gspread", "google", "sqlalchemy", "psycopg", "pandas", "requests",
                "smtplib", "flask", "urllib.request", "http.client", "socket", "sqlite3")
# Each outside library may be imported in one place only (the double is test infrastructure).
OWNERS = {
    "openpyxl": ["adapters/xlsx.py", "adapters/xlsx_format.py", "adapters/xlsx_save.py"],
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


def test_the_core_imports_no_io_library():
    modules = [f"mapsheets.core.{p.stem}" for p in (PACKAGE / "core").glob("*.py") if p.stem != "__init__"]
    code = (f"import sys\nfor m in {modules!r}: __import__(m)\n"
            f"print(sorted(n for n in sys.modules if n.split('.')[0] in {IO_LIBRARIES!r} or n in {IO_LIBRARIES!r}))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "[]", f"core pulled in I/O libraries: {loaded}"


def test_each_outside_library_is_imported_by_its_adapter_only():
    for library, allowed in OWNERS.items():
        pattern = re.compile(rf"^\s*(?:import|from) {library}\b", re.MULTILINE)
        users = sorted(str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py") if pattern.search(p.read_text()))
        strays = [u for u in users if not any(u.startswith(a) for a in allowed)]
        assert strays == [], f"{library} imported outside its adapter: {strays}"


def test_surfaces_and_core_do_not_reach_past_the_service():
    for path in (PACKAGE / "cli").glob("*.py"):
        text = path.read_text()
        assert not re.search(r"^\s*from mapsheets\.adapters\b", text, re.MULTILINE), path
    for path in (PACKAGE / "core").glob("*.py"):
        text = path.read_text()
        assert not re.search(r"^\s*from mapsheets\.(adapters|service|cli)\b", text, re.MULTILINE), path


def test_the_public_api_resolves_every_name_it_lists():
    import mapsheets

    assert sorted(mapsheets.__all__) == sorted(mapsheets._EXPORTS)
    for name in mapsheets.__all__:
        assert callable(getattr(mapsheets, name)), name


ADDON = PACKAGE.parent / "addon_server"


def test_flask_lives_in_the_addon_backend_only():
    pattern = re.compile(r"^\s*(?:import|from) (flask|werkzeug)\b", re.MULTILINE)
    strays = sorted(str(p.relative_to(PACKAGE.parent)) for p in PACKAGE.rglob("*.py") if pattern.search(p.read_text()))
    assert strays == [], f"flask imported outside addon_server/: {strays}"


def test_the_addon_backend_calls_the_service_only():
    allowed = re.compile(r"^mapsheets\.(service|errors)\b")
    for path in ADDON.rglob("*.py"):
        for module in re.findall(r"^\s*(?:from|import) (mapsheets\S*)", path.read_text(), re.MULTILINE):
            assert allowed.match(module), f"{path.name} reaches past the service: {module}"


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
