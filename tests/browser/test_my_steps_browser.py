"""Issue 21 part 2, "My steps" in Chromium at 300 px (Debian's, through Playwright): the champion
opens the plan on her own open steps, marks one done and sees the progress and the phase's band
count move, in the sidebar and in the sheet; blocks another (the reason asked for beside its
field, then gone), moves a due date and sees the signature go stale. A screenshot of each state
in test-output/browser/300-mysteps-*.png; at each, nothing lies over anything and no error stays."""

from __future__ import annotations

import re

from tests.browser.sidebar300 import (  # noqa: F401 (fixture)
    AE,
    CHAMPION,
    generate,
    narrow,
    open_sidebar,
    overlaps,
    shoot,
    stale_errors,
)
from tests.browser.test_sidebar_browser import server  # noqa: F401 (fixture)

LISTS = "#summary li, #my-steps h3, #mine > li, #next-steps > li, #changes li"


def _progress(page) -> str:
    return re.search(r"\d+/\d+ steps", page.locator("#summary").inner_text())[0]


def _band_in_sheet(path, phase: str) -> str:
    import openpyxl

    for row in openpyxl.load_workbook(path)["Plan"].iter_rows(values_only=True):
        for value in row:
            if isinstance(value, str) and value.startswith("▸") and f" {phase} " in value + " ":
                return value
    raise AssertionError(f"no band for {phase}")


def _state(page, name: str) -> None:
    page.locator("#plan-h").evaluate("e => e.scrollIntoView({block: 'end'})")
    shoot(page, f"mysteps-{name}")
    assert overlaps(page, LISTS) == [], name
    assert stale_errors(page) == [], name


def test_my_steps_mark_done_block_and_move_a_due_date(server, narrow):  # noqa: F811 (fixture)
    from mapsheets.adapters.store import Store

    page = narrow
    generate(page, server)
    page.locator("#sign-box summary").click()
    page.locator("#sign-button").click()
    page.locator(".signatures .valid").wait_for(timeout=10000)

    open_sidebar(page, server, CHAMPION)
    mine = page.locator("#mine > li.step")
    assert mine.count() >= 2 and page.locator("#my-steps-h").inner_text() == f"My steps ({mine.count()})"
    for i in range(mine.count()):  # hers: the Owners name her (by her Team-tab name)
        assert "Jane Doe" in mine.nth(i).locator(".step-meta").inner_text()
    assert "Jane Doe" not in page.locator("#next-steps").inner_text()
    first = mine.first
    step, phase = first.get_attribute("data-step"), first.locator(".band").inner_text().split(":")[0].strip()
    before_band = _band_in_sheet(server.plans / "acme.xlsx", phase)
    before = _progress(page)
    _state(page, "1-open")

    first.get_by_role("button", name="Mark done").click()
    page.locator("#status").filter(has_text=f"{step}: done.").wait_for(timeout=10000)
    done, total = map(int, before.split()[0].split("/"))
    assert _progress(page) == f"{done + 1}/{total} steps"
    assert page.locator("#summary progress").evaluate("e => e.value") == done + 1
    assert page.locator(f'li[data-step="{step}"]').count() == 0  # done: no longer an open step
    after_band = _band_in_sheet(server.plans / "acme.xlsx", phase)
    count = re.compile(r"(\d+)/(\d+) done")
    assert int(count.search(after_band)[1]) == int(count.search(before_band)[1]) + 1, (before_band, after_band)
    shown = [b.inner_text() for b in page.locator(".band").all() if b.inner_text().startswith(phase + ":")]
    assert shown and all(count.search(after_band)[0] in b for b in shown)
    page.locator(".band", has_text=f"{phase}: ").first.scroll_into_view_if_needed()
    shoot(page, "mysteps-2b-band-count")
    assert page.locator(".signatures .valid").count() == 1  # a status is progress, not a commitment
    _state(page, "2-marked-done")

    second = page.locator("#mine > li.step").first
    other = second.get_attribute("data-step")
    second.locator("summary").click()
    second.locator("select[name=status]").select_option("blocked")
    second.get_by_role("button", name="Save").click()
    second.locator('.err[data-for="reason"]').filter(has_text="reason").wait_for(timeout=10000)
    shoot(page, "mysteps-3-blocked-needs-a-reason")
    second.locator("input[name=reason]").fill("Waiting for the security team's sign-off")
    second.get_by_role("button", name="Save").click()
    page.locator("#status").filter(has_text=f"{other}: blocked.").wait_for(timeout=10000)
    assert page.locator(f'li[data-step="{other}"] .chip').inner_text() == "blocked"
    _state(page, "4-blocked")

    again = page.locator(f'li[data-step="{other}"]')
    again.locator("summary").click()
    again.locator("input[name=due]").fill("2027-01-15")
    again.get_by_role("button", name="Save").click()
    page.locator("#status").filter(has_text="due 2027-01-15").wait_for(timeout=10000)
    page.locator(".signatures .stale").wait_for(timeout=10000)  # the due date is a commitment
    _state(page, "5-due-moved")

    store = Store(f"sqlite:///{server.plans.parent / 'state.db'}")
    updates = [(e.actor, e.detail.get("id")) for e in store.audit.events() if e.kind == "step updated"]
    store.close()
    assert updates == [(CHAMPION, step), (CHAMPION, other), (CHAMPION, other)]
    assert AE  # the AE made and signed the plan
