"""Issue 21 part 3: what a 300 px screenshot of the sidebar showed wrong, each measured in Chromium
(Debian's, through Playwright): the status box lay over the "Due soon" list and over "What changed
since you last looked" (which then read "Signed."), a field error stayed red after a later success,
and a wrapped title ended its line with "×", which reads as a close button."""

from __future__ import annotations

from tests.browser.sidebar300 import generate, narrow, overlaps, shoot, stale_errors  # noqa: F401 (fixture)
from tests.browser.test_sidebar_browser import server  # noqa: F401 (fixture)


def _add_step(page, title: str) -> None:
    if not page.locator("#add-step-box").evaluate("e => e.open"):
        page.locator("#add-step-box summary").click()
    page.locator("#s-title").fill(title)
    page.get_by_role("button", name="Add step").click()
    page.locator("#status").filter(has_text="Added S-").wait_for(timeout=10000)


def test_the_status_box_never_lies_over_the_due_soon_list(server, narrow):  # noqa: F811 (fixture)
    page = narrow
    generate(page, server)
    _add_step(page, "Security review call")  # a message in the status box, the page long
    assert page.locator("#summary li").count() >= 1
    assert overlaps(page, "#summary h3, #summary li") == []
    page.locator("#summary li").first.scroll_into_view_if_needed()
    shoot(page, "fix1-due-soon")


def test_what_changed_shows_the_changes_not_the_status(server, narrow):  # noqa: F811 (fixture)
    page = narrow
    generate(page, server)
    for box in ("#add-step-box", "#ask-box", "#email-box", "#sign-box"):  # all open: a page to scroll
        page.locator(f"{box} summary").click()
    page.locator("#sign-button").click()
    page.locator("#status").filter(has_text="Signed.").wait_for(timeout=10000)
    assert overlaps(page, "#changes li") == []
    heading = page.get_by_role("heading", name="What changed since you last looked")
    heading.evaluate("e => e.scrollIntoView({block: 'start'})")
    # What is drawn at the heading and right under it: the heading and the list, never "Signed.".
    box = heading.bounding_box()
    drawn = page.evaluate("([x, y]) => document.elementFromPoint(x, y).textContent",
                          [box["x"] + 10, box["y"] + box["height"] + 8])
    assert "Signed." not in drawn
    shoot(page, "fix3-what-changed")


def test_a_field_error_is_gone_after_a_later_success(server, narrow):  # noqa: F811 (fixture)
    page = narrow
    generate(page, server)
    page.locator("#add-step-box summary").click()
    page.locator("#s-title").fill("Security review call")
    page.locator("#s-deps").fill("S-ZZZZ")
    page.get_by_role("button", name="Add step").click()
    page.locator('.err[data-for="depends_on"]').filter(has_text="no step S-ZZZZ").wait_for(timeout=10000)
    shoot(page, "fix2a-field-error")
    page.locator("#sign-box summary").click()
    page.locator("#sign-button").click()
    page.locator("#status").filter(has_text="Signed.").wait_for(timeout=10000)
    assert stale_errors(page) == []
    page.locator("#s-deps").scroll_into_view_if_needed()
    shoot(page, "fix2b-after-a-success")


# Where each "×" of the title sits: the last character of its line when the next visible character
# is drawn lower down.
CROSS_ENDS_LINE = """() => {
  const h = document.getElementById('plan-h'), text = h.firstChild, out = [];
  const rect = (i) => { const r = document.createRange(); r.setStart(text, i); r.setEnd(text, i + 1);
                        return r.getClientRects()[0]; };
  for (let i = 0; i < text.length; i++) {
    if (text.data[i] !== '×') continue;
    let j = i + 1; while (j < text.length && /\\s/.test(text.data[j])) j++;
    if (j < text.length && rect(j).top > rect(i).bottom - 2) out.push(text.data.slice(0, i + 1));
  }
  return out;
}"""


def test_a_wrapped_title_never_ends_a_line_with_the_cross(server, narrow):  # noqa: F811 (fixture)
    page = narrow
    # Names of lengths that wrap the title at the "×" at 300 px (and some that do not).
    names = [("Acme Corp", "Globex"), ("Acme Corporation", "Intercontinental"), ("Acme Corp", "Intercontinental")]
    ended = []
    for i, (buyer, seller) in enumerate(names):
        (server.plans / "acme.xlsx").unlink(missing_ok=True)
        generate(page, server, buyer=buyer, seller=seller)
        ended += page.evaluate(CROSS_ENDS_LINE)
        page.locator("#plan-h").evaluate("e => e.scrollIntoView({block: 'end'})")
        shoot(page, f"fix4-title-{i}")
    assert ended == []
