"""The Store: the entry object over one engine, handing out a repository per group of tables."""

from __future__ import annotations

import os

from mapsheets.adapters.store import schema
from mapsheets.adapters.store.audit import AuditRepository
from mapsheets.adapters.store.base import Database, Repository, guarded
from mapsheets.adapters.store.connect import default_url
from mapsheets.adapters.store.crm_links import CrmLinkRepository
from mapsheets.adapters.store.digests import DigestRepository
from mapsheets.adapters.store.history import HistoryRepository
from mapsheets.adapters.store.plans import PlanRepository
from mapsheets.adapters.store.revisions import RevisionRepository
from mapsheets.adapters.store.seen import SeenRepository
from mapsheets.adapters.store.signatures import SignatureRepository
from mapsheets.adapters.store.sources import SourceRepository


class Store(Repository):
    """The state store at a SQLAlchemy URL (default: ``default_url(os.environ)``); migrates on open.

    ``plans``, ``revisions``, ``signatures``, ``audit``, ``digests``, ``sources``, ``last_seen`` and
    ``crm_links``, ``history`` each own their tables' statements; all share this Store's engine.
    """

    def __init__(self, url: str | None = None) -> None:
        raw = url if url is not None else default_url(os.environ)
        db = Database(raw)
        super().__init__(db)
        self.dialect: str = db.dialect
        self.plans = PlanRepository(db)
        self.revisions = RevisionRepository(db)
        self.signatures = SignatureRepository(db)
        self.audit = AuditRepository(db)
        self.digests = DigestRepository(db)
        self.sources = SourceRepository(db)
        self.last_seen = SeenRepository(db)
        self.crm_links = CrmLinkRepository(db)
        self.history = HistoryRepository(db)
        try:
            self.applied: list[int] = self._migrate()  # versions this open applied (usually none)
        except BaseException:
            db.engine.dispose()
            raise

    def close(self) -> None:
        """Close its pooled connections (the Store stays usable: the next operation reconnects)."""
        self._db.engine.dispose()

    def forget_connections(self) -> None:
        """In a forked child: drop the parent's pooled connections without closing them."""
        self._db.engine.dispose(close=False)

    @property
    def sqlite_path(self) -> str | None:
        """The SQLite database file, None for a server or a URI filename."""
        name: str | None = self._db.engine.url.database if self.dialect == "sqlite" else None
        return None if not name or name.startswith("file:") else name

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.url!r})"

    @guarded
    def check_writable(self) -> None:
        """StoreError now, not after the sheet was written, if the store cannot take writes (a
        read-only file, folder or server): a write that touches nothing, rolled back."""
        with self._db.engine.connect() as conn:
            conn = conn.execution_options(mapsheets_write=True)
            tx = conn.begin()
            try:
                conn.execute(self._sa.delete(self._t.events).where(self._sa.false()))
            finally:
                tx.rollback()

    @property
    def version(self) -> int:
        """The schema version of the database."""
        return self._version()

    @guarded
    def _version(self) -> int:
        with self._tx() as conn:
            return schema.version(conn)

    @guarded
    def _migrate(self) -> list[int]:
        with self._tx() as conn:  # the common case: up to date, no lock taken
            if schema.version(conn) == schema.LATEST:
                return []
        with self._tx(write=True) as conn:
            return schema.migrate(conn, self.url)
