"""The outbox's 4xx count: migration 7 on a store that already has digests pending, and the limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from mapsheets.adapters.store import MIGRATIONS, Store
from mapsheets.adapters.store.schema import tables

REF = "/plans/acme-map.xlsx"
NOW = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


def test_migration_7_keeps_pending_digests_and_counts_their_4xx_from_zero(store_url):
    import sqlalchemy as sa

    t = tables()
    engine = sa.create_engine(store_url)
    try:
        with engine.begin() as conn:  # a version-6 store with one digest pending, tried twice already
            t.metadata.create_all(conn, tables=[t.schema_version])
            for number, name, step in MIGRATIONS[:6]:
                step(conn, t)
                conn.execute(sa.insert(t.schema_version).values(version=number, name=name, applied_at=NOW))
            conn.exec_driver_sql(f"INSERT INTO plans (id, ref, backend, title, created_at) "
                                 f"VALUES (1, '{REF}', 'xlsx', 'Acme', '2026-12-01 09:00:00')")
            conn.exec_driver_sql("INSERT INTO subscriptions (id, plan_id, email, every, only_changes, created_at) "
                                 "VALUES (1, 1, 'a@acme.example', 'daily', false, '2026-12-01 09:00:00')")
            conn.exec_driver_sql("INSERT INTO deliveries (subscription_id, message_id, to_revision_id, created_at, "
                                 "status, attempts, last_error, message) VALUES (1, '<m@x>', 1, "
                                 "'2026-12-01 09:00:00', 'pending', 2, 'SMTP: connection refused', 'x')")
    finally:
        engine.dispose()
    with Store(store_url) as store:
        assert store.applied == [number for number, _name, _step in MIGRATIONS[6:]]  # 7 and any later one
        [pending] = store.digests.pending_deliveries()
        assert store.digests.pending_subscriptions() == {1}
        # Two runs the server was down do not count: two 4xx answers are not yet three.
        for run in range(2):
            assert store.digests.claim_delivery(pending, NOW + timedelta(days=run))
            assert store.digests.defer_delivery(pending, "450 4.2.1 busy", NOW + timedelta(days=run), limit=3) is None
        assert store.digests.claim_delivery(pending, NOW + timedelta(days=2))
        reason = store.digests.defer_delivery(pending, "450 4.2.1 busy", NOW + timedelta(days=2), limit=3)
        assert reason == "450 4.2.1 busy (still refused after 3 runs)"
        assert store.digests.pending_deliveries() == [] and store.digests.pending_subscriptions() == set()
        [sub] = store.digests.subscriptions(REF)
        assert (sub.bounce_reason, sub.bounced_at, sub.delivered_at) == (reason, NOW + timedelta(days=2), None)
