"""Store fixtures: one clean database per test, on SQLite and on PostgreSQL.

PostgreSQL comes from MAPSHEETS_TEST_POSTGRES_URL (start one with `eval "$(bash .ci/postgres.sh)"`).
Unset, its cases skip and say why, except under CI=true, where they fail: CI must not skip them.
"""

from __future__ import annotations

import os
import uuid

import pytest

PG_ENV = "MAPSHEETS_TEST_POSTGRES_URL"


def postgres_base_url() -> str:
    """The server URL, or skip (fail in CI) when none is configured."""
    url = os.environ.get(PG_ENV, "").strip()
    if not url:
        why = f'{PG_ENV} is not set (start a test server: eval "$(bash .ci/postgres.sh)")'
        if os.environ.get("CI", "").strip().lower() in ("true", "1"):
            pytest.fail(f"CI=true but {why}: the PostgreSQL store tests must run in CI", pytrace=False)
        pytest.skip(why)
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request, tmp_path):
    """A URL to an empty database: a fresh SQLite file, or a fresh PostgreSQL schema dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'state.db'}"
        return
    import sqlalchemy as sa

    base = sa.make_url(postgres_base_url())
    schema = f"test_{uuid.uuid4().hex[:16]}"
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        # search_path makes the fresh schema the default one for every connection on this URL.
        yield base.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()
