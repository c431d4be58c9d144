"""One Store per URL per process: the engine is made (and the schema checked) once, disposed at exit.

Every service call used to open its own Store: a new engine and a migration check each time, never
closed. ``shared(url)`` hands out the same Store for the same URL from any thread; each operation
still takes its own connection. A SQLite file that was deleted or replaced since (a restore, a
test's fresh file) gets a Store of its own, so nothing is written into a file no one can see. Only
the few stores used last stay open (a process going through many stores, like the test suite, does
not hold a file or a server connection for each); one closed early reconnects when used again.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections import OrderedDict
from typing import Any

from mapsheets.adapters.store.connect import default_url
from mapsheets.adapters.store.store import Store

KEEP = 8  # stores kept open at once
_STORES: OrderedDict[str, tuple[Store, Any]] = OrderedDict()  # raw URL -> (store, its SQLite file's identity)
_GUARD = threading.Lock()


def shared(url: str | None = None) -> Store:
    """The process's Store at ``url`` (default: MAPSHEETS_DB, else the per-user SQLite file)."""
    raw = url if url is not None else default_url(os.environ)
    with _GUARD:  # one engine per URL even when threads ask at once
        held = _STORES.get(raw)
        if held is not None and held[1] == _identity(held[0]):
            _STORES.move_to_end(raw)
            return held[0]
        store = Store(raw)
        _STORES[raw] = (store, _identity(store))
        _STORES.move_to_end(raw)
        closing = [held[0]] if held is not None else []  # its file is gone: nothing more to keep open
        while len(_STORES) > KEEP:
            closing.append(_STORES.popitem(last=False)[1][0])
    for old in closing:
        old.close()  # its pooled connections only: a holder of it can still use it
    return store


def open_store(url: str | None = None) -> Store:
    """The state store at ``url`` (default: MAPSHEETS_DB, else the per-user SQLite file): one per URL
    per process, its engine made once and disposed at exit (``shared``)."""
    return shared(url)


def _identity(store: Store) -> Any:
    """(device, inode) of a SQLite store's file, None for a server (or a file not there)."""
    path = store.sqlite_path
    if path is None:
        return None
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_dev, stat.st_ino


def close_all() -> None:
    """Dispose of every shared engine (at exit: PostgreSQL sees its connections closed, not dropped)."""
    with _GUARD:
        held = list(_STORES.values())
        _STORES.clear()
    for store, _ in held:
        store.close()


def _after_fork() -> None:
    # A child (multiprocessing, a pre-forking server) must not use the parent's pooled connections:
    # drop them without closing what the parent still uses, and start with no shared stores.
    for store, _ in _STORES.values():
        store.forget_connections()
    _STORES.clear()
    global _GUARD
    _GUARD = threading.Lock()


atexit.register(close_all)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)
