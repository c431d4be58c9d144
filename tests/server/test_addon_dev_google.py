"""`mapsheets serve --dev --google-double`: the dev page shows a sheet in the Google API double
started inside the server process, and the sidebar's actions write there."""

from __future__ import annotations

import re
import subprocess
import sys

import requests

from tests.server.conftest import GENERATE
from tests.server_process import DevServer

AE = {"X-Mapsheets-Dev-User": "ae@globex.example"}


def test_dev_page_shows_a_sheet_in_the_google_double(tmp_path):
    server = DevServer(tmp_path / "unused", f"sqlite:///{tmp_path / 'state.db'}", tmp_path / "server.log",
                       args=("--google-double",))
    try:
        page = requests.get(f"{server.url}/dev", timeout=30)
        assert page.status_code == 200 and "Google API double" in page.text
        sheet = re.search(r'<option value="([A-Za-z0-9_-]{25,})" selected>Try mapsheets</option>', page.text)[1]
        sidebar = requests.get(f"{server.url}/sidebar?sheet={sheet}", timeout=30).text
        token = re.search(r'data-token="([^"]+)"', sidebar)[1]
        hdrs = {**AE, "X-Mapsheets-Access-Token": token}  # what the sidebar's script sends

        def api(path, **body):
            return requests.post(f"{server.url}/api/{path}", json={"spreadsheet_id": sheet, **body}, headers=hdrs,
                                 timeout=60)

        assert api("summary").json()["plan"] is None
        assert api("generate", **GENERATE).status_code == 201
        assert api("steps", title="Security review call").status_code == 201
        assert api("sign").status_code == 201
        grid = requests.get(f"{server.url}/dev/grid", params={"sheet": sheet}, timeout=30)
        assert grid.status_code == 200 and "Acme Corp" in grid.text
        steps = requests.get(f"{server.url}/dev/grid", params={"sheet": sheet, "tab": "Plan"}, timeout=30).text
        assert "Security review call" in steps
        signoff = requests.get(f"{server.url}/dev/grid", params={"sheet": sheet, "tab": "Sign-off"}, timeout=30).text
        assert "ae@globex.example" in signoff
        assert not (tmp_path / "unused").exists(), "no local plan folder in Google mode"
    finally:
        server.stop()
    assert "Traceback" not in server.log.read_text(errors="replace")


def test_google_double_needs_dev(tmp_path):
    done = subprocess.run([sys.executable, "-m", "mapsheets.cli", "serve", "--google-double"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.strip() == "Error: --google-double needs --dev"
