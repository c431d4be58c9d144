"""The sidebar at 200 % zoom: Sheets gives it 300 device pixels, which at 200 % is 150 CSS pixels
(Playwright: a 150 px viewport at device scale factor 2). Every form stays usable: nothing wider
than the sidebar, every control and button inside it. Screenshots go to test-output/browser/."""

from __future__ import annotations

import pytest

from tests.browser.test_sidebar_browser import CHROMIUM, SHOTS, server  # noqa: F401 (fixture)

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed")

# What sticks out: the page scrolling sideways, or any visible element past the right edge.
OVERFLOW = """() => {
  const width = document.documentElement.clientWidth, out = [];
  for (const e of document.body.querySelectorAll('*')) {
    if (!e.getClientRects().length || getComputedStyle(e).visibility === 'hidden') continue;
    const r = e.getBoundingClientRect();
    if (r.width && (r.left < -0.5 || r.right > width + 0.5))
      out.push(`${e.tagName.toLowerCase()}#${e.id || e.name || ''} ${Math.round(r.left)}..${Math.round(r.right)}`);
  }
  return {scroll: document.documentElement.scrollWidth, width, out};
}"""


@pytest.fixture(params=[(300, 1, "100"), (150, 2, "200")], ids=["100%", "200%"])
def zoomed(request):
    from playwright.sync_api import sync_playwright

    width, scale, label = request.param
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": width, "height": 700}, device_scale_factor=scale)
        page.zoom = label
        yield page
        browser.close()


def _fits(page, stage: str) -> None:
    found = page.evaluate(OVERFLOW)
    assert found["scroll"] <= found["width"], (stage, found)
    assert found["out"] == [], (stage, found["out"])
    for button in page.locator("button:visible").all():
        box = button.bounding_box()
        assert box and box["width"] > 0 and box["x"] + box["width"] <= found["width"] + 0.5, (stage, box)
    page.screenshot(path=str(SHOTS / f"zoom{page.zoom}-{stage}.png"), full_page=True)


def test_every_form_fits_the_sidebar(server, zoomed):  # noqa: F811 (fixture)
    page = zoomed
    page.goto(f"{server.url}/sidebar?sheet=acme&user=ae@globex.example")
    page.locator("#generate-form").wait_for(state="visible", timeout=15000)
    _fits(page, "1-generate")

    page.locator("#g-buyer").fill("Acme Corporation International Holdings")
    page.locator("#g-seller").fill("Globex")
    page.locator("#g-close").fill("2027-03-31")
    page.locator("#g-ch-name").fill("Jane Doe")
    page.locator("#g-ch-email").fill("jane.doe.with.a.long.address@acme-corporation.example")
    page.get_by_role("button", name="Generate MAP").click()
    page.locator("#plan").wait_for(state="visible", timeout=15000)
    _fits(page, "2-summary")

    page.locator("#add-step-box summary").click()
    page.locator("#s-title").fill("Security review call")
    page.locator("#s-deps").fill("S-ZZZZ")
    page.get_by_role("button", name="Add step").click()
    page.locator('.err[data-for="depends_on"]').filter(has_text="S-ZZZZ").wait_for(timeout=10000)
    _fits(page, "3-add-step-error")

    page.locator("#s-deps").fill("")
    page.get_by_role("button", name="Add step").click()
    page.locator("#status").filter(has_text="Added S-").wait_for(timeout=10000)
    page.locator("#sign-box summary").click()
    page.locator("#sign-what").filter(has_text="fingerprint").wait_for(timeout=10000)
    _fits(page, "4-sign")

    page.locator("#sign-button").click()
    page.locator(".signatures .valid").wait_for(timeout=10000)
    page.locator("#email-box summary").click()
    _fits(page, "5-signed-email")
