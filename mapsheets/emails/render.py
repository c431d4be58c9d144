"""Render a Digest to (html, text). All presentation choices (limits, colours, dates) live here."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from mapsheets.core.digest import Digest, StepLine
from mapsheets.core.text import business_days

GMAIL_CLIP_BYTES = 102 * 1024  # Gmail hides everything after this behind "[Message clipped]"
HTML_BUDGET = 90 * 1024  # leave room for the headers/transfer encoding some clients count
# (changes shown in all, per group, overdue/due-soon rows): tried in turn until the HTML fits.
LIMITS = ((60, 15, 25), (30, 8, 12), (12, 4, 6), (4, 2, 3))
CLIP_CHARS = 240  # one cell's text; a pasted essay must not fill the email

BADGE = {  # health state -> (background, text colour, label)
    "on track": ("#e6f4ea", "#137333", "On track"),
    "at risk": ("#fef7e0", "#b06000", "At risk"),
    "stalled": ("#fce8e6", "#c5221f", "Stalled"),
}


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("mapsheets.emails", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
    )
    env.filters["clip"] = clip
    env.filters["day"] = day
    return env


def render_digest(digest: Digest) -> tuple[str, str]:
    """The digest as (HTML, plain text); the HTML always fits under Gmail's clipping limit."""
    env = environment()
    html = ""
    for limits in LIMITS:
        html = env.get_template("digest.html").render(**_context(digest, *limits))
        if len(html.encode("utf-8")) <= HTML_BUDGET:
            break
    text = env.get_template("digest.txt").render(**_context(digest, *LIMITS[0]))
    return html, text


def safe_href(url: str) -> str | None:
    """``url`` if it is a plain http(s) link, else None (never a javascript:/data: href)."""
    text = (url or "").strip()
    if any(ch in text for ch in "\r\n\t \"'<>\\") or any(ord(ch) < 32 for ch in text):
        return None
    parts = urlsplit(text)
    return text if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def clip(value: Any, limit: int = CLIP_CHARS) -> str:
    text = " ".join(str(value if value is not None else "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def day(value: date | None) -> str:
    """``Fri 26 Feb 2027``: unambiguous for US and European readers alike."""
    if value is None:
        return "—"
    return f"{value:%a} {value.day} {value:%b %Y}"


def _context(d: Digest, max_changes: int, per_group: int, max_rows: int) -> dict[str, Any]:
    bg, fg, label = BADGE.get(d.health, BADGE["at risk"])
    if d.outcome:  # a closed deal has an outcome, not a health or a forecast
        bg, fg, label = "#e8eaed", "#3c4043", d.outcome_label
    groups: list[dict[str, Any]] = []
    left = max_changes
    for g in d.groups:
        shown = g.items[: max(0, min(per_group, left))]
        left -= len(shown)
        groups.append({"heading": g.heading, "count": len(g.items), "items": shown,
                       "hidden": len(g.items) - len(shown)})
    hidden = sum(x["hidden"] for x in groups)
    return {
        "d": d, "name": d.display_name, "href": safe_href(d.plan_url),
        "location": clip(d.plan_location or d.plan_url, 300),
        "editors": _people(d.editors), "notice": _notice(d), "message": clip(d.message, 2000),
        "kind_label": _KIND_LABEL.get(d.kind, "Mutual action plan"),
        "badge": {"bg": bg, "fg": fg, "label": label}, "outlook": _outlook(d),
        "progress_pct": round(100 * d.done / d.total) if d.total else 0,
        "groups": groups, "hidden_changes": hidden, "preheader": _preheader(d),
        "overdue": _rows(d.overdue, max_rows), "due_soon": _rows(d.due_soon, max_rows),
        "since": _since(d),
        "lost": d.lost,
        "unreadable": {"rows": d.unreadable[:max_rows], "count": len(d.unreadable),
                       "hidden": max(0, len(d.unreadable) - max_rows), "plain": d.external},
        "business_days": (f"Business days exclude weekends and {d.calendar} public holidays." if d.calendar
                          else "Business days exclude weekends."),
    }


_KIND_LABEL = {"closing": "Closing plan"}


def _people(names: tuple[str, ...]) -> str:
    """``A``, ``A and B``, ``A, B and C``."""
    shown = [clip(n, 60) for n in names]
    return " and ".join(shown) if len(shown) < 3 else ", ".join(shown[:-1]) + " and " + shown[-1]


def _notice(d: Digest) -> str:
    """The last digest of a dead or closed deal says why it is the last."""
    if d.outcome:
        return (f"{d.correction} " if d.correction else "") + (
            f"The deal closed {d.outcome}. This is the last digest of this plan: it is archived, "
            "and no more digests of it go out.")
    if d.correction:
        return d.correction
    if not d.closed_out:
        return ""
    target = day(d.close.target)
    return (f"The target close ({target}) passed {business_days(d.closed_out)} ago and the close step is not done. "
            "This is the last digest: people outside your company no longer get digests of this plan. "
            "Move the target close or mark the close step done to resume them.")


def _since(d: Digest) -> str:
    if d.since_label:
        return d.since_label
    return "since you started watching" if d.first else "since your last digest"


def _rows(lines: tuple[StepLine, ...], limit: int) -> dict[str, Any]:
    return {"rows": lines[:limit], "hidden": max(0, len(lines) - limit), "count": len(lines)}


def _outlook(d: Digest) -> dict[str, Any]:
    """The close in words: how far off target, and how it moved since the last digest."""
    c = d.close
    if d.outcome:  # closed: no projection to speak of
        return {"vs": f"closed {d.outcome}", "tone": "#3c4043", "moved": None, "moved_later": False}
    if c.slip_days is None:
        vs, tone = ("no target close set" if c.target is None else "not projected yet"), "#5f6368"
    elif c.slip_days > 0:
        vs, tone = f"{business_days(c.slip_days)} after target", "#c5221f"
    elif c.slip_days < 0:
        vs, tone = f"{business_days(-c.slip_days)} ahead of target", "#137333"
    else:
        vs, tone = "on target", "#137333"
    moved = None
    if c.moved_days:
        way = "later" if c.moved_days > 0 else "earlier"
        then = ("than " + d.since_label.replace("since ", "at ") if d.since_label
                else "than when you started watching" if d.first else "than in your last digest")
        moved = f"{business_days(abs(c.moved_days))} {way} {then} ({day(c.previous)})"
    elif c.moved_days == 0:
        moved = f"unchanged {_since(d)}"
    return {"vs": vs, "tone": tone, "moved": moved, "moved_later": bool(c.moved_days and c.moved_days > 0)}


def _preheader(d: Digest) -> str:
    """The grey line inbox lists show after the subject."""
    bits = [f"deal closed {d.outcome}"] if d.outcome else [d.health_reason]
    if d.close.projected and not d.outcome:
        bits.append(f"projected close {day(d.close.projected)}")
    if d.change_count:
        bits.append(f"{d.change_count} change" + ("" if d.change_count == 1 else "s"))
    return clip(" · ".join(bits), 150)


def render_certificate(context: dict[str, Any]) -> str:
    """The signing record (service/certificate.py) as one HTML document."""
    html: str = environment().get_template("certificate.html").render(**context)
    return html
