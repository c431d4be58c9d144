"""GoogleApiDouble: the Python face of the fake Sheets v4 / Drive v3 server."""
from __future__ import annotations

import datetime as dt
import json

from . import sheets
from .model import Spreadsheet
from .server import Server
from .state import Clock, State
from .stats import Stats


class GoogleApiDouble:
    """Start with `with GoogleApiDouble() as g:`; point clients at `g.root`."""

    def __init__(self, port: int = 0, seed: int | None = None, user: str | None = None):
        self.state = State(seed)
        if user:
            self.state.default_user = user
        self._stats = Stats()
        self._server = Server(self.state, self._stats, self._control, port)
        self._started = False

    # --- lifecycle -----------------------------------------------------------
    def start(self) -> "GoogleApiDouble":
        if not self._started:
            self._server.start()
            self._started = True
        return self

    def stop(self) -> None:
        if self._started:
            self._server.stop()
            self._started = False

    def __enter__(self) -> "GoogleApiDouble":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def root(self) -> str:
        return self._server.root

    # --- inspection and control ------------------------------------------------
    @property
    def clock(self) -> Clock:
        return self.state.clock

    @clock.setter
    def clock(self, when: dt.datetime | None) -> None:
        self.state.clock.set(when)

    @property
    def default_user(self) -> str:
        return self.state.default_user

    @default_user.setter
    def default_user(self, email: str) -> None:
        self.state.default_user = email

    def stats(self) -> dict:
        """{'total': n, 'methods': {'sheets.spreadsheets.values.get': n, ...}}."""
        return self._stats.snapshot()

    def reset(self, data: bool = False) -> None:
        """Clear request counts and pending injections; with data=True also every file."""
        self._stats.clear()
        self._stats.clear_injections()
        if data:
            self.state.reset()

    def inject_errors(self, code: int, count: int = 1, method: str = "*", message: str | None = None,
                      reason: str | None = None) -> None:
        """Fail the next `count` matching requests with `code` (429, 500, 503, or Drive 403 + reason)."""
        self._stats.inject(code, count, method, message, reason)

    def on_request(self, method: str, hook, *, applied: bool = True) -> None:
        """Call ``hook(request_body)`` for each ``method`` request (e.g. to SIGKILL the client) until
        it returns True: after the request is applied and before it is answered, or with
        ``applied=False`` before it is applied, and then the request is dropped unapplied.
        ``reset`` clears hooks."""
        self._stats.on_request(method, hook, applied)

    def act_as_google(self, tokens: dict[str, str]) -> None:
        """Answer as Google does, not to any token: each bearer token in ``tokens`` is its user's
        (others get 401), and a file opens only for a user it is shared with (its owner, a
        permission naming them, or "anyone"): Sheets answers 403 PERMISSION_DENIED, Drive 404, and
        files.list leaves the file out. ``reset`` does not undo it; ``act_leniently`` does."""
        with self.state.lock:
            self.state.tokens = dict(tokens)

    def add_token(self, token: str, user: str) -> None:
        """One more token, e.g. a fresh one minted for a user (strict mode)."""
        with self.state.lock:
            self.state.tokens = {**(self.state.tokens or {}), token: user}

    def act_leniently(self) -> None:
        """Back to the default: any bearer token, every file opens."""
        with self.state.lock:
            self.state.tokens = None

    def share(self, file_id: str, email: str, role: str = "writer") -> None:
        """Share a file with a user, as the owner would in Drive (permissions.create)."""
        from .drive import create_permission

        with self.state.lock:
            create_permission(self.state, file_id, {"type": "user", "role": role, "emailAddress": email},
                              {"sendNotificationEmail": False})

    def spreadsheet(self, spreadsheet_id: str) -> Spreadsheet:
        return self.state.spreadsheets[spreadsheet_id]

    def file(self, file_id: str) -> dict:
        return self.state.files[file_id]

    def set_private(self, spreadsheet_id: str, private: bool = True) -> None:
        """Make a spreadsheet belong to someone else: Sheets 403, Drive 404."""
        if spreadsheet_id not in self.state.spreadsheets:
            ss = self.state.create_spreadsheet("Someone else's spreadsheet", "other@example.com",
                                               file_id=spreadsheet_id)
            ss.add_sheet({"title": "Sheet1"})
        self.state.spreadsheets[spreadsheet_id].private = private

    def create_spreadsheet(self, title: str = "Untitled spreadsheet", sheets_data: dict | None = None,
                           user: str | None = None, **kw) -> str:
        """Create a spreadsheet; sheets_data maps tab title -> rows of raw values. Returns its id."""
        sheets_data = kw.pop("sheets", sheets_data)
        from . import cells
        with self.state.lock:
            body = {"properties": {"title": title},
                    "sheets": [{"properties": {"title": name}} for name in (sheets_data or {"Sheet1": []})]}
            sid = sheets.create(self.state, body, user or self.state.default_user)["spreadsheetId"]
            ss = self.state.spreadsheets[sid]
            for name, rows in (sheets_data or {}).items():
                sheet = ss.sheet_by_title(name)
                assert sheet is not None  # just made
                for i, row in enumerate(rows):
                    for j, v in enumerate(row):
                        sheet.put(i, j, cells.parse_input(v, True))
        return sid

    def values(self, spreadsheet_id: str, range_: str, render: str = "FORMATTED_VALUE") -> list[list]:
        from .values import value_range
        return value_range(self.spreadsheet(spreadsheet_id), range_, "ROWS", render).get("values", [])

    def _control(self, verb: str, name: str, raw: bytes) -> tuple[int, dict]:
        try:
            body = json.loads(raw) if raw.strip() else {}
        except ValueError:
            return 400, {"error": "invalid JSON"}
        if verb == "GET" and name == "stats":
            return 200, self.stats()
        if verb == "POST" and name == "reset":
            self.reset(bool(body.get("data")))
            return 200, {"ok": True}
        if verb == "POST" and name == "inject":
            self.inject_errors(body.get("code", 429), body.get("count", 1), body.get("method", "*"),
                               body.get("message"), body.get("reason"))
            return 200, {"ok": True}
        if verb == "POST" and name == "private":
            self.set_private(body["spreadsheetId"], body.get("private", True))
            return 200, {"ok": True}
        if verb == "POST" and name == "clock":
            self.clock = dt.datetime.fromisoformat(body["now"].replace("Z", "+00:00")) if body.get("now") else None
            return 200, {"ok": True}
        return 404, {"error": f"unknown control {verb} {name}"}
