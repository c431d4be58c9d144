"""Real servers on loopback for the tests: a free port, and an SMTP server (aiosmtpd) around a handler."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def free_port() -> int:
    """A port nothing listens on now (aiosmtpd checks its port by connecting, so port 0 won't do)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def smtp_server(handler: Any, controller: type | None = None, **kwargs: Any) -> Iterator[Any]:
    """``handler`` serving SMTP on 127.0.0.1 until the block ends; its ``url`` is set to reach it."""
    from aiosmtpd.controller import Controller

    port = free_port()
    running = (controller or Controller)(handler, hostname="127.0.0.1", port=port, **kwargs)
    running.start()
    handler.url = f"smtp://127.0.0.1:{port}"
    try:
        yield handler
    finally:
        running.stop()
