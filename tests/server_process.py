"""`mapsheets serve --dev` as a real process on a free loopback port, for browser and load tests."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from smtp_servers import free_port


class DevServer:
    def __init__(self, plans: Path, db: str, log: Path, env: dict[str, str] | None = None,
                 args: tuple[str, ...] = ()) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        # Plans in these tests are dated from 2026-12-01: the server judges them as of then, not the clock.
        environ = {**os.environ, "MAPSHEETS_TODAY": "2026-12-01", **(env or {}),
                   "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
        self._out = open(log, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mapsheets.cli", "serve", "--dev", "--port", str(self.port),
             "--plans", str(plans), "--db", db, *args], stdout=self._out, stderr=subprocess.STDOUT, env=environ)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url + "/sidebar", timeout=1).read()
                return
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the server did not start: {log.read_text(errors='replace')[-2000:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self._out.close()
