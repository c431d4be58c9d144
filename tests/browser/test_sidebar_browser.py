"""The sidebar in a real browser: Playwright driving Debian's Chromium (never `playwright install`)
against `mapsheets serve --dev`. Screenshots go to test-output/browser/."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tests.server_process import DevServer

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / "test-output" / "browser"
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed")


@pytest.fixture
def server(tmp_path):
    plans = tmp_path / "plans"
    plans.mkdir()
    srv = DevServer(plans, f"sqlite:///{tmp_path / 'state.db'}", tmp_path / "server.log")
    srv.plans = plans
    yield srv
    srv.stop()


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.dialogs = dialogs
        yield page
        browser.close()


def _sidebar(page):
    return page.frame_locator("#sidebar")


def _generate(page, server, user="ae@globex.example"):
    page.goto(f"{server.url}/dev?sheet=acme&user={user}")
    side = _sidebar(page)
    side.locator("#g-buyer").fill("Acme Corp")
    side.locator("#g-seller").fill("Globex")
    side.locator("#g-close").fill("2027-03-31")
    side.locator("#g-ch-name").fill("Jane Doe")
    side.locator("#g-ch-email").fill("jane@acme.example")
    side.get_by_role("button", name="Generate MAP").click()
    side.locator("#plan").wait_for(state="visible", timeout=15000)
    return side


def test_generate_add_step_sign_then_an_edit_makes_the_signature_stale(server, page):
    side = _generate(page, server)
    page.frame_locator("#grid").locator("#cells").wait_for(timeout=10000)
    page.screenshot(path=str(SHOTS / "1-generated.png"))

    side.locator("#add-step-box summary").click()
    side.locator("#s-title").fill("Security review call")
    side.locator("#s-due").fill("2027-01-15")
    side.get_by_role("button", name="Add step").click()
    side.locator("#status").filter(has_text="Added S-").wait_for(timeout=10000)
    page.frame_locator("#grid").locator("td", has_text="Security review call").wait_for(timeout=10000)
    page.screenshot(path=str(SHOTS / "2-step-added.png"))
    # A due date on a Saturday is kept, and the person is told which business day follows.
    side.locator("#s-title").fill("Weekend workshop")
    side.locator("#s-due").fill("2027-01-16")
    side.get_by_role("button", name="Add step").click()
    side.locator("#status").filter(has_text="2027-01-16 is a Saturday").wait_for(timeout=10000)
    assert "the next business day is 2027-01-18" in side.locator("#status").inner_text()
    # Said where it is seen: the message stays in view while the sidebar is scrolled to the form.
    top, bottom = page.frame_locator("#sidebar").locator("#status").evaluate(
        "e => [e.getBoundingClientRect().top, e.getBoundingClientRect().bottom - window.innerHeight]")
    assert top >= 0 and bottom <= 0
    page.screenshot(path=str(SHOTS / "2b-weekend-due-date.png"))

    side.locator("#sign-box summary").click()
    assert "fingerprint" in side.locator("#sign-what").inner_text()
    side.get_by_role("button", name="Sign for the seller side").click()
    side.locator(".signatures .valid").wait_for(timeout=10000)
    page.screenshot(path=str(SHOTS / "3-signed.png"))

    _move_due_date(server.plans / "acme.xlsx", "Security review call", date(2027, 1, 22))
    page.reload()
    _sidebar(page).locator(".signatures .stale").wait_for(timeout=10000)
    page.screenshot(path=str(SHOTS / "4-stale.png"))


def test_generate_takes_the_aes_name_and_a_signature_says_how_it_was_given(server, page):
    """Issue 20: the AE's name prefilled from the sign-in profile (dev: the address's local part),
    kept as typed; the signature's line names its method."""
    page.goto(f"{server.url}/dev?sheet=acme&user=ae@globex.example")
    side = _sidebar(page)
    side.locator("#status").filter(has_text="no plan yet").wait_for(timeout=10000)
    assert side.locator("#g-ae-name").input_value() == "ae"
    side.locator("#g-ae-name").fill("Sam Rivera")
    side.locator("#g-buyer").fill("Acme Corp")
    side.locator("#g-seller").fill("Globex")
    side.get_by_role("button", name="Generate MAP").click()
    side.locator("#plan").wait_for(state="visible", timeout=15000)
    side.locator("#sign-box summary").click()
    side.get_by_role("button", name="Sign for the seller side").click()
    side.locator(".signatures .valid").wait_for(timeout=10000)
    assert "Sam Rivera (seller, ae@globex.example): valid · Google sign-in" in side.locator(".signatures").inner_text()
    page.screenshot(path=str(SHOTS / "5-ae-named-signature-method.png"))


def test_the_sidebar_emails_a_link_to_sign(server, page):
    import os

    from digest_helpers import outbox_messages

    side = _generate(page, server)
    side.locator("#ask-box summary").click()
    side.locator("#a-to").fill("Jane Doe <jane@acme.example>")
    side.get_by_role("button", name="Email a link to sign").click()
    side.locator("#status").filter(has_text="Sent a link to sign to Jane Doe <jane@acme.example>").wait_for(
        timeout=10000)
    page.screenshot(path=str(SHOTS / "8-ask-for-a-signature.png"))
    [message] = outbox_messages(Path(os.environ["MAPSHEETS_OUTBOX"]))
    assert message["To"] == "Jane Doe <jane@acme.example>"


def _move_due_date(path: Path, title: str, due: date) -> None:
    import openpyxl

    book = openpyxl.load_workbook(path)
    ws = book["Plan"]
    for row in ws.iter_rows():
        cells = {c.value: c for c in row}
        if title in cells:
            header = next(r for r in ws.iter_rows() if any(c.value == "Due" for c in r))
            column = next(c.column for c in header if c.value == "Due")
            ws.cell(row=row[0].row, column=column).value = due
            book.save(path)
            return
    raise AssertionError(f"no step {title!r}")


def test_add_step_by_keyboard_only_and_a_title_stays_text(server, page):
    side = _generate(page, server)
    frame = page.frame(url=lambda u: "/sidebar" in u)
    frame.locator("#add-step-box summary").focus()
    page.keyboard.press("Enter")  # opens the form
    for _ in range(5):
        page.keyboard.press("Tab")
        if frame.evaluate("document.activeElement.id") == "s-title":
            break
    assert frame.evaluate("document.activeElement.id") == "s-title"
    page.keyboard.type("<img src=x onerror=alert(1)>")
    page.keyboard.press("Tab")
    assert frame.evaluate("document.activeElement.id") == "s-phase"
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert frame.evaluate("document.activeElement.id") == "s-owners"
    page.keyboard.type("not-a-date is next")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    assert frame.evaluate("document.activeElement.id") == "s-title"
    page.keyboard.press("Enter")  # submits the form from the field
    side.locator("#status").filter(has_text="Added S-").wait_for(timeout=10000)
    side.locator("#changes li", has_text="<img src=x onerror=alert(1)>").wait_for(timeout=10000)
    page.screenshot(path=str(SHOTS / "5-keyboard.png"))
    grid = page.frame_locator("#grid")
    grid.locator("td", has_text="<img src=x onerror=alert(1)>").wait_for(timeout=10000)
    assert side.locator("#changes img").count() == 0 and grid.locator("img").count() == 0
    assert page.dialogs == []
    page.screenshot(path=str(SHOTS / "6-escaped.png"))
    # Issue 18: the form starts on the phase of the next open step, never on a blank phase.
    assert frame.evaluate("document.getElementById('s-phase').value") == "Discovery"


def test_an_error_shows_next_to_its_field_and_keeps_what_was_typed(server, page):
    _generate(page, server)
    page.goto(f"{server.url}/dev?sheet=acme&user=mallory@evil.example")
    side = _sidebar(page)
    side.locator("#add-step-box summary").click()
    side.locator("#s-title").fill("Sneaky step")
    side.get_by_role("button", name="Add step").click()
    side.locator("#step-form .err").filter(has_text="not on this plan").wait_for(timeout=10000)
    assert side.locator("#s-title").input_value() == "Sneaky step"
    page.screenshot(path=str(SHOTS / "7a-not-on-plan.png"))
    page.goto(f"{server.url}/dev?sheet=acme&user=ae@globex.example")
    side = _sidebar(page)
    side.locator("#add-step-box summary").click()
    side.locator("#s-title").fill("Needs a date")
    side.locator("#s-deps").fill("S-ZZZZ")
    side.get_by_role("button", name="Add step").click()
    side.locator('.err[data-for="depends_on"]').filter(has_text="no step S-ZZZZ").wait_for(timeout=10000)
    assert side.locator("#s-title").input_value() == "Needs a date"
    page.screenshot(path=str(SHOTS / "7-field-error.png"))


def test_dev_page_on_the_google_double(tmp_path, page):
    srv = DevServer(tmp_path / "unused", f"sqlite:///{tmp_path / 'state.db'}", tmp_path / "server.log",
                    args=("--google-double",))
    try:
        page.goto(f"{srv.url}/dev")
        assert page.locator("#sheet option:checked").inner_text() == "Try mapsheets"
        side = _sidebar(page)
        side.locator("#g-buyer").fill("Acme Corp")
        side.locator("#g-seller").fill("Globex")
        side.get_by_role("button", name="Generate MAP").click()
        side.locator("#plan").wait_for(state="visible", timeout=15000)
        page.frame_locator("#grid").locator("td", has_text="Acme Corp").first.wait_for(timeout=10000)
        page.screenshot(path=str(SHOTS / "8-google-double.png"))
    finally:
        srv.stop()


def test_a_refused_workbook_shows_its_reason_and_no_generate(server, page):
    """A file mapsheets will not read (a cell at row 1,048,576) is not "no plan yet": the sidebar
    says why and offers neither the plan nor Generate, whose write would be refused anyway."""
    from mapsheets.testing import hostile_xlsx as hostile

    hostile.far_cell(server.plans / "acme.xlsx")
    page.goto(f"{server.url}/dev?sheet=acme&user=ae@globex.example")
    side = _sidebar(page)
    side.locator("#error").wait_for(state="visible", timeout=15000)
    assert "uses more than 20,000 rows (row 1,048,576" in side.locator("#error").inner_text()
    assert side.locator("#generate").is_hidden() and side.locator("#plan").is_hidden()
    assert side.get_by_role("button", name="Generate MAP").count() == 0 or \
        not side.get_by_role("button", name="Generate MAP").is_visible()
    page.screenshot(path=str(SHOTS / "refused-workbook.png"))
