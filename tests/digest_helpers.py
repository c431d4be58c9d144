"""What digest tests share: a fixed Tuesday morning, and reading what the outbox got."""

from __future__ import annotations

import email
import email.policy
from datetime import datetime, timezone
from pathlib import Path

T0 = datetime(2026, 12, 1, 7, 0, tzinfo=timezone.utc)  # a Tuesday, at the default send hour


def outbox_messages(folder: Path):
    return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in sorted(folder.glob("*.eml"))]


def html_of(message) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def text_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()
