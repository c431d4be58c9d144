"""Results kept on disk in the user's cache folder: public-holiday dates, so reading a plan does not
load a country calendar each time, and other figures costly to compute again (the forecast).

Loading one of the ``holidays`` package's calendars costs about 200 ms, far more than reading a
plan. The dates a plan needs are kept in the user's cache folder, keyed by calendar, years and the
package's version (a new version may correct a calendar). The cache can only make a read faster:
a missing, stale, unreadable or unwritable entry means the calendar is computed as before.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import sys
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from mapsheets.adapters.files import write_text_atomic

FORMAT = 1  # bump when the entry's shape changes


def cache_dir(env: Mapping[str, str]) -> Path:
    """mapsheets' cache folder where platformdirs puts it; ``MAPSHEETS_CACHE_DIR`` overrides it."""
    if env.get("MAPSHEETS_CACHE_DIR"):
        return Path(env["MAPSHEETS_CACHE_DIR"])
    if sys.platform in ("darwin", "win32"):
        import platformdirs

        return Path(platformdirs.user_cache_dir("mapsheets", appauthor=False))
    xdg = env.get("XDG_CACHE_HOME", "")
    home = Path(env["HOME"]) if env.get("HOME") else Path.home()
    # The XDG spec says a relative XDG_CACHE_HOME is invalid and must be ignored.
    return (Path(xdg) if xdg and Path(xdg).is_absolute() else home / ".cache") / "mapsheets"


def package_version() -> str:
    """The installed ``holidays`` version, read without importing it (importing is the cost we avoid).

    Its dist-info folder names the version; where there is none (a source tree), the package file's
    size and time stand in, so an upgrade still changes the key.
    """
    try:
        spec = importlib.util.find_spec("holidays")
    except (ImportError, ValueError):
        return ""
    if spec is None or not spec.origin:
        return ""
    package = Path(spec.origin).parent
    try:
        infos = sorted(n for n in os.listdir(package.parent)
                       if n.lower().startswith("holidays-") and n.endswith((".dist-info", ".egg-info")))
        if infos:
            return infos[-1]
        stat = Path(spec.origin).stat()
    except OSError:
        return ""
    return f"{stat.st_size}-{stat.st_mtime_ns}"


def read_json(folder: Path, kind: str, key: str) -> Any | None:
    """A result kept under ``kind`` for ``key`` (any JSON), None when there is none usable (never raises)."""
    path = folder / kind / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data.get("value") if isinstance(data, dict) and data.get("key") == key else None


def write_json(folder: Path, kind: str, key: str, value: Any) -> None:
    """Keep ``value`` for ``key``; a cache that cannot be written is skipped silently."""
    path = folder / kind / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.json"
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_text_atomic(path, json.dumps({"key": key, "value": value}))
    except OSError:
        pass


def _entry(folder: Path, code: str, years: tuple[int, ...], version: str) -> tuple[Path, str]:
    key = json.dumps([FORMAT, code, list(years), version])
    name = hashlib.sha256(key.encode()).hexdigest()[:24]
    return folder / "holidays" / f"{name}.json", key


def read(folder: Path, code: str, years: tuple[int, ...], version: str) -> frozenset[date] | None:
    """The cached dates, or None when there is no usable entry (never raises)."""
    if not version:
        return None
    path, key = _entry(folder, code, years, version)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("key") != key:  # a hash collision or a hand-edited file: not ours
            return None
        return frozenset(date.fromisoformat(d) for d in data["dates"])
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None


def write(folder: Path, code: str, years: tuple[int, ...], version: str, dates: frozenset[date]) -> None:
    """Keep ``dates`` for the next call; a cache that cannot be written is skipped silently."""
    if not version:
        return
    path, key = _entry(folder, code, years, version)
    text = json.dumps({"key": key, "dates": sorted(d.isoformat() for d in dates)})
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_text_atomic(path, text)
    except OSError:
        pass
