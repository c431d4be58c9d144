"""Which plans are closed and archived (`mapsheets close`), as the audit log says: what the digest
run, the win/loss report and `close` itself ask, kept apart from closing so none of them imports the rest."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mapsheets.adapters.store import Store

ARCHIVED = "plan_archived"  # audit event: the deal closed (detail: outcome, closed_on, reason, message);
# outcome "" when the plan was re-opened


def closed_refs(store: Store) -> dict[str, dict[str, Any]]:
    """Closed plans by ref, with their outcome's detail: a plan re-opened since its last close is not archived."""
    return {ref: e.detail for ref, e in store.audit.latest(ARCHIVED).items() if e.detail.get("outcome")}
