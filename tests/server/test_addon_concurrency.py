"""Simultaneous writes through real server processes: no lost step, no duplicate ID."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests.server.conftest import CLIENT_ID, GENERATE, headers
from tests.server_process import DevServer, free_port

AE = {"X-Mapsheets-Dev-User": "ae@globex.example"}
N = 20


def _steps(path: Path) -> list[str]:
    from mapsheets.service import read_plan

    return [s.id for s in read_plan(str(path), today=__import__("datetime").date(2026, 12, 1)).plan.steps]


def _at_once(n: int, one) -> list[requests.Response]:
    """``one(i)`` for i in range(n), all released together."""
    barrier = threading.Barrier(n)

    def go(i: int) -> requests.Response:
        barrier.wait()
        return one(i)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(go, range(n)))


def _add_many(url: str, sheet: str, hdrs: dict[str, str], n: int = N) -> list[requests.Response]:
    return _at_once(n, lambda i: requests.post(f"{url}/api/steps", json={"spreadsheet_id": sheet,
                                                                          "title": f"Parallel step {i}"},
                                               headers=hdrs, timeout=60))


# Twenty people on the plan, half on each side, each signing for their own side.
SIGNERS = [(f"Signer {i}", f"signer{i}@{'acme' if i % 2 else 'globex'}.example", "buyer" if i % 2 else "seller")
           for i in range(N)]


def _add_signers(ref: str) -> None:
    """The twenty onto the Team tab in one write (as a person typing them in would)."""
    from mapsheets.core.layout import TEAM_COLUMNS, TEAM_TAB
    from mapsheets.service.workbooks import open_workbook

    open_workbook(ref).append_rows(TEAM_TAB, [[name, email, side, "Signer"] for name, email, side in SIGNERS],
                                   header=[label for _f, label, _w in TEAM_COLUMNS])


def _sign_many(url: str, sheet: str, hdrs) -> list[requests.Response]:
    return _at_once(N, lambda i: requests.post(f"{url}/api/sign", json={"spreadsheet_id": sheet},
                                               headers=hdrs(SIGNERS[i][1]), timeout=90))


def _check_signed(answers: list[requests.Response], signatures: list[dict]) -> None:
    assert [a.status_code for a in answers] == [201] * N, [a.text for a in answers if a.status_code != 201]
    assert all(a.json()["written"] for a in answers)
    assert sorted((a.json()["signature"]["email"], a.json()["signature"]["side"]) for a in answers) == \
        sorted((email, side) for _n, email, side in SIGNERS)
    emails = [s["email"] for s in signatures]
    assert sorted(emails) == sorted(email for _n, email, _s in SIGNERS), "a signature was lost or doubled"
    assert {s["status"] for s in signatures} == {"valid"}


def test_twenty_simultaneous_add_steps_on_local_plans(tmp_path):
    plans = tmp_path / "plans"
    plans.mkdir()
    server = DevServer(plans, f"sqlite:///{tmp_path / 'state.db'}", tmp_path / "server.log")
    try:
        assert requests.post(f"{server.url}/api/generate", json={"spreadsheet_id": "deal", **GENERATE},
                             headers=AE, timeout=30).status_code == 201
        before = _steps(plans / "deal.xlsx")
        answers = _add_many(server.url, "deal", AE)
    finally:
        server.stop()
    assert [a.status_code for a in answers] == [201] * N, [a.text for a in answers if a.status_code != 201]
    ids = [a.json()["id"] for a in answers]
    after = _steps(plans / "deal.xlsx")
    assert len(set(ids)) == N and set(ids) <= set(after)
    assert len(after) == len(before) + N and len(set(after)) == len(after)
    assert "Traceback" not in server.log.read_text(errors="replace")


def test_twenty_simultaneous_add_steps_on_google(issuer, google_env, tmp_path, monkeypatch):
    from werkzeug.serving import make_server

    from addon_server import create_app

    monkeypatch.delenv("MAPSHEETS_GOOGLE_TOKEN")
    sheet = google_env.create_spreadsheet("Acme deal", {"Sheet1": []})
    app = create_app({"CLIENT_ID": CLIENT_ID, "CERTS_URL": issuer.url, "DB": f"sqlite:///{tmp_path / 'g.db'}"})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}"
    hdrs = {**headers(issuer, "ae@globex.example"), "X-Mapsheets-Access-Token": "ya29.test"}
    try:
        assert requests.post(f"{url}/api/generate", json={"spreadsheet_id": sheet, **GENERATE}, headers=hdrs,
                             timeout=30).status_code == 201
        answers = _add_many(url, sheet, hdrs)
        summary = requests.post(f"{url}/api/summary", json={"spreadsheet_id": sheet}, headers=hdrs, timeout=30).json()
    finally:
        server.shutdown()
        app.extensions["mapsheets_store"].close()
    assert [a.status_code for a in answers] == [201] * N
    ids = {a.json()["id"] for a in answers}
    titles = [s["title"] for s in summary["plan"]["steps"]]
    assert len(ids) == N and ids <= {s["id"] for s in summary["plan"]["steps"]}
    assert sorted(t for t in titles if t.startswith("Parallel step")) == sorted(f"Parallel step {i}" for i in range(N))


def test_twenty_simultaneous_signatures_on_local_plans(tmp_path):
    import datetime as dt

    import sqlalchemy as sa

    from mapsheets.service import read_plan

    plans = tmp_path / "plans"
    plans.mkdir()
    server = DevServer(plans, f"sqlite:///{tmp_path / 'state.db'}", tmp_path / "server.log")
    try:
        assert requests.post(f"{server.url}/api/generate", json={"spreadsheet_id": "deal", **GENERATE},
                             headers=AE, timeout=30).status_code == 201
        _add_signers(str(plans / "deal.xlsx"))
        answers = _sign_many(server.url, "deal", lambda email: {"X-Mapsheets-Dev-User": email})
    finally:
        server.stop()
    plan = read_plan(str(plans / "deal.xlsx"), today=dt.date(2026, 12, 1)).plan
    _check_signed(answers, [s.to_dict(plan.signature_status(s)) for s in plan.signatures])
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'state.db'}")
    with engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT count(DISTINCT email) FROM signatures").scalar()
    engine.dispose()
    assert stored == N
    assert "Traceback" not in server.log.read_text(errors="replace")


def test_twenty_simultaneous_signatures_on_google(issuer, google_env, tmp_path, monkeypatch):
    from werkzeug.serving import make_server

    from addon_server import create_app
    from mapsheets.service.workbooks import request_scope

    sheet = google_env.create_spreadsheet("Acme deal", {"Sheet1": []})
    monkeypatch.delenv("MAPSHEETS_GOOGLE_TOKEN")
    app = create_app({"CLIENT_ID": CLIENT_ID, "CERTS_URL": issuer.url, "DB": f"sqlite:///{tmp_path / 'g.db'}"})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}"

    def hdrs(email: str) -> dict[str, str]:
        return {**headers(issuer, email), "X-Mapsheets-Access-Token": "ya29.test"}

    try:
        assert requests.post(f"{url}/api/generate", json={"spreadsheet_id": sheet, **GENERATE},
                             headers=hdrs("ae@globex.example"), timeout=30).status_code == 201
        with request_scope(addon_credentials("ya29.setup")):
            _add_signers(sheet)
        answers = _sign_many(url, sheet, hdrs)
        summary = requests.post(f"{url}/api/summary", json={"spreadsheet_id": sheet},
                                headers=hdrs("ae@globex.example"), timeout=30).json()
    finally:
        server.shutdown()
        app.extensions["mapsheets_store"].close()
    _check_signed(answers, summary["plan"]["signatures"])


def addon_credentials(token: str):
    from mapsheets.service.addon import GoogleCredentials

    return GoogleCredentials.access_token(token)


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["xlsx", "google"])
def test_two_gunicorn_workers_on_one_postgresql(backend, issuer, google_env, tmp_path):
    """Production's shape: gunicorn, two workers, one PostgreSQL, callers identified by minted ID
    tokens checked against the certificates on loopback (no dev identity). ``xlsx``: local plans
    (dev mode only for the folder; the dev header is not sent); ``google``: production settings,
    the plan in the Google double reached with the caller's access token."""
    import sqlalchemy as sa

    from tests.adapters.conftest import postgres_base_url

    base = sa.make_url(postgres_base_url())
    schema = f"test_{uuid.uuid4().hex[:16]}"
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    db = base.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    plans = tmp_path / "plans"
    plans.mkdir()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "MAPSHEETS_GOOGLE_TOKEN"}
    env.update({"PYTHONPATH": str(Path(__file__).resolve().parents[2]), "MAPSHEETS_DB": db,
                "MAPSHEETS_ADDON_CLIENT_ID": CLIENT_ID, "MAPSHEETS_ADDON_CERTS_URL": issuer.url})
    if backend == "xlsx":
        env.update({"MAPSHEETS_ADDON_DEV": "1", "MAPSHEETS_ADDON_HOST": "127.0.0.1",
                    "MAPSHEETS_ADDON_PLANS_DIR": str(plans)})
        sheet = "deal"
    else:
        sheet = google_env.create_spreadsheet("Acme deal", {"Sheet1": []})
    hdrs = {**headers(issuer, "ae@globex.example"), "X-Mapsheets-Access-Token": "ya29.gunicorn"}
    log = open(tmp_path / "gunicorn.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}",
                             "addon_server:create_app()"], env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(url + "/sidebar", timeout=1).read()
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "gunicorn.log").read_text()
                time.sleep(0.2)
        if backend == "google":  # production settings: no dev identity, and a forged token is refused
            for bad in (AE, {"Authorization": "Bearer " + issuer.token("ae@globex.example", aud="other")}):
                assert requests.post(f"{url}/api/summary", json={"spreadsheet_id": sheet},
                                     headers={**bad, "X-Mapsheets-Access-Token": "ya29.gunicorn"},
                                     timeout=30).status_code == 401
        assert requests.post(f"{url}/api/generate", json={"spreadsheet_id": sheet, **GENERATE}, headers=hdrs,
                             timeout=30).status_code == 201
        before = requests.post(f"{url}/api/summary", json={"spreadsheet_id": sheet}, headers=hdrs,
                               timeout=30).json()["plan"]["steps"]
        answers = _add_many(url, sheet, hdrs)
        assert [a.status_code for a in answers] == [201] * N, [a.text for a in answers]
        after = [s["id"] for s in requests.post(f"{url}/api/summary", json={"spreadsheet_id": sheet}, headers=hdrs,
                                                timeout=30).json()["plan"]["steps"]]
        assert len(after) == len(before) + N and len(set(after)) == len(after)
        assert {a.json()["id"] for a in answers} <= set(after)
        with sa.create_engine(db).connect() as conn:
            actors = conn.exec_driver_sql("SELECT DISTINCT actor FROM events WHERE kind = 'step added'").all()
            added = conn.exec_driver_sql("SELECT count(*) FROM events WHERE kind = 'step added'").scalar()
        assert added == N and actors == [("ae@globex.example",)]
    finally:
        proc.terminate()
        proc.wait(15)
        log.close()
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()
