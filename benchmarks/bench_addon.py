"""The add-on backend under load, and what each sidebar action costs in Google requests.

1. `mapsheets serve --dev` as a real process on the local (.xlsx) backend: 20 concurrent clients,
   each sending requests back to back, for "summary" and "add step": p50/p99 of the server time
   (the app's own Server-Timing header: from the request reaching Flask to its answer, waits for
   the GIL among the server's threads included) and of the round trip seen by the clients (which
   adds werkzeug's HTTP handling and the clients' own Python, on the same machine).
   Target (issue 10): summary p99 under 50 ms.
2. Google requests per sidebar action, counted at the Sheets/Drive double.
   Target: open = 1 read; add step and sign = 1 read + 1 write (plus one batchUpdate when the
   write changes a signature's Status cell, e.g. a new step makes a signature stale).
Prints figures; asserts nothing.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.server_process import DevServer  # noqa: E402

CLIENTS, PER_CLIENT = 20, 10
GENERATE = {"template": "enterprise-map", "buyer": "Acme Corp", "seller": "Globex", "close_date": "2027-03-31",
            "champion_name": "Jane Doe", "champion_email": "jane@acme.example"}
AE = {"X-Mapsheets-Dev-User": "ae@globex.example"}


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def load(url: str, path: str, body) -> tuple[list[float], list[float]]:
    """(server times, round trips) in seconds."""
    session_per_client = [requests.Session() for _ in range(CLIENTS)]

    def client(i: int) -> list[tuple[float, float]]:
        times = []
        for j in range(PER_CLIENT):
            start = time.perf_counter()
            answer = session_per_client[i].post(f"{url}/api/{path}", json=body(i, j), headers=AE, timeout=120)
            trip = time.perf_counter() - start
            assert answer.status_code < 300, answer.text
            server = float(answer.headers["Server-Timing"].partition("dur=")[2]) / 1000
            times.append((server, trip))
        return times

    with ThreadPoolExecutor(CLIENTS) as pool:
        pairs = [t for ts in pool.map(client, range(CLIENTS)) for t in ts]
    return [s for s, _ in pairs], [t for _, t in pairs]


def floor(url: str) -> list[float]:
    """Round trips for a static file under the same load: what the harness costs without the app."""
    sessions = [requests.Session() for _ in range(CLIENTS)]

    def client(i: int) -> list[float]:
        times = []
        for _ in range(PER_CLIENT):
            start = time.perf_counter()
            sessions[i].get(f"{url}/static/sidebar.css", timeout=60).raise_for_status()
            times.append(time.perf_counter() - start)
        return times

    with ThreadPoolExecutor(CLIENTS) as pool:
        return [t for ts in pool.map(client, range(CLIENTS)) for t in ts]


def figures(name: str, times: list[float]) -> str:
    return f"{name} p50 {1000 * statistics.median(times):7.1f} ms  p99 {1000 * pct(times, 99):7.1f} ms"


def local_backend() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        plans = Path(tmp) / "plans"
        plans.mkdir()
        server = DevServer(plans, f"sqlite:///{Path(tmp) / 'state.db'}", Path(tmp) / "server.log")
        try:
            requests.post(f"{server.url}/api/generate", json={"spreadsheet_id": "deal", **GENERATE}, headers=AE,
                          timeout=30).raise_for_status()
            load(server.url, "summary", lambda i, j: {"spreadsheet_id": "deal"})  # warm-up
            print(f"floor    {CLIENTS} clients × {PER_CLIENT}: {figures('round trip', floor(server.url))}"
                  "   (a static file: werkzeug and the clients alone)")
            for path, body in (("summary", lambda i, j: {"spreadsheet_id": "deal"}),
                               ("steps", lambda i, j: {"spreadsheet_id": "deal", "title": f"Step {i}.{j}"})):
                server_times, trips = load(server.url, path, body)
                print(f"{path:8s} {CLIENTS} clients × {PER_CLIENT}: {figures('server', server_times)}   "
                      f"{figures('round trip', trips)}")
        finally:
            server.stop()


def google_requests() -> None:
    os.environ.pop("MAPSHEETS_GOOGLE_TOKEN", None)
    from addon_server import create_app
    from mapsheets.testing.google_api import GoogleApiDouble

    with GoogleApiDouble() as double, tempfile.TemporaryDirectory() as tmp:
        os.environ["MAPSHEETS_GOOGLE_API_ROOT"] = double.root
        app = create_app({"DEV": True, "HOST": "127.0.0.1", "DB": f"sqlite:///{Path(tmp) / 'g.db'}",
                          "CLIENT_ID": "bench"})
        app.config["MAPSHEETS"]["PLANS_DIR"] = ""  # dev identity, but plans in (the double's) Google
        client = app.test_client()
        sheet = double.create_spreadsheet("Acme deal", {"Sheet1": []})
        hdrs = {**AE, "X-Mapsheets-Access-Token": "ya29.bench"}

        def count(path: str, body: dict) -> str:
            double.reset()
            answer = client.post(f"/api/{path}", json={"spreadsheet_id": sheet, **body}, headers=hdrs)
            assert answer.status_code < 300, answer.json
            stats = double.stats()
            return f"{stats['total']} ({', '.join(f'{m} {n}' for m, n in stats['methods'].items())})"

        print(f"generate  {count('generate', GENERATE)}")
        print(f"open      {count('summary', {})}")
        print(f"add step  {count('steps', {'title': 'Pilot kickoff'})}")
        print(f"sign      {count('sign', {})}")
        print(f"sign again (already signed)  {count('sign', {})}")
        print(f"add step that makes the signature stale  {count('steps', {'title': 'Legal review'})}")
        print(f"open after that  {count('summary', {})}")
        app.extensions["mapsheets_store"].close()


if __name__ == "__main__":
    print("Local backend (.xlsx), 20 concurrent clients on loopback:")
    local_backend()
    print("\nGoogle requests per sidebar action (counted at the double):")
    google_requests()
