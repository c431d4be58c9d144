"""The sidebar alone at Sheets' 300 px, for the look tests: a page, a plan generated through the
form, and the checks that nothing lies over what it would hide. Screenshots to test-output/browser/."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.test_sidebar_browser import CHROMIUM, SHOTS

AE, CHAMPION = "ae@globex.example", "jane@acme.example"

# Each element scrolled to the top of where it shows: the point at its middle must be itself, not
# something lying over it (a sticky box). Returns what covered what.
COVERED = """(selector) => {
  const out = [];
  for (const e of document.querySelectorAll(selector)) {
    if (!e.getClientRects().length) continue;
    e.scrollIntoView({block: "start"});
    const r = e.getBoundingClientRect();
    const x = r.left + Math.min(12, r.width / 2), y = r.top + Math.min(r.height / 2, 8);
    const hit = document.elementFromPoint(x, y);
    if (hit && hit !== e && !e.contains(hit))
      out.push(`${e.tagName} "${e.textContent.trim().slice(0, 40)}" under ${hit.tagName}#${hit.id} "${
        hit.textContent.trim().slice(0, 40)}"`);
  }
  return out;
}"""

# Error text still shown (visible, not empty), and inputs still marked invalid.
STALE_ERRORS = """() => [...document.querySelectorAll('.err, [aria-invalid=true], #error')]
  .filter(e => e.getClientRects().length && (e.matches('[aria-invalid=true]') || e.textContent.trim()))
  .map(e => (e.dataset.for || e.id || e.name) + ': ' + e.textContent.trim())"""


@pytest.fixture
def narrow() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 300, "height": 700})
        yield page
        browser.close()


def open_sidebar(page: Any, server: Any, user: str = AE) -> None:
    page.goto(f"{server.url}/sidebar?sheet=acme&user={user}")
    from playwright.sync_api import expect

    expect(page.locator("#status")).not_to_have_text("Loading…", timeout=15000)


def generate(page: Any, server: Any, buyer: str = "Acme Corp", seller: str = "Globex") -> None:
    open_sidebar(page, server)
    page.locator("#g-buyer").fill(buyer)
    page.locator("#g-seller").fill(seller)
    page.locator("#g-close").fill("2027-03-31")
    page.locator("#g-ch-name").fill("Jane Doe")
    page.locator("#g-ch-email").fill(CHAMPION)
    page.get_by_role("button", name="Generate MAP").click()
    page.locator("#status").filter(has_text="Plan generated.").wait_for(timeout=15000)


def shoot(page: Any, name: str) -> str:
    path = SHOTS / f"300-{name}.png"
    page.screenshot(path=str(path))
    return str(path)


def overlaps(page: Any, selector: str) -> list[str]:
    return page.evaluate(COVERED, selector)


def stale_errors(page: Any) -> list[str]:
    return page.evaluate(STALE_ERRORS)
