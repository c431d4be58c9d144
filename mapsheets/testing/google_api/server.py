"""HTTP front: routing, auth, discovery validation, stats, injection, /__double__ control."""
from __future__ import annotations

import copy
import email.parser
import json
import re
import sys
import threading
from collections.abc import Callable
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import SplitResult, parse_qs, unquote, urlsplit

from . import batch_update, discovery, drive, fieldmask, sheets, values
from .errors import ApiError
from .state import State
from .stats import Stats

SS = r"/v4/spreadsheets/(?P<sid>[^/:]+)"
FILE = r"/drive/v3/files/(?P<fid>[^/]+)"
# (HTTP method, path regex, discovery method id, handler name, writes?)
ROUTES = [
    ("POST", r"/v4/spreadsheets", "sheets.spreadsheets.create", "ss_create"),
    ("GET", SS, "sheets.spreadsheets.get", "ss_get"),
    ("POST", SS + ":batchUpdate", "sheets.spreadsheets.batchUpdate", "ss_batch_update"),
    ("GET", SS + r"/developerMetadata/(?P<mid>\d+)", "sheets.spreadsheets.developerMetadata.get", "dm_get"),
    ("GET", SS + "/values:batchGet", "sheets.spreadsheets.values.batchGet", "v_batch_get"),
    ("POST", SS + "/values:batchUpdate", "sheets.spreadsheets.values.batchUpdate", "v_batch_update"),
    ("POST", SS + "/values:batchClear", "sheets.spreadsheets.values.batchClear", "v_batch_clear"),
    ("POST", SS + "/values/(?P<range>.+):append", "sheets.spreadsheets.values.append", "v_append"),
    ("POST", SS + "/values/(?P<range>.+):clear", "sheets.spreadsheets.values.clear", "v_clear"),
    ("GET", SS + "/values/(?P<range>[^/]+)", "sheets.spreadsheets.values.get", "v_get"),
    ("PUT", SS + "/values/(?P<range>[^/]+)", "sheets.spreadsheets.values.update", "v_update"),
    ("GET", r"/drive/v3/files", "drive.files.list", "f_list"),
    ("POST", r"/drive/v3/files", "drive.files.create", "f_create"),
    ("POST", r"/upload/drive/v3/files", "drive.files.create", "f_upload"),
    ("GET", FILE + "/export", "drive.files.export", "f_export"),
    ("GET", FILE + "/comments", "drive.comments.list", "f_comments"),
    ("POST", FILE + "/copy", "drive.files.copy", "f_copy"),
    ("POST", FILE + "/permissions", "drive.permissions.create", "p_create"),
    ("GET", FILE + "/permissions", "drive.permissions.list", "p_list"),
    ("GET", FILE + "/revisions", "drive.revisions.list", "r_list"),
    ("GET", FILE, "drive.files.get", "f_get"),
    ("PATCH", FILE, "drive.files.update", "f_update"),
    ("DELETE", FILE, "drive.files.delete", "f_delete"),
]
_COMPILED = [(m, re.compile(p + "$"), mid, h) for m, p, mid, h in ROUTES]
SHEETS_WRITES = {"ss_batch_update", "v_batch_update", "v_batch_clear", "v_append", "v_clear", "v_update"}
INVALID_CREDENTIALS = ("Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie "
                       "or other valid authentication credential. "
                       "See https://developers.google.com/identity/sign-in/web/devconsole-project.")
_USER = re.compile(r"^\s*(?:(?P<name>[^<]*?)\s*<(?P<email>[^>]+)>|(?P<bare>\S+@\S+))\s*$")


class Handlers:
    """Route targets: each takes (match groups, params, body, user) under the state lock."""

    def __init__(self, state: State):
        self.state = state

    def ss_create(self, g, p, body, user):
        return sheets.create(self.state, body or {}, user)

    def ss_get(self, g, p, body, user):
        return sheets.get(self.state.spreadsheet(g["sid"]), p)

    def ss_batch_update(self, g, p, body, user):
        return batch_update.run(self.state.spreadsheet(g["sid"]), body or {}, user)

    def dm_get(self, g, p, body, user):
        found = self.state.spreadsheet(g["sid"]).developer_metadata.get(int(g["mid"]))
        if found is None:
            raise ApiError(404, f"No developer metadata with ID: {g['mid']}")
        return copy.deepcopy(found)

    def v_batch_get(self, g, p, body, user):
        return values.batch_get(self.state.spreadsheet(g["sid"]), p)

    def v_batch_update(self, g, p, body, user):
        return values.batch_update(self.state.spreadsheet(g["sid"]), p, body or {})

    def v_batch_clear(self, g, p, body, user):
        return values.batch_clear(self.state.spreadsheet(g["sid"]), body or {})

    def v_append(self, g, p, body, user):
        return values.append(self.state.spreadsheet(g["sid"]), g["range"], p, body or {})

    def v_clear(self, g, p, body, user):
        ss = self.state.spreadsheet(g["sid"])
        return {"spreadsheetId": ss.id, "clearedRange": values.clear(ss, g["range"])}

    def v_get(self, g, p, body, user):
        return values.get(self.state.spreadsheet(g["sid"]), g["range"], p)

    def v_update(self, g, p, body, user):
        return values.update(self.state.spreadsheet(g["sid"]), g["range"], p, body or {})

    def f_list(self, g, p, body, user):
        return drive.list_files(self.state, p)

    def f_create(self, g, p, body, user):
        return drive.create(self.state, body or {}, p, user)

    def f_upload(self, g, p, body, user):
        meta, content = body if isinstance(body, tuple) else ({}, b"")
        return drive.create(self.state, meta, p, user, content)

    def f_export(self, g, p, body, user):
        return drive.export(self.state, g["fid"], p)

    def f_comments(self, g, p, body, user):
        self.state.file(g["fid"])
        return {"comments": []}

    def f_copy(self, g, p, body, user):
        return drive.copy_file(self.state, g["fid"], body or {}, p, user)

    def p_create(self, g, p, body, user):
        return drive.create_permission(self.state, g["fid"], body or {}, p)

    def p_list(self, g, p, body, user):
        return drive.list_permissions(self.state, g["fid"], p)

    def r_list(self, g, p, body, user):
        return drive.list_revisions(self.state, g["fid"], p)

    def f_get(self, g, p, body, user):
        return drive.get(self.state, g["fid"], p)

    def f_update(self, g, p, body, user):
        return drive.update(self.state, g["fid"], body or {}, p, user)

    def f_delete(self, g, p, body, user):
        drive.delete(self.state, g["fid"])
        return None


def _parse_multipart(ctype: str, raw: bytes) -> tuple[dict, bytes]:
    msg = email.parser.BytesParser().parsebytes(b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + raw)
    payload = msg.get_payload() if msg.is_multipart() else []  # a multipart message's payload: its parts
    parts = [p for p in payload if isinstance(p, Message)] if isinstance(payload, list) else []
    meta = json.loads(_decoded(parts[0]) or b"{}") if parts else {}
    content = _decoded(parts[1]) if len(parts) > 1 else b""
    return meta, content


def _caller(state: State, token: str, default: str) -> str:
    """Who a request is from: ``default`` (the X-Double-User header, else the default user), or
    when acting as Google the user the bearer token was given to (401 for a token nobody was)."""
    if state.tokens is None:
        return default
    user = state.tokens.get(token, "")
    if not user:
        raise ApiError(401, INVALID_CREDENTIALS, details=[{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                                                           "reason": "ACCESS_TOKEN_TYPE_UNSUPPORTED",
                                                           "domain": "googleapis.com"}])
    return user


def _decoded(part: Message) -> bytes:
    """A MIME part's body, its transfer encoding undone."""
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


class _Dropped(Exception):
    """A request hook dropped the request: no answer, connection closed."""


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a client killed mid-request (kill tests)
            super().handle_error(request, client_address)


Control = Callable[[str, str, bytes], tuple[int, Any]]


def make_handler(state: State, stats: Stats, control: Control) -> type[BaseHTTPRequestHandler]:
    """A request handler class bound to this double's state, counters and control endpoint."""
    return type("Handler", (_Handler,), {"state": state, "stats": stats, "control": control,
                                         "handlers": Handlers(state)})


def _route(verb: str, path: str) -> tuple[re.Match[str], str, str] | None:
    """(path match, method ID, handler name) of the API method a request names; None: no such method."""
    for method, rx, method_id, name in _COMPILED:
        m = rx.match(path)
        if m and method == verb:
            return m, method_id, name
    return None


def _encoded(payload: Any) -> bytes:
    """A response body: bytes as they are, anything else as indented JSON."""
    if payload is None:
        return b""
    if isinstance(payload, bytes):
        return payload
    text = json.dumps(payload, ensure_ascii=False, indent=2)
    try:
        return text.encode()
    except UnicodeEncodeError:  # a lone surrogate a client stored: JSON escapes it, as Google's would
        return json.dumps(payload, indent=2).encode()


def _request_body(api: str, method_id: str, name: str, ctype: str, raw: bytes) -> Any:
    """The request's body, checked against the discovery document: an upload's (metadata, media),
    else its JSON; None when it has none."""
    if name == "f_upload":
        body = _parse_multipart(ctype, raw) if "multipart" in ctype else ({}, raw)
        discovery.validate_body(api, method_id, body[0])
        return body
    if not raw.strip():
        return None
    try:
        parsed = json.loads(raw)
    except ValueError as exc:
        raise ApiError(400, f"Invalid JSON payload received. {exc}.") from None
    discovery.validate_body(api, method_id, parsed)
    return parsed


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    wbufsize = 1 << 16  # one write per response: avoids Nagle + delayed-ACK stalls
    disable_nagle_algorithm = True
    # Set by make_handler on the class it makes.
    state: State
    stats: Stats
    control: Control
    handlers: Handlers

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass

    def _send(self, code: int, payload: Any, ctype: str = "application/json; charset=UTF-8") -> None:
        data = _encoded(payload)
        self.send_response(code)
        self.send_header("Content-Type", ctype if payload is not None else "text/html")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> bytes:
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _user(self) -> str:
        m = _USER.match(self.headers.get("X-Double-User") or "")
        if not m:
            return self.state.default_user
        return m.group("email") or m.group("bare")

    def _dispatch(self, verb: str) -> None:
        url = urlsplit(self.path)
        raw = self._body()
        if url.path.startswith("/__double__/"):
            code, payload = self.control(verb, url.path[len("/__double__/"):], raw)
            return self._send(code, payload)
        found = _route(verb, url.path)
        if found is None:
            return self._send(404, ApiError(404, f"Method not found: {verb} {url.path}").body())
        m, method_id, name = found
        api = method_id.split(".")[0]
        self.stats.count(method_id)
        try:
            self._send_result(*self._run(api, method_id, name, m, url, raw))
        except ApiError as err:
            self._send(err.code, err.body())
        except _Dropped:
            self.close_connection = True

    def _run(self, api: str, method_id: str, name: str, m: re.Match[str], url: SplitResult,
             raw: bytes) -> tuple[int, Any, str | None]:
        auth = self.headers.get("Authorization") or ""
        if not auth.lower().startswith("bearer ") or not auth[7:].strip():
            raise ApiError(401, details=[{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                                          "reason": "CREDENTIALS_MISSING",
                                          "domain": "googleapis.com"}])
        user = _caller(self.state, auth[7:].strip(), self._user())
        injected = self.stats.take_injection(method_id)
        if injected is not None:
            raise injected
        groups = {k: unquote(v) for k, v in m.groupdict().items()}
        query = {k: v for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        params = discovery.validate_params(api, method_id, query, tuple(groups))
        body = _request_body(api, method_id, name, self.headers.get("Content-Type") or "", raw)
        if self.stats.run_hooks(method_id, body, applied=False):
            raise _Dropped()  # as if the connection broke before Google got the request
        with self.state.lock:
            self.state.acting = user if self.state.tokens is not None else None
            try:
                result = getattr(self.handlers, name)(groups, params, body, user)
            finally:
                self.state.acting = None
            if name in SHEETS_WRITES or name == "ss_create":
                sid = groups.get("sid") or (result or {}).get("spreadsheetId")
                self.state.touch(sid, user)
        self.stats.run_hooks(method_id, body, applied=True)  # applied; the client has not heard back yet
        if api == "sheets" and params.get("fields") and isinstance(result, dict):
            result = fieldmask.apply(result, fieldmask.parse(params["fields"]))
            if method_id == "sheets.spreadsheets.get":
                result = sheets.trim_grid(result)
        if name == "f_delete":
            return 204, None, None
        if name == "f_export":
            return 200, result[0], result[1]
        return 200, result, None

    def _send_result(self, code: int, payload: Any, ctype: str | None) -> None:
        if ctype:
            self._send(code, payload, ctype)
        else:
            self._send(code, payload)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")


class Server:
    """A ThreadingHTTPServer on 127.0.0.1 serving in a daemon thread."""

    def __init__(self, state: State, stats: Stats, control: Control, port: int = 0):
        self.httpd = _QuietServer(("127.0.0.1", port), make_handler(state, stats, control))
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                       name="google-api-double", daemon=True)

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}"  # (bound there in __init__)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)
