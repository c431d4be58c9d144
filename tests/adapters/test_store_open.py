"""Opening a store: many processes opening a new one at once, URLs that would keep nothing, and
who may read the files. Real SQLite files, a real PostgreSQL server, real OS processes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from test_store import REF, WORKER, raw_rows

from mapsheets.adapters.store import MIGRATIONS, Store, default_url
from mapsheets.errors import StoreError


@pytest.fixture
def new_store_urls(store_url, tmp_path):
    """A factory of URLs to more empty databases on the same backend as ``store_url``."""
    import uuid

    import sqlalchemy as sa

    schemas: list[str] = []
    base = sa.make_url(store_url)
    admin = None if store_url.startswith("sqlite") else sa.create_engine(base)

    def make(count: int) -> list[str]:
        if admin is None:
            return [f"sqlite:///{tmp_path / f'new-{uuid.uuid4().hex[:8]}.db'}" for _ in range(count)]
        urls = []
        for _ in range(count):
            schemas.append(f"test_{uuid.uuid4().hex[:16]}")
            with admin.begin() as conn:
                conn.exec_driver_sql(f'CREATE SCHEMA "{schemas[-1]}"')
            urls.append(base.update_query_dict({"options": f"-csearch_path={schemas[-1]}"})
                        .render_as_string(hide_password=False))
        return urls

    yield make
    if admin is not None:
        with admin.begin() as conn:
            for schema in schemas:
                conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


def test_many_processes_opening_new_stores_at_once_migrate_each_once(new_store_urls, tmp_path):
    """15 new databases, each opened by 6 processes released at the same instant: every open
    succeeds and exactly one per database migrates. (It used to fail about 1 time in 40 on SQLite.)"""
    import time

    rounds, workers = 15, 6
    urls = new_store_urls(rounds)
    listing = tmp_path / "urls.json"
    listing.write_text(json.dumps(urls))
    go = tmp_path / "go-rounds"
    started = time.monotonic()
    procs = [subprocess.Popen([sys.executable, str(WORKER), str(listing), "migrate-rounds", f"w{i}", str(go)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(workers)]
    results: list[list[list[int]]] = [[] for _ in range(rounds)]
    try:
        for i in range(rounds):
            for proc in procs:
                line = proc.stdout.readline().strip()
                if i and line != "ready":
                    results[i - 1].append(json.loads(line))
                    line = proc.stdout.readline().strip()
                assert line == "ready", proc.communicate(timeout=30)[1]
            (tmp_path / f"go-rounds-{i}").touch()
        for proc in procs:
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
            results[-1].append(json.loads(out.strip()))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    every = [number for number, _name, _fn in MIGRATIONS]
    for url, opened in zip(urls, results, strict=True):
        assert sorted(opened) == [[]] * (workers - 1) + [every]
        assert raw_rows(url, "SELECT version FROM schema_version ORDER BY version") == [(n,) for n in every]
    assert time.monotonic() - started < 60


def test_a_new_sqlite_store_waits_for_another_process_setting_it_up(tmp_path):
    """A process holding the write lock of a brand-new database file (another mapsheets opening it
    that same instant) made Store() fail at once with "database is locked": now it waits its turn."""
    path = tmp_path / "state.db"
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sqlite3, sys, time\n"
        "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "c.execute('BEGIN IMMEDIATE')\n"
        "print('ready', flush=True)\n"
        "time.sleep(0.5)\n"
        "c.execute('COMMIT')\n"), str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        with Store(f"sqlite:///{path}") as store:
            assert store.applied == [number for number, _name, _fn in MIGRATIONS]
    finally:
        holder.wait(timeout=30)


@pytest.mark.parametrize("url", ["sqlite:///", "sqlite://", "sqlite:///:memory:", "sqlite+pysqlite:///:memory:",
                                 "sqlite:///file::memory:?uri=true", "sqlite:///x.db?mode=memory&uri=true"])
def test_a_store_in_memory_is_refused(url, monkeypatch, tmp_path):
    """``sqlite:///$UNSET`` would keep everything in memory: every command succeeds, nothing is kept."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(StoreError) as exc:
        Store(url)
    assert str(exc.value).endswith("names no file, so nothing would be kept (an empty variable in "
                                   "sqlite:///$VAR?): use sqlite:///PATH")
    assert list(tmp_path.iterdir()) == []
    from click.testing import CliRunner

    from mapsheets.cli import cli

    result = CliRunner().invoke(cli, ["watching"], env={"MAPSHEETS_DB": url})
    assert result.exit_code == 1 and result.output.count("\n") == 1 and result.output.startswith("Error: ")


def test_the_default_store_is_private_to_its_user(tmp_path):
    """The data folder is 0700 and the database (and its WAL files) 0600: they hold every plan's text."""
    import os
    import stat

    xdg = tmp_path / "xdg"
    old = os.umask(0o022)
    try:
        (xdg / "mapsheets").mkdir(parents=True, mode=0o755)  # made by an older mapsheets
        url = default_url({"XDG_DATA_HOME": str(xdg)})
        with Store(url) as store:
            store.register_plan(REF, "xlsx", "Acme")
            files = sorted(p.name for p in (xdg / "mapsheets").iterdir())
            modes = {name: stat.S_IMODE((xdg / "mapsheets" / name).stat().st_mode) for name in files}
        other = tmp_path / "elsewhere.db"  # a MAPSHEETS_DB of one's own: a new file is 0600 too
        Store(f"sqlite:///{other}").close()
    finally:
        os.umask(old)
    assert stat.S_IMODE((xdg / "mapsheets").stat().st_mode) == 0o700
    assert {"state.db", "state.db-wal", "state.db-shm"} <= set(files)
    assert modes == {name: 0o600 for name in files}
    assert stat.S_IMODE(other.stat().st_mode) == 0o600
