"""Issue 23: the digest email on a 375 px phone and a 1024 px desktop in Chromium. One fluid column
with a max width: nothing scrolls sideways on the phone, even with long owner emails, a long title
and every section present. Screenshots go to test-output/browser/ for a person to look at."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

import pytest

from mapsheets.core.diff import diff
from mapsheets.core.digest import Digest, build_digest
from mapsheets.core.model import Plan
from mapsheets.emails import render_digest
from tests.browser.test_sidebar_browser import CHROMIUM, SHOTS

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed")

TODAY = date(2027, 1, 12)
LONG_EMAIL = "procurement.operations.vendor-onboarding.team@acme-corporation-international-holdings.example"
WIDTHS = (375, 1024)
# Which element pokes out past the right edge, if any.
SCROLL = """() => {
  const width = document.documentElement.clientWidth, out = [];
  for (const e of document.body.querySelectorAll('*')) {
    const r = e.getBoundingClientRect();
    if (r.width && r.right > width + 0.5) out.push(`${e.tagName.toLowerCase()} ${Math.round(r.right)}`);
  }
  return {scroll: document.documentElement.scrollWidth, width, out: out.slice(0, 5)};
}"""


def every_section(plan: Plan, *, external: bool) -> Digest:
    """A long title, long unbreakable owner emails, and every section: overdue, due soon, changes,
    lost rows, a message, a notice and unreadable cells."""
    old = copy.deepcopy(plan)
    old.title = "Mutual Action Plan: " + "Acme Corporation International Holdings " * 3 + "× Globex"
    new = copy.deepcopy(old)
    for step in new.steps[:6]:
        step.owners = [f"Procurement Operations <{LONG_EMAIL}>", "Sam Seller <sam@globex.example>"]
    new.steps[0].status, new.steps[0].done_on = "done", date(2026, 12, 7)
    new.steps[2].due = date(2027, 1, 15)  # due soon
    new.steps[5].due = date(2027, 1, 8)
    new.steps[8].status = "blocked"
    new.steps[4].title = "https://acme-corporation.example/procurement/vendor-onboarding/security-review/" * 2
    warnings = [{"cell": "Plan!H27", "message": '"next week" is not a date'},
                {"cell": "Plan!H30", "message": '"Q1-ish" is not a date'},
                {"cell": "Plan!G31", "message": '"waiting" is not a status (not started, in progress, done, '
                                                'blocked, n/a)'}]
    return build_digest(plan=new, changes=diff(old, new), today=TODAY, previous_close=date(2027, 2, 24),
                        plan_url="https://docs.google.com/spreadsheets/d/" + "1AbCdEfGh" * 6 + "/edit",
                        actors={"*": LONG_EMAIL}, warnings=warnings, editors=[LONG_EMAIL, "Dana Buyer"],
                        lost=[f"Step S-99 'Legal review' owned by {LONG_EMAIL} was deleted"],
                        message="Please see " + "https://acme.example/" + "x" * 120, closed_out=3,
                        external=external)


def measure(html: str, width: int, shot: str) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": width, "height": 800})
            page.set_content(html, wait_until="load")
            found: dict[str, Any] = page.evaluate(SCROLL)
            found["card"] = page.evaluate("document.querySelector('table table').getBoundingClientRect().width")
            found["figures_top"] = page.evaluate(
                "[...document.querySelectorAll('td.fig')].map(e => Math.round(e.getBoundingClientRect().top))")
            page.screenshot(path=str(SHOTS / shot), full_page=True)
        finally:
            browser.close()
    return found


@pytest.mark.parametrize("external", [True, False], ids=["buyer", "seller"])
def test_the_digest_never_scrolls_sideways_on_a_phone_and_keeps_its_width_on_a_desktop(plan, external):
    side = "buyer" if external else "seller"
    html, _text = render_digest(every_section(plan, external=external))
    assert LONG_EMAIL in html and "could not be read" in html or "could not read" in html
    phone = measure(html, 375, f"digest-{side}-375.png")
    assert phone["scroll"] <= 375, phone
    assert not phone["out"], phone
    assert len(set(phone["figures_top"])) == 3  # the key figures stack on a phone
    desk = measure(html, 1024, f"digest-{side}-1024.png")
    assert desk["scroll"] <= 1024 and 600 <= desk["card"] <= 642, desk
    assert len(set(desk["figures_top"])) == 1  # side by side on a desktop


def test_without_its_style_block_the_digest_still_fits_320_px(plan):
    """Clients that drop <style> (Gmail with a non-Google account, some webmails) get only the inlined
    styles: no stacking, but still nothing past the right edge of a 320 px screen."""
    html, _text = render_digest(every_section(plan, external=True))
    head, _style, tail = html.partition("<style>")
    bare = head + tail.split("</style>", 1)[1]
    found = measure(bare, 320, "digest-buyer-320-no-style.png")
    assert found["scroll"] <= 320 and not found["out"], found


def test_a_buyer_reads_unreadable_cells_grouped_in_words_and_the_seller_gets_the_cells(plan):
    buyer, buyer_text = render_digest(every_section(plan, external=True))
    assert "2 dates in the plan could not be read:" in buyer
    assert "1 status in the plan could not be read:" in buyer
    assert "Row 27 of the plan: &#34;next week&#34; is not a date" in buyer
    assert "Plan!H27" not in buyer and "Plan!H27" not in buyer_text
    assert '2 dates in the plan could not be read:\n    Row 27 of the plan: "next week" is not a date' in buyer_text
    seller, seller_text = render_digest(every_section(plan, external=False))
    assert "Plan!H27" in seller and "Plan!H27" in seller_text
