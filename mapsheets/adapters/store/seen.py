"""Per person and plan, the revision they last looked at: what the sidebar's "what changed" starts from."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mapsheets.adapters.store.connect import guarded as _guarded
from mapsheets.adapters.store.records import RevisionRecord
from mapsheets.errors import NotFound


class SeenStoreMixin:
    """Mixed into Store; uses its ``_sa``, ``_t``, ``_tx``, ``_plan_id`` and ``_revision``."""

    _sa: Any
    _t: Any

    @_guarded
    def last_seen(self, ref: str, email: str) -> RevisionRecord | None:
        """The revision ``email`` last looked at (None: never, or it was deleted)."""
        sa, t = self._sa, self._t
        ls, r = t.last_seen, t.revisions
        with self._tx() as conn:
            plan_id = self._plan_id(conn, ref)
            if plan_id is None:
                return None
            row = conn.execute(sa.select(r).join(ls, ls.c.revision_id == r.c.id)
                               .where(ls.c.plan_id == plan_id, ls.c.email == email.lower())).first()
        return self._revision(row, ref) if row is not None else None

    @_guarded
    def set_last_seen(self, ref: str, email: str, revision_id: int, at: datetime) -> None:
        sa, ls = self._sa, self._t.last_seen
        with self._tx(write=True) as conn:
            plan_id = self._plan_id(conn, ref)
            if plan_id is None:
                raise NotFound(f"{ref} is not registered in the state store")
            key = (ls.c.plan_id == plan_id) & (ls.c.email == email.lower())
            if conn.execute(sa.update(ls).where(key).values(revision_id=revision_id, seen_at=at)).rowcount == 0:
                conn.execute(sa.insert(ls).values(plan_id=plan_id, email=email.lower(),
                                                  revision_id=revision_id, seen_at=at))
