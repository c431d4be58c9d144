"""Per plan, the CRM record it belongs to (`crm link`) and the fields `crm push` last wrote there,
so a push with nothing changed sends nothing."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mapsheets.adapters.store.base import Repository, guarded
from mapsheets.errors import NotFound


@dataclass(frozen=True)
class CrmLinkRecord:
    ref: str
    crm: str  # salesforce or hubspot
    record_id: str
    linked_at: datetime
    pushed: dict[str, Any] | None  # field -> value as last written; None: never pushed
    pushed_at: datetime | None


class CrmLinkRepository(Repository):
    """``store.crm_links``."""

    @guarded
    def link(self, ref: str, crm: str, record_id: str, at: datetime) -> None:
        """Link the (registered) plan ``ref`` to a CRM record; another record forgets what was pushed."""
        sa, c = self._sa, self._t.crm_links
        with self._tx(write=True) as conn:
            plan_id = self._plan_id(conn, ref)
            if plan_id is None:
                raise NotFound(f"{ref} is not registered in the state store")
            row = conn.execute(sa.select(c).where(c.c.plan_id == plan_id)).first()
            if row is None:
                conn.execute(sa.insert(c).values(plan_id=plan_id, crm=crm, record_id=record_id, linked_at=at))
            elif (row.crm, row.record_id) != (crm, record_id):
                conn.execute(sa.update(c).where(c.c.plan_id == plan_id).values(
                    crm=crm, record_id=record_id, linked_at=at, pushed=None, pushed_at=None))

    @guarded
    def of(self, ref: str | None = None) -> list[CrmLinkRecord]:
        """Every plan's CRM link (or ``ref``'s only), by plan ref."""
        sa, c, p = self._sa, self._t.crm_links, self._t.plans
        query = sa.select(c, p.c.ref).join(p, p.c.id == c.c.plan_id).order_by(p.c.ref)
        if ref is not None:
            query = query.where(p.c.ref == ref)
        with self._tx() as conn:
            rows = conn.execute(query).all()
        return [CrmLinkRecord(r.ref, r.crm, r.record_id, r.linked_at, json.loads(r.pushed) if r.pushed else None,
                              r.pushed_at) for r in rows]

    @guarded
    def set_pushed(self, ref: str, pushed: dict[str, Any], at: datetime) -> None:
        sa, c = self._sa, self._t.crm_links
        with self._tx(write=True) as conn:
            plan_id = self._plan_id(conn, ref)
            conn.execute(sa.update(c).where(c.c.plan_id == plan_id).values(
                pushed=json.dumps(pushed, sort_keys=True), pushed_at=at))
