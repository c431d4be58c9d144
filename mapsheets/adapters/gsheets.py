"""Google Sheets and Drive through gspread's HTTP client and google-auth.

Every plan operation is a fixed, small number of raw API requests (Google allows 60 reads and 60
writes a minute per user): create = 1, read = 1, update cells = 1. gspread's helpers re-fetch
metadata on every call, so we send batch requests through its HTTPClient instead.
"""

from __future__ import annotations

import os
import re
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mapsheets.adapters import gsheets_cells as cells_json
from mapsheets.core.edits import Edit
from mapsheets.core.layout import MACHINE_TAB, WorkbookSpec
from mapsheets.errors import (
    AlreadyExists, MapsheetsError, NotFound, PermissionDenied, PlanBusy, PlanFileError, QuotaExceeded, RemoteError,
    UsageError,
)

GOOGLE_ROOTS = ("https://sheets.googleapis.com", "https://www.googleapis.com")
SHEETS_V4 = "https://sheets.googleapis.com/v4/spreadsheets"
DRIVE_V3 = "https://www.googleapis.com/drive/v3/files"
# Least privilege: Sheets, and Drive only for files this app created or the user opened with it.
SCOPES = ("https://www.googleapis.com/auth/spreadsheets", "https://www.googleapis.com/auth/drive.file")
SHEET_MIME = "application/vnd.google-apps.spreadsheet"
ONCE_ATTEMPTS = 5  # tries of a once-only edit (see ``modify``)
GRID_FIELDS = ("sheets(properties(sheetId,title,index),"
               "data(startRow,startColumn,rowData(values(effectiveValue,userEnteredFormat.numberFormat))))")


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


def _error_body(response) -> dict[str, Any]:
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
            super().__init__(auth=None, session=session)  # type: ignore[arg-type]  # the session authorizes
            self.api_root = api_root.rstrip("/") if api_root else None
            self.policy = policy

        def request(self, method, endpoint, *args, **kwargs):
            from gspread.exceptions import APIError

            endpoint = rebase_url(endpoint, self.api_root)
            for attempt in range(self.policy.attempts):
                try:
                    return super().request(method, endpoint, *args, **kwargs)
                except APIError as exc:
                    body = _error_body(exc.response)
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


def _bare_token(client) -> bool:
    """Credentials that are an access token alone: nothing to refresh it with."""
    creds = getattr(getattr(client, "session", None), "credentials", None)
    return creds is not None and not getattr(creds, "refresh_token", None) and \
        not getattr(creds, "service_account_email", None)


def make_client(credentials, api_root: str | None = None, policy: RetryPolicy | None = None):
    from google.auth.transport.requests import AuthorizedSession

    return _client_class()(AuthorizedSession(credentials), api_root, policy or RetryPolicy())


class GoogleWorkbook:
    """A plan in a Google Sheet; same operations as the .xlsx backend."""

    kind = "google"

    def __init__(self, sheet_id: str | None, client):
        self.sheet_id = sheet_id
        self.client = client
        self._sheet_ids: dict[str, int] = {}

    @classmethod
    def from_env(cls, sheet_id: str | None, env: Mapping[str, str] | None = None,
                 credentials=None) -> GoogleWorkbook:
        """``credentials`` (a ``GoogleCredentials``) given by the caller, else found in ``env``."""
        env = os.environ if env is None else env
        found = credentials.load(scopes(env)) if credentials is not None else credentials_from_env(env)
        return cls(sheet_id, make_client(found, env.get("MAPSHEETS_GOOGLE_API_ROOT")))

    @property
    def ref(self) -> str:
        return f"https://docs.google.com/spreadsheets/d/{self.sheet_id}" if self.sheet_id else "(new Google Sheet)"

    def _call(self, method: str, url: str, **kwargs) -> dict[str, Any]:
        from google.auth.exceptions import GoogleAuthError
        from gspread.exceptions import APIError

        try:
            response = self.client.request(method, url, **kwargs)
        except APIError as exc:
            raise to_mapsheets_error(exc.response.status_code, _error_body(exc.response), self.ref) from None
        except OSError as exc:  # connection refused, DNS, TLS
            raise RemoteError(f"{self.ref}: cannot reach Google ({exc.__class__.__name__})") from None
        except GoogleAuthError as exc:  # a revoked or expired sign-in, or no way to refresh it
            if _bare_token(self.client):  # a caller's access token (the add-on's): no login to run again
                raise PermissionDenied(f"{self.ref}: Google did not accept the access token "
                                       f"({exc.__class__.__name__}): sign in to Google again") from None
            raise PermissionDenied(f"{self.ref}: Google sign-in failed ({exc.__class__.__name__}); "
                                   "run `mapsheets login` again or check the key file") from None
        return response.json() if response.content else {}

    # --- plan operations ---------------------------------------------------------------

    def read_grid(self) -> dict[str, list[list[Any]]]:
        """Every tab's values in one spreadsheets.get."""
        data = self._call("get", f"{SHEETS_V4}/{self.sheet_id}",
                          params={"includeGridData": "true", "fields": GRID_FIELDS})
        grid = {}
        for sheet in data.get("sheets", []):
            props = sheet["properties"]
            self._sheet_ids[props["title"]] = props["sheetId"]
            grid[props["title"]] = cells_json.grid_rows(sheet)
        return grid

    def create(self, spec: WorkbookSpec, *, force: bool = False) -> str:
        """A new spreadsheet carrying the whole formatted plan: one spreadsheets.create."""
        if self.sheet_id is not None:
            return self.write_into(spec, force=force)
        data = self._call("post", SHEETS_V4, json=cells_json.create_body(spec))
        self.sheet_id = data["spreadsheetId"]
        self._sheet_ids = {s["properties"]["title"]: s["properties"]["sheetId"] for s in data.get("sheets", [])}
        return data.get("spreadsheetUrl") or self.ref

    def write_into(self, spec: WorkbookSpec, *, force: bool = False) -> str:
        """The plan into an existing spreadsheet (the add-on case): one spreadsheets.batchUpdate."""
        requests = cells_json.add_sheets_requests(spec, first_id=random.randint(10_000, 2**30))
        if force:
            existing = {s["properties"]["title"]: s["properties"]["sheetId"] for s in self._call(
                "get", f"{SHEETS_V4}/{self.sheet_id}", params={"fields": "sheets.properties(sheetId,title)"})["sheets"]}
            drops = [{"deleteSheet": {"sheetId": existing[s.title]}} for s in spec.sheets if s.title in existing]
            if drops:
                # Old tabs go before new ones of the same name are added; a spreadsheet must keep one
                # tab at all times, so a placeholder holds the place meanwhile.
                holder = random.randint(10_000, 2**30)
                requests = ([{"addSheet": {"properties": {"sheetId": holder, "title": f"mapsheets-{holder}"}}}]
                            + drops + requests + [{"deleteSheet": {"sheetId": holder}}])
        try:
            self._call("post", f"{SHEETS_V4}/{self.sheet_id}:batchUpdate", json={"requests": requests})
        except PlanFileError as exc:
            if "already exists" in getattr(exc, "detail", ""):
                raise AlreadyExists(f"{self.ref}: already has plan tabs (use --force to replace them)") from None
            raise
        return self.ref

    def update_cells(self, tab: str, cells: Mapping[tuple[int, int], Any], *,
                     also: Mapping[str, Mapping[tuple[int, int], Any]] | None = None, force: bool = False) -> None:
        """Set cells of ``tab`` (and of other tabs, ``also``) in one spreadsheets.batchUpdate.
        (``force`` is for files open in Excel: nothing here.)"""
        requests = self._update_requests({tab: cells, **{t: c for t, c in (also or {}).items() if t != tab}})
        self._call("post", f"{SHEETS_V4}/{self.sheet_id}:batchUpdate", json={"requests": requests})

    def _update_requests(self, cells_by_tab: Mapping[str, Mapping[tuple[int, int], Any]]) -> list[dict[str, Any]]:
        requests: list[dict[str, Any]] = []
        for tab, cells in cells_by_tab.items():
            if tab == MACHINE_TAB and not self._has_tab(tab):  # a plan made before it: made on first write
                self._sheet_ids[tab] = random.randint(10_000, 2**30)
                requests.append({"addSheet": {"properties": {"sheetId": self._sheet_ids[tab], "title": tab,
                                                             "hidden": True}}})
            requests += cells_json.update_cells_requests(self._sheet_id(tab), dict(cells))
        return requests

    def _has_tab(self, tab: str) -> bool:
        if tab not in self._sheet_ids:
            self.read_grid()
        return tab in self._sheet_ids

    def _sheet_id(self, tab: str) -> int:
        if tab not in self._sheet_ids:
            self.read_grid()
        if tab not in self._sheet_ids:
            raise PlanFileError(f"{self.ref}: no tab named {tab!r}")
        return self._sheet_ids[tab]

    def modify(self, compute: Callable[[dict[str, list[list[Any]]]], tuple[Edit | None, Any]], *,
               force: bool = False, grid: dict[str, list[list[Any]]] | None = None) -> Any:
        """Read once (or take ``grid``, a read this request just made), compute the edit, write it
        in one spreadsheets.batchUpdate: cells in place, then the new rows as an appendCells,
        which Google applies after the tab's last row with data at the time it runs the request
        (the table is the last thing on its tab), never at a row number from our read. So people
        adding at once each get their own row, and a step lands with the cells it refreshes
        (Status, bands, Timeline) or not at all.

        An edit with ``once`` also creates a developer metadata whose ID comes from that key, in
        the same batch: Google refuses a batch whose ID exists, so of processes writing the same
        once-only edit together one writes and the others compute again on a fresh read (and find
        its row). A row deleted by hand leaves its ID behind: the next try takes the key's next ID."""
        for attempt in range(ONCE_ATTEMPTS):
            edit, result = compute(grid if grid is not None else self.read_grid())
            grid = None
            if edit is None:  # nothing to change (e.g. signed already)
                return result
            if edit.rows and edit.insert_at is not None:  # inside its phase: Google moves what is below
                requests = [cells_json.insert_rows_request(self._sheet_id(edit.tab), edit.insert_at, len(edit.rows))]
                requests += self._update_requests({t: c for t, c in {edit.tab: edit.inserted(), **edit.also}.items()
                                                   if c})
            else:
                requests = self._update_requests({t: c for t, c in {edit.tab: edit.cells, **edit.also}.items() if c})
                if edit.rows:
                    requests.append(cells_json.append_cells_request(self._sheet_id(edit.tab), edit.rows))
            if edit.once:
                requests.insert(0, cells_json.once_request(edit.once, attempt))
            if not requests:
                return result
            try:
                self._call("post", f"{SHEETS_V4}/{self.sheet_id}:batchUpdate", json={"requests": requests})
            except PlanFileError:
                if edit.once and self._has_metadata(cells_json.once_id(edit.once, attempt)):
                    continue  # written by another process meanwhile: read again
                raise
            return result
        raise PlanBusy(f"{self.ref}: the same change kept being written by others ({ONCE_ATTEMPTS} tries); "
                       f"nothing written, try again")

    def _has_metadata(self, metadata_id: int) -> bool:
        try:
            self._call("get", f"{SHEETS_V4}/{self.sheet_id}/developerMetadata/{metadata_id}")
        except NotFound:
            return False
        return True

    def append_rows(self, tab: str, rows: list[list[Any]], *, header: list[str],
                    also: Mapping[str, Mapping[tuple[int, int], Any]] | None = None, force: bool = False) -> None:
        """Rows at the end of ``tab``, made with ``header`` if missing: one batchUpdate (appendCells),
        which also sets the cells of other tabs given in ``also``."""
        if not self._sheet_ids:
            self.read_grid()
        requests: list[dict[str, Any]] = self._update_requests({t: c for t, c in (also or {}).items() if c})
        sheet_id = self._sheet_ids.get(tab)
        if sheet_id is None:
            sheet_id = random.randint(10_000, 2**30)
            requests.append({"addSheet": {"properties": {"sheetId": sheet_id, "title": tab,
                                                         "gridProperties": {"frozenRowCount": 1}}}})
            rows = [list(header)] + rows
        requests.append({"appendCells": {"sheetId": sheet_id, "fields": "userEnteredValue,userEnteredFormat.numberFormat",
                                         "rows": [{"values": [cells_json.cell_data(v) for v in row]} for row in rows]}})
        self._call("post", f"{SHEETS_V4}/{self.sheet_id}:batchUpdate", json={"requests": requests})
        self._sheet_ids[tab] = sheet_id

    def revision(self) -> dict[str, Any]:
        """Drive's modifiedTime and lastModifyingUser, for change detection and attribution."""
        data = self._call("get", f"{DRIVE_V3}/{self.sheet_id}",
                          params={"fields": "id,name,modifiedTime,version,lastModifyingUser(displayName,emailAddress)"})
        user = data.get("lastModifyingUser") or {}
        return {"modified_time": data.get("modifiedTime"), "version": data.get("version"),
                "modified_by": user.get("emailAddress") or user.get("displayName")}

    def worker_ref(self) -> None:
        """None: a write is one request, and OwnWrites reads its save's time right after it."""
        return None

    def edits(self, max_pages: int = 2) -> list[dict[str, Any]] | None:
        """Who saved when: Drive revisions.list, oldest first, as {modified_time, by}.

        At most ``max_pages`` requests of 1000 revisions; None when the list is longer (too costly
        to page through: the caller names nobody rather than guess).
        """
        out, token = [], None
        for _ in range(max_pages):
            params = {"pageSize": "1000",
                      "fields": "nextPageToken,revisions(modifiedTime,lastModifyingUser(displayName,emailAddress))"}
            if token:
                params["pageToken"] = token
            data = self._call("get", f"{DRIVE_V3}/{self.sheet_id}/revisions", params=params)
            for rev in data.get("revisions", []):
                user = rev.get("lastModifyingUser") or {}
                out.append({"modified_time": rev.get("modifiedTime"),
                            "by": user.get("emailAddress") or user.get("displayName")})
            token = data.get("nextPageToken")
            if not token:
                return out
        return None

    def share(self, email: str, role: str = "writer", message: str | None = None) -> None:
        """One Drive permissions.create per person; a notification email only with a message."""
        if role not in ("writer", "commenter", "reader"):
            raise UsageError(f"role {role!r} is not writer, commenter or reader")
        params = {"sendNotificationEmail": "true" if message else "false", "supportsAllDrives": "true"}
        if message:
            params["emailMessage"] = message
        self._call("post", f"{DRIVE_V3}/{self.sheet_id}/permissions", params=params,
                   json={"type": "user", "role": role, "emailAddress": email})


def find_plans(client, name_contains: str = "", modified_after: str | None = None) -> list[dict[str, Any]]:
    """Spreadsheets this app can see, newest first: Drive files.list, paged."""
    query = [f"mimeType='{SHEET_MIME}'", "trashed=false"]
    if name_contains:
        escaped = name_contains.replace("\\", "\\\\").replace("'", "\\'")
        query.append(f"name contains '{escaped}'")
    if modified_after:
        query.append(f"modifiedTime > '{modified_after}'")
    book = GoogleWorkbook(None, client)
    files, token = [], None
    while True:
        params = {"q": " and ".join(query), "orderBy": "modifiedTime desc", "pageSize": "1000",
                  "fields": "nextPageToken,files(id,name,modifiedTime,version,lastModifyingUser(displayName,emailAddress))"}
        if token:
            params["pageToken"] = token
        data = book._call("get", DRIVE_V3, params=params)
        files.extend(data.get("files", []))
        token = data.get("nextPageToken")
        if not token:
            return files
