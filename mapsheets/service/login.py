"""Signing in to Google once (OAuth consent), so later commands reach the user's sheets."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path


def login(client_secrets: str, env: Mapping[str, str]) -> str:
    """Run Google's OAuth consent for a user and keep the token for later commands."""
    from mapsheets.adapters.gsheets import login as google_login

    return str(google_login(Path(client_secrets), env))
