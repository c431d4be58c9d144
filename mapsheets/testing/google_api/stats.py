"""Request counting (for benchmarks), error injection (for retry tests) and request hooks (for
kill tests: act just before a request is applied, or after it was applied but before the answer)."""
from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import ApiError, drive_rate_limited


@dataclass
class Injection:
    code: int
    remaining: int
    method: str = "*"  # method id or prefix ('sheets', 'drive.files.list', ...)
    message: str | None = None
    reason: str | None = None

    def matches(self, method_id: str) -> bool:
        return self.method in ("*", "") or method_id == self.method or method_id.startswith(self.method + ".")

    def error(self, method_id: str) -> ApiError:
        if self.code == 403 and (self.reason or method_id.startswith("drive.")):
            if (self.reason or "userRateLimitExceeded") in ("userRateLimitExceeded", "rateLimitExceeded"):
                err = drive_rate_limited()
                if self.reason and err.errors:
                    err.errors[0]["reason"] = self.reason
                return err
        return ApiError(self.code, self.message)


class Stats:
    """Thread-safe counters keyed by method id, plus a queue of injected errors."""

    def __init__(self):
        self._lock = threading.Lock()
        self.counts: Counter = Counter()
        self.injections: list[Injection] = []
        # (method id, applied, hook(body) -> True when done)
        self.hooks: list[tuple[str, bool, Callable[[Any], bool]]] = []

    def count(self, method_id: str) -> None:
        with self._lock:
            self.counts[method_id] += 1

    def snapshot(self) -> dict:
        with self._lock:
            return {"total": sum(self.counts.values()), "methods": dict(sorted(self.counts.items()))}

    def clear(self) -> None:
        with self._lock:
            self.counts.clear()

    def inject(self, code: int, count: int = 1, method: str = "*", message: str | None = None,
               reason: str | None = None) -> None:
        with self._lock:
            self.injections.append(Injection(int(code), int(count), method or "*", message, reason))

    def clear_injections(self) -> None:
        with self._lock:
            self.injections.clear()
            self.hooks.clear()

    def on_request(self, method_id: str, hook: Callable[[Any], bool], applied: bool) -> None:
        with self._lock:
            self.hooks.append((method_id, applied, hook))

    def run_hooks(self, method_id: str, body, applied: bool) -> bool:
        """Run the matching hooks; True when one of them was done (and is now removed)."""
        with self._lock:
            hooks = [h for h in self.hooks if h[0] == method_id and h[1] == applied]
        done = False
        for entry in hooks:
            if entry[2](body):
                done = True
                with self._lock:
                    if entry in self.hooks:
                        self.hooks.remove(entry)
        return done

    def take_injection(self, method_id: str) -> ApiError | None:
        with self._lock:
            for inj in self.injections:
                if inj.remaining > 0 and inj.matches(method_id):
                    inj.remaining -= 1
                    if inj.remaining == 0:
                        self.injections.remove(inj)
                    return inj.error(method_id)
        return None
