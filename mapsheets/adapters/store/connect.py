"""Where the store lives (URL, default path) and how to open it safely (engine, SQLite locking)."""

from __future__ import annotations

import functools
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mapsheets.errors import StoreError

ENV_VAR = "MAPSHEETS_DB"
BUSY_TIMEOUT_S = 30  # SQLite: a writer waits this long for another process instead of failing
CONNECT_TIMEOUT_S = 10  # PostgreSQL: an unroutable host fails in seconds, not minutes
_SUPPORTED = ("sqlite", "sqlite+pysqlite", "postgresql+psycopg")
_EXPECTED = "sqlite:///PATH or postgresql+psycopg://USER@HOST/DB"


def default_url(env: Mapping[str, str]) -> str:
    """``MAPSHEETS_DB`` if set, else SQLite at ``state.db`` in the per-user data folder (created)."""
    if env.get(ENV_VAR, "").strip():
        return env[ENV_VAR].strip()
    folder = data_dir(env)
    try:
        # 0700: the store and the outbox beside it hold every plan's text. A folder an older
        # mapsheets made 0755 is tightened (it is ours).
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        if folder.stat().st_mode & 0o077:
            folder.chmod(0o700)
    except OSError as exc:
        raise StoreError(f"cannot create the state store folder {folder}: {exc.strerror or exc}") from None
    return f"sqlite:///{folder / 'state.db'}"


def data_dir(env: Mapping[str, str]) -> Path:
    """mapsheets' per-user data folder, where platformdirs puts it: ~/Library/Application Support/
    mapsheets on macOS, %LOCALAPPDATA%\\mapsheets on Windows, $XDG_DATA_HOME/mapsheets elsewhere."""
    if sys.platform in ("darwin", "win32"):
        import platformdirs

        return Path(platformdirs.user_data_dir("mapsheets", appauthor=False))
    # platformdirs' XDG rule, read from ``env`` rather than os.environ so callers can pass their own.
    xdg = env.get("XDG_DATA_HOME", "")
    home = Path(env["HOME"]) if env.get("HOME") else Path.home()
    # The XDG spec says a relative XDG_DATA_HOME is invalid and must be ignored.
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else home / ".local" / "share"
    return base / "mapsheets"


def mask_url(url: str) -> str:
    """The URL fit for a message: any password replaced by ``***``."""
    from sqlalchemy import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not even parseable: mask whatever sits between ':' and '@'
        return re.sub(r"(?<=:)[^:@/]*(?=@)", "***", url)


def open_engine(raw: str, masked: str) -> tuple[Any, str]:
    """(engine, password) for a URL; unusable URLs raise StoreError. Nothing connects yet."""
    import sqlalchemy as sa

    try:
        url = sa.make_url(raw)
    except (sa.exc.ArgumentError, ValueError):  # ValueError: e.g. a port that is not a number
        raise StoreError(f"invalid state store URL {masked or '(empty)'} (expected {_EXPECTED})") from None
    if url.drivername in ("postgres", "postgresql"):
        url = url.set(drivername="postgresql+psycopg")  # the driver we ship, not SQLAlchemy's psycopg2
    if url.drivername not in _SUPPORTED:
        raise StoreError(f"unsupported state store URL {masked}: use {_EXPECTED}")
    if url.get_backend_name() == "sqlite":
        _sqlite_file(url, masked)
    try:
        if url.get_backend_name() == "sqlite":
            engine = sa.create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_S})
            _sqlite_events(sa, engine)
        else:
            args = {} if "connect_timeout" in url.query else {"connect_timeout": CONNECT_TIMEOUT_S}
            engine = sa.create_engine(url, connect_args=args, pool_pre_ping=True)
    except ImportError as exc:
        raise StoreError(f"cannot use the state store {masked}: {exc} "
                         "(install with: pip install 'mapsheets[postgres]')") from None
    return engine, url.password or ""


def _sqlite_file(url: Any, masked: str) -> None:
    """Refuse a URL that would keep the store in memory (``sqlite:///`` is what ``sqlite:///$UNSET``
    becomes): every command would report success and keep nothing. Create a new file 0600."""
    name = (url.database or "").strip()
    if not name or name == ":memory:" or name.startswith("file::memory:") or url.query.get("mode") == "memory":
        raise StoreError(f"the state store URL {masked or '(empty)'} names no file, so nothing would be kept "
                         "(an empty variable in sqlite:///$VAR?): use sqlite:///PATH")
    if name.startswith("file:"):  # a URI filename (?uri=true): SQLite's to open
        return
    try:  # SQLite gives its -wal, -shm and -journal files the database file's mode
        os.close(os.open(name, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except OSError:  # it exists, or its folder does not: SQLite says so on connect
        pass


def _sqlite_events(sa: Any, engine: Any) -> None:
    """WAL (readers never block the writer), foreign keys, and our own BEGIN (IMMEDIATE for writes)."""

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # pysqlite must not issue BEGIN/COMMIT behind our back
        cursor = dbapi_conn.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_S * 1000}")
        _wal(cursor)
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn):
        # Taking the write lock at BEGIN avoids WAL's "database is locked" on a read→write upgrade,
        # which the busy timeout cannot wait out; it also serialises writers of one plan.
        write = conn.get_execution_options().get("mapsheets_write")
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def _wal(cursor: Any) -> None:
    """``PRAGMA journal_mode = WAL``, waiting for another process that is setting up the same new
    database. Converting reads the file, then takes the write lock; SQLite never waits (busy
    timeout or not) when a reader asks for the write lock another process holds, so two processes
    opening a new store at once used to fail with "database is locked"."""
    import random
    import sqlite3
    import time

    deadline, pause = time.monotonic() + BUSY_TIMEOUT_S, 0.002
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
        time.sleep(pause * (0.5 + random.random()))  # jittered, so two waiters do not collide again
        pause = min(pause * 2, 0.1)


def guarded(method):
    """Database failures become one-line StoreErrors naming the (masked) URL."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except self._sa.exc.SQLAlchemyError as exc:
            raise StoreError(f"cannot use the state store {self.url}: {self._reason(exc)}") from None

    return wrapper
