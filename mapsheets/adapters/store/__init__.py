"""The state store: registered plans, their revisions (snapshots), signatures and an audit log.

SQLAlchemy 2 Core on SQLite (the default: one file per user, see ``default_url``) or PostgreSQL
through psycopg 3 (teams running several backend instances). This package is the only place that
imports SQLAlchemy, and only when a store is opened, so ``mapsheets --help`` stays fast. Nothing
SQLAlchemy leaks out: the API speaks plain dataclasses (``records``).

    store = open_store()                 # MAPSHEETS_DB or the per-user file; one per URL; migrates on open
    store.plans.register(ref, "xlsx", plan.title)
    rev, created = store.revisions.add(ref, plan.to_dict(), plan.fingerprint(), taken_at=now, ...)
    store.audit.log("snapshot", ref=ref, actor="me")

Each group of tables is a repository on the Store (``plans``, ``revisions``, ``signatures``,
``audit``, ``digests``, ``sources``, ``last_seen``), all over the Store's one engine.
"""

from mapsheets.adapters.store.base import Repository
from mapsheets.adapters.store.connect import ENV_VAR, default_url, existing_url, mask_url, store_exists
from mapsheets.adapters.store.digests import PERIODS, DeliveryRecord, SubscriptionRecord
from mapsheets.adapters.store.records import (
    EventRecord,
    PlanRecord,
    RevisionRecord,
    SignatureRecord,
    canonical_json,
)
from mapsheets.adapters.store.schema import MIGRATIONS
from mapsheets.adapters.store.shared import open_store
from mapsheets.adapters.store.store import Store

__all__ = [
    "ENV_VAR", "MIGRATIONS", "PERIODS", "DeliveryRecord", "EventRecord", "PlanRecord", "Repository", "RevisionRecord",
    "SignatureRecord", "Store", "SubscriptionRecord", "canonical_json", "default_url", "existing_url", "mask_url",
    "open_store", "store_exists",
]
