"""An exclusive lock beside a local file, across processes (fcntl.flock), for read-modify-write."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def exclusive_lock(path: str | Path) -> Iterator[None]:
    """Hold ``.NAME.writer-lock`` next to ``path`` until the block ends (released by the OS if killed)."""
    target = Path(path)
    lock_path = target.with_name(f".{target.name}.writer-lock")
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock
