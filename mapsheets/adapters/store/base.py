"""What every repository of a Store stands on: one engine per Store, its tables, one transaction per
operation, and database failures turned into one-line StoreErrors.

A repository (plans, revisions, audit, digests ...) owns the statements of its tables and nothing
else; they all share the ``Database`` their Store opened, so a Store still has one engine per URL.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from types import SimpleNamespace
from typing import Any, Concatenate, ParamSpec, TypeVar

from mapsheets.adapters.store import schema
from mapsheets.adapters.store.connect import mask_url, open_engine
from mapsheets.errors import NotFound, StoreError

P = ParamSpec("P")
R = TypeVar("R")
Repo = TypeVar("Repo", bound="Repository")


class Database:
    """The engine at one URL (nothing connects yet); every repository of a Store uses this one."""

    def __init__(self, raw: str) -> None:
        import sqlalchemy

        self.url = mask_url(raw)  # the only form of the URL that may appear in messages
        self.sa: Any = sqlalchemy
        self.tables: SimpleNamespace = schema.tables()
        self.engine, self._password = open_engine(raw, self.url)
        self.dialect: str = self.engine.dialect.name

    @contextmanager
    def tx(self, write: bool = False) -> Iterator[Any]:
        """One transaction; on SQLite a writing one takes the write lock up front (BEGIN IMMEDIATE)."""
        with self.engine.connect() as conn:
            if write:
                conn = conn.execution_options(mapsheets_write=True)
            with conn.begin():
                yield conn

    def reason(self, exc: Exception) -> str:
        """The first line of what the database said, any password masked."""
        orig = getattr(exc, "orig", None) or exc
        lines = str(orig).strip().splitlines()
        text = lines[0].strip() if lines else orig.__class__.__name__
        return text.replace(self._password, "***") if self._password else text


class Repository:
    """Base of the Store and of each repository: the members their methods use, declared once."""

    url: str  # masked
    _db: Database
    _sa: Any  # the sqlalchemy module, imported when the store was opened
    _t: SimpleNamespace  # schema.tables()

    def __init__(self, db: Database) -> None:
        self._db, self.url, self._sa, self._t = db, db.url, db.sa, db.tables

    def _tx(self, write: bool = False) -> AbstractContextManager[Any]:
        return self._db.tx(write)

    def _plan_id(self, conn: Any, ref: str, *, lock: bool = False) -> int | None:
        query = self._sa.select(self._t.plans.c.id).where(self._t.plans.c.ref == ref)
        # FOR UPDATE serialises writers of one plan on PostgreSQL; SQLite ignores it (BEGIN IMMEDIATE).
        found: int | None = conn.execute(query.with_for_update() if lock else query).scalar()
        return found

    def _required_plan(self, conn: Any, ref: str, *, lock: bool = False) -> int:
        plan_id = self._plan_id(conn, ref, lock=lock)
        if plan_id is None:
            raise NotFound(f"{ref} is not registered in the state store")
        return plan_id


def guarded(method: Callable[Concatenate[Repo, P], R]) -> Callable[Concatenate[Repo, P], R]:
    """Database failures become one-line StoreErrors naming the (masked) URL."""

    @functools.wraps(method)
    def wrapper(self: Repo, /, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(self, *args, **kwargs)
        except self._sa.exc.SQLAlchemyError as exc:
            raise StoreError(f"cannot use the state store {self.url}: {self._db.reason(exc)}") from None

    return wrapper


def require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (got naive {value!r})")
