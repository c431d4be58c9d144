"""Where the store lives (URL, default path) and how to open it safely (engine, SQLite locking)."""

from __future__ import annotations

import functools

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
        folder.mkdir(parents=True, exist_ok=True)
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


def _sqlite_events(sa: Any, engine: Any) -> None:
    """WAL (readers never block the writer), foreign keys, and our own BEGIN (IMMEDIATE for writes)."""

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # pysqlite must not issue BEGIN/COMMIT behind our back
        cursor = dbapi_conn.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_S * 1000}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn):
        # Taking the write lock at BEGIN avoids WAL's "database is locked" on a read→write upgrade,
        # which the busy timeout cannot wait out; it also serialises writers of one plan.
        write = conn.get_execution_options().get("mapsheets_write")
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def _guarded(method):
    """Database failures become one-line StoreErrors naming the (masked) URL."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except self._sa.exc.SQLAlchemyError as exc:
            raise StoreError(f"cannot use the state store {self.url}: {self._reason(exc)}") from None

    return wrapper
