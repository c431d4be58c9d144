"""Google Sheets and Drive plans through gspread's HTTP client and google-auth (``gsheets_client.py``).

Every plan operation is a fixed, small number of raw API requests (Google allows 60 reads and 60
writes a minute per user): create = 1, read = 1, update cells = 1. gspread's helpers re-fetch
metadata on every call, so we send batch requests through its HTTPClient instead.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Mapping
from typing import Any

from mapsheets.adapters import gsheets_cells as cells_json
from mapsheets.adapters.gsheets_client import (  # noqa: F401  (re-exported: the Google backend's API)
    DRIVE_V3,
    GOOGLE_ROOTS,
    SCOPES,
    SHEET_MIME,
    SHEETS_V4,
    RetryPolicy,
    authorized_user_path,
    bare_token,
    credentials_from_env,
    error_body,
    google_reason,
    login,
    make_client,
    rebase_url,
    scopes,
    to_mapsheets_error,
)
from mapsheets.core.edits import Edit
from mapsheets.core.layout import MACHINE_TAB, WorkbookSpec
from mapsheets.errors import (
    AlreadyExists,
    NotFound,
    PermissionDenied,
    PlanBusy,
    PlanFileError,
    RemoteError,
    UsageError,
)

ONCE_ATTEMPTS = 5  # tries of a once-only edit (see ``modify``)
GRID_FIELDS = ("sheets(properties(sheetId,title,index),"
               "data(startRow,startColumn,rowData(values(effectiveValue,userEnteredFormat.numberFormat))))")


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
            raise to_mapsheets_error(exc.response.status_code, error_body(exc.response), self.ref) from None
        except OSError as exc:  # connection refused, DNS, TLS
            raise RemoteError(f"{self.ref}: cannot reach Google ({exc.__class__.__name__})") from None
        except GoogleAuthError as exc:  # a revoked or expired sign-in, or no way to refresh it
            if bare_token(self.client):  # a caller's access token (the add-on's): no login to run again
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
        requests.append({"appendCells": {"sheetId": sheet_id,
                                         "fields": "userEnteredValue,userEnteredFormat.numberFormat",
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
                  "fields": "nextPageToken,files(id,name,modifiedTime,version,"
                            "lastModifyingUser(displayName,emailAddress))"}
        if token:
            params["pageToken"] = token
        data = book._call("get", DRIVE_V3, params=params)
        files.extend(data.get("files", []))
        token = data.get("nextPageToken")
        if not token:
            return files
