"""What the Salesforce and HubSpot doubles share: a threaded HTTP server on 127.0.0.1 that routes
(method, path regex) to a handler, counts requests by route, and fails the next ones on demand."""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


class Reply:
    """A response: status, JSON (or raw text) body, extra headers."""

    def __init__(self, status: int = 200, body: Any = None, headers: dict[str, str] | None = None,
                 content_type: str = "application/json") -> None:
        self.status, self.body, self.headers, self.content_type = status, body, headers or {}, content_type


class Request:
    def __init__(self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str],
                 raw: bytes) -> None:
        self.method, self.path, self.query, self.headers, self.raw = method, path, query, headers, raw

    def json(self) -> Any:
        return json.loads(self.raw or b"null")

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.raw.decode()).items()}


Handler = Callable[[Request, re.Match[str]], Reply]


class HttpDouble:
    """Subclasses fill ``routes`` with (method, regex, name, handler); ``start``/``stop`` or ``with``."""

    def __init__(self) -> None:
        self.routes: list[tuple[str, re.Pattern[str], str, Handler]] = []
        self.counts: Counter[str] = Counter()
        self.log: list[tuple[str, str]] = []  # (method, path with query) of every request, in order
        self.lock = threading.RLock()
        self._fail: list[tuple[str, int, Callable[[], Reply]]] = []  # route name or "*", times left, reply
        self._server: ThreadingHTTPServer | None = None

    def route(self, method: str, pattern: str, name: str, handler: Handler) -> None:
        self.routes.append((method, re.compile(pattern + "$"), name, handler))

    def fail_next(self, reply: Callable[[], Reply], count: int = 1, route: str = "*") -> None:
        """The next ``count`` requests to ``route`` get ``reply()`` instead of an answer."""
        with self.lock:
            self._fail.append((route, count, reply))

    @property
    def requests(self) -> int:
        return sum(self.counts.values())

    @property
    def root(self) -> str:
        assert self._server is not None, "start the double first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> HttpDouble:
        double = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                url = urlsplit(self.path)
                req = Request(self.command, url.path, parse_qs(url.query), dict(self.headers), raw)
                self._send(double.dispatch(req, self.path))

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _any

            def _send(self, reply: Reply) -> None:
                if reply.body is None:
                    data = b""
                elif isinstance(reply.body, (bytes, str)):
                    data = reply.body.encode() if isinstance(reply.body, str) else reply.body
                else:
                    data = json.dumps(reply.body).encode()
                self.send_response(reply.status)
                if data:
                    self.send_header("Content-Type", reply.content_type)
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> HttpDouble:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def dispatch(self, req: Request, full_path: str) -> Reply:
        for method, pattern, name, handler in self.routes:
            match = pattern.match(req.path)
            if match and method == req.method:
                with self.lock:
                    self.counts[name] += 1
                    self.log.append((req.method, full_path))
                    injected = self._injected(name)
                    if injected is not None:
                        return injected
                    return handler(req, match)
        return self.not_found(req)

    def not_found(self, req: Request) -> Reply:
        return Reply(404, {"message": f"no route {req.method} {req.path}"})

    def _injected(self, name: str) -> Reply | None:
        for i, (route, left, reply) in enumerate(self._fail):
            if route in ("*", name):
                if left <= 1:
                    del self._fail[i]
                else:
                    self._fail[i] = (route, left - 1, reply)
                return reply()
        return None
