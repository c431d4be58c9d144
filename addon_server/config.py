"""The add-on backend's settings: defaults, then MAPSHEETS_* environment variables, then the caller's."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import date
from typing import Any

GOOGLE_CERTS_URL = "https://www.googleapis.com/oauth2/v1/certs"
LOOPBACK = ("127.0.0.1", "::1", "localhost")

# setting -> (environment variable, default, what it is); README's configuration table follows this.
SETTINGS: dict[str, tuple[str, Any, str]] = {
    "CLIENT_ID": ("MAPSHEETS_ADDON_CLIENT_ID", "",
                  "OAuth client ID of the Apps Script project: ID tokens must have it as aud"),
    "CERTS_URL": ("MAPSHEETS_ADDON_CERTS_URL", GOOGLE_CERTS_URL,
                  "where Google's ID-token signing certificates are fetched"),
    "DEV": ("MAPSHEETS_ADDON_DEV", False, "development mode: a header names the user (only on loopback)"),
    "HOST": ("MAPSHEETS_ADDON_HOST", "", "the address the server listens on (set by `mapsheets serve`)"),
    "PLANS_DIR": ("MAPSHEETS_ADDON_PLANS_DIR", "", "dev mode: folder of local plans; spreadsheet ID X is X.xlsx"),
    "SELLER_DOMAINS": ("MAPSHEETS_SELLER_DOMAINS", "", "comma-separated email domains of the selling company"),
    "DB": ("MAPSHEETS_DB", "", "state store URL (PostgreSQL in production; default the per-user SQLite file)"),
    "MAX_BODY": ("MAPSHEETS_ADDON_MAX_BODY", 65536, "largest request body accepted, bytes (larger: 413)"),
    "TEMPLATES": ("MAPSHEETS_TEMPLATES", "", "extra template folders, ':'-separated"),
    "TODAY": ("MAPSHEETS_TODAY", "", "dev mode: judge dates as of this day (YYYY-MM-DD), as `--as-of` does"),
    # Signing by email link (signing.py): the signer's receipt and renewed links.
    "SMTP_URL": ("MAPSHEETS_SMTP_URL", "",
                 "smtp://user:pass@host:587 for signing receipts (else .eml files in the outbox)"),
    "OUTBOX": ("MAPSHEETS_OUTBOX", "", "folder for .eml files when MAPSHEETS_SMTP_URL is not set"),
    "MAIL_FROM": ("MAPSHEETS_MAIL_FROM", "", "sender of signing links and receipts"),
    # Digests sent by the add-on's hourly trigger (api.py /api/digest-run), as `mapsheets digest` does.
    "TZ": ("MAPSHEETS_TZ", "", "the team's time zone for digests sent by the add-on's trigger (default UTC)"),
    "DIGEST_HOUR": ("MAPSHEETS_DIGEST_HOUR", 7, "digests go out with the first trigger run at or after this hour"),
    "DIGEST_ACCOUNT": ("MAPSHEETS_DIGEST_ACCOUNT", "", "the service account `mapsheets digest` reads Google "
                       "Sheets as: a subscription in the Workspace add-on shares the sheet with it"),
    # The Workspace add-on (workspace.py); values from `gcloud workspace-add-ons get-authorization`.
    "PUBLIC_URL": ("MAPSHEETS_PUBLIC_URL", "", "https base URL Google calls: system ID tokens' aud is it + path"),
    "ADDON_SERVICE_ACCOUNT": ("MAPSHEETS_ADDON_SERVICE_ACCOUNT", "", "the deployment's serviceAccountEmail"),
    "WORKSPACE_CLIENT_ID": ("MAPSHEETS_WORKSPACE_CLIENT_ID", "", "its oauthClientId: userIdToken's aud "
                            "(default MAPSHEETS_ADDON_CLIENT_ID)"),
}


def load(env: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    env = os.environ if env is None else env
    out: dict[str, Any] = {}
    for key, (var, default, _what) in SETTINGS.items():
        raw = env.get(var)
        if raw is None or raw == "":
            out[key] = default
        elif isinstance(default, bool):
            out[key] = raw.strip().lower() in ("1", "true", "yes", "on")
        elif isinstance(default, int):
            out[key] = int(raw)
        else:
            out[key] = raw.strip()
    out.update(overrides or {})
    out["SELLER_DOMAINS"] = _split(out["SELLER_DOMAINS"], ",")
    out["TEMPLATES"] = _split(out["TEMPLATES"], ":")
    out["PUBLIC_URL"] = str(out["PUBLIC_URL"] or "").rstrip("/")
    if isinstance(out["TODAY"], str):  # left as text when it is not a date: refusal() says so
        out["TODAY"] = _day(out["TODAY"])
    return out


def _day(text: str) -> date | str | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return text


def _split(value: Any, sep: str) -> list[str]:
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value if str(v).strip()]
    return [v.strip() for v in str(value or "").split(sep) if v.strip()]


def refusal(config: Mapping[str, Any]) -> str | None:
    """Why the server must not start with this configuration (None: it may)."""
    if isinstance(config.get("TODAY"), str):
        return f"MAPSHEETS_TODAY {config['TODAY']!r} is not a date (YYYY-MM-DD)"
    if config.get("TODAY") and not config["DEV"]:  # a served plan judged as of a fixed day is wrong every other day
        return "MAPSHEETS_TODAY fixes the date the server judges plans by: only with --dev"
    if config["DEV"] and config["HOST"] not in LOOPBACK:
        return f"dev mode only listens on loopback (127.0.0.1), not {config['HOST'] or 'an unknown address'}"
    if not config["DEV"] and not config["CLIENT_ID"] and not config.get("WORKSPACE_CLIENT_ID"):
        return ("set MAPSHEETS_ADDON_CLIENT_ID (the Apps Script project's OAuth client ID) or "
                "MAPSHEETS_WORKSPACE_CLIENT_ID (the Workspace add-on's), or use --dev")
    if bool(config.get("PUBLIC_URL")) != bool(config.get("ADDON_SERVICE_ACCOUNT")):
        return "the Workspace add-on needs both MAPSHEETS_PUBLIC_URL and MAPSHEETS_ADDON_SERVICE_ACCOUNT"
    if config.get("PUBLIC_URL") and not str(config["PUBLIC_URL"]).startswith("https://"):
        return f"MAPSHEETS_PUBLIC_URL must be an https:// URL (Google calls only https), not {config['PUBLIC_URL']}"
    return None
