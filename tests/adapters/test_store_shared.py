"""One Store per URL per process: many service calls make one engine, disposed when the process exits."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from datetime import datetime, timezone
from pathlib import Path

from mapsheets.adapters.store import open_store
from mapsheets.service import digest, revisions, signoff

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=timezone.utc)


def _pools_made():
    """A list that grows by one each time any SQLAlchemy pool makes its first connection."""
    import sqlalchemy as sa

    made: list[object] = []

    def first(_dbapi_conn, record):
        made.append(record)

    sa.event.listen(sa.pool.Pool, "first_connect", first)
    return made, lambda: sa.event.remove(sa.pool.Pool, "first_connect", first)


def test_many_service_calls_share_one_engine(plan_file, tmp_path):
    db = f"sqlite:///{tmp_path / 'one.db'}"
    made, stop = _pools_made()
    try:
        revisions.snapshot(str(plan_file), now=NOW, store_url=db)
        signoff.sign(str(plan_file), name="Jane Doe", email="jane@acme.example", side="buyer", now=NOW,
                     store_url=db, record=True)
        digest.watch(str(plan_file), ["ae@globex.example"], now=NOW, store_url=db)
        for _ in range(5):
            revisions.log(str(plan_file), store_url=db)
            revisions.audit(str(plan_file), store_url=db)
            digest.watching(store_url=db)
        assert len(revisions.log(str(plan_file), store_url=db)) == 2
    finally:
        stop()
    assert len(made) == 1  # one engine, one pool: made once, the schema checked once
    assert open_store(db) is open_store(db)


def test_threads_asking_at_once_get_one_store(tmp_path):
    db = f"sqlite:///{tmp_path / 'threads.db'}"
    got: list[object] = []
    start = threading.Barrier(8)

    def ask():
        start.wait()
        got.append(open_store(db))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(got) == 8 and len({id(s) for s in got}) == 1


def test_a_store_file_deleted_meanwhile_is_opened_anew(plan_file, tmp_path):
    path = tmp_path / "gone.db"
    db = f"sqlite:///{path}"
    revisions.snapshot(str(plan_file), now=NOW, store_url=db)
    first = open_store(db)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    again = open_store(db)
    assert again is not first
    assert revisions.snapshot(str(plan_file), now=NOW, store_url=db).revision.seq == 1  # a new, migrated store


def test_the_engine_is_disposed_when_the_process_exits(plan_file, tmp_path):
    db = f"sqlite:///{tmp_path / 'exit.db'}"
    script = textwrap.dedent(f"""
        import atexit, sys
        from datetime import datetime, timezone
        import sqlalchemy as sa

        made, disposed = [], []
        sa.event.listen(sa.pool.Pool, "first_connect", lambda conn, record: made.append(1))
        sa.event.listen(sa.engine.Engine, "engine_disposed", lambda engine: disposed.append(str(engine.url)))
        # Registered first, so it runs last: after mapsheets disposed of its engines.
        atexit.register(lambda: print(f"made={{len(made)}} disposed={{disposed}}", flush=True))

        from mapsheets.service import digest, revisions
        now = datetime(2026, 12, 2, 9, tzinfo=timezone.utc)
        for _ in range(10):
            revisions.snapshot({str(plan_file)!r}, now=now, store_url={db!r})
            digest.watching(store_url={db!r})
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"made=1 disposed=[{db!r}]"
