"""The HTTP client to Google Sheets and Drive: credentials (google-auth), gspread's HTTP client
with bounded, jittered retries, and Google's errors as one MapsheetsError line each. ``gsheets.py``
holds the plan operations made of its requests."""

from __future__ import annotations

import os
import random
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mapsheets.errors import (
    MapsheetsError,
    NotFound,
    PermissionDenied,
    PlanFileError,
    QuotaExceeded,
    RemoteError,
    UsageError,
)

GOOGLE_ROOTS = ("https://sheets.googleapis.com", "https://www.googleapis.com")
SHEETS_V4 = "https://sheets.googleapis.com/v4/spreadsheets"
DRIVE_V3 = "https://www.googleapis.com/drive/v3/files"
# Least privilege: Sheets, and Drive only for files this app created or the user opened with it.
SCOPES = ("https://www.googleapis.com/auth/spreadsheets", "https://www.googleapis.com/auth/drive.file")
SHEET_MIME = "application/vnd.google-apps.spreadsheet"


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff with full jitter; gspread's own BackOffHTTPClient never gives up."""

    attempts: int = 7  # about a minute at most: Google's quotas are per minute
    base: float = 0.5
    cap: float = 32.0
    sleep: Callable[[float], None] = time.sleep

    def delay(self, attempt: int) -> float:
        return random.uniform(0, min(self.cap, self.base * 2 ** attempt))

    def wait(self, attempt: int, retry_after: str | None = None) -> float:
        """Google's Retry-After when it gives one (seconds), else the jittered backoff."""
        try:
            return min(self.cap, max(0.0, float(retry_after))) if retry_after else self.delay(attempt)
        except ValueError:
            return self.delay(attempt)


def _retryable(status: int, body: Mapping[str, Any], method: str = "get") -> bool:
    """Quota answers mean nothing was done: always safe to repeat. A 5xx or timeout may come after
    Google applied the request, so only reads are repeated then (no second sheet, row or share)."""
    if status == 429:
        return True
    if status in (408,) or status >= 500:
        return method.lower() == "get"
    if status == 403:
        reasons = {e.get("domain") for e in body.get("error", {}).get("errors", []) if isinstance(e, dict)}
        reasons |= {e.get("reason") for e in body.get("error", {}).get("errors", []) if isinstance(e, dict)}
        return bool(reasons & {"usageLimits", "userRateLimitExceeded", "rateLimitExceeded"})
    return False


def error_body(response) -> dict[str, Any]:
    try:
        body = response.json()
        return body if isinstance(body, dict) else {}
    except ValueError:
        return {}


_CODE = re.compile(r"[A-Za-z_]{1,64}")


def _error_of(body: Mapping[str, Any]) -> Mapping[str, Any]:
    error = body.get("error")
    return error if isinstance(error, Mapping) else {}


def google_reason(status: int, body: Mapping[str, Any]) -> str:
    """Google's answer reduced to what it means: "HTTP 400 INVALID_ARGUMENT, badRequest". Google's
    message may echo what was sent (a cell's text, a name), so it never reaches the caller."""
    error = _error_of(body)
    errors = error.get("errors")
    reasons = [e.get("reason") for e in (errors if isinstance(errors, list) else [])[:1] if isinstance(e, Mapping)]
    words = [w for w in (error.get("status"), *reasons) if isinstance(w, str) and _CODE.fullmatch(w)]
    return f"HTTP {status}" + (f" {words[0]}" if words else "") + "".join(f", {w}" for w in words[1:])


def to_mapsheets_error(status: int, body: Mapping[str, Any], what: str) -> MapsheetsError:
    """The error for a Google answer: its status and reason said, its message kept in ``detail``
    (for code that must tell answers apart, never for people: it can hold anything)."""
    reason = google_reason(status, body)
    error = _error_of(body)
    quota = status == 429 or (status == 403 and _retryable(status, body, "post"))
    if status == 404:
        out: MapsheetsError = NotFound(f"{what}: not found, or not shared with this account")
    elif status in (401, 403) and not quota:
        out = PermissionDenied(f"{what}: no permission ({reason})")
    elif quota:
        out = QuotaExceeded(f"{what}: Google kept refusing ({reason}); try again in a minute")
    elif status == 408 or status >= 500:
        out = RemoteError(f"{what}: Google failed ({reason}); try again later")
    elif status == 400:
        out = PlanFileError(f"{what}: Google rejected the request ({reason})")
    else:
        out = RemoteError(f"{what}: Google answered {reason}")
    out.detail = str(error.get("message") or "")  # type: ignore[attr-defined]
    return out


def rebase_url(url: str, root: str | None) -> str:
    """Google API URLs moved to ``root`` (MAPSHEETS_GOOGLE_API_ROOT, e.g. the test double)."""
    if root:
        for prefix in GOOGLE_ROOTS:
            if url.startswith(prefix):
                return root.rstrip("/") + url[len(prefix):]
    return url


def _client_class():
    from gspread.http_client import HTTPClient

    class Client(HTTPClient):
        """gspread's HTTP client, pointed at ``api_root`` and retrying within a budget."""

        def __init__(self, session, api_root: str | None, policy: RetryPolicy):
            super().__init__(auth=None, session=session)  # the session authorizes
            self.api_root = api_root.rstrip("/") if api_root else None
            self.policy = policy

        def request(self, method, endpoint, *args, **kwargs):
            from gspread.exceptions import APIError

            endpoint = rebase_url(endpoint, self.api_root)
            for attempt in range(self.policy.attempts):
                try:
                    return super().request(method, endpoint, *args, **kwargs)
                except APIError as exc:
                    body = error_body(exc.response)
                    last_try = attempt == self.policy.attempts - 1
                    if not _retryable(exc.response.status_code, body, method) or last_try:
                        raise
                    self.policy.sleep(self.policy.wait(attempt, exc.response.headers.get("Retry-After")))
            raise AssertionError("unreachable")

    return Client


def scopes(env: Mapping[str, str]) -> list[str]:
    """SCOPES, unless MAPSHEETS_GOOGLE_SCOPES widens them (e.g. to watch sheets made outside mapsheets)."""
    extra = env.get("MAPSHEETS_GOOGLE_SCOPES", "")
    wanted = [s.strip() for s in extra.split(",") if s.strip()] or list(SCOPES)
    return [s if s.startswith("https://") else f"https://www.googleapis.com/auth/{s}" for s in wanted]


def authorized_user_path(env: Mapping[str, str]) -> Path:
    """Where ``mapsheets login`` keeps a user's OAuth refresh token (readable by the user only)."""
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "mapsheets" / "authorized_user.json"


def credentials_from_env(env: Mapping[str, str]):
    """Credentials, first found: an access token (MAPSHEETS_GOOGLE_TOKEN, e.g. from the add-on), a key
    file (MAPSHEETS_GOOGLE_CREDENTIALS: service account or authorized user), or ``mapsheets login``'s."""
    token = env.get("MAPSHEETS_GOOGLE_TOKEN")
    if token:
        from google.oauth2.credentials import Credentials

        return Credentials(token=token)
    path = env.get("MAPSHEETS_GOOGLE_CREDENTIALS") or env.get("GOOGLE_APPLICATION_CREDENTIALS")
    if not path and authorized_user_path(env).exists():
        path = str(authorized_user_path(env))
    if path:
        return _credentials_file(path)
    raise UsageError("no Google credentials: run `mapsheets login --client-secrets FILE`, or set "
                     "MAPSHEETS_GOOGLE_CREDENTIALS to a service-account key file, or MAPSHEETS_GOOGLE_TOKEN")


def _credentials_file(path: str):
    import json

    try:
        with open(path, encoding="utf-8") as fh:
            kind = json.load(fh).get("type")
        if kind == "authorized_user":
            from google.oauth2.credentials import Credentials

            return Credentials.from_authorized_user_file(path, scopes(os.environ))
        from google.oauth2 import service_account

        return service_account.Credentials.from_service_account_file(path, scopes=scopes(os.environ))
    except (OSError, ValueError, AttributeError) as exc:
        raise UsageError(f"{path}: not a usable service-account or authorized-user key "
                         f"({exc.__class__.__name__})") from None


def login(client_secrets: Path, env: Mapping[str, str]) -> Path:
    """A user's OAuth consent in the browser (gspread's local-server flow), kept for later runs."""
    import json

    from gspread.auth import local_server_flow, store_credentials

    try:
        config = json.loads(Path(client_secrets).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{client_secrets}: the file does not exist (--client-secrets)") from None
    except (OSError, ValueError) as exc:
        raise UsageError(f"{client_secrets}: not an OAuth client secrets file ({exc.__class__.__name__})") from None
    try:
        credentials = local_server_flow(config, scopes(env))
    except ValueError as exc:  # not an "installed" or "web" client
        raise UsageError(f"{client_secrets}: not an OAuth client secrets file ({exc})") from None
    target = authorized_user_path(env)
    target.parent.mkdir(parents=True, exist_ok=True)
    store_credentials(credentials, target)
    target.chmod(0o600)  # a refresh token is a password
    return target


def bare_token(client) -> bool:
    """Credentials that are an access token alone: nothing to refresh it with."""
    creds = getattr(getattr(client, "session", None), "credentials", None)
    return creds is not None and not getattr(creds, "refresh_token", None) and \
        not getattr(creds, "service_account_email", None)


def make_client(credentials, api_root: str | None = None, policy: RetryPolicy | None = None):
    from google.auth.transport.requests import AuthorizedSession

    return _client_class()(AuthorizedSession(credentials), api_root, policy or RetryPolicy())
