"""The store as typed repositories (issue 19, part 2): what their methods use is declared, so a
strict type check of the adapter passes; "does a store exist?" is answered in one place."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mapsheets.adapters.store import Store, default_url, existing_url, store_exists

REPO = Path(__file__).resolve().parents[2]


def test_the_store_adapter_passes_a_strict_type_check():
    pytest.importorskip("mypy", reason="mypy is in the test extra")
    done = subprocess.run([sys.executable, "-m", "mypy", "mapsheets/adapters/store", "--strict",
                           "--ignore-missing-imports", "--follow-imports=silent", "--cache-dir", "/dev/null"],
                          cwd=REPO, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_store_exists_once_something_made_it_and_asking_makes_none(tmp_path):
    env = {"HOME": str(tmp_path / "home"), "XDG_DATA_HOME": str(tmp_path / "data")}
    assert not store_exists(env) and existing_url(env) is None
    assert not (tmp_path / "data").exists()  # asking made no folder, and no store file
    with Store(default_url(env)):
        pass
    assert store_exists(env)
    assert existing_url(env) == f"sqlite:///{tmp_path / 'data' / 'mapsheets' / 'state.db'}"
    elsewhere = {**env, "MAPSHEETS_DB": " postgresql+psycopg://u@db.example/maps "}
    assert store_exists(elsewhere) and existing_url(elsewhere) == "postgresql+psycopg://u@db.example/maps"


def test_each_group_of_tables_is_a_repository_over_the_stores_one_engine(tmp_path):
    with Store(f"sqlite:///{tmp_path / 'state.db'}") as store:
        repositories = [store.plans, store.revisions, store.signatures, store.audit, store.digests, store.sources,
                        store.last_seen]
        assert len({id(r) for r in repositories}) == 7
        assert all(r._db is store._db and r.url == store.url for r in repositories)
        store.plans.register("/plans/acme.xlsx", "xlsx", "Acme")
        event = store.audit.log("noted", ref="/plans/acme.xlsx", actor="me")
        assert [e.id for e in store.audit.events("/plans/acme.xlsx")] == [event.id]
