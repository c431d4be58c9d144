"""Signatures recorded against a plan (who signed which fingerprint, on which side, when)."""

from __future__ import annotations

from datetime import datetime

from mapsheets.adapters.store.base import Repository, guarded, require_aware
from mapsheets.adapters.store.records import SignatureRecord, signature_record


class SignatureRepository(Repository):
    """``store.signatures``."""

    @guarded
    def record(self, ref: str, *, name: str, email: str, side: str, signed_at: datetime,
               fingerprint: str, revision_id: int | None = None) -> SignatureRecord:
        require_aware(signed_at, "signed_at")
        sa, s = self._sa, self._t.signatures
        with self._tx(write=True) as conn:
            plan_id = self._required_plan(conn, ref)
            new_id = conn.execute(sa.insert(s).values(
                plan_id=plan_id, name=name, email=email, side=side, signed_at=signed_at,
                fingerprint=fingerprint, revision_id=revision_id)).inserted_primary_key[0]
            row = conn.execute(sa.select(s).where(s.c.id == new_id)).one()
        return signature_record(row, ref)

    @guarded
    def of(self, ref: str) -> list[SignatureRecord]:
        """A plan's signatures, oldest first."""
        sa, t = self._sa, self._t
        s = t.signatures
        with self._tx() as conn:
            rows = conn.execute(sa.select(s).join(t.plans, t.plans.c.id == s.c.plan_id)
                                .where(t.plans.c.ref == ref).order_by(s.c.signed_at, s.c.id)).all()
        return [signature_record(row, ref) for row in rows]
