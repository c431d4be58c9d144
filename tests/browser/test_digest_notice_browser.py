"""The sidebar at 300 px says why a plan's digests stopped (the scheduled run cannot open its sheet),
under the status line, not covered by it; it goes once a run reads the plan again. Screenshot in
test-output/browser/."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from tests.server_process import DevServer

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / "test-output" / "browser"
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed")
AE = "ae@globex.example"


def test_the_sidebar_shows_the_unreadable_notice_and_drops_it_once_read(tmp_path):
    from playwright.sync_api import sync_playwright

    from mapsheets.service import unreadable
    from mapsheets.service.revisions import canonical_ref, open_store
    from tests.server.conftest import GENERATE

    plans, db = tmp_path / "plans", f"sqlite:///{tmp_path / 'state.db'}"
    plans.mkdir()
    server = DevServer(plans, db, tmp_path / "server.log")
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        import requests

        hdrs = {"X-Mapsheets-Dev-User": AE}
        assert requests.post(f"{server.url}/api/generate", json={"spreadsheet_id": "acme", **GENERATE}, headers=hdrs,
                             timeout=60).status_code == 201
        assert requests.post(f"{server.url}/api/subscription", json={"spreadsheet_id": "acme", "every": "daily"},
                             headers=hdrs, timeout=60).status_code == 200
        # What the digest run records when it cannot open the plan (and has told its owner).
        store, ref, now = open_store(db), canonical_ref(str(plans / "acme.xlsx")), datetime.now(timezone.utc)
        store.audit.log(unreadable.UNREADABLE, ref=ref, actor="mapsheets digest", at=now,
                        detail={"error": "HTTP 403 PERMISSION_DENIED", "told": AE})
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 300, "height": 700})
            page.goto(f"{server.url}/sidebar?sheet=acme&user={AE}")
            notice = page.locator("#notice")
            notice.wait_for(state="visible", timeout=15000)
            assert "Digests of this plan are not going out" in notice.inner_text()
            assert f"({AE} was emailed about it.)" in notice.inner_text()
            page.screenshot(path=str(SHOTS / "digest-notice-300px.png"), full_page=True)
            status, box = (page.locator(sel).bounding_box() for sel in ("#status", "#notice"))
            assert box["width"] <= 300 and status["y"] + status["height"] <= box["y"]  # nothing covers it
            # A run reads the plan again: the next look has no notice.
            unreadable.read_again(store, ref, None, now)
            page.reload()
            page.locator("#plan").wait_for(state="visible", timeout=15000)
            assert page.locator("#notice").is_hidden()
            browser.close()
    finally:
        server.stop()
    assert "Traceback" not in (tmp_path / "server.log").read_text(errors="replace")
