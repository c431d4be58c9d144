"""The state store: registered plans, their revisions (snapshots), signatures and an audit log.

SQLAlchemy 2 Core on SQLite (the default: one file per user, see ``default_url``) or PostgreSQL
through psycopg 3 (teams running several backend instances). This package is the only place that
imports SQLAlchemy, and only when a store is opened, so ``mapsheets --help`` stays fast. Nothing
SQLAlchemy leaks out: the API speaks plain dataclasses (``records``).

    store = Store(default_url(os.environ))       # migrates on open
    store.register_plan(ref, "xlsx", plan.title)
    rev, created = store.add_revision(ref, plan.to_dict(), plan.fingerprint(), taken_at=now, ...)
"""

from mapsheets.adapters.store.connect import ENV_VAR, default_url, mask_url
from mapsheets.adapters.store.digests import PERIODS, DeliveryRecord, SubscriptionRecord
from mapsheets.adapters.store.records import (
    EventRecord,
    PlanRecord,
    RevisionRecord,
    SignatureRecord,
    canonical_json,
)
from mapsheets.adapters.store.schema import MIGRATIONS
from mapsheets.adapters.store.store import Store

__all__ = [
    "ENV_VAR", "MIGRATIONS", "PERIODS", "DeliveryRecord", "EventRecord", "SubscriptionRecord", "PlanRecord", "RevisionRecord", "SignatureRecord", "Store",
    "canonical_json", "default_url", "mask_url",
]
