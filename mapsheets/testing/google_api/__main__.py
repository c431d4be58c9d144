"""python -m mapsheets.testing.google_api --port N: serve until SIGINT/SIGTERM."""
from __future__ import annotations

import argparse
import signal
import sys
import threading

from .discovery import INSTALL_HINT, missing_documents
from .double import GoogleApiDouble


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m mapsheets.testing.google_api")
    ap.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0 picks a free one)")
    ap.add_argument("--seed", type=int, default=None, help="seed for generated ids")
    ap.add_argument("--user", default=None, help="default caller email")
    args = ap.parse_args(argv)
    if (why := missing_documents()) is not None:
        print(f"Error: {why}; install them with: {INSTALL_HINT}", file=sys.stderr)
        return 1
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with GoogleApiDouble(port=args.port, seed=args.seed, user=args.user) as double:
        print(double.root, flush=True)
        stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
