"""Email rendering: a Digest as HTML (Gmail/Outlook-safe) and plain text, from Jinja2 templates."""

from mapsheets.emails.render import GMAIL_CLIP_BYTES, render_digest, safe_href

__all__ = ["GMAIL_CLIP_BYTES", "render_digest", "safe_href"]
