"""One writer at a time on a local plan file (the filelock package), and what else holds it.

- a sidecar lock file ``.NAME.xlsx.lock`` serializes every read-modify-write by mapsheets;
- Excel's ``~$NAME.xlsx`` and LibreOffice's ``.~lock.NAME.xlsx#`` beside a plan mean a person has
  it open, and their next save drops whatever we write;
- a save writes to ``.NAME.xlsx.<hex>.tmp`` beside the plan (mode 0600), so a kill leaves only
  files of that pattern, which the next write (holding the lock) removes;
- a plan that is a symbolic link is written where the link points (``target``), under that
  file's lock; the link stays;
- ``identity`` (size, mtime, hash) tells whether another program saved between our read and write.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import os
import re
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

from mapsheets.errors import PlanBusy, PlanFileError, PlanOpen, file_error

LOCK_TIMEOUT = 30.0  # seconds to wait for another mapsheets command writing the same plan
STALE_AFTER = 600.0  # seconds after which a temporary is a leftover even without the lock


def target(path: Path) -> Path:
    """The file a write to ``path`` must replace: where a symbolic link points. ``os.replace`` onto
    the link itself would swap the link for a new file and leave the real plan without the change."""
    path = Path(path)
    if not path.is_symlink():  # the common case: the name stays as given
        return path
    real = Path(os.path.realpath(path))
    if real.is_symlink():  # a loop: there is no file to write
        raise PlanFileError(f"{path}: a symbolic link that leads to no file (a loop): nothing written")
    return real


def lock_path(path: Path) -> Path:
    return path.parent / f".{path.name}.lock"


@contextlib.contextmanager
def locked(path: Path, timeout: float | None = None) -> Iterator[None]:
    """Hold the plan's sidecar lock (an OS lock: released by the kernel if we are killed)."""
    from filelock import FileLock, Timeout

    wait = LOCK_TIMEOUT if timeout is None else timeout
    lock = FileLock(str(lock_path(path)), timeout=wait, mode=0o600)
    try:
        lock.acquire()
    except Timeout:
        raise PlanBusy(f"{path}: another mapsheets command kept it locked for {wait:g} s "
                       f"({lock_path(path).name}); try again") from None
    except OSError as exc:
        raise file_error(path, exc, "a workbook", writing=True) from None
    try:
        clean_stale(path, 0.0)  # nobody else writes this plan now: any temporary is a leftover
        yield
    finally:
        lock.release()


def check_not_open(path: Path) -> None:
    """PlanOpen when Excel or LibreOffice has the plan open (their lock file is beside it)."""
    office = path.parent / f".~lock.{path.name}#"
    if office.exists():
        raise PlanOpen(str(path), "LibreOffice", _libreoffice_user(office))
    # Excel replaces the first two characters of long names ("~$dget.xlsx"), prefixes short ones.
    for name in (f"~${path.name}", f"~${path.name[2:]}"):
        owner = path.parent / name
        if len(name) > 2 + len(path.suffix) and owner.is_file():
            raise PlanOpen(str(path), "Excel", _excel_user(owner))


def _libreoffice_user(lock: Path) -> str:
    """The first field of LibreOffice's lock file: ``Name,host,host,date,profile;``."""
    try:
        text = lock.read_text("utf-8", errors="replace")
        return _clean(next(csv.reader(io.StringIO(text)), [""])[0])
    except (OSError, csv.Error, IndexError):
        return ""


def _excel_user(owner: Path) -> str:
    """Excel's owner file: a length byte, then the user name in the ANSI code page."""
    try:
        data = owner.read_bytes()[:165]
        return _clean(data[1:1 + data[0]].decode("cp1252", errors="replace")) if data else ""
    except OSError:
        return ""


def _clean(name: str) -> str:
    """A name fit for one line: no control characters, no surrounding blanks, not too long."""
    return re.sub(r"[\x00-\x1f\x7f]", "", name).strip()[:80]


def temp_name(path: Path) -> Path:
    return path.parent / f".{path.name}.{secrets.token_hex(4)}.tmp"


def create_temp(path: Path) -> Path:
    """An empty new file beside ``path``, readable by its owner only while it holds plan data."""
    for _ in range(100):
        tmp = temp_name(path)
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            return tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name beside {path}")


def clean_stale(path: Path, older_than: float = STALE_AFTER) -> int:
    """Remove our own leftover temporaries of this plan (``.NAME.<8 hex>.tmp``); returns how many."""
    pattern = re.compile(rf"^\.{re.escape(path.name)}\.[0-9a-f]{{8}}\.tmp$")
    removed = 0
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return 0
    now = time.time()
    for entry in entries:
        if not pattern.match(entry.name):
            continue
        try:
            if now - entry.stat(follow_symlinks=False).st_mtime >= older_than:
                os.unlink(entry.path)
                removed += 1
        except OSError:
            continue
    return removed


def new_file_mode() -> int:
    """The mode a new file gets from the umask (0666 minus it), read without changing it."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def read_with_identity(path: Path) -> tuple[bytes, tuple[int, int, str]]:
    """The file's bytes and what identifies that version: (size, mtime_ns, sha256)."""
    for _ in range(5):
        before = path.stat()
        data = path.read_bytes()
        after = path.stat()
        if (before.st_size, before.st_mtime_ns) == (after.st_size, after.st_mtime_ns) == (len(data), after.st_mtime_ns):
            break
    return data, (after.st_size, after.st_mtime_ns, hashlib.sha256(data).hexdigest())


def unchanged_since(path: Path, identity: tuple[int, int, str]) -> bool:
    """Whether the file is still the version read (another program may have saved meanwhile)."""
    try:
        st = path.stat()
        if (st.st_size, st.st_mtime_ns) != identity[:2]:
            return False
        return hashlib.sha256(path.read_bytes()).hexdigest() == identity[2]
    except OSError:
        return False
