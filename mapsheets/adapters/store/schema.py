"""Tables and migrations.

Migrations are a ``schema_version`` table plus the ordered ``MIGRATIONS`` list below, applied on
start in one transaction under a lock (PostgreSQL ``pg_advisory_xact_lock``; SQLite ``BEGIN
IMMEDIATE``), so two processes starting at once never migrate twice. Chosen over Alembic because we
need no autogenerate and no branches, the migrations must ship inside the package and run
unattended whenever a CLI user runs any command, and Alembic would bring an ini file, a script
folder and its own start-up cost for what is a list of functions. Later issues (digests, sidebar)
add their tables by appending a migration.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from mapsheets.errors import StoreError

_MIGRATION_LOCK = 0x6D617073686565  # PostgreSQL advisory lock key ("mapshee"), one for all migrations


@functools.cache
def tables() -> SimpleNamespace:
    """The current tables, built on first use so SQLAlchemy is imported only when a store is opened."""
    import sqlalchemy as sa

    utc = _utc_datetime(sa)

    def when() -> Any:
        return utc(timezone=True)

    t = SimpleNamespace(metadata=sa.MetaData(), when=when)
    _plan_tables(sa, t)
    _digest_tables(sa, t)
    _state_tables(sa, t)
    _history_tables(sa, t)
    return t


def _utc_datetime(sa: Any) -> Any:
    """A column type for aware UTC datetimes."""

    class UTCDateTime(sa.types.TypeDecorator):  # type: ignore[misc]  # sqlalchemy is Any to mypy
        """Aware UTC datetimes in and out; SQLite keeps naive text, so it gets the UTC wall time."""

        impl = sa.DateTime
        cache_ok = True

        def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
            if value is None:
                return None
            value = value.astimezone(UTC)
            return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

        def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
            if value is None:
                return None
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    return UTCDateTime


def _plan_tables(sa: Any, t: SimpleNamespace) -> None:
    """Plans, their revisions and signatures, the audit log, and the schema's version."""
    t.schema_version = sa.Table(
        "schema_version", t.metadata,
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("applied_at", t.when(), nullable=False),
    )
    t.plans = sa.Table(
        "plans", t.metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("ref", sa.Text, nullable=False, unique=True),  # absolute path or Google sheet ID
        sa.Column("backend", sa.String(40), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("created_at", t.when(), nullable=False),
    )
    t.revisions = sa.Table(
        "revisions", t.metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("plan_id", sa.ForeignKey("plans.id", ondelete="CASCADE"), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("taken_at", t.when(), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("content", sa.Text, nullable=False),  # canonical_json(plan dict)
        sa.Column("step_count", sa.Integer, nullable=False),
        sa.Column("done_count", sa.Integer, nullable=False),
        sa.Column("source", sa.Text, nullable=False),  # JSON: backend revision info
        # What stored it: snapshot | sign | digest | watch (NULL: stored before migration 3).
        sa.Column("origin", sa.String(20), nullable=True),
        sa.UniqueConstraint("plan_id", "seq", name="uq_revisions_plan_seq"),
    )
    t.signatures = sa.Table(
        "signatures", t.metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("plan_id", sa.ForeignKey("plans.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("email", sa.Text, nullable=False),
        sa.Column("side", sa.String(20), nullable=False),
        sa.Column("signed_at", t.when(), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("revision_id", sa.ForeignKey("revisions.id", ondelete="SET NULL"), nullable=True),
    )
    t.events = sa.Table(
        "events", t.metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("plan_id", sa.ForeignKey("plans.id", ondelete="CASCADE"), nullable=True),
        sa.Column("at", t.when(), nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("kind", sa.String(60), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),  # JSON object
        sa.Index("ix_events_plan_at", "plan_id", "at"),
    )


def _digest_tables(sa: Any, t: SimpleNamespace) -> None:
    """Who watches which plan, the outbox of digests, and subscribers refused for good."""
    t.subscriptions = sa.Table(
        "subscriptions", t.metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("plan_id", sa.ForeignKey("plans.id", ondelete="CASCADE"), nullable=False),
        sa.Column("email", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False, server_default=""),  # for the To header ("" : none given)
        sa.Column("every", sa.String(10), nullable=False),  # daily | weekly
        sa.Column("only_changes", sa.Boolean, nullable=False),
        sa.Column("created_at", t.when(), nullable=False),
        sa.Column("last_sent_at", t.when(), nullable=True),
        # When a run last considered this subscription (sent or nothing to tell): the next is due a
        # period after, so a quiet day still moves the digest to tomorrow's slot.
        sa.Column("last_run_at", t.when(), nullable=True),
        # The revision this recipient last received a digest up to: the next digest starts there.
        sa.Column("last_revision_id", sa.ForeignKey("revisions.id", ondelete="SET NULL"), nullable=True),
        sa.UniqueConstraint("plan_id", "email", name="uq_subscriptions_plan_email"),
    )
    t.deliveries = sa.Table(
        "deliveries", t.metadata,  # the outbox: recorded before sending, confirmed after
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("subscription_id", sa.ForeignKey("subscriptions.id", ondelete="CASCADE"), nullable=False),
        sa.Column("message_id", sa.String(255), nullable=False, unique=True),
        sa.Column("from_revision_id", sa.Integer, nullable=True),
        sa.Column("to_revision_id", sa.Integer, nullable=False),
        sa.Column("created_at", t.when(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),  # pending | sent | refused (for good)
        sa.Column("claimed_at", t.when(), nullable=True),  # a run is sending it; others leave it alone
        sa.Column("sent_at", t.when(), nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text, nullable=False),
        sa.Column("message", sa.Text, nullable=False),  # the whole RFC 5322 message, resent as is
        # Runs whose server answered "try again later" (4xx): at the limit the subscriber is bounced.
        sa.Column("deferrals", sa.Integer, nullable=False, server_default="0"),
        sa.Index("ix_deliveries_status", "status"),
    )
    t.bounces = sa.Table(
        "bounces", t.metadata,  # a subscriber's mail server refused for good: no digests until `watch` again
        sa.Column("subscription_id", sa.ForeignKey("subscriptions.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("at", t.when(), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),  # the server's reply, e.g. "550 5.1.1 no such user"
    )


def _state_tables(sa: Any, t: SimpleNamespace) -> None:
    """What a run or a person saw last: each plan's backend state, each person's last look."""
    t.plan_sources = sa.Table(
        "plan_sources", t.metadata,  # what the backend last said about the file, to skip unchanged plans
        sa.Column("plan_id", sa.ForeignKey("plans.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("source", sa.Text, nullable=False),  # JSON, as Workbook.revision() returns it
        sa.Column("checked_at", t.when(), nullable=False),
        # The last revision whose changes went into the plan's Changes tab.
        sa.Column("logged_revision_id", sa.ForeignKey("revisions.id", ondelete="SET NULL"), nullable=True),
        # A run writing the Changes tab now (overlapping runs must not both write the same rows).
        sa.Column("changes_claimed_at", t.when(), nullable=True),
    )
    t.last_seen = sa.Table(
        "last_seen", t.metadata,  # per person and plan: the revision they last looked at (the sidebar's "what changed")
        sa.Column("plan_id", sa.ForeignKey("plans.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("email", sa.Text, primary_key=True),
        sa.Column("revision_id", sa.ForeignKey("revisions.id", ondelete="SET NULL"), nullable=True),
        sa.Column("seen_at", t.when(), nullable=False),
    )
    t.crm_links = sa.Table(
        "crm_links", t.metadata,  # the CRM record a plan belongs to, and what `crm push` last wrote to it
        sa.Column("plan_id", sa.ForeignKey("plans.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("crm", sa.String(20), nullable=False),  # salesforce or hubspot
        sa.Column("record_id", sa.Text, nullable=False),
        sa.Column("linked_at", t.when(), nullable=False),
        sa.Column("pushed", sa.Text, nullable=True),  # JSON: field -> value as last written; NULL: never
        sa.Column("pushed_at", t.when(), nullable=True),
    )


def _history_tables(sa: Any, t: SimpleNamespace) -> None:
    """The forecast's history: per finished deal and phase, its business days there (issue 24); and
    per plan, the last chance to close a digest told (what the next one says it moved from)."""
    t.phase_history = sa.Table(
        "phase_history", t.metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("source", sa.Text, nullable=False),  # "stages FILE" or "winloss": a new keep replaces its own
        sa.Column("deal", sa.Text, nullable=False),
        sa.Column("phase", sa.Text, nullable=False),
        sa.Column("segment", sa.Text, nullable=False),  # "" : no --segment
        sa.Column("days", sa.Float, nullable=False),  # business days the deal spent in the phase
        sa.Column("lost", sa.Boolean, nullable=False),  # the deal was lost right after the phase
        sa.Column("finished_on", sa.Date, nullable=True),  # when the deal closed (None: unknown)
        sa.Column("kept_at", t.when(), nullable=False),
        sa.Index("ix_phase_history_phase", "phase"),
    )
    t.forecast_told = sa.Table(
        "forecast_told", t.metadata,
        sa.Column("plan_id", sa.ForeignKey("plans.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("chance", sa.Float, nullable=True),  # None: too little history then
        sa.Column("detail", sa.Text, nullable=False),  # JSON: the forecast as told (Forecast.to_dict)
        sa.Column("at", t.when(), nullable=False),
    )


# A released migration's DDL is frozen. Migration 1 builds the tables above as they are today; when a
# later migration alters one of them, first copy that table's v1 definition into _m1 (the test
# test_schema_matches_tables fails until you do). Each runs inside the start-up transaction.
def _m1_initial(conn: Any, t: SimpleNamespace) -> None:
    import sqlalchemy as sa

    md = sa.MetaData()
    plans, signatures, events = (x.to_metadata(md) for x in (t.plans, t.signatures, t.events))
    revisions_v1 = sa.Table(
        "revisions", md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("plan_id", sa.ForeignKey("plans.id", ondelete="CASCADE"), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("taken_at", t.when(), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("step_count", sa.Integer, nullable=False),
        sa.Column("done_count", sa.Integer, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.UniqueConstraint("plan_id", "seq", name="uq_revisions_plan_seq"),
    )
    md.create_all(conn, tables=[plans, revisions_v1, signatures, events], checkfirst=False)


def _m2_digests(conn: Any, t: SimpleNamespace) -> None:
    import sqlalchemy as sa

    md = sa.MetaData()
    t.plans.to_metadata(md), t.revisions.to_metadata(md)  # for the foreign keys only: not created here
    when = t.when
    plan_sources_v2 = sa.Table(
        "plan_sources", md,
        sa.Column("plan_id", sa.ForeignKey("plans.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("checked_at", when(), nullable=False),
        sa.Column("logged_revision_id", sa.ForeignKey("revisions.id", ondelete="SET NULL"), nullable=True),
    )
    subscriptions_v2 = sa.Table(
        "subscriptions", md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("plan_id", sa.ForeignKey("plans.id", ondelete="CASCADE"), nullable=False),
        sa.Column("email", sa.Text, nullable=False),
        sa.Column("every", sa.String(10), nullable=False),
        sa.Column("only_changes", sa.Boolean, nullable=False),
        sa.Column("created_at", when(), nullable=False),
        sa.Column("last_sent_at", when(), nullable=True),
        sa.Column("last_run_at", when(), nullable=True),
        sa.Column("last_revision_id", sa.ForeignKey("revisions.id", ondelete="SET NULL"), nullable=True),
        sa.UniqueConstraint("plan_id", "email", name="uq_subscriptions_plan_email"),
    )
    deliveries_v2 = sa.Table(
        "deliveries", md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("subscription_id", sa.ForeignKey("subscriptions.id", ondelete="CASCADE"), nullable=False),
        sa.Column("message_id", sa.String(255), nullable=False, unique=True),
        sa.Column("from_revision_id", sa.Integer, nullable=True),
        sa.Column("to_revision_id", sa.Integer, nullable=False),
        sa.Column("created_at", when(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("claimed_at", when(), nullable=True),
        sa.Column("sent_at", when(), nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Index("ix_deliveries_status", "status"),
    )
    md.create_all(conn, tables=[plan_sources_v2, subscriptions_v2, deliveries_v2], checkfirst=False)


def _m3_revision_origin_subscriber_name(conn: Any, t: SimpleNamespace) -> None:
    """Where each revision came from (older rows stay NULL: unknown), and a subscriber's name."""
    import sqlalchemy as sa

    conn.execute(sa.text("ALTER TABLE revisions ADD COLUMN origin VARCHAR(20)"))
    conn.execute(sa.text("ALTER TABLE subscriptions ADD COLUMN name TEXT NOT NULL DEFAULT ''"))


def _m4_bounces(conn: Any, t: SimpleNamespace) -> None:
    t.metadata.create_all(conn, tables=[t.bounces], checkfirst=False)


def _m5_last_seen(conn: Any, t: SimpleNamespace) -> None:
    t.metadata.create_all(conn, tables=[t.last_seen], checkfirst=False)


def _m6_changes_claim(conn: Any, t: SimpleNamespace) -> None:
    import sqlalchemy as sa

    kind = sa.DateTime(timezone=True).compile(dialect=conn.dialect)  # as migration 2 typed its times
    conn.execute(sa.text(f"ALTER TABLE plan_sources ADD COLUMN changes_claimed_at {kind}"))


def _m7_delivery_deferrals(conn: Any, t: SimpleNamespace) -> None:
    """How many runs a server said "try again later" to each delivery (older rows: none yet)."""
    import sqlalchemy as sa

    conn.execute(sa.text("ALTER TABLE deliveries ADD COLUMN deferrals INTEGER NOT NULL DEFAULT 0"))


def _m8_crm_links(conn: Any, t: SimpleNamespace) -> None:
    t.metadata.create_all(conn, tables=[t.crm_links], checkfirst=False)


def _m9_phase_history(conn: Any, t: SimpleNamespace) -> None:
    t.metadata.create_all(conn, tables=[t.phase_history, t.forecast_told], checkfirst=False)


MIGRATIONS: tuple[tuple[int, str, Callable[[Any, SimpleNamespace], None]], ...] = (
    (1, "plans, revisions, signatures, events", _m1_initial),
    (2, "digest subscriptions, deliveries, plan sources", _m2_digests),
    (3, "revision origin, subscriber name", _m3_revision_origin_subscriber_name),
    (4, "bounced subscriptions", _m4_bounces),
    (5, "last seen revision per person and plan", _m5_last_seen),
    (6, "Changes-tab claim per plan", _m6_changes_claim),
    (7, "4xx answers per delivery", _m7_delivery_deferrals),
    (8, "CRM record per plan, what was pushed to it", _m8_crm_links),
    (9, "phase history and the last forecast told", _m9_phase_history),
)
LATEST = MIGRATIONS[-1][0]


def version(conn: Any) -> int:
    """The schema version of the database on ``conn`` (0: empty)."""
    import sqlalchemy as sa

    if not sa.inspect(conn).has_table("schema_version"):
        return 0
    return conn.execute(sa.select(sa.func.max(tables().schema_version.c.version))).scalar() or 0


def migrate(conn: Any, url: str) -> list[int]:
    """Apply pending migrations in the caller's writing transaction; the versions applied."""
    import sqlalchemy as sa

    t = tables()
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
    t.metadata.create_all(conn, tables=[t.schema_version])
    current = version(conn)  # read under the lock: another process may have just migrated
    if current > LATEST:
        raise StoreError(f"the state store {url} has schema version {current}, newer than this "
                         f"mapsheets knows ({LATEST}): upgrade mapsheets")
    applied = []
    for number, name, step in MIGRATIONS:
        if number > current:
            step(conn, t)
            conn.execute(sa.insert(t.schema_version).values(
                version=number, name=name, applied_at=datetime.now(UTC)))
            applied.append(number)
    return applied
