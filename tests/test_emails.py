"""Digest emails as rendered: escaping, Gmail's size limit, safe links, readable text, a real screenshot."""

from __future__ import annotations

import copy
import os
import shutil
from datetime import date, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest

from mapsheets.core.diff import diff
from mapsheets.core.digest import build_digest
from mapsheets.core.model import Plan, Signature, Step
from mapsheets.emails import GMAIL_CLIP_BYTES, render_digest, safe_href

URL = "https://docs.google.com/spreadsheets/d/1AbC/edit"
TODAY = date(2027, 1, 12)
XSS = "<script>alert(1)</script>"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


class Tags(HTMLParser):
    """Every start tag with its attributes, as a browser would see them."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def hrefs(self) -> list[str]:
        return [a["href"] for _t, a in self.tags if "href" in a]


def example_digest(plan: Plan, url: str = URL, **kw):
    """The fixture MAP a few weeks in: progress, a slip, an owner swap, a hostile title, a signature."""
    new = copy.deepcopy(plan)
    new.steps[0].status = "done"
    new.steps[0].done_on = date(2026, 12, 7)
    new.steps[1].status = "in progress"
    new.steps[5].due = date(2027, 1, 8)
    new.steps[10].owners = ["Acme Corp General Counsel"]
    new.steps[3].title = XSS
    new.steps[8].status = "blocked"
    new.signatures.append(Signature("Dana Buyer", "dana@acme.test", "buyer", datetime(2027, 1, 4, 10), "0" * 16))
    actors = {new.steps[5].id: "Sam Seller", "*": "Dana Buyer"}
    return build_digest(plan=new, changes=diff(plan, new), today=kw.pop("today", TODAY), plan_url=url,
                        previous_close=date(2027, 2, 24), actors=actors, **kw)


def test_values_from_the_sheet_are_escaped(plan):
    html, text = render_digest(example_digest(plan))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html.lower()
    assert "script" not in {tag for tag, _a in Tags(html).tags}
    assert XSS in text  # plain text shows the title as typed


def test_html_is_email_safe_tables_inline_css_no_scripts_styles_or_remote_assets(plan):
    html, _text = render_digest(example_digest(plan))
    tags = Tags(html).tags
    names = {t for t, _a in tags}
    assert "table" in names and not names & {"script", "style", "link", "img", "iframe", "form", "svg"}
    assert not [a for _t, a in tags if "src" in a or "class" in a or any(k.startswith("on") for k in a)]
    assert "javascript:" not in html.lower()
    assert "@import" not in html and "url(" not in html


def test_open_the_plan_is_a_prominent_http_link(plan):
    html, text = render_digest(example_digest(plan))
    parsed = Tags(html)
    assert parsed.hrefs() == [URL]
    assert "Open the plan" in "".join(parsed.text)
    assert f"Open the plan: {URL}" in text


@pytest.mark.parametrize("url", [
    "javascript:alert(1)", "JaVaScRiPt:alert(1)", " javascript:alert(1)", "data:text/html,<b>x</b>",
    "vbscript:msgbox(1)", "file:///etc/passwd", "/home/me/acme-map.xlsx", 'https://x.test/" onclick="alert(1)',
    "https:///no-host", "",
])
def test_only_http_urls_become_links(plan, url):
    html, _text = render_digest(example_digest(plan, url=url))
    assert Tags(html).hrefs() == []
    assert safe_href(url) is None
    assert "<a " not in html and "onclick=" not in html.replace("onclick=&#34;", "")


def test_a_local_path_is_shown_as_text(plan):
    html, text = render_digest(example_digest(plan, url="/home/me/acme <map>.xlsx"))
    assert "Plan: /home/me/acme &lt;map&gt;.xlsx" in html
    assert "Plan: /home/me/acme <map>.xlsx" in text
    assert safe_href("http://example.com/plan?id=1") == "http://example.com/plan?id=1"


def test_health_badge_and_close_outlook_are_shown(plan):
    d = example_digest(plan)
    html, text = render_digest(d)
    assert d.health == "stalled"
    assert "#c5221f" in html and "Stalled" in html  # red badge
    assert "Projected close moved" in html and "later than in your last digest (Wed 24 Feb 2027)" in text
    calm = build_digest(plan=plan, changes=[], today=date(2026, 12, 1), plan_url=URL, previous_close=None)
    html, text = render_digest(calm)
    assert calm.health == "on track" and "#137333" in html and "On track" in html
    assert "Projected close moved" not in html and "WHAT CHANGED" not in text


def test_text_part_is_readable_plain_text(plan):
    d = example_digest(plan)
    _html, text = render_digest(d)
    assert "<" not in text.replace(XSS, "")  # no markup other than the hostile title itself
    assert "&lt;" not in text and "&amp;" not in text
    lines = text.splitlines()
    assert lines[0] == "Acme Corp × Globex — STALLED"
    for heading in ("OVERDUE (", "DUE IN THE NEXT 7 DAYS (", "WHAT CHANGED SINCE YOUR LAST DIGEST (",
                    "Status changes (", "Due dates moved (", "Owners changed (", "Sign-off ("):
        assert any(line.startswith(heading) for line in lines), heading
    assert "Security questionnaire and documentation (SOC 2, pen test)\" slipped 12 business days" in text
    assert "— Sam Seller" in text and "— Dana Buyer" in text
    assert max(len(line) for line in lines) < 300
    overdue = d.overdue[0]
    assert f"owners: {', '.join(overdue.owners)}" in text


def test_changes_are_grouped_under_headings_in_html(plan):
    html, _text = render_digest(example_digest(plan))
    text = " ".join(" ".join(Tags(html).text).split())
    for heading in ("Overdue", "Due in the next 7 days", "What changed since your last digest",
                    "Status changes", "Due dates moved", "Owners changed", "Sign-off"):
        assert heading in text
    assert "Owner of" in text and "Acme Corp General Counsel" in text


def huge_digest(n: int = 1000):
    """A plan of ``n`` steps with long, escape-heavy titles: every one renamed and every one overdue."""
    title = "<b>&amp;" * 40
    old = Plan(kind="mutual", title="Big", buyer="Acme Corp", seller="Globex", target_close=date(2027, 6, 1),
               steps=[Step(f"S-{i:04d}", f"{title} {i}", owners=[f"Owner {i} <o{i}@acme.test>"] * 3,
                           due=date(2026, 12, 1)) for i in range(n)])
    new = copy.deepcopy(old)
    for s in new.steps:
        s.title += " (renamed)"
    changes = diff(old, new)
    assert len(changes) == n
    return build_digest(plan=new, changes=changes, today=TODAY, plan_url=URL, previous_close=None,
                        actors={"*": "Someone " * 20})


def test_a_thousand_changes_stay_under_gmails_clipping_limit():
    d = huge_digest()
    html, text = render_digest(d)
    assert len(html.encode("utf-8")) < GMAIL_CLIP_BYTES
    assert "more — open the plan" in html and "more — open the plan" in text
    assert html.count("renamed:") >= 10  # changes are shown, not just a count
    assert len(text.encode("utf-8")) < 2 * GMAIL_CLIP_BYTES
    assert "&lt;b&gt;&amp;amp;" in html and "<b>" not in html


def test_every_change_is_shown_when_there_are_few(plan):
    d = example_digest(plan)
    html, text = render_digest(d)
    assert "more — open the plan" not in html + text
    for group in d.groups:
        for item in group.items:
            assert item.text in text


def test_digest_renders_in_chromium_to_a_png(plan):
    """Writes test-output/digest.png for a person to look at; CI must be able to run it."""
    ci = os.environ.get("CI", "").lower() == "true"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if ci:
            pytest.fail("playwright is not installed (pip install playwright)")
        pytest.skip("playwright is not installed (pip install playwright)")
    if not Path(CHROMIUM).exists() or not shutil.which(CHROMIUM):
        if ci:
            pytest.fail(f"{CHROMIUM} is missing (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")

    html, _text = render_digest(example_digest(plan))
    out = Path(__file__).resolve().parents[1] / "test-output"
    out.mkdir(exist_ok=True)
    (out / "digest.html").write_text(html, encoding="utf-8")
    target = out / "digest.png"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 760, "height": 900})
            requests: list[str] = []
            page.on("request", lambda r: requests.append(r.url))
            page.set_content(html, wait_until="load")
            assert page.locator("text=Open the plan").first.get_attribute("href") == URL
            card_width = page.evaluate("document.querySelector('table table').getBoundingClientRect().width")
            page.screenshot(path=str(target), full_page=True)
        finally:
            browser.close()
    assert requests == []  # nothing fetched: no remote images or fonts
    assert 600 <= card_width <= 660
    data = target.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000


def test_a_first_digest_says_since_you_started_watching_and_names_the_calendar():
    import dataclasses

    from mapsheets.core.digest import build_digest
    from mapsheets.core.model import Plan, Step
    from mapsheets.emails import render_digest

    plan = Plan(kind="mutual", title="T", buyer="Acme", seller="Globex", calendar="US",
                steps=[Step(id="S-0001", title="Late step", due=date(2027, 1, 4))])
    first = build_digest(plan=plan, changes=[], today=date(2027, 1, 12), plan_url="https://example.com/p",
                         previous_close=None, first=True)
    html, text = render_digest(first)
    assert "No changes since you started watching" in html and "since your last digest" not in html
    assert "weekends and US public holidays" in html and "weekends and US public holidays" in text
    later = dataclasses.replace(first, first=False)
    assert "No changes since your last digest" in render_digest(later)[0]
