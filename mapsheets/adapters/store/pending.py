"""Audit entries the store could not take (a read-only file, a full disk), kept beside it until a
command can write them: one small JSON file each, written atomically (a temporary, then a rename),
so two commands queueing at once never lose one, and a kill leaves a whole entry or none.

The folder sits beside a SQLite store (``state.db.pending-audit/``), or for a server in the data
folder under a name made from its URL.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mapsheets.adapters.files import write_text_atomic
from mapsheets.adapters.store.connect import data_dir

if TYPE_CHECKING:
    from mapsheets.adapters.store.store import Store


def folder(store: Store) -> Path:
    """Where ``store``'s pending audit entries are kept."""
    if store.dialect == "sqlite":
        from sqlalchemy import make_url

        name = store.sqlite_path or (make_url(store.url).database or "").removeprefix("file:").partition("?")[0]
        if name:
            return Path(name).with_name(Path(name).name + ".pending-audit")
    digest = hashlib.sha256(store.url.encode()).hexdigest()[:16]
    return data_dir(os.environ) / f"pending-audit-{digest}"


def put(where: Path, entry: dict[str, Any]) -> Path:
    """Keep one entry (JSON-safe) as its own file; OSError if it cannot be written."""
    where.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = where / f"{entry['at'].replace(':', '')}-{secrets.token_hex(4)}.json"
    write_text_atomic(path, json.dumps(entry, sort_keys=True, ensure_ascii=False))
    return path


def entries(where: Path) -> list[tuple[Path, dict[str, Any]]]:
    """The kept entries, oldest first; a file that cannot be read or parsed is left for a person."""
    out = []
    try:
        names = sorted(p for p in where.iterdir() if p.suffix == ".json" and not p.name.startswith("."))
    except OSError:
        return []
    for path in names:
        try:
            entry = json.loads(path.read_text("utf-8"))
            entry["at"] = datetime.fromisoformat(entry["at"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        out.append((path, entry))
    return out
