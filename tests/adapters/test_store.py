"""The state store on real SQLite and real PostgreSQL: migrations, revisions, concurrency, errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from smtp_servers import free_port

from mapsheets.adapters.store import MIGRATIONS, Store, canonical_json, default_url
from mapsheets.adapters.store.schema import tables
from mapsheets.core.model import Plan
from mapsheets.errors import NotFound, StoreError, UsageError

REF = "/plans/acme-map.xlsx"
NOW = datetime(2026, 12, 1, 9, 30, 15, 123456, tzinfo=UTC)
WORKER = Path(__file__).with_name("_store_worker.py")


@pytest.fixture
def store(store_url):
    with Store(store_url) as opened:
        yield opened


def snap(store: Store, plan: Plan, *, ref: str = REF, at: datetime = NOW, source: dict | None = None):
    return store.add_revision(ref, plan.to_dict(), plan.fingerprint(), taken_at=at,
                              source={"mtime": 1764581415.5} if source is None else source,
                              step_count=len(plan.steps),
                              done_count=sum(s.status == "done" for s in plan.steps))


def edited(plan: Plan, index: int, status: str) -> Plan:
    steps = list(plan.steps)
    steps[index] = replace(steps[index], status=status)
    return replace(plan, steps=steps)


def raw_rows(url: str, sql: str) -> list[tuple]:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.exec_driver_sql(sql)]
    finally:
        engine.dispose()


def run_workers(url: str, mode: str, tmp_path: Path, count: int = 2) -> list:
    """Start `count` OS processes, release them at the same instant, return their JSON results."""
    go = tmp_path / f"go-{mode}"
    procs = [subprocess.Popen([sys.executable, str(WORKER), url, mode, f"w{i}", str(go)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in range(count)]
    try:
        for proc in procs:
            line = proc.stdout.readline()
            assert line.strip() == "ready", proc.communicate(timeout=30)[1]
        go.touch()
        outputs = [proc.communicate(timeout=120) for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    for proc, (_out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
    return [json.loads(out.strip().splitlines()[-1]) for out, _err in outputs]


# -- migrations ------------------------------------------------------------------------------------

def test_migrations_run_once_and_are_idempotent(store_url):
    latest = MIGRATIONS[-1][0]
    with Store(store_url) as first:
        assert first.applied == [number for number, _name, _fn in MIGRATIONS]
        assert first.version == latest
        first.register_plan(REF, "xlsx", "Acme")
    with Store(store_url) as second:
        assert second.applied == []
        assert second.version == latest
        assert second.get_plan(REF).title == "Acme"  # migrating again would have lost nothing, but it didn't run
    assert raw_rows(store_url, "SELECT version, name FROM schema_version ORDER BY version") == \
        [(number, name) for number, name, _fn in MIGRATIONS]


def test_schema_matches_tables(store_url):
    """The migrated database has exactly the columns the code queries (catches an unfrozen migration)."""
    import sqlalchemy as sa

    Store(store_url).close()
    engine = sa.create_engine(store_url)
    try:
        inspector = sa.inspect(engine)
        declared = tables().metadata.tables
        assert set(inspector.get_table_names()) == set(declared)
        for name, table in declared.items():
            assert {c["name"] for c in inspector.get_columns(name)} == set(table.columns.keys()), name
        uniques = {tuple(u["column_names"]) for u in inspector.get_unique_constraints("revisions")}
        assert ("plan_id", "seq") in uniques
    finally:
        engine.dispose()


def test_migration_3_keeps_old_revisions_and_subscriptions(store_url):
    """A store at version 2 upgrades in place: its revisions have no origin (shown as unknown),
    its subscribers no name; new ones record both."""
    import sqlalchemy as sa

    t = tables()
    engine = sa.create_engine(store_url)
    try:
        with engine.begin() as conn:  # a version-2 store with one revision and one subscriber
            t.metadata.create_all(conn, tables=[t.schema_version])
            for number, name, step in MIGRATIONS[:2]:
                step(conn, t)
                conn.execute(sa.insert(t.schema_version).values(version=number, name=name, applied_at=NOW))
            conn.exec_driver_sql(f"INSERT INTO plans (id, ref, backend, title, created_at) "
                                 f"VALUES (1, '{REF}', 'xlsx', 'Acme', '2026-12-01 09:00:00')")
            conn.exec_driver_sql("INSERT INTO revisions (plan_id, seq, taken_at, fingerprint, content, step_count, "
                                 "done_count, source) VALUES (1, 1, '2026-12-01 09:00:00', 'f1', '{}', 0, 0, '{}')")
            conn.exec_driver_sql("INSERT INTO subscriptions (plan_id, email, every, only_changes, created_at) "
                                 "VALUES (1, 'a@acme.example', 'daily', false, '2026-12-01 09:00:00')")
    finally:
        engine.dispose()
    plan = Plan(kind="mutual", title="Acme", buyer="Acme", seller="Globex")
    with Store(store_url) as store:
        assert store.applied == [number for number, _n, _f in MIGRATIONS[2:]]
        store.add_revision(REF, plan.to_dict(), plan.fingerprint(), taken_at=NOW, step_count=0, done_count=0,
                           origin="sign")
        assert [(r.seq, r.origin) for r in store.revisions(REF)] == [(1, None), (2, "sign")]
        store.watch(REF, ["b@acme.example"], every="daily", only_changes=False, now=NOW,
                    names={"b@acme.example": "Bea Doe"})
        store.watch(REF, ["b@acme.example"], every="weekly", only_changes=False, now=NOW)  # keeps her name
        assert [(s.email, s.name, s.every) for s in store.subscriptions(REF)] == \
            [("a@acme.example", "", "daily"), ("b@acme.example", "Bea Doe", "weekly")]


def test_two_processes_migrating_at_once_migrate_once(store_url, tmp_path):
    results = run_workers(store_url, "migrate", tmp_path)
    every = [number for number, _name, _fn in MIGRATIONS]
    assert sorted(results) == [[], every]
    assert raw_rows(store_url, "SELECT version FROM schema_version ORDER BY version") == [(n,) for n in every]


# -- plans and revisions ---------------------------------------------------------------------------

def test_register_plan_is_idempotent(store):
    first = store.register_plan(REF, "xlsx", "Acme × Globex")
    again = store.register_plan(REF, "xlsx", "Acme × Globex")
    assert again == first
    renamed = store.register_plan(REF, "xlsx", "Acme × Globex (renewal)")
    assert (renamed.id, renamed.title) == (first.id, "Acme × Globex (renewal)")
    assert store.register_plan(REF, "xlsx", "").title == "Acme × Globex (renewal)"  # no title: keep it
    assert store.get_plan(REF) == renamed
    assert store.get_plan("/plans/other.xlsx") is None
    assert first.created_at.tzinfo is UTC


def test_revisions_are_numbered_from_one_and_round_trip(store, plan):
    store.register_plan(REF, "xlsx", plan.title)
    versions = [plan, edited(plan, 0, "done"), edited(edited(plan, 0, "done"), 1, "in progress")]
    for i, version in enumerate(versions):
        rev, created = snap(store, version, at=NOW + timedelta(hours=i), source={"mtime": 100 + i})
        assert (rev.seq, created) == (i + 1, True)
    revs = store.revisions(REF)
    assert [r.seq for r in revs] == [1, 2, 3]
    last = revs[-1]
    assert last.content_json == canonical_json(versions[-1].to_dict())
    assert Plan.from_dict(last.content) == versions[-1]
    assert last.fingerprint == versions[-1].fingerprint()
    assert (last.step_count, last.done_count) == (len(plan.steps), 1)
    assert last.source == {"mtime": 102}
    assert last.taken_at == NOW + timedelta(hours=2) and last.taken_at.tzinfo is UTC
    assert store.revisions("/plans/unknown.xlsx") == []


def test_taken_at_keeps_the_instant_in_utc(store, plan):
    store.register_plan(REF, "xlsx", plan.title)
    paris = datetime(2026, 12, 1, 10, 30, tzinfo=timezone(timedelta(hours=1)))
    rev, _ = snap(store, plan, at=paris)
    stored = store.revision(REF, "latest").taken_at
    assert stored == paris == rev.taken_at
    assert stored.tzinfo is UTC and stored.hour == 9
    with pytest.raises(ValueError, match="timezone-aware"):
        snap(store, edited(plan, 0, "done"), at=datetime(2026, 12, 1, 10, 30))


def test_identical_snapshot_is_not_stored_twice(store, plan):
    store.register_plan(REF, "xlsx", plan.title)
    first, created = snap(store, plan)
    assert created
    same, created = snap(store, plan, at=NOW + timedelta(days=1))
    assert not created
    assert same == first  # the stored one, with its original time
    changed, created = snap(store, edited(plan, 0, "done"))
    assert created and changed.seq == 2
    back, created = snap(store, plan)  # back to the first content: differs from the latest, so stored
    assert created and back.seq == 3
    assert [r.seq for r in store.revisions(REF)] == [1, 2, 3]


def test_signature_only_change_is_a_new_revision(store, plan):
    """Same fingerprint (content) but new signatures: the plan dict differs, so it is stored."""
    from mapsheets.core.model import Signature

    store.register_plan(REF, "xlsx", plan.title)
    snap(store, plan)
    signed = replace(plan, signatures=[Signature("Ann", "ann@acme.example", "buyer", NOW, plan.fingerprint())])
    rev, created = snap(store, signed)
    assert created and rev.fingerprint == plan.fingerprint() and rev.seq == 2


def test_add_revision_needs_a_registered_plan(store, plan):
    with pytest.raises(NotFound, match="not registered"):
        snap(store, plan, ref="/plans/nobody.xlsx")


def test_revision_spec_resolution(store, plan):
    store.register_plan(REF, "xlsx", plan.title)
    for i in range(3):
        snap(store, edited(plan, i, "done"), at=NOW + timedelta(minutes=i))
    assert store.revision(REF, "1").seq == 1
    assert store.revision(REF, 3).seq == 3
    assert store.revision(REF, " 2 ").seq == 2
    assert store.revision(REF, "latest").seq == 3
    assert store.revision(REF, "LATEST").seq == 3
    assert store.revision(REF, "-1").seq == 2
    assert store.revision(REF, "-2").seq == 1
    assert store.revision(REF, "-1").content["steps"][1]["status"] == "done"


def test_revision_not_found_messages(store, plan):
    ref = "acme-map.xlsx"
    no_revisions = "acme-map.xlsx has no revisions: run `mapsheets snapshot` first"
    with pytest.raises(NotFound) as unknown:
        store.revision(ref, "latest")
    assert str(unknown.value) == no_revisions
    store.register_plan(ref, "xlsx", plan.title)
    with pytest.raises(NotFound) as empty:
        store.revision(ref, "1")
    assert str(empty.value) == no_revisions

    snap(store, plan, ref=ref)
    with pytest.raises(NotFound) as only_one:
        store.revision(ref, "-1")
    assert str(only_one.value) == "acme-map.xlsx has no revision -1 (it has 1)"
    for i in range(2):
        snap(store, edited(plan, i, "done"), ref=ref)
    cases = {
        "7": "acme-map.xlsx has no revision 7 (it has 1–3)",
        "0": "acme-map.xlsx has no revision 0 (it has 1–3)",
        "-3": "acme-map.xlsx has no revision -3 (it has 1–3, so the earliest is -2)",
    }
    for spec, message in cases.items():
        with pytest.raises(NotFound) as missing:
            store.revision(ref, spec)
        assert str(missing.value) == message
    with pytest.raises(UsageError, match="'abc': expected a number, 'latest' or -N"):
        store.revision(ref, "abc")


# -- signatures and events -------------------------------------------------------------------------

def test_signatures_are_recorded_against_a_revision(store, plan):
    store.register_plan(REF, "xlsx", plan.title)
    rev, _ = snap(store, plan)
    later = store.record_signature(REF, name="Bob", email="bob@globex.example", side="seller",
                                   signed_at=NOW + timedelta(hours=1), fingerprint=rev.fingerprint)
    first = store.record_signature(REF, name="Ann", email="ann@acme.example", side="buyer",
                                   signed_at=NOW, fingerprint=rev.fingerprint, revision_id=rev.id)
    assert store.signatures(REF) == [first, later]  # by signing time
    assert (first.revision_id, later.revision_id) == (rev.id, None)
    assert first.signed_at == NOW and first.signed_at.tzinfo is UTC
    assert store.signatures("/plans/unknown.xlsx") == []
    with pytest.raises(NotFound):
        store.record_signature("/plans/unknown.xlsx", name="X", email="x@y", side="buyer",
                               signed_at=NOW, fingerprint="f")


def test_events_filter_by_plan_and_time(store, plan):
    store.register_plan(REF, "xlsx", plan.title)
    store.register_plan("/plans/other.xlsx", "xlsx", "Other")
    snapshot = store.log_event("snapshot", ref=REF, actor="ann@acme.example",
                               detail={"seq": 1, "fingerprint": "abc", "note": "Größe ✓"}, at=NOW)
    store.log_event("snapshot", ref="/plans/other.xlsx", actor="cli", at=NOW + timedelta(minutes=1))
    wide = store.log_event("store.opened", actor="cli", at=NOW + timedelta(minutes=2))
    digest = store.log_event("digest.sent", ref=REF, actor="cron", at=NOW + timedelta(minutes=3))
    assert snapshot.detail == {"seq": 1, "fingerprint": "abc", "note": "Größe ✓"}
    assert store.events(REF) == [snapshot, digest]
    assert store.events(REF, since=NOW) == [digest]  # strictly after
    assert [e.kind for e in store.events()] == ["snapshot", "snapshot", "store.opened", "digest.sent"]
    assert store.events(since=NOW + timedelta(minutes=1)) == [wide, digest]
    assert wide.ref is None
    assert store.log_event("now").at.tzinfo is UTC
    with pytest.raises(NotFound):
        store.log_event("snapshot", ref="/plans/unknown.xlsx")


# -- concurrency: real OS processes ----------------------------------------------------------------

def test_two_processes_snapshotting_never_duplicate_or_skip(store_url, tmp_path):
    with Store(store_url) as store:
        store.register_plan("/plans/acme-map.xlsx", "xlsx", "Acme")
    results = run_workers(store_url, "distinct", tmp_path)
    assert all(created for result in results for _seq, created in result)
    with Store(store_url) as store:
        revs = store.revisions("/plans/acme-map.xlsx")
    assert [r.seq for r in revs] == list(range(1, 41))
    contents = [(r.content["worker"], r.content["i"]) for r in revs]
    assert sorted(contents) == sorted((w, i) for w in ("w0", "w1") for i in range(20))
    for worker, result in zip(("w0", "w1"), results, strict=True):  # each process saw its own seqs rise
        seqs = [seq for seq, _created in result]
        assert seqs == sorted(seqs)
        assert seqs == [r.seq for r in revs if r.content["worker"] == worker]


def test_two_processes_racing_the_same_snapshot_store_it_once(store_url, tmp_path):
    with Store(store_url) as store:
        for p in range(10):
            store.register_plan(f"/plans/p{p}.xlsx", "xlsx", f"P{p}")
    first, second = run_workers(store_url, "same", tmp_path)
    with Store(store_url) as store:
        for p in range(10):
            assert [r.seq for r in store.revisions(f"/plans/p{p}.xlsx")] == [1]
            assert first[p][0] == second[p][0] == 1
            assert sorted([first[p][1], second[p][1]]) == [False, True]  # exactly one process stored it


# -- errors: one line, no password -----------------------------------------------------------------

def test_unreachable_postgres_is_a_store_error_without_the_password():
    port = free_port()
    with pytest.raises(StoreError) as exc:
        Store(f"postgresql+psycopg://mapsheets:s3cret-pw@127.0.0.1:{port}/mapsheets")
    message = str(exc.value)
    assert "s3cret-pw" not in message and "\n" not in message
    assert f"postgresql+psycopg://mapsheets:***@127.0.0.1:{port}/mapsheets" in message
    assert "refused" in message.lower()


def test_unwritable_sqlite_path_is_a_store_error(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder should be")
    with pytest.raises(StoreError) as exc:
        Store(f"sqlite:///{blocker}/state.db")
    message = str(exc.value)
    assert message.startswith(f"cannot use the state store sqlite:///{blocker}/state.db: ") and "\n" not in message


def test_a_file_that_is_not_a_database_is_a_store_error(tmp_path):
    junk = tmp_path / "state.db"
    junk.write_bytes(b"this is not sqlite, just some bytes " * 100)
    with pytest.raises(StoreError, match="not a database"):
        Store(f"sqlite:///{junk}")


@pytest.mark.parametrize("url, expected", [
    ("mysql://root:s3cret-pw@db.example/maps", "unsupported state store URL mysql://root:***@db.example/maps"),
    ("postgresql+psycopg://u:s3cret-pw@h:port/db", "invalid state store URL"),
    ("nonsense", "invalid state store URL nonsense"),
])
def test_bad_urls_are_store_errors_without_the_password(url, expected):
    with pytest.raises(StoreError) as exc:
        Store(url)
    assert str(exc.value).startswith(expected)
    assert "s3cret-pw" not in str(exc.value)


# -- where the store lives -------------------------------------------------------------------------

def test_default_url(tmp_path, monkeypatch):
    assert default_url({"MAPSHEETS_DB": "postgresql+psycopg://h/db", "XDG_DATA_HOME": str(tmp_path)}) == \
        "postgresql+psycopg://h/db"
    xdg = tmp_path / "xdg"
    assert default_url({"XDG_DATA_HOME": str(xdg)}) == f"sqlite:///{xdg}/mapsheets/state.db"
    assert (xdg / "mapsheets").is_dir()
    home = tmp_path / "home"
    expected = f"sqlite:///{home}/.local/share/mapsheets/state.db"
    assert default_url({"HOME": str(home)}) == expected
    assert default_url({"HOME": str(home), "XDG_DATA_HOME": "relative/ignored"}) == expected

    monkeypatch.setenv("MAPSHEETS_DB", f"sqlite:///{tmp_path / 'from-env.db'}")
    with Store() as store:
        assert store.url == f"sqlite:///{tmp_path / 'from-env.db'}"
        assert store.version == MIGRATIONS[-1][0]


def test_default_store_is_where_platformdirs_puts_user_data(tmp_path, monkeypatch):
    """Linux: platformdirs' own answer ($XDG_DATA_HOME/mapsheets); macOS: ~/Library/Application Support."""
    import platformdirs

    monkeypatch.delenv("MAPSHEETS_DB", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    native = Path(platformdirs.user_data_dir("mapsheets", appauthor=False))
    assert default_url(os.environ) == f"sqlite:///{native / 'state.db'}"

    # A real process that believes it runs on macOS (platformdirs picks its class on import).
    code = ("import sys; sys.platform = 'darwin'\n"
            "from mapsheets.adapters.store import default_url\n"
            "print(default_url({'HOME': sys.argv[1]}))")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAPSHEETS_", "XDG_"))}
    env["HOME"] = str(tmp_path / "mac")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "mac")], env=env, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    folder = tmp_path / "mac" / "Library" / "Application Support" / "mapsheets"
    assert out.stdout.strip() == f"sqlite:///{folder / 'state.db'}"
    assert folder.is_dir()


def test_importing_the_store_does_not_import_sqlalchemy():
    code = "import sys, mapsheets.adapters.store; assert 'sqlalchemy' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
